"""Size of `snakemake --report report.html qc` and the time Chromium takes to show it.

    python3 benchmarks/report_size.py [--real 8] [--recordings 100 200 1000]

First a real run: `--real` synthetic recordings of 20 s (the default config otherwise),
`snakemake --cores 2 qc`, then `--report`. Then, for each count of `--recordings`, a run
made of the real one's report files: its QC figures repeated under the ids of that many
synthetic recordings, its QC table's rows repeated (written by the qc job's own
`write_qc_html`), and `snakemake --report` on that (the workflow's DAG of that many
recordings, their jobs not run: the report then lacks each job's run times, which the real
run's report has; the difference is printed). Each report is opened in headless Chromium
(tests/chromium/install.sh) and the seconds until its first screen is painted (a
screenshot, browser start included) are printed. Target: 1,000 recordings in < 50 MB,
open in < 10 s.
"""

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml
from measure import ROOT, print_table, run_measured, snakemake


from eegflow.qc import write_qc_html  # noqa: E402

DURATION_S = 20
CHROMIUM_FLAGS = [  # as tests/test_report_browser.py
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=2000",
    "--window-size=1400,900",
]


def write_config(workdir, recordings):
    """The default config with ``recordings`` synthetic recordings of DURATION_S."""
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    config["input"]["synthetic"].update(n_recordings=recordings, duration_s=DURATION_S)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def recording_ids(recordings):
    """The synthetic recordings' ids (eegflow.recordings: two digits, or more)."""
    digits = max(2, len(str(recordings - 1)))
    return [f"synthetic-{i:0{digits}d}" for i in range(recordings)]


def make_report(workdir):
    """Run `snakemake --report report.html qc`; return (seconds, report path)."""
    seconds, _ = run_measured(
        snakemake("--cores", "1", "--report", "report.html", "qc"), workdir
    )
    return seconds, workdir / "report.html"


def scaled_copy(real, workdir, recordings):
    """A working folder whose report files are the real run's, for ``recordings``."""
    write_config(workdir, recordings)
    figures = sorted((real / "results" / "qc").glob("*.png"))
    table = pd.read_parquet(real / "results" / "qc.parquet")
    (workdir / "results" / "qc").mkdir(parents=True)
    (workdir / "results" / "plots").mkdir()
    rows = []
    for index, recording in enumerate(recording_ids(recordings)):
        shutil.copy(
            figures[index % len(figures)],
            workdir / "results" / "qc" / f"{recording}.png",
        )
        row = table.iloc[index % len(table)].copy()
        row["source"] = row["source"].replace(row["recording"], recording)
        row["recording"] = recording
        rows.append(row)
    pd.DataFrame(rows).to_parquet(workdir / "results" / "qc.parquet", index=False)
    write_qc_html(workdir / "results" / "qc.parquet", workdir / "results" / "qc.html")
    shutil.copy(
        real / "results" / "plots" / "features_by_target.png",
        workdir / "results" / "plots",
    )


def open_seconds(chromium, report, shot):
    """Seconds from starting headless Chromium on ``report`` to its screenshot."""
    start = time.perf_counter()
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={shot.parent / 'profile'}",
            f"--screenshot={shot}",
            report.as_uri(),
        ],
        capture_output=True,
        timeout=600,
        check=True,
    )
    return time.perf_counter() - start


def measured(kind, recordings, workdir, chromium):
    """One row of the table: make the report of ``workdir`` and open it."""
    make_s, report = make_report(workdir)
    return {
        "run": kind,
        "recordings": recordings,
        "report_mb": report.stat().st_size / 1e6,
        "make_s": make_s,
        "open_s": open_seconds(chromium, report, workdir / f"report-{recordings}.png"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--real", type=int, default=8)
    parser.add_argument("--recordings", type=int, nargs="*", default=[100, 200, 1000])
    args = parser.parse_args()
    chromium = subprocess.run(
        ["bash", str(ROOT / "tests" / "chromium" / "install.sh")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    with tempfile.TemporaryDirectory(prefix="eegflow-report-") as folder:
        real = Path(folder) / "real"
        real.mkdir()
        write_config(real, args.real)
        run_measured(snakemake("--cores", "2", "qc", "-q"), real)
        figures = sorted((real / "results" / "qc").glob("*.png"))
        figure_kb = sum(f.stat().st_size for f in figures) / len(figures) / 1e3
        rows = [measured("real", args.real, real, chromium)]
        for recordings in [args.real, *args.recordings]:
            workdir = Path(folder) / f"copied-{recordings}"
            workdir.mkdir()
            scaled_copy(real, workdir, recordings)
            rows.append(measured("copied", recordings, workdir, chromium))
    print(f"QC figure: {figure_kb:.1f} KB on average ({len(figures)} figures)")
    base = rows[1]
    for row in rows:
        extra = row["recordings"] - base["recordings"]
        row["kb_per_recording"] = (
            (row["report_mb"] - base["report_mb"]) * 1e3 / extra if extra else 0.0
        )
    print_table(
        rows, ["run", "recordings", "report_mb", "kb_per_recording", "make_s", "open_s"]
    )
    print(
        "kb_per_recording: against the copied run of the real run's size; the real "
        f"report is {rows[0]['report_mb'] - base['report_mb']:.3f} MB larger than its "
        "copy (each job's run times)"
    )


if __name__ == "__main__":
    main()
