# Quality control, built only when asked for: `snakemake --cores 4 qc`, and
# `snakemake --report report.html qc` for the HTML report with the pictures.


rule qc_figure:
    input:
        code=package_code("qc_figure"),
        fif=rules.preprocess.output.fif,
        record=rules.preprocess.output.record,
        windows=rules.windows.output.table,
    output:
        # no caption: Snakemake renders each caption with a link to every result, which
        # made the report of 1,000 recordings take 5 minutes; the landing page
        # (workflow/report/workflow.rst) explains the figures above their gallery
        png=report(
            "results/qc/{recording}.png",
            category="Quality control",
            subcategory="Recordings",
            labels={"recording": "{recording}"},
        ),
    log:
        "results/logs/qc_figure/{recording}.log",
    benchmark:
        "results/benchmarks/qc_figure/{recording}.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb_per_input_mb(2),
        runtime=runtime_per_input_mb(SECONDS_PER_INPUT_MB["qc_figure"]),
    script:
        "../scripts/qc_figure.py"


rule qc:
    input:
        code=package_code("qc"),
        records=of_every_recording(rules.preprocess.output.record),
        windows=of_every_recording(rules.windows.output.table),
        figures=of_every_recording(rules.qc_figure.output.png),
        ica=of_every_recording(
            rules.ica_apply.output.components if config["ica"]["enabled"] else None
        ),
        features=rules.combine.output.table,
    output:
        parquet="results/qc.parquet",
        csv="results/qc.csv",
        html=report(
            "results/qc.html",
            caption="../report/qc_table.rst",
            category="Quality control",
            subcategory="Run",
            labels={"figure": "QC table"},
        ),
        by_target=report(
            "results/plots/features_by_target.png",
            caption="../report/features_by_target.rst",
            category="Quality control",
            subcategory="Run",
            labels={"figure": "features by label"},
        ),
    log:
        "results/logs/qc.log",
    benchmark:
        "results/benchmarks/qc.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb_per_input_mb(3),
        runtime=runtime_per_input_mb(SECONDS_PER_INPUT_MB["qc"]),
    params:
        recordings=parameters_inspected_once(
            lambda wildcards: {
                rid: RECORDINGS[rid]["path"] for rid in sorted(RECORDINGS)
            }
        ),
        excluded=config["input"]["exclude"],
    script:
        "../scripts/qc.py"
