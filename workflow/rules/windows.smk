# Cut each preprocessed recording into fixed-length windows (config windows).


rule windows:
    input:
        fif=rules.preprocess.output.fif,
    output:
        windows="results/windows/{recording}.npy",
        metadata="results/windows/{recording}.parquet",
    params:
        windows=lookup(dpath="windows", within=config),
        metadata=recording_metadata,
    log:
        "results/logs/windows/{recording}.log",
    benchmark:
        "results/benchmarks/windows/{recording}.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb_per_input_mb(3),
        runtime=runtime_per_input_mb(0.05),
    conda:
        "../../envs/eegflow.yaml"
    script:
        "../scripts/windows.py"
