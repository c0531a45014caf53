"""Shared helpers of the benchmark scripts: run a command, measure wall time and memory."""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the 19 electrodes of the 10-20 system, for the benchmarks' realistic recordings
TEN_TWENTY = [
    "Fp1",
    "Fp2",
    "F7",
    "F3",
    "Fz",
    "F4",
    "F8",
    "T7",
    "C3",
    "Cz",
    "C4",
    "T8",
    "P7",
    "P3",
    "Pz",
    "P4",
    "P8",
    "O1",
    "O2",
]
PAGE_MIB = os.sysconf("SC_PAGE_SIZE") / 2**20


def _tree_memory_mib(root_pid, kinds=("rss",)):
    """Summed memory (MiB) of a process and all its descendants, per kind of ``kinds``:
    ``rss``, resident, and ``pss``, their proportional set sizes (a page shared by k
    processes, such as a library's code, counts 1/k in each)."""
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)  # fields[1]: ppid
        rss[pid] = int(fields[21]) * PAGE_MIB  # fields[21]: rss in pages
    totals, stack = dict.fromkeys(kinds, 0.0), [root_pid]
    while stack:
        pid = stack.pop()
        if "rss" in totals:
            totals["rss"] += rss.get(pid, 0.0)
        if "pss" in totals:
            totals["pss"] += _pss_mib(pid)
        stack.extend(children.get(pid, []))
    return totals


def _pss_mib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_measured(command, cwd, env=None):
    """Run ``command``; return (wall s, peak summed RSS of its process tree in MiB).

    The tree's memory is sampled every 50 ms, so it counts jobs running side by
    side (what a machine must hold), not just the largest one.
    """
    wall, peaks = run_measured_memory(command, cwd, env)
    return wall, peaks["rss"]


def run_measured_memory(command, cwd, env=None, proportional=False):
    """:func:`run_measured`, the peaks in a dict: ``rss``, and with ``proportional``
    also ``pss``, the peak of the tree's summed proportional set sizes (where the
    tree's processes share a library's pages, RSS counts them once per process)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    peaks = {"rss": 0.0, **({"pss": 0.0} if proportional else {})}

    def sample():
        while process.poll() is None:
            for kind, measured in _tree_memory_mib(process.pid, tuple(peaks)).items():
                peaks[kind] = max(peaks[kind], measured)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    output, _ = process.communicate()
    sampler.join()
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{output[-3000:]}")
    return wall, peaks


def snakemake(*args):
    """The snakemake command line on this repository's Snakefile."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        *args,
    ]


def job_startups(workdir):
    """(rule, seconds) of every job's start-up, as its log states it (``eegflow.jobs``):
    from the job's start to its work (a job process's: Python, Snakemake's preamble,
    imports; a warm worker's: being handed the job)."""
    pattern = re.compile(r"start-up: ([0-9.]+) s from the job's start")
    rows = []
    logs = Path(workdir, "results", "logs")
    for log in logs.rglob("*.log"):
        found = pattern.search(log.read_text(errors="replace"))
        if found:  # results/logs/<rule>/<recording>.log or results/logs/<rule>.log
            rule = log.stem if log.parent == logs else log.parent.name
            rows.append((rule, float(found.group(1))))
    return rows


def print_table(rows, columns):
    """Print rows (dicts) as an aligned plain-text table."""
    widths = {c: max(len(c), *(len(_fmt(r[c])) for r in rows)) for c in columns}
    print("  ".join(c.rjust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(_fmt(row[c]).rjust(widths[c]) for c in columns))


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
