# BIDS derivatives of a BIDS input (config input.bids.derivatives: true): each
# recording's outputs under its BIDS name in results/derivatives/eegflow.
from eegflow.derivatives import spatial_files

BIDS_SUFFIX = config["input"]["bids"]["datatype"]
BIDS_ROOT = config["input"]["bids"]["root"]
# the source's electrode files of the recordings' folders, copied along
BIDS_SPATIAL_FILES = spatial_files(
    BIDS_ROOT, [bids_source(recording) for recording in BIDS_PATHS.values()]
)


rule bids_derivatives:
    input:
        code=package_code("bids_derivatives"),
        fif=of_bids_recording(WINDOWED_SIGNAL),  # the signal the windows index
        record=of_bids_recording(rules.preprocess.output.record),
        window_table=of_bids_recording(rules.windows.output.table),
        features=of_bids_recording(rules.features.output.table),
    output:
        fif=f"results/derivatives/eegflow/{{bids_path}}_desc-preproc_{BIDS_SUFFIX}.fif",
        vhdr=f"results/derivatives/eegflow/{{bids_path}}_desc-preproc_{BIDS_SUFFIX}.vhdr",
        vmrk=f"results/derivatives/eegflow/{{bids_path}}_desc-preproc_{BIDS_SUFFIX}.vmrk",
        eeg=f"results/derivatives/eegflow/{{bids_path}}_desc-preproc_{BIDS_SUFFIX}.eeg",
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
        mem_mb=mem_mb_per_input_mb(5),  # BrainVision export: +600 MB for a 120 MB FIF
        runtime=runtime_per_input_mb(SECONDS_PER_INPUT_MB["bids_derivatives"]),
    params:
        source=parameters_inspected_once(
            lambda wildcards: bids_source(BIDS_PATHS[wildcards.bids_path])
        ),
    script:
        "../scripts/bids_derivatives.py"


rule bids_dataset_description:
    input:
        code=package_code("bids_dataset_description"),
        spatial=[os.path.join(BIDS_ROOT, path) for path in BIDS_SPATIAL_FILES],
        sources=bids_root_files,
    output:
        description="results/derivatives/eegflow/dataset_description.json",
        participants="results/derivatives/eegflow/participants.tsv",
        bidsignore="results/derivatives/eegflow/.bidsignore",
        spatial=[f"results/derivatives/eegflow/{path}" for path in BIDS_SPATIAL_FILES],
    log:
        "results/logs/bids_dataset_description.log",
    benchmark:
        "results/benchmarks/bids_dataset_description.tsv"
    conda:
        "../../envs/eegflow.yaml"
    threads: 1
    resources:
        mem_mb=JOB_BASE_MB,
        runtime=FIXED_RUNTIME_MIN,
    params:
        bids_root=config["input"]["bids"]["root"],
        subjects=[RECORDINGS[rid]["metadata"]["subject"] for rid in BIDS_PATHS.values()],
        config={key: value for key, value in config.items() if key != "execution"},
        # the links, in formats BIDS has no name for
        ignored=[
            f"*{path.partition('{bids_path}')[2]}"
            for path in (
                rules.bids_derivatives.output.fif,
                rules.bids_derivatives.output.window_table,
                rules.bids_derivatives.output.features,
            )
        ],
    script:
        "../scripts/bids_dataset_description.py"
