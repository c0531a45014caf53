# Time and memory of every job (Snakemake's benchmark files): `snakemake --cores 4 summary`.


rule summary:
    input:
        code=package_code("summary"),
        table=rules.combine.output.table,
    output:
        parquet="results/benchmarks.parquet",
        csv="results/benchmarks.csv",
        time_vs_memory=report(
            "results/plots/time_vs_memory.png",
            caption="../report/time_vs_memory.rst",
            category="Benchmarks",
        ),
        scaling=report(
            "results/plots/scaling.png",
            caption="../report/scaling.rst",
            category="Benchmarks",
        ),
    log:
        "results/logs/summary.log",
    benchmark:
        "results/benchmarks/summary.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        # functions: evaluated only when summary runs, not at every start
        jobs=parameters_inspected_once(lambda wildcards: run_jobs()),
        job_inputs=parameters_inspected_once(lambda wildcards: benchmark_job_inputs()),
    script:
        "../scripts/summary.py"
