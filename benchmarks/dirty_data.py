"""Cost of the dirty-data steps per recording-hour, beside preprocessing without them.

    python benchmarks/dirty_data.py [--hours 1] [--channels 19] [--sfreq 250]

Writes one recording (a shared broadband source + independent noise, 50 Hz mains, a dead
channel, a movement artefact, a BAD annotation) as FIF, then times in one process, one
core: the preprocess step with the default settings but no bad-channel detection (the
baseline: read, filter 0.5-40 Hz, write), then with each addition alone (notch at 50 Hz
and harmonics; nan/flat detection; PREP's deviation/correlation/HF-noise criteria via
pyprep; interpolation), and the windows step (2 s) without and with window rejection
(fixed and auto peak-to-peak, flat, BAD annotations). Each row is the best of
``--repeats`` runs; the ``s/hour`` column divides by the recording's hours.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import mne
import numpy as np

from measure import ROOT, TEN_TWENTY, print_table

sys.path.insert(0, str(ROOT / "tests"))

from conftest import config_section  # noqa: E402
from eegflow.preprocess import preprocess_recording  # noqa: E402
from eegflow.windows import make_windows  # noqa: E402

NAMES = TEN_TWENTY


def dirty_recording(path, hours, n_channels, sfreq):
    """Write the benchmark recording to ``path`` (FIF, float32)."""
    rng = np.random.default_rng(0)
    n = int(hours * 3600 * sfreq)
    names = (NAMES * (n_channels // len(NAMES) + 1))[:n_channels]
    names = [
        f"{name}" if i < len(NAMES) else f"{name}{i}" for i, name in enumerate(names)
    ]
    data = np.empty((n_channels, n), dtype=np.float64)
    common = rng.normal(size=n)
    for index in range(n_channels):  # one channel at a time: bounded memory
        data[index] = (0.8 * common + 0.4 * rng.normal(size=n)) * 20e-6
    data += 30e-6 * np.sin(2 * np.pi * 50 * np.arange(n) / sfreq)
    data[:, int(100 * sfreq) : int(100.5 * sfreq)] += 2e-3
    data[3] = 0.0
    raw = mne.io.RawArray(data, mne.create_info(names, sfreq, "eeg"), verbose="error")
    raw.set_annotations(mne.Annotations([200.0], [2.0], ["BAD_pop"]))
    raw.save(path, overwrite=True, verbose="error")


def best_of(repeats, function):
    """Best wall time (s) of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--channels", type=int, default=19)
    parser.add_argument("--sfreq", type=float, default=250.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    source = folder / "dirty_raw.fif"
    dirty_recording(source, args.hours, args.channels, args.sfreq)

    no_detection = {
        "bad_channels": {"detect": []},
        "filter": {"l_freq": 0.5, "h_freq": 40},
    }
    variants = {
        "baseline (read, filter, write)": {},
        "+ notch 50 Hz and harmonics": {"notch": {"line_freq": 50}},
        "+ bad channels: nan, flat": {"bad_channels": {"detect": ["nan", "flat"]}},
        "+ bad channels: PREP (pyprep)": {
            "bad_channels": {
                "detect": ["nan", "flat", "deviation", "correlation", "hf_noise"]
            }
        },
        "+ nan, flat, interpolate": {
            "montage": "colin27_1020",
            "bad_channels": {"detect": ["nan", "flat"], "action": "interpolate"},
        },
    }
    out, record = folder / "out_raw.fif", folder / "out.json"
    warm_up = config_section("preprocess", **no_detection)  # imports, MNE's caches
    preprocess_recording(source, out, warm_up, record_path=record)
    rows, baseline = [], None
    for name, changes in variants.items():
        settings = config_section("preprocess", **{**no_detection, **changes})
        seconds = best_of(
            args.repeats,
            lambda: preprocess_recording(source, out, settings, record_path=record),
        )
        baseline = baseline or seconds
        rows.append(
            {
                "step": f"preprocess {name}",
                "s": seconds,
                "s/hour": seconds / args.hours,
                "extra s/hour": (seconds - baseline) / args.hours,
            }
        )

    window_variants = {
        "no rejection": {"ptp_uv": None, "flat_uv": None, "bad_annotations": False},
        "ptp 500 µV + flat + BAD": {"ptp_uv": 500},
        "ptp auto + flat + BAD": {"ptp_uv": "auto"},
    }
    baseline = None
    for name, reject in window_variants.items():
        settings = config_section("windows", window_s=2, reject=reject)
        seconds = best_of(
            args.repeats,
            lambda: make_windows(
                out,
                folder / "w.parquet",
                settings,
                "dirty",
                {},
                record_path=record,
            ),
        )
        baseline = baseline or seconds
        rows.append(
            {
                "step": f"windows {name}",
                "s": seconds,
                "s/hour": seconds / args.hours,
                "extra s/hour": (seconds - baseline) / args.hours,
            }
        )
    print(
        f"{args.hours:g} h, {args.channels} channels at {args.sfreq:g} Hz, 1 core, "
        f"best of {args.repeats}"
    )
    print_table(rows, ["step", "s", "s/hour", "extra s/hour"])


if __name__ == "__main__":
    main()
