"""braindecode itself against this workflow: its sleep example's preprocessing, same files.

    python3 benchmarks/braindecode_comparison.py [--braindecode-python PATH]
        [--recordings 2] [--hours 9] [--cores 1 2]

braindecode is not a dependency (it brings torch). Install it beside the project, reusing
the project's packages, and point the benchmark at that Python:

    python3 -m venv --system-site-packages .venv-braindecode
    .venv-braindecode/bin/pip install "braindecode[hub]==1.8.1"
    python3 benchmarks/braindecode_comparison.py --braindecode-python .venv-braindecode/bin/python

Data: Sleep-EDF-shaped EDF recordings (2 EEG + 1 EOG channel at 100 Hz, ``--hours`` each).
braindecode runs its sleep example's preprocessing for real: ``preprocess`` with crop
tmin=10 s and MNE's 30 Hz FIR low-pass, ``create_fixed_length_windows`` of 30 s (preloaded)
and ``Preprocessor(scale, channel_wise=True)`` on the windows, in its four settings:
sequential in memory, sequential with ``save_dir``, and both with ``n_jobs=2``. The workflow
runs the same steps (``windows.scaling: zscore``) with ``snakemake --cores N`` up to the
window tables, from scratch, then reads every window once (it keeps windows as positions
in the preprocessed FIF; the scaled windows braindecode holds exist here once read).
One run each, same machine, same files: wall time, peak summed memory of the process
tree, and the ratios to braindecode's fastest setting and to its quickest ``save_dir``
setting with at most as many cores (n_jobs), and the workflow's peak memory against
braindecode's smallest among those settings. Memory is measured two ways, both sampled
every 50 ms: the summed resident sizes (RSS) of the process tree, which counts a shared
library's pages once in each process (Snakemake and each worker all map NumPy, SciPy,
...), and the summed proportional set sizes (PSS), which count a shared page once in all:
what the machine holds.
"""

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

from measure import print_table, run_measured_memory
from reference_vs_workflow import run_workflow_and_read, seed_pipeline_workdir

SETTINGS = {  # name: (n_jobs, save_dir)
    "in_memory": (1, False),
    "save_dir": (1, True),
    "in_memory_n_jobs_2": (2, False),
    "save_dir_n_jobs_2": (2, True),
}


def braindecode_run(setting, save_dir, paths):
    """braindecode's sleep-example preprocessing of ``paths``; returns the window count."""
    import mne
    from braindecode.datasets import BaseConcatDataset, RawDataset
    from braindecode.preprocessing import (
        Preprocessor,
        create_fixed_length_windows,
        preprocess,
    )
    from sklearn.preprocessing import scale

    n_jobs, saved = SETTINGS[setting]
    dataset = BaseConcatDataset(
        [
            RawDataset(
                mne.io.read_raw_edf(path, preload=True, verbose="error"),
                description={"path": path},
            )
            for path in paths
        ]
    )
    preprocessed = preprocess(
        dataset,
        [
            Preprocessor("crop", tmin=10),
            Preprocessor("filter", l_freq=None, h_freq=30, verbose="error"),
        ],
        save_dir=str(save_dir) if saved else None,
        overwrite=True,
        n_jobs=n_jobs,
    )
    windows = create_fixed_length_windows(
        preprocessed if preprocessed is not None else dataset,
        window_size_samples=3000,
        window_stride_samples=3000,
        drop_last_window=True,
        preload=True,
        n_jobs=n_jobs,
    )
    preprocess(windows, [Preprocessor(scale, channel_wise=True)], n_jobs=n_jobs)
    return len(windows)


def peaks_mib(peaks):
    """``{"rss": .., "pss": ..}`` as table columns."""
    return {f"{kind}_mib": value for kind, value in peaks.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--braindecode-python", default=None)
    parser.add_argument("--recordings", type=int, default=2)
    parser.add_argument("--hours", type=float, default=9)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--braindecode-run", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.braindecode_run:  # inside braindecode's Python, in a process of its own
        setting, save_dir, *paths = args.braindecode_run
        print(braindecode_run(setting, save_dir, paths), "windows")
        return
    python = args.braindecode_python
    if python is None:
        if importlib.util.find_spec("braindecode") is None:
            sys.exit(__doc__.split("\n\n")[1] + "\n" + __doc__.split("\n\n")[2])
        python = sys.executable

    with tempfile.TemporaryDirectory(prefix="eegflow-braindecode-") as workdir:
        workdir = Path(workdir)
        paths, targets = seed_pipeline_workdir(workdir, args.recordings, args.hours)

        measured = {}
        for setting in SETTINGS:
            command = [python, __file__, "--braindecode-run", setting]
            command += [str(workdir / "saved"), *paths]
            measured[setting] = run_measured_memory(command, workdir, proportional=True)
        rows = []
        for cores in args.cores:
            wall, peaks = run_workflow_and_read(
                workdir, cores, targets, proportional=True
            )
            same_cores = [s for s, (n_jobs, _) in SETTINGS.items() if n_jobs <= cores]
            fastest = min(same_cores, key=lambda s: measured[s][0])
            saved = min(
                (s for s in same_cores if SETTINGS[s][1]), key=lambda s: measured[s][0]
            )
            least = {
                kind: min(measured[s][1][kind] for s in same_cores) for kind in peaks
            }
            rows.append(
                {
                    "cores": cores,
                    "workflow_s": wall,
                    "workflow_rss_mib": peaks["rss"],
                    "workflow_pss_mib": peaks["pss"],
                    "braindecode_fastest": fastest,
                    "x_faster_than_fastest": measured[fastest][0] / wall,
                    "x_faster_than_save_dir": measured[saved][0] / wall,
                    "rss_vs_least": peaks["rss"] / least["rss"],
                    "pss_vs_least": peaks["pss"] / least["pss"],
                }
            )
    print(
        f"{args.recordings} recordings x {args.hours:g} h (3 channels, 100 Hz EDF); "
        "braindecode, one run per setting:"
    )
    print_table(
        [
            {"setting": s, "n_jobs": SETTINGS[s][0], "wall_s": w, **peaks_mib(p)}
            for s, (w, p) in measured.items()
        ],
        ["setting", "n_jobs", "wall_s", "rss_mib", "pss_mib"],
    )
    print(
        "\nthis workflow up to the window tables (snakemake --cores N, from scratch), "
        "then every window read once:"
    )
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
