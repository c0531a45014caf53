# Per-window features of each recording, one parquet each (config features).


rule features:
    input:
        code=package_code("features"),
        fif=WINDOWED_SIGNAL,  # the windows' samples, read from it
        layout=WINDOWED_LAYOUT,
        windows=rules.windows.output.table,
    output:
        table="results/features/{recording}.parquet",
    log:
        "results/logs/features/{recording}.log",
    benchmark:
        "results/benchmarks/features/{recording}.tsv"
    threads: 1
    resources:
        # windows are read from the FIF in batches sized to fit this
        mem_mb=features_mem_mb,
        runtime=features_runtime,
    params:
        features=lookup(dpath="features", within=config),
    run:
        run_script_warm("features", locals())
