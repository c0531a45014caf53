# One table of every recording's per-window features.


rule combine:
    input:
        code=package_code("combine"),
        tables=expand(rules.features.output.table, recording=sorted(RECORDINGS)),
    output:
        table="results/features.parquet",
    log:
        "results/logs/combine.log",
    benchmark:
        "results/benchmarks/combine.tsv"
    threads: 1
    resources:
        mem_mb=mem_mb_per_input_mb(3),
        runtime=runtime_per_input_mb(SECONDS_PER_INPUT_MB["combine"]),
    params:
        combine=lookup(dpath="combine", within=config),
    run:
        run_script_warm("combine", locals())
