# The embedded default data set, written on first run (config input.synthetic).


def synthetic_mem_mb(wildcards, attempt):
    """Interpreter + 3x one synthetic recording in float64, more on retries."""
    synthetic = config["input"]["synthetic"]
    n_values = len(synthetic["channels"]) * synthetic["sfreq"] * synthetic["duration_s"]
    return int((400 + 3 * 8 * n_values / 1e6) * attempt)


rule synthetic_recording:
    output:
        fif=f"{SYNTHETIC_DIR}/synthetic-{{index}}_raw.fif",
    params:
        synthetic=lookup(dpath="input/synthetic", within=config),
    log:
        "results/logs/synthetic_recording/synthetic-{index}.log",
    benchmark:
        "results/benchmarks/synthetic_recording/synthetic-{index}.tsv"
    threads: 1
    resources:
        mem_mb=synthetic_mem_mb,
        runtime=10,
    conda:
        "../../envs/eegflow.yaml"
    script:
        "../scripts/synthetic_recording.py"
