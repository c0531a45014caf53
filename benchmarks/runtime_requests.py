"""Requested vs measured runtime of each job, on 64-channel 1 kHz EDFs of 1 min to 2 h.

    python benchmarks/runtime_requests.py [--minutes 1 20 120] [--ica]

Writes one EDF per duration (64 channels named after the 10-20 system, 1 kHz, µV noise
plus alpha: a 2 h file is 922 MB), runs the real `snakemake --cores 1 qc summary` on it
in a temporary folder with the default settings (``--ica``: with ICA and its average
reference too), and prints for each job: its data input (MB, as the resource functions
count it), the seconds Snakemake's benchmark file measured, the runtime (minutes) the
job asked for, as Snakemake printed it, and the ratio of the two.

The constants of the runtime requests (``eegflow.resources``) are fitted to ``MEASURED``
below, the points this script printed on the development machine (2 cores shared with
other work, so on the slow side): rerun it after changing a job's work, and refit.
"""

import argparse
import inspect
import re
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from measure import ROOT, print_table, snakemake


from eegflow.resources import (  # noqa: E402
    JOB_START_S,
    SECONDS_PER_INPUT_MB,
    features_seconds,
    ica_fit_seconds,
    input_job_seconds,
    runtime_request_min,
)

DEFAULT_FEATURES = yaml.safe_load((ROOT / "config.yaml").read_text())["features"]
# The points the rates of eegflow.resources are fitted to: this script's output on the
# development machine, 2026-12-02 (2 cores shared with 6 other sessions, load 5-19: wall
# times count waiting for a core, so the jobs' CPU times are the reference); idle_wall_s:
# measured on the idle machine (issue 25: a 2 h recording's preprocess 1.75 min, features
# 1.9 min; benchmarks/ica.py's 10 min at 250 Hz, workflow/docs/performance.md).
MEASURED = [
    {"rule": "combine", "minutes": 1, "input_mb": 0.2, "wall_s": 3.5, "cpu_s": 0.65},
    {"rule": "qc", "minutes": 1, "input_mb": 1.4, "wall_s": 10.38, "cpu_s": 1.83},
    {"rule": "preprocess", "minutes": 1, "input_mb": 7.7, "wall_s": 21.67, "cpu_s": 1.92},
    {"rule": "windows", "minutes": 1, "input_mb": 16.3, "wall_s": 9.0, "cpu_s": 1.07},
    {"rule": "features", "minutes": 1, "input_mb": 15.4, "wall_s": 29.23, "cpu_s": 2.01,
     "shape": (30, 64, 2000)},
    {"rule": "qc_figure", "minutes": 1, "input_mb": 16.3, "wall_s": 41.8, "cpu_s": 2.35},
    {"rule": "combine", "minutes": 20, "input_mb": 1.9, "wall_s": 4.08, "cpu_s": 0.88},
    {"rule": "qc", "minutes": 20, "input_mb": 3.2, "wall_s": 8.68, "cpu_s": 1.82},
    {"rule": "preprocess", "minutes": 20, "input_mb": 153.6, "wall_s": 80.02,
     "cpu_s": 10.67},
    {"rule": "windows", "minutes": 20, "input_mb": 308.2, "wall_s": 16.72, "cpu_s": 2.15},
    {"rule": "features", "minutes": 20, "input_mb": 307.2, "wall_s": 203.7, "cpu_s": 39.58,
     "shape": (600, 64, 2000)},
    {"rule": "qc_figure", "minutes": 20, "input_mb": 308.2, "wall_s": 133.86,
     "cpu_s": 14.63},
    {"rule": "combine", "minutes": 120, "input_mb": 11.1, "wall_s": 2.4, "cpu_s": 0.71},
    {"rule": "qc", "minutes": 120, "input_mb": 12.4, "wall_s": 5.12, "cpu_s": 2.01},
    {"rule": "preprocess", "minutes": 120, "input_mb": 921.6, "wall_s": 231.98,
     "cpu_s": 39.27, "idle_wall_s": 105},
    {"rule": "windows", "minutes": 120, "input_mb": 1844.2, "wall_s": 70.62,
     "cpu_s": 6.26},
    {"rule": "features", "minutes": 120, "input_mb": 1843.3, "wall_s": 1306.26,
     "cpu_s": 224.86, "idle_wall_s": 114, "shape": (3600, 64, 2000)},
    {"rule": "qc_figure", "minutes": 120, "input_mb": 1844.3, "wall_s": 127.18,
     "cpu_s": 18.89},
    # --ica --minutes 2 (64 channels, average reference)
    {"rule": "ica_fit", "minutes": 2, "input_mb": 30.7, "wall_s": 148.28,
     "cpu_s": 119.52, "channels": 64},
    {"rule": "ica_apply", "minutes": 2, "input_mb": 30.8, "wall_s": 5.58, "cpu_s": 3.61},
    # benchmarks/ica.py: 10 min at 250 Hz, 19 and 32 channels (the FIF's float32 MB)
    {"rule": "ica_fit", "minutes": 10, "input_mb": 11.4, "wall_s": 29.8,
     "idle_wall_s": 29.8, "channels": 19},
    {"rule": "ica_fit", "minutes": 10, "input_mb": 19.2, "wall_s": 67.8,
     "idle_wall_s": 67.8, "channels": 32},
    {"rule": "ica_apply", "minutes": 10, "input_mb": 11.4, "wall_s": 3.2,
     "idle_wall_s": 3.2},
    {"rule": "ica_apply", "minutes": 10, "input_mb": 19.2, "wall_s": 3.8,
     "idle_wall_s": 3.8},
]  # fmt: skip

N_CHANNELS, SFREQ = 64, 1000.0


def write_edf(path, minutes, seed=0):
    """A 64-channel 1 kHz EDF of ``minutes``: 20 µV noise plus 10 µV alpha, channels
    named after the 10-20 system (positions for ICA), one channel in memory at a time
    beside the digital samples."""
    import edfio
    import mne

    names = mne.channels.make_standard_montage("colin27_1020").ch_names[:N_CHANNELS]
    rng = np.random.default_rng(seed)
    times = np.arange(int(minutes * 60 * SFREQ)) / SFREQ
    alpha = 10 * np.sin(2 * np.pi * 10 * times)
    signals = [
        edfio.EdfSignal(
            rng.normal(0, 20, times.size) + alpha,
            SFREQ,
            label=name,
            physical_dimension="uV",
            physical_range=(-500, 500),
        )
        for name in names
    ]
    edfio.Edf(signals, data_record_duration=1).write(path)


def requested_runtimes(output):
    """{benchmark file: runtime (minutes) the job asked for}, from Snakemake's job lines."""
    requested, benchmark = {}, None
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("benchmark: "):
            benchmark = line.removeprefix("benchmark: ")
        found = re.search(r"\bruntime=(\d+)", line)
        if line.startswith("resources: ") and found and benchmark:
            requested[benchmark] = int(found.group(1))
            benchmark = None
    return requested


def run_recording(minutes, ica):
    """Run the workflow on one recording of ``minutes``; its jobs' points (dicts as
    in ``MEASURED``, with the runtime Snakemake asked for, ``asked_min``)."""
    from eegflow.fileio import window_table_shape

    with tempfile.TemporaryDirectory(prefix="eegflow-runtime-") as folder:
        workdir = Path(folder)
        (workdir / "data").mkdir()
        name = f"rec{minutes:g}min"
        write_edf(workdir / "data" / f"{name}.edf", minutes)
        config = {"input": {"source": "files", "files": ["data/*.edf"]}}
        if ica:
            config["preprocess"] = {"reference": "average", "montage": "colin27_1020"}
            config["ica"] = {"enabled": True}
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
        output = ""
        for target in ("qc", "summary"):  # summary then reads qc's benchmark too
            run = subprocess.run(
                snakemake("--cores", "1", target),
                cwd=workdir,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,  # Snakemake prints its job lines on stderr
                text=True,
            )
            if run.returncode:
                raise RuntimeError(f"snakemake {target} failed:\n{run.stdout[-3000:]}")
            output += run.stdout
        asked = requested_runtimes(output)
        measured = pd.read_csv(workdir / "results" / "benchmarks.csv")
        shape = window_table_shape(workdir / "results" / "windows" / f"{name}.parquet")
    points = []
    for job in measured.itertuples():
        key = job.rule if pd.isna(job.recording) else f"{job.rule}/{job.recording}"
        point = {
            "rule": job.rule,
            "minutes": minutes,
            "input_mb": round(job.input_mib * 2**20 / 1e6, 1),
            "wall_s": job.wall_s,
            "cpu_s": job.cpu_s,
            "asked_min": asked.get(f"results/benchmarks/{key}.tsv", float("nan")),
        }
        if job.rule == "features":
            point["shape"] = shape
        if job.rule == "ica_fit":
            point["channels"] = shape[1]
        points.append(point)
    return points


def reference_s(point):
    """The time a measured job takes with a core of its own: its wall time on an idle
    machine where known (``idle_wall_s``), else its CPU time (the jobs are
    single-threaded; on the shared machine their wall time also counts waiting)."""
    return max(point.get("cpu_s", 0), point.get("idle_wall_s", 0))


def estimated_seconds(point):
    """What eegflow.resources estimates for the job of a measured ``point``, as the
    rules ask it (default features for a features job)."""
    if point["rule"] == "features":
        return features_seconds(DEFAULT_FEATURES, point["shape"])
    if point["rule"] == "ica_fit":
        return ica_fit_seconds(point["input_mb"], point["channels"])
    return input_job_seconds(SECONDS_PER_INPUT_MB[point["rule"]], point["input_mb"])


def fitted_rates(points):
    """{rule: the seconds per MB of input the largest measured job of each rule took
    beyond the start-up} (features: per million window values, all features)."""
    rates = {}
    for point in sorted(points, key=lambda point: point["input_mb"]):
        work = max(0, reference_s(point) - JOB_START_S)  # 0: the start-up is all
        if point["rule"] == "features":
            rates["features (per mvalue)"] = work / (np.prod(point["shape"]) / 1e6)
        elif point["rule"] == "ica_fit":
            rates["ica_fit (per MB channel)"] = work / (
                point["input_mb"] * point["channels"]
            )
        else:
            rates[point["rule"]] = work / point["input_mb"]
    return rates


def print_requests(points):
    """Print each point's measured times beside the runtime asked for."""
    rows = []
    for point in sorted(points, key=lambda point: (point["rule"], point["minutes"])):
        requested = runtime_request_min(estimated_seconds(point))
        rows.append(
            {
                "rule": point["rule"],
                "minutes": point["minutes"],
                "input_mb": point["input_mb"],
                "wall_s": point["wall_s"],
                "cpu_s": point.get("cpu_s", float("nan")),
                "reference_s": reference_s(point),
                "requested_min": requested,
                "requested/reference": requested * 60 / reference_s(point),
                "requested/wall": requested * 60 / point["wall_s"],
            }
        )
    print_table(rows, list(rows[0]))


def feature_costs():
    """Rows of CPU seconds per million window values of every registered feature,
    alone, on batches of 64 channels as a features job computes them: 2 s windows
    at 1 kHz (2,000 samples) and at 128 Hz (256 samples)."""
    from eegflow.features import FEATURES
    from eegflow.registry import WindowBatch

    welch = {"segment_s": 1.0, "overlap": 0.5}
    bands = {"alpha": [8, 12], "beta": [12, 30]}
    rng = np.random.default_rng(0)
    rows = []
    for name in sorted(FEATURES):
        function = FEATURES[name].function
        needs_bands = "bands" in inspect.signature(function).parameters
        params = {"bands": bands} if needs_bands else {}
        row = {"feature": name}
        for sfreq, n_windows in ((1000.0, 32), (128.0, 256)):
            n_samples = int(2 * sfreq)
            times = np.arange(n_samples) / sfreq
            data = rng.normal(0, 20e-6, (n_windows, N_CHANNELS, n_samples))
            data += 10e-6 * np.sin(2 * np.pi * 10 * times)
            function(WindowBatch(data[:1], sfreq, welch), **params)  # warm up
            start = time.process_time()
            function(WindowBatch(data, sfreq, welch), **params)
            seconds = time.process_time() - start
            row[f"s_per_mvalue_{n_samples}"] = seconds / (data.size / 1e6)
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 20, 120])
    parser.add_argument("--ica", action="store_true", help="with ICA (fit and apply)")
    parser.add_argument(
        "--feature-costs",
        action="store_true",
        help="CPU seconds per million window values of every feature instead",
    )
    parser.add_argument(
        "--recorded", action="store_true", help="MEASURED's points, without running"
    )
    args = parser.parse_args()
    if args.feature_costs:
        rows = feature_costs()
        print_table(rows, list(rows[0]))
        return
    if args.recorded:
        print_requests(MEASURED)
        rates = fitted_rates(MEASURED)
        print("\nfitted: " + ", ".join(f"{r} {v:.3f} s" for r, v in rates.items()))
        return
    points = [
        point for minutes in args.minutes for point in run_recording(minutes, args.ica)
    ]
    print(points)  # to paste into MEASURED
    print_requests(points)


if __name__ == "__main__":
    main()
