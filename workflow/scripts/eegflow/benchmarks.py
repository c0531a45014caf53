"""Summarise Snakemake's per-job benchmark files: one table and two plots."""

import logging
import os

import pandas as pd

from .fileio import atomic_output

log = logging.getLogger(__name__)

COLUMNS = ["rule", "recording", "wall_s", "cpu_s", "max_rss_mib", "input_mib"]


def read_benchmarks(benchmark_files, job_inputs):
    """One row per job from Snakemake ``benchmark:`` TSV files.

    Parameters
    ----------
    benchmark_files : dict
        ``{job key: path}``; a job key is ``"<rule>/<recording>"`` or
        ``"<rule>"`` for jobs over all recordings. Missing files (jobs that
        have not run) are skipped.
    job_inputs : dict
        ``{job key: [input paths]}``, for the ``input_mib`` column.
    """
    rows = []
    for key, path in benchmark_files.items():
        if not os.path.exists(path):
            continue
        rule, _, recording = key.partition("/")
        measured = pd.read_csv(path, sep="\t").iloc[-1]  # the latest repetition
        sizes = [os.path.getsize(p) for p in job_inputs.get(key, []) if os.path.exists(p)]
        rows.append(
            {
                "rule": rule,
                "recording": recording or None,
                "wall_s": float(measured["s"]),
                "cpu_s": float(measured["cpu_time"]),
                "max_rss_mib": float(measured["max_rss"]),
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


def summarise_benchmarks(benchmark_files, job_inputs, outputs):
    """Write the benchmark table (parquet + CSV) and the two plots.

    ``outputs`` has the paths ``parquet``, ``csv``, ``time_vs_memory`` (wall
    time against peak memory per job, by rule, like braindecode's benchmark
    figure) and ``scaling`` (wall time against input size per job, by rule:
    what the cost grows with).
    """
    table = read_benchmarks(benchmark_files, job_inputs)
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
    by_rule = table.groupby("rule")[["wall_s", "max_rss_mib"]].agg(["count", "median", "max"])
    log.info("benchmarks per rule:\n%s", by_rule.to_string())
