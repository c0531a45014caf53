"""braindecode-style in-process preprocessing vs this workflow, on Sleep-EDF-shaped data.

    python benchmarks/reference_vs_workflow.py [--recordings 4] [--hours 8] [--cores 1 2]

Both do what braindecode's preprocessing example does: crop tmin=10 s, low-pass 30 Hz (MNE
FIR), 30 s windows, channel-wise scaling (z-score) of each window, on EDF recordings shaped
like Sleep-EDF's (2 EEG + 1 EOG channel at 100 Hz). The reference loads every recording
into one process and runs them through joblib (as `preprocess(..., n_jobs=N)` does without
`save_dir`), keeping all windows in memory; the workflow runs `snakemake --cores N` up to
the window tables, then reads every window once (it keeps windows as positions in the
preprocessed FIF, like braindecode's lazy windows: the scaled windows exist once read, so
the reading counts). Wall time and the peak summed memory of each run's process tree are
printed side by side, with ratios, from one run on one machine.
"""

import argparse
import glob
import re
import sys
import tempfile
from pathlib import Path

import yaml

from measure import print_table, run_measured, run_measured_memory, snakemake

CHANNELS = ["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal"]
SFREQ = 100.0


def write_recordings(folder, n_recordings, hours):
    """Sleep-EDF-shaped EDF files: Gaussian noise + an alpha burst, µV scale."""
    import mne
    import numpy as np

    folder.mkdir(parents=True)
    n_times = int(hours * 3600 * SFREQ)
    info = mne.create_info(CHANNELS, SFREQ, ["eeg", "eeg", "eog"])
    for index in range(n_recordings):
        rng = np.random.default_rng(index)
        data = rng.normal(0, 20e-6, size=(len(CHANNELS), n_times))
        raw = mne.io.RawArray(data, info, verbose="error")
        mne.export.export_raw(
            folder / f"SC4{index:03d}E0-PSG.edf", raw, verbose="error"
        )


def seed_pipeline_workdir(workdir, n_recordings, hours):
    """Write the recordings and a config for braindecode's seed pipeline into ``workdir``.

    Returns the recordings' paths and the workflow's window tables for them.
    """
    write_recordings(workdir / "data", n_recordings, hours)
    paths = sorted(str(p) for p in (workdir / "data").glob("*.edf"))
    config = {
        "input": {"source": "files", "files": ["data/*.edf"]},
        "preprocess": {"crop": {"tmin": 10}, "filter": {"h_freq": 30}},
        "windows": {"window_s": 30, "scaling": "zscore"},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return paths, [f"results/windows/{Path(p).stem}.parquet" for p in paths]


def read_every_window(tables):
    """Read every window of the workflow's window ``tables`` once, as a training
    loader's first epoch does; returns the window count."""
    from eegflow.windows import read_windows

    count = 0
    for table in tables:
        fif = Path("results/preprocessed") / f"{Path(table).stem}_raw.fif"
        count += len(read_windows(fif, table)[0][:])
    return count


def run_workflow_and_read(workdir, cores, tables, proportional=False):
    """Run the workflow from scratch up to ``tables`` with ``cores``, then read every
    window once (:func:`read_every_window`, a process of its own); returns the seconds
    of both together and the larger peaks (MiB, as
    :func:`measure.run_measured_memory`)."""
    run_wall, run_peaks = run_measured_memory(
        snakemake("--cores", str(cores), "-q", "--forceall", *tables),
        workdir,
        proportional=proportional,
    )
    read_wall, read_peaks = run_measured_memory(
        [sys.executable, __file__, "--read-windows", *tables],
        workdir,
        proportional=proportional,
    )
    return run_wall + read_wall, {
        kind: max(run_peaks[kind], read_peaks[kind]) for kind in run_peaks
    }


def reference(paths, n_jobs):
    """braindecode's recipe in one process: all recordings and windows in memory."""
    import mne
    import numpy as np
    from joblib import Parallel, delayed

    def preprocess_one(path):
        raw = mne.io.read_raw_edf(path, preload=True, verbose="error")
        raw.crop(tmin=10).filter(None, 30, verbose="error")
        data = raw.get_data()
        size = int(30 * raw.info["sfreq"])
        starts = range(0, data.shape[1] - size + 1, size)
        windows = np.stack([data[:, s : s + size] for s in starts])
        mean = windows.mean(axis=-1, keepdims=True)
        std = windows.std(axis=-1, keepdims=True)
        return (windows - mean) / std

    datasets = Parallel(n_jobs=n_jobs)(delayed(preprocess_one)(p) for p in paths)
    return sum(len(d) for d in datasets)


def largest_jobs(workdir):
    """{rule: largest peak RSS (MiB) of its jobs}, from the "peak RSS" line of job logs."""
    largest = {}
    for path in glob.glob(f"{workdir}/results/logs/*/*.log"):
        match = re.search(r"peak RSS of this job: ([\d.]+) MiB", Path(path).read_text())
        if match:
            rule = Path(path).parent.name
            largest[rule] = max(largest.get(rule, 0.0), float(match.group(1)))
    return largest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recordings", type=int, default=4)
    parser.add_argument("--hours", type=float, default=8)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--reference-run", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--read-windows", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read_windows:  # the workflow's windows read once, in a process of its own
        print(read_every_window(args.read_windows), "windows")
        return
    if args.reference_run:  # the reference, in a process of its own
        n_jobs, *paths = args.reference_run
        print(reference(paths, int(n_jobs)), "windows")
        return

    with tempfile.TemporaryDirectory(prefix="eegflow-ref-") as workdir:
        workdir = Path(workdir)
        paths, targets = seed_pipeline_workdir(workdir, args.recordings, args.hours)
        rows = []
        for cores in args.cores:
            ref_wall, ref_peak = run_measured(
                [sys.executable, __file__, "--reference-run", str(cores), *paths],
                workdir,
            )
            wf_wall, wf_peaks = run_workflow_and_read(workdir, cores, targets)
            wf_peak = wf_peaks["rss"]
            rows.append(
                {
                    "cores": cores,
                    "reference_s": ref_wall,
                    "workflow_s": wf_wall,
                    "time_ratio": wf_wall / ref_wall,
                    "reference_peak_mib": ref_peak,
                    "workflow_peak_mib": wf_peak,
                    "memory_ratio": wf_peak / ref_peak,
                }
            )
        float64_mib = args.hours * 3600 * SFREQ * len(CHANNELS) * 8 / 2**20
        print(
            f"{args.recordings} recordings x {args.hours:g} h, {len(CHANNELS)} channels at "
            f"{SFREQ:g} Hz ({float64_mib:.0f} MiB each as float64); "
            "ratios are workflow / reference"
        )
        print_table(rows, list(rows[0]))
        print(
            "\nlargest job per rule (peak RSS, interpreter and imports included), against "
            "one recording's float64 size (target: at most 3x):"
        )
        print_table(
            [
                {
                    "rule": rule,
                    "peak_rss_mib": rss,
                    "x_float64": rss / float64_mib,
                }
                for rule, rss in sorted(largest_jobs(workdir).items())
            ],
            ["rule", "peak_rss_mib", "x_float64"],
        )


if __name__ == "__main__":
    main()
