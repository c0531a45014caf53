"""Cost of the ICA stage per recording-hour: fit (with ICLabel) and apply, by channel count.

    python benchmarks/ica.py [--minutes 5] [--channels 19 32]  (up to 32)

Writes one recording per channel count (10-20 channels, 250 Hz: pink-noise sources with
smooth topographies, an occipital alpha rhythm, blinks every ~3 s; tests/test_ica.py's
generator), runs the workflow with `ica.enabled: true` (extended infomax, n_components =
rank, the default thresholds) up to the cleaned recording, one core, and prints per
channel count the ica_fit and ica_apply jobs' wall time (Snakemake's benchmark), the same
per recording-hour, and each job's peak RSS (its own ru_maxrss, logged).
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd
import yaml

from measure import ROOT, print_table, run_measured, snakemake

sys.path.insert(0, str(ROOT / "tests"))

from test_ica import CHANNELS, ICA_CONFIG, eeg_with_blinks  # noqa: E402

MORE_CHANNELS = ["AF3", "AF4", "FC5", "FC1", "FC2", "FC6", "CP5", "CP1", "CP2", "CP6",
                 "PO3", "PO4", "Oz"]  # fmt: skip


def logged_peak_mib(log):
    return float(log.read_text().split("peak RSS of this job: ")[-1].split(" MiB")[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--channels", type=int, nargs="+", default=[19, 32])
    args = parser.parse_args()
    rows = []
    for n_channels in args.channels:
        names = (CHANNELS + MORE_CHANNELS)[:n_channels]
        workdir = Path(tempfile.mkdtemp(prefix="eegflow-ica-"))
        (workdir / "data").mkdir()
        raw, _ = eeg_with_blinks(seconds=args.minutes * 60, channels=names)
        raw.save(workdir / "data" / "rec_raw.fif", verbose="error")
        (workdir / "config.yaml").write_text(yaml.safe_dump(ICA_CONFIG))
        command = snakemake("--cores", "1", "results/ica/rec_raw.fif")
        wall, _ = run_measured(command, workdir)
        hours = args.minutes / 60
        for rule in ("ica_fit", "ica_apply"):
            benchmark = pd.read_csv(
                workdir / "results" / "benchmarks" / rule / "rec.tsv", sep="\t"
            )
            seconds = float(benchmark["s"].iloc[-1])
            peak = logged_peak_mib(workdir / "results" / "logs" / rule / "rec.log")
            rows.append(
                {
                    "channels": n_channels,
                    "job": rule,
                    "wall_s": f"{seconds:.1f}",
                    "s_per_hour": f"{seconds / hours:.0f}",
                    "peak_rss_mib": f"{peak:.0f}",
                }
            )
        components = pd.read_csv(
            workdir / "results" / "ica" / "rec_components.tsv", sep="\t"
        )
        rows.append(
            {
                "channels": n_channels,
                "job": f"(removed: {', '.join(components[components['removed']]['label'])})",
                "wall_s": f"{wall:.1f} run",
                "s_per_hour": "",
                "peak_rss_mib": "",
            }
        )
        shutil.rmtree(workdir)
    print(f"ICA on {args.minutes:g} min at 250 Hz per recording, 1 core")
    print_table(rows, ["channels", "job", "wall_s", "s_per_hour", "peak_rss_mib"])


if __name__ == "__main__":
    main()
