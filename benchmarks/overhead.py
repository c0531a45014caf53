"""The workflow's cost beyond the work: a hand-written one-process script against it.

    python benchmarks/overhead.py [--recordings 20] [--minutes 20] [--cores 1 2]

Writes ``--recordings`` EDF files (19 channels of the 10-20 system at 256 Hz, ``--minutes``
each: pink-ish noise, a 10 Hz alpha rhythm and 50 Hz mains, in µV; the same files every
run), then does the same work twice on them:

- a hand-written script in one Python process, recording after recording: read the EDF
  with MNE, average reference, notch 50 Hz and its harmonics, FIR band-pass 0.5-40 Hz
  (MNE), save a float32 FIF, cut 2 s windows, compute each window's variance and four
  band powers (SciPy's Welch, 1 s Hann segments, half overlap), one parquet table of all;
- the workflow with the same settings (``snakemake --cores N`` up to
  ``results/features.parquet``, from scratch), at each ``--cores``.

Prints the wall times and the ratios workflow / hand-written from one run (and the CPU
seconds of each, steadier than wall time on a shared machine), then per rule
the jobs' median wall time and start-up (what each job logs: its process's start to its
work), and the Snakemake run's time beyond its jobs.
"""

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

from measure import TEN_TWENTY, job_startups, print_table, run_measured, snakemake
from scaling import job_benchmarks

CHANNELS = TEN_TWENTY
SFREQ = 256.0
LINE_FREQ = 50.0
L_FREQ, H_FREQ = 0.5, 40.0
WINDOW_S = 2.0
BANDS = {"delta": [1, 4], "theta": [4, 8], "alpha": [8, 12], "beta": [12, 30]}
WELCH = {"segment_s": 1.0, "overlap": 0.5}  # the workflow's default


def write_recordings(folder, n_recordings, minutes):
    """EDF recordings, the same each run: returns their paths."""
    import mne
    import numpy as np

    folder.mkdir(parents=True)
    n_times = int(minutes * 60 * SFREQ)
    times = np.arange(n_times) / SFREQ
    info = mne.create_info(CHANNELS, SFREQ, "eeg")
    paths = []
    for index in range(n_recordings):
        rng = np.random.default_rng(index)
        noise = np.cumsum(rng.normal(0, 1, (len(CHANNELS), n_times)), axis=1)
        noise -= np.linspace(noise[:, :1], noise[:, -1:], n_times, axis=1)[..., 0]
        noise *= 20e-6 / noise.std(axis=1, keepdims=True)
        white = rng.normal(0, 5e-6, (len(CHANNELS), n_times))
        alpha = 10e-6 * np.sin(2 * np.pi * 10 * times + rng.uniform(0, 6, (19, 1)))
        mains = 5e-6 * np.sin(2 * np.pi * LINE_FREQ * times)
        raw = mne.io.RawArray(noise + white + alpha + mains, info, verbose="error")
        path = folder / f"rec{index:02d}.edf"
        mne.export.export_raw(path, raw, verbose="error")
        paths.append(str(path))
    return paths


def hand_written(paths, out_dir):
    """The work in one process, as one would write it by hand; returns the row count."""
    import mne
    import numpy as np
    import pandas as pd
    import scipy.signal

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = []
    for path in paths:
        raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
        raw.set_eeg_reference("average", projection=False, verbose="error")
        sfreq = raw.info["sfreq"]
        harmonics = np.arange(LINE_FREQ, sfreq / 2, LINE_FREQ)
        raw.notch_filter(harmonics, verbose="error")
        raw.filter(L_FREQ, H_FREQ, verbose="error")
        raw.save(out_dir / f"{Path(path).stem}_raw.fif", fmt="single", verbose="error")
        data = raw.get_data().astype(np.float32).astype(np.float64)
        size = int(round(WINDOW_S * sfreq))
        n_windows = data.shape[1] // size
        windows = data[:, : n_windows * size].reshape(
            len(raw.ch_names), n_windows, size
        )
        windows = windows.transpose(1, 0, 2)
        nperseg = int(round(WELCH["segment_s"] * sfreq))
        freqs, psd = scipy.signal.welch(
            windows,
            fs=sfreq,
            window="hann",
            nperseg=nperseg,
            noverlap=int(round(WELCH["overlap"] * nperseg)),
            axis=-1,
        )
        columns = {
            "recording": Path(path).stem,
            "window_index": np.arange(n_windows),
            "start_s": np.arange(n_windows) * WINDOW_S,
        }
        variance = windows.var(axis=-1)
        for index, name in enumerate(raw.ch_names):
            columns[f"variance_{name}"] = variance[:, index]
        for band, (low, high) in BANDS.items():
            mask = (freqs >= low) & (freqs < high)
            power = psd[..., mask].sum(axis=-1) * (freqs[1] - freqs[0])
            for index, name in enumerate(raw.ch_names):
                columns[f"band_power_{name}_{band}"] = power[:, index]
        tables.append(pd.DataFrame(columns))
    table = pd.concat(tables, ignore_index=True)
    table.to_parquet(out_dir / "features.parquet", index=False)
    return len(table)


def workflow_config():
    """The workflow's config for the same work."""
    return {
        "input": {"source": "files", "files": ["data/*.edf"]},
        "preprocess": {
            "reference": "average",
            "notch": {"line_freq": LINE_FREQ},
            "filter": {"l_freq": L_FREQ, "h_freq": H_FREQ},
        },
        "windows": {"window_s": WINDOW_S},
        "features": {
            "welch": WELCH,
            "compute": {"variance": {}, "band_power": {"bands": BANDS}},
        },
    }


def run_timed(command, cwd):
    """Run ``command``; return (wall s, CPU s of it and its descendants).

    On a shared machine the CPU seconds move less than the wall time.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, _ = run_measured(command, cwd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu


def per_rule(workdir):
    """Rows per rule: jobs, median wall s (benchmark files), median start-up s (logs)."""
    jobs = job_benchmarks(workdir)
    startups = job_startups(workdir)
    rows = []
    for rule in sorted({rule for rule, *_ in jobs}):
        walls = [wall for name, wall, _ in jobs if name == rule]
        starts = [s for name, s in startups if name == rule]
        rows.append(
            {
                "rule": rule,
                "jobs": len(walls),
                "median_wall_s": statistics.median(walls),
                "median_startup_s": statistics.median(starts)
                if starts
                else float("nan"),
                "sum_wall_s": sum(walls),
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recordings", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=20)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--hand-written-run", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hand_written_run:  # the hand-written script, in a process of its own
        out_dir, *paths = args.hand_written_run
        print(hand_written(paths, out_dir), "rows")
        return

    with tempfile.TemporaryDirectory(prefix="eegflow-overhead-") as workdir:
        workdir = Path(workdir)
        started = time.perf_counter()
        paths = write_recordings(workdir / "data", args.recordings, args.minutes)
        print(
            f"{args.recordings} EDF recordings x {args.minutes:g} min, "
            f"{len(CHANNELS)} channels at {SFREQ:g} Hz, written in "
            f"{time.perf_counter() - started:.1f} s"
        )
        (workdir / "config.yaml").write_text(
            yaml.safe_dump(workflow_config(), sort_keys=False)
        )
        hand_s, hand_cpu = run_timed(
            [sys.executable, __file__, "--hand-written-run", "hand", *paths], workdir
        )
        rows, rule_rows = [], {}
        for cores in args.cores:
            target = "results/features.parquet"
            wall, cpu = run_timed(
                snakemake(
                    target, "--cores", str(cores), "--quiet", "all", "--forceall"
                ),
                workdir,
            )
            jobs_s = sum(row["sum_wall_s"] for row in per_rule(workdir))
            rule_rows[cores] = per_rule(workdir)
            rows.append(
                {
                    "cores": cores,
                    "hand_written_s": hand_s,
                    "workflow_s": wall,
                    "ratio": wall / hand_s,
                    "hand_written_cpu_s": hand_cpu,
                    "workflow_cpu_s": cpu,
                    "cpu_ratio": cpu / hand_cpu,
                    "jobs_sum_s": jobs_s,
                    "beyond_jobs_s": wall - jobs_s / cores,
                }
            )
        noop_s, _ = run_timed(
            snakemake(target, "--cores", "1", "--quiet", "all"), workdir
        )
    print("ratio = workflow / hand-written (one process, 1 core)")
    print_table(rows, list(rows[0]))
    print(f"no-op run (nothing to do): {noop_s:.2f} s")
    for cores, table in rule_rows.items():
        print(f"\nper rule, --cores {cores}:")
        print_table(table, list(table[0]))


if __name__ == "__main__":
    main()
