"""Summarise Snakemake's per-job benchmark files: one table and two plots."""

import logging
import os
import re

import pandas as pd

from .fileio import atomic_output

log = logging.getLogger(__name__)

COLUMNS = [
    "rule",
    "recording",
    "wall_s",
    "cpu_s",
    "max_rss_mib",
    "sampled_max_rss_mib",
    "input_mib",
]

# what eegflow.jobs logs at the end of every job: the kernel's exact high-water mark
# and CPU account
_PEAK_RSS = re.compile(r"peak RSS of this job: ([0-9.]+) MiB")
_CPU_S = re.compile(r"CPU time of this job: ([0-9.]+) s")


def logged_value(log_path, pattern):
    """The last value a job logged in ``pattern`` (its peak RSS in MiB, its CPU
    seconds), None if its log does not say."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            found = pattern.findall(handle.read())
    except OSError:
        return None
    return float(found[-1]) if found else None


def read_benchmarks(jobs, job_inputs):
    """One row per job from Snakemake ``benchmark:`` TSV files and the jobs' logs.

    ``max_rss_mib`` and ``cpu_s`` are what the job itself logged (the kernel's
    peak and CPU account of its process: exact); Snakemake's benchmark samples memory
    now and then and can miss a short peak by several times, and for a job run in a
    warm worker (:mod:`eegflow.workers`) it measures Snakemake's process with all its
    workers, so its values are used only where a log does not say (its memory kept as
    ``sampled_max_rss_mib``).

    Parameters
    ----------
    jobs : dict
        ``{job key: {"rule", "recording", "benchmark", "log", ...}}``; a job
        key is ``"<rule>/<recording>"`` or ``"<rule>"`` for jobs over all
        recordings. Jobs without a benchmark file (not run) are skipped.
    job_inputs : dict
        ``{job key: [input paths]}``, for the ``input_mib`` column.
    """
    rows = []
    for key, job in jobs.items():
        if not os.path.exists(job["benchmark"]):
            continue
        measured = pd.read_csv(job["benchmark"], sep="\t").iloc[-1]  # latest repetition
        sizes = [
            os.path.getsize(p) for p in job_inputs.get(key, []) if os.path.exists(p)
        ]
        sampled = float(measured["max_rss"])
        logged = logged_value(job["log"], _PEAK_RSS)
        logged_cpu_s = logged_value(job["log"], _CPU_S)
        rows.append(
            {
                "rule": job["rule"],
                "recording": job["recording"] or None,
                "wall_s": float(measured["s"]),
                "cpu_s": float(
                    measured["cpu_time"] if logged_cpu_s is None else logged_cpu_s
                ),
                "max_rss_mib": sampled if logged is None else logged,
                "sampled_max_rss_mib": sampled,
                "input_mib": sum(sizes) / 2**20,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def _scatter_by_rule(table, x, y, xlabel, ylabel, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4.5), layout="constrained")
    for rule, group in table.groupby("rule", sort=False):
        axes.scatter(group[x], group[y], label=rule, alpha=0.7)
    axes.set(xlabel=xlabel, ylabel=ylabel, title=title)
    axes.legend(title="rule")
    axes.grid(alpha=0.3)
    with atomic_output(path) as tmp:
        figure.savefig(tmp, format="png", dpi=120)
    plt.close(figure)


def summarise_benchmarks(jobs, job_inputs, outputs):
    """Write the benchmark table (parquet + CSV) and the two plots.

    ``outputs`` has the paths ``parquet``, ``csv``, ``time_vs_memory`` (wall
    time against peak memory per job, by rule, like braindecode's benchmark
    figure) and ``scaling`` (wall time against input size per job, by rule:
    what the cost grows with).
    """
    table = read_benchmarks(jobs, job_inputs)
    with atomic_output(outputs["parquet"]) as tmp:
        table.to_parquet(tmp, index=False)
    with atomic_output(outputs["csv"]) as tmp:
        table.to_csv(tmp, index=False)
    _scatter_by_rule(
        table,
        "wall_s",
        "max_rss_mib",
        "wall time per job (s)",
        "peak memory per job (MiB)",
        "Time against memory",
        outputs["time_vs_memory"],
    )
    _scatter_by_rule(
        table,
        "input_mib",
        "wall_s",
        "input size of the job (MiB)",
        "wall time per job (s)",
        "What the cost grows with",
        outputs["scaling"],
    )
    by_rule = table.groupby("rule")[["wall_s", "max_rss_mib"]].agg(
        ["count", "median", "max"]
    )
    log.info("benchmarks per rule:\n%s", by_rule.to_string())
