# Cut each preprocessed recording into fixed-length or annotation windows (config windows).


rule windows:
    input:
        code=package_code("windows"),
        # with config ica.enabled, the recording with ICA's artefact components removed
        fif=(
            rules.ica_apply.output.fif
            if config["ica"]["enabled"]
            else rules.preprocess.output.fif
        ),
        record=rules.preprocess.output.record,
    output:
        windows="results/windows/{recording}.npy",
        metadata="results/windows/{recording}.parquet",
    log:
        "results/logs/windows/{recording}.log",
    benchmark:
        "results/benchmarks/windows/{recording}.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        # the float32 FIF is read as float64: 2x its size, plus a block of windows
        mem_mb=mem_mb_per_input_mb(6),
        runtime=runtime_per_input_mb(0.05),
    params:
        windows=lookup(dpath="windows", within=config),
        ica=config["ica"] if config["ica"]["enabled"] else None,  # for provenance
        metadata=recording_metadata,
        source=recording_path,  # named in messages; moving it reruns preprocess anyway
    script:
        "../scripts/windows.py"
