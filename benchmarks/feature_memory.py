"""Memory of a features job with pairwise features: memory-sized batches against all at once.

    python benchmarks/feature_memory.py [--channels 50] [--sfreq 2000] [--seconds 32]

Runs the workflow on one synthetic recording (many channels at a high rate, 2 s windows)
with coherence, once with the default `execution.feature_memory_mb` and once with a budget
so large that every window is one batch (what the workflow did before batches were sized
to memory). Prints, per run, the batch size and the job's memory request (both from the
job's log), its exact peak RSS (logged `ru_maxrss`), Snakemake's sampled peak (benchmark
file) and the job's wall time.
"""

import argparse
import re
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from measure import print_table, run_measured, snakemake


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--sfreq", type=float, default=2000)
    parser.add_argument("--seconds", type=float, default=32)
    args = parser.parse_args()
    rows = []
    for label, budget_mb in (
        ("default feature_memory_mb", None),
        ("all windows at once", 10**6),
    ):
        workdir = Path(tempfile.mkdtemp())
        config = {
            "input": {
                "synthetic": {
                    "n_recordings": 1,
                    "sfreq": args.sfreq,
                    "duration_s": args.seconds,
                    "channels": [f"E{i:02d}" for i in range(args.channels)],
                }
            },
            "features": {
                "compute": {
                    "coherence": {"bands": {"alpha": [8, 12], "beta": [12, 30]}}
                }
            },
        }
        if budget_mb is not None:
            config["execution"] = {"feature_memory_mb": budget_mb}
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
        run_measured(snakemake("--cores", "1"), workdir)
        log = (workdir / "results/logs/features/synthetic-00.log").read_text()
        batch, request = re.search(
            r"batches of (\d+) windows within the job's (\d+) MB", log
        ).groups()
        peak = float(re.search(r"peak RSS of this job: ([0-9.]+) MiB", log).group(1))
        measured = pd.read_csv(
            workdir / "results/benchmarks/features/synthetic-00.tsv", sep="\t"
        ).iloc[-1]
        rows.append(
            {
                "run": label,
                "batch": int(batch),
                "request MB": int(request),
                "peak RSS MB": peak * 2**20 / 1e6,
                "sampled MB": float(measured["max_rss"]) * 2**20 / 1e6,
                "wall s": float(measured["s"]),
            }
        )
    print(
        f"{args.channels} channels at {args.sfreq:g} Hz, {args.seconds:g} s, 2 s windows, "
        "coherence (alpha, beta)"
    )
    print_table(
        rows, ["run", "batch", "request MB", "peak RSS MB", "sampled MB", "wall s"]
    )


if __name__ == "__main__":
    main()
