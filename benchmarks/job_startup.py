"""Cheap jobs: the default run, an h_freq edit and a no-op, with each rule's job start-up.

    python benchmarks/job_startup.py [--cores 2]

Runs the default config (16 synthetic recordings of 240 s) in a temporary directory with
``snakemake --cores N``, then edits ``preprocess.filter.h_freq`` (which reruns
preprocess, windows, features and combine) and runs again, then runs once more with
nothing to do; prints the three wall times, then per rule the jobs' median start-up (as
each job logs it: from its process's start to its work, i.e. Python, Snakemake's preamble
and the job script's imports), median wall time and the rest (the work, including the
heavy modules it imports when it needs them: MNE, scipy.signal, pyarrow, numba).
"""

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

from measure import ROOT, job_startups, print_table, run_measured, snakemake
from scaling import job_benchmarks


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    run = snakemake("--cores", str(args.cores), "--quiet", "all")
    with tempfile.TemporaryDirectory(prefix="eegflow-startup-") as workdir:
        config = Path(workdir, "config.yaml")
        shutil.copy(ROOT / "config.yaml", config)
        default_s, _ = run_measured(run, workdir)
        jobs = job_benchmarks(workdir)
        startups = job_startups(workdir)
        text = config.read_text()
        assert "h_freq: 30," in text
        config.write_text(text.replace("h_freq: 30,", "h_freq: 25,"))
        edit_s, _ = run_measured(run, workdir)
        noop_s, _ = run_measured(run, workdir)

    print(f"default config, --cores {args.cores}")
    print_table(
        [{"default_run_s": default_s, "h_freq_edit_rerun_s": edit_s, "noop_s": noop_s}],
        ["default_run_s", "h_freq_edit_rerun_s", "noop_s"],
    )
    rows = []
    for rule in sorted({rule for rule, _ in startups}):
        startup = statistics.median(s for r, s in startups if r == rule)
        wall = statistics.median(w for r, w, _ in jobs if r == rule)
        rows.append(
            {
                "rule": rule,
                "jobs": sum(r == rule for r, _, _ in jobs),
                "startup_s": startup,
                "wall_s": wall,
                "work_s": wall - startup,
            }
        )
    print("\nper rule (medians over the default run's jobs):")
    print_table(rows, ["rule", "jobs", "startup_s", "wall_s", "work_s"])


if __name__ == "__main__":
    main()
