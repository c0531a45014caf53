"""Disk each stage's outputs take against the EDF recordings they come from.

    python3 benchmarks/disk.py [--recordings 2] [--hours 2]

Writes Sleep-EDF-shaped EDF recordings (2 EEG + 1 EOG channel at 100 Hz, 16-bit), runs the
workflow on them up to the feature tables (braindecode's seed settings: crop, 30 Hz
low-pass, 30 s windows, z-scored) and prints each stage's size in MB, as a multiple of the
EDF files and per recording-hour and channel. Target: preprocessed + windows at most 2x.
"""

import argparse
import tempfile
from pathlib import Path

from measure import print_table, run_measured, snakemake
from reference_vs_workflow import CHANNELS, seed_pipeline_workdir

STAGES = {  # stage: its files in a run's folder
    "EDF input": "data/*.edf",
    "preprocess": "results/preprocessed/*_raw.fif",
    "windows": "results/windows/*.parquet",
    "features": "results/features/*.parquet",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recordings", type=int, default=2)
    parser.add_argument("--hours", type=float, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="eegflow-disk-") as workdir:
        workdir = Path(workdir)
        _, tables = seed_pipeline_workdir(workdir, args.recordings, args.hours)
        features = [table.replace("windows", "features") for table in tables]
        run_measured(snakemake("--cores", "2", *features, "-q"), workdir)
        sizes = {
            stage: sum(path.stat().st_size for path in workdir.glob(pattern)) / 1e6
            for stage, pattern in STAGES.items()
        }
    sizes["preprocess + windows"] = sizes["preprocess"] + sizes["windows"]
    channel_hours = args.recordings * args.hours * len(CHANNELS)
    print(
        f"{args.recordings} recordings x {args.hours:g} h, {len(CHANNELS)} channels at "
        "100 Hz (EDF: 16 bits a sample)"
    )
    print_table(
        [
            {
                "stage": stage,
                "mb": size,
                "x_edf": size / sizes["EDF input"],
                "mb_per_hour_and_channel": size / channel_hours,
            }
            for stage, size in sizes.items()
        ],
        ["stage", "mb", "x_edf", "mb_per_hour_and_channel"],
    )


if __name__ == "__main__":
    main()
