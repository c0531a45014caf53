# ICA artefact removal (config ica, off by default): the fit and ICLabel's labels per
# recording once; which components go is a cheap step of its own, so editing
# ica.exclude reruns the apply step and what follows, never the fit.


rule ica_fit:
    input:
        code=package_code("ica_fit"),
        fif=rules.preprocess.output.fif,
    output:
        ica="results/ica/{recording}-ica.fif",
        labels="results/ica/{recording}_iclabel.tsv",
    log:
        "results/logs/ica_fit/{recording}.log",
    benchmark:
        "results/benchmarks/ica_fit/{recording}.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        # onnxruntime and picard beside MNE, the recording, its filtered copy and the
        # decomposition's copies (benchmarks/ica.py: 450 MB + about 6x the data, read
        # as float64 from a float32 FIF: 12x the file)
        mem_mb=mem_mb_per_input_mb(16, base_mb=JOB_BASE_MB + 150),
        runtime=ica_fit_runtime,
    params:
        ica={
            key: value
            for key, value in config["ica"].items()
            if key not in ("enabled", "exclude")
        },
        source=recording_path,
    script:
        "../scripts/ica_fit.py"


rule ica_apply:
    input:
        code=package_code("ica_apply"),
        fif=rules.preprocess.output.fif,
        ica=rules.ica_fit.output.ica,
        labels=rules.ica_fit.output.labels,
    output:
        fif="results/ica/{recording}_raw.fif",
        layout="results/ica/{recording}_raw.layout.json",
        ica="results/ica/{recording}_applied_ica.fif",  # exclude: the removed components
        components="results/ica/{recording}_components.tsv",
        figure=report(
            "results/qc/{recording}_ica.png",
            caption="../report/ica_components.rst",
            category="Quality control",
            subcategory="ICA",
            labels={"recording": "{recording}"},
        ),
    log:
        "results/logs/ica_apply/{recording}.log",
    benchmark:
        "results/benchmarks/ica_apply/{recording}.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        mem_mb=mem_mb_per_input_mb(6),
        runtime=runtime_per_input_mb(SECONDS_PER_INPUT_MB["ica_apply"]),
    params:
        exclude=lookup(dpath="ica/exclude", within=config),
        source=recording_path,
    script:
        "../scripts/ica_apply.py"
