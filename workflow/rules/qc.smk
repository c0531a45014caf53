# One row per recording to sort before opening a plot: `snakemake --cores 4 qc`.


rule qc:
    input:
        code=package_code("qc"),
        records=expand(rules.preprocess.output.record, recording=sorted(RECORDINGS)),
        windows=expand(rules.windows.output.metadata, recording=sorted(RECORDINGS)),
    output:
        parquet="results/qc.parquet",
        csv="results/qc.csv",
    log:
        "results/logs/qc.log",
    benchmark:
        "results/benchmarks/qc.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb_per_input_mb(3),
        runtime=runtime_per_input_mb(0.05),
    params:
        recordings={rid: RECORDINGS[rid]["path"] for rid in sorted(RECORDINGS)},
        excluded=config["input"]["exclude"],
    script:
        "../scripts/qc.py"
