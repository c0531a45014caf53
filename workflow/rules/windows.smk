# Cut each preprocessed recording into fixed-length or annotation windows (config
# windows): a table of where each window lies in the FIF; the samples stay in the FIF.

# The recording the windows are cut from and their samples read from (and the layout
# of its FIF): with config ica.enabled, the one with ICA's artefact components removed.
WINDOWED_STAGE = rules.ica_apply if config["ica"]["enabled"] else rules.preprocess
WINDOWED_SIGNAL = WINDOWED_STAGE.output.fif
WINDOWED_LAYOUT = WINDOWED_STAGE.output.layout


rule windows:
    input:
        code=package_code("windows"),
        fif=WINDOWED_SIGNAL,
        layout=WINDOWED_LAYOUT,
        record=rules.preprocess.output.record,
    output:
        table="results/windows/{recording}.parquet",
    log:
        "results/logs/windows/{recording}.log",
    benchmark:
        "results/benchmarks/windows/{recording}.tsv"
    threads: 1
    resources:
        # windows are judged a block of eegflow.windows.WINDOW_BLOCK_BYTES at a time
        # (a few blocks in memory), the table grows with the recording
        mem_mb=mem_mb_per_input_mb(0.1, base_mb=JOB_BASE_MB + 100),
        runtime=runtime_per_input_mb(SECONDS_PER_INPUT_MB["windows"]),
    params:
        windows=lookup(dpath="windows", within=config),
        ica=config["ica"] if config["ica"]["enabled"] else None,  # for provenance
        metadata=recording_metadata,
        source=recording_path,  # named in messages; moving it reruns preprocess anyway
    run:
        run_script_warm("windows", locals())
