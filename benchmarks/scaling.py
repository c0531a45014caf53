"""Wall time, speedup, memory and overheads of the whole workflow, swept over cores and sizes.

    python benchmarks/scaling.py [--recordings 4 16 64] [--cores 1 2 4] [--duration-s 240]

Runs the real snakemake on the embedded synthetic data set (6 channels, 128 Hz) in a
temporary directory per point and prints one table. Numbers are from one machine at one
time: compare rows of the same run (ratios), not runs of different days.
"""

import argparse
import glob
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from measure import job_startups, print_table, run_measured, snakemake


def job_benchmarks(workdir):
    """(rule, wall s, max RSS MiB) of every job, from Snakemake's benchmark files."""
    rows = []
    for path in glob.glob(f"{workdir}/results/benchmarks/**/*.tsv", recursive=True):
        measured = pd.read_csv(path, sep="\t").iloc[-1]
        rule = (
            Path(path).parent.name
            if Path(path).parent.name != "benchmarks"
            else Path(path).stem
        )
        rows.append((rule, float(measured["s"]), float(measured["max_rss"])))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recordings", type=int, nargs="+", default=[4, 16, 64])
    default_cores = [c for c in (1, 2, 4) if c <= os.cpu_count()]
    parser.add_argument("--cores", type=int, nargs="+", default=default_cores)
    parser.add_argument("--duration-s", type=float, default=240)
    args = parser.parse_args()

    rows = []
    for n_recordings in args.recordings:
        wall_one_core = None
        for cores in sorted(args.cores):
            with tempfile.TemporaryDirectory(prefix="eegflow-bench-") as workdir:
                config = {
                    "input": {
                        "synthetic": {
                            "n_recordings": n_recordings,
                            "duration_s": args.duration_s,
                        }
                    }
                }
                Path(workdir, "config.yaml").write_text(yaml.safe_dump(config))
                wall, tree_peak = run_measured(
                    snakemake("--cores", str(cores), "-q"), workdir
                )
                noop_start = time.perf_counter()
                run_measured(snakemake("--cores", str(cores), "-q"), workdir)
                noop = time.perf_counter() - noop_start
                jobs = job_benchmarks(workdir)
                startups = [seconds for _, seconds in job_startups(workdir)]
            wall_one_core = wall_one_core or (wall if cores == 1 else None)
            busy = sum(job_wall for _, job_wall, _ in jobs)
            features = [w for rule, w, _ in jobs if rule == "features"]
            rows.append(
                {
                    "recordings": n_recordings,
                    "cores": cores,
                    "jobs": len(jobs),
                    "wall_s": wall,
                    "speedup": wall_one_core / wall if wall_one_core else float("nan"),
                    "run_peak_mib": tree_peak,
                    "largest_job_mib": max(rss for _, _, rss in jobs),
                    "feature_job_s": statistics.median(features),
                    "job_startup_s": statistics.median(startups),
                    "gap_per_job_s": (wall * cores - busy) / len(jobs),
                    "noop_rerun_s": noop,
                }
            )
            print(
                f"done: {n_recordings} recordings on {cores} cores in {wall:.1f} s",
                flush=True,
            )
    print()
    print(f"synthetic recordings: 6 channels, 128 Hz, {args.duration_s:g} s each")
    print_table(rows, list(rows[0]))
    print(
        "\njob_startup_s: median of the jobs' start-up (process start to work, logged)"
    )
    print(
        "gap_per_job_s: (wall x cores - sum of job wall times) / jobs, i.e. time a core"
    )
    print(
        "is not running a job (Snakemake scheduling, process spawn, idle cores at the end)."
    )


if __name__ == "__main__":
    main()
