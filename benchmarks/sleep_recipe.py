"""The README's Sleep-EDF recipe on Sleep-EDF-sized nights: time and memory per stage.

    python benchmarks/sleep_recipe.py [--nights 2] [--hours 22] [--cores 1 2]

Writes Sleep-EDF-shaped nights (EEG Fpz-Cz, EEG Pz-Oz, EOG horizontal at 100 Hz as EDF;
an EDF+ hypnogram each: 3 h awake, 90 min sleep cycles, awake again for the last 3 h),
runs the workflow with the README's recipe block (hypnograms paired by key,
crop_wake_mins 30, 30 s z-scored windows labelled by stage) in a temporary directory per
core count, and prints the wall time, the whole run's peak memory, and per stage the
slowest job and the largest job's peak RSS against one night's size in float64.
Needs the test requirements (edfio writes the EDF files).
"""

import argparse
import tempfile
from pathlib import Path

import edfio
import mne
import numpy as np
import pandas as pd

from measure import ROOT, print_table, run_measured, snakemake
from scaling import job_benchmarks

SFREQ = 100.0
CYCLE = [("1", 5), ("2", 25), ("3", 15), ("4", 15), ("2", 10), ("R", 20)]  # minutes
RHYTHM = {
    "W": (10, 20),
    "1": (6, 20),
    "2": (13, 20),
    "3": (2, 50),
    "4": (1.5, 60),
    "R": (7, 15),
}


def hypnogram(hours):
    """[(stage, onset s, duration s)]: 3 h wake, sleep cycles, 3 h wake; one run = one entry."""
    stages, t = [("W", 0, 3 * 3600)], 3 * 3600
    while t + 90 * 60 <= (hours - 3) * 3600:
        for stage, minutes in CYCLE:
            stages.append((stage, t, minutes * 60))
            t += minutes * 60
    stages.append(("W", t, hours * 3600 - t))
    return stages


def write_night(folder, number, hours, seed):
    """SC4<number>E0-PSG.edf and SC4<number>EC-Hypnogram.edf in ``folder``."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 * SFREQ)
    data = rng.normal(0, 10e-6, size=(3, n))
    t = np.arange(n) / SFREQ
    stages = hypnogram(hours)
    for stage, onset, duration in stages:
        freq, amplitude = RHYTHM[stage]
        span = slice(int(onset * SFREQ), int((onset + duration) * SFREQ))
        data[:2, span] += amplitude * 1e-6 * np.sin(2 * np.pi * freq * t[span])
    info = mne.create_info(["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal"], SFREQ, "eeg")
    raw = mne.io.RawArray(data, info, verbose="error")
    mne.export.export_raw(folder / f"SC4{number:03d}E0-PSG.edf", raw, verbose="error")
    annotations = [
        edfio.EdfAnnotation(onset, duration, f"Sleep stage {stage}")
        for stage, onset, duration in stages
    ]
    edfio.Edf([], annotations=annotations).write(
        folder / f"SC4{number:03d}EC-Hypnogram.edf"
    )
    return data.nbytes / 2**20


def readme_recipe():
    text = (ROOT / "README.md").read_text()
    start = text.index("```yaml\n", text.index("### Sleep-EDF recipe")) + len(
        "```yaml\n"
    )
    return text[start : text.index("```", start)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nights", type=int, default=2)
    parser.add_argument("--hours", type=float, default=22)
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="eegflow-sleep-") as data_dir:
        folder = Path(data_dir)
        night_mib = [
            write_night(folder, i, args.hours, seed=i) for i in range(args.nights)
        ]
        print(
            f"{args.nights} nights of {args.hours:g} h: {night_mib[0]:.0f} MiB each as float64"
        )
        rows = []
        for cores in args.cores:
            with tempfile.TemporaryDirectory(prefix="eegflow-bench-") as workdir:
                (Path(workdir) / "data").symlink_to(folder)
                recipe = readme_recipe().replace("data/physionet-sleep-data/", "data/")
                Path(workdir, "config.yaml").write_text(recipe)
                wall, tree_peak = run_measured(
                    snakemake("--cores", str(cores), "-q"), workdir
                )
                table = pd.read_parquet(Path(workdir) / "results" / "features.parquet")
                jobs = pd.DataFrame(
                    job_benchmarks(workdir), columns=["rule", "s", "rss"]
                )
                row = {
                    "cores": cores,
                    "wall_s": wall,
                    "run_peak_MiB": tree_peak,
                    "windows": len(table),
                }
                for rule in ("preprocess", "windows", "features"):
                    of_rule = jobs[jobs["rule"] == rule]
                    row[f"{rule}_max_s"] = of_rule["s"].max()
                    row[f"{rule}_MiB"] = of_rule["rss"].max()
                    row[f"{rule}_x_night"] = of_rule["rss"].max() / night_mib[0]
                rows.append(row)
        print_table(rows, list(rows[0]))
        labels = table.groupby("label").size().to_dict()
        print("windows per stage (last run):", labels)


if __name__ == "__main__":
    main()
