# BIDS derivatives of a BIDS input (config input.bids.derivatives: true): each
# recording's outputs under its BIDS name in results/derivatives/eegflow.

BIDS_SUFFIX = config["input"]["bids"]["datatype"]


rule bids_derivatives:
    input:
        code=package_code("bids_derivatives"),
        fif=of_bids_recording(WINDOWED_SIGNAL),  # the signal the windows index
        record=of_bids_recording(rules.preprocess.output.record),
        window_table=of_bids_recording(rules.windows.output.table),
        features=of_bids_recording(rules.features.output.table),
    output:
        fif=f"results/derivatives/eegflow/{{bids_path}}_desc-preproc_{BIDS_SUFFIX}.fif",
        sidecar=f"results/derivatives/eegflow/{{bids_path}}_desc-preproc_{BIDS_SUFFIX}.json",
        channels="results/derivatives/eegflow/{bids_path}_desc-preproc_channels.tsv",
        window_table=f"results/derivatives/eegflow/{{bids_path}}_desc-windows_{BIDS_SUFFIX}.parquet",
        features=f"results/derivatives/eegflow/{{bids_path}}_desc-features_{BIDS_SUFFIX}.parquet",
    log:
        "results/logs/bids_derivatives/{bids_path}.log",
    benchmark:
        "results/benchmarks/bids_derivatives/{bids_path}.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        mem_mb=JOB_BASE_MB,
        runtime=10,
    params:
        source=lambda wildcards: bids_source(BIDS_PATHS[wildcards.bids_path]),
    script:
        "../scripts/bids_derivatives.py"


rule bids_dataset_description:
    input:
        code=package_code("bids_dataset_description"),
        sources=bids_root_files,
    output:
        description="results/derivatives/eegflow/dataset_description.json",
        participants="results/derivatives/eegflow/participants.tsv",
    log:
        "results/logs/bids_dataset_description.log",
    benchmark:
        "results/benchmarks/bids_dataset_description.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        mem_mb=JOB_BASE_MB,
        runtime=10,
    params:
        bids_root=config["input"]["bids"]["root"],
        subjects=[RECORDINGS[rid]["metadata"]["subject"] for rid in BIDS_PATHS.values()],
        config={key: value for key, value in config.items() if key != "execution"},
    script:
        "../scripts/bids_dataset_description.py"
