# The embedded default data set, written on first run (config input.synthetic).


rule synthetic_recording:
    input:
        code=package_code("synthetic_recording"),
    output:
        fif=f"{SYNTHETIC_DIR}/synthetic-{{index}}_raw.fif",
    log:
        "results/logs/synthetic_recording/synthetic-{index}.log",
    benchmark:
        "results/benchmarks/synthetic_recording/synthetic-{index}.tsv"
    threads: 1
    resources:
        mem_mb=synthetic_mem_mb,
        runtime=FIXED_RUNTIME_MIN,
    params:
        synthetic=synthetic_signal_settings(),
    run:
        run_script_warm("synthetic_recording", locals())
