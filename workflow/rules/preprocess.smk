# Rename, type, crop, pick, re-reference, resample, filter and anonymise each recording
# (config preprocess); a paired annotations file (input.annotations) is attached. The
# JSON record says what was done.


rule preprocess:
    input:
        code=package_code("preprocess"),
        raw=recording_input,
        companions=recording_companions,
        annotations=recording_annotations,
        sidecars=bids_sidecars,
    output:
        fif="results/preprocessed/{recording}_raw.fif",
        # where the FIF's buffers lie (eegflow.fifread.write_layout): later jobs read
        # windows without importing MNE
        layout="results/preprocessed/{recording}_raw.layout.json",
        record="results/preprocessed/{recording}.json",
    log:
        "results/logs/preprocess/{recording}.log",
    benchmark:
        "results/benchmarks/preprocess/{recording}.tsv"
    threads: 1
    resources:
        # input size: every file of the recording (BrainVision .eeg, EEGLAB .fdt, ...);
        # EDF/BDF store 2-3 bytes a value, loaded as 8: up to 4x, plus a filter copy
        mem_mb=mem_mb_per_input_mb(10),
        runtime=runtime_per_input_mb(SECONDS_PER_INPUT_MB["preprocess"]),
    params:
        preprocess=lookup(dpath="preprocess", within=config),
        bids_root=recording_bids_root,
        recording=recording_overrides,
        source=recording_path,  # a remote one's URL, for the provenance
    run:
        run_script_warm("preprocess", locals())
