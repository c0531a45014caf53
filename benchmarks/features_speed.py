"""Feature extraction speed on the EEGDash recipe's data, with mne-features as a ratio.

    python benchmarks/features_speed.py [--cores 1 2]

Data: the embedded synthetic data set (16 recordings, 6 channels, 128 Hz, 240 s) cut into
2 s windows: 1,920 windows. Prints windows per second for every registered feature alone
(1 core), and for the recipe's mix (variance + multiscale entropy + alpha/beta band power
from one Welch PSD) at each core count, beside mne-features' `extract_features` on the
same windows with its closest mix (variance, samp_entropy = scale 1 only, pow_freq_bands).
Cores: joblib processes over recordings, as Snakemake runs one feature job per recording;
the workers are started and warmed up (imports, numba compilation) before timing.

Long windows: the template-counting entropies (sample, approximate, multiscale) on
windows of 256, 3,000 and 4,000 samples (Sleep-EDF's 30 s at 100 Hz are 3,000), windows
per second of the compiled sorted-template count (numba) beside the NumPy count of every
pair (the workflow's path for small calls, and before the compiled one its only path),
the speed-up and whether the values are identical.
"""

import argparse
import math
import time

import numpy as np
from joblib import Parallel, delayed

from measure import print_table


from eegflow import complexity  # noqa: E402
from eegflow.features import FEATURES  # noqa: E402
from eegflow.registry import WindowBatch  # noqa: E402
from eegflow.synthetic import synthetic_raw  # noqa: E402

COMPILED_FROM_COMPARISONS = complexity.COMPILED_FROM_COMPARISONS

SYNTHETIC = {
    "channels": ["O1", "Oz", "O2", "Cz", "Pz", "POz"],
    "sfreq": 128,
    "duration_s": 240,
    "noise_uv": 10,
    "alpha_hz": 10,
    "alpha_uv": 10,
    "seed": 42,
}
WELCH = {"segment_s": 1.0, "overlap": 0.5}
BANDS = {"alpha": [8, 12], "beta": [12, 30]}
RECIPE = {
    "variance": {},
    "multiscale_entropy": {"m": 2, "r": 0.2, "scales": [1, 2]},
    "band_power": {"bands": BANDS},
}
PARAMS = {
    name: {"bands": BANDS}
    for name in ("band_power", "peak_frequency", "coherence", "imaginary_coherence")
}


def recipe_windows():
    """One (windows, channels, 256) array per recording."""
    recordings = []
    for index in range(16):
        data = synthetic_raw(index, SYNTHETIC).get_data()
        recordings.append(data.reshape(6, -1, 256).transpose(1, 0, 2).copy())
    return recordings


def ours(windows, compute, batch_size=256):
    for start in range(0, len(windows), batch_size):
        batch = WindowBatch(windows[start : start + batch_size], 128.0, WELCH)
        for name, params in compute.items():
            FEATURES[name].function(batch, **params)


def theirs(windows):
    from mne_features.feature_extraction import extract_features

    extract_features(
        windows,
        128.0,
        ["variance", "samp_entropy", "pow_freq_bands"],
        funcs_params={
            "pow_freq_bands__freq_bands": np.array([[8, 12], [12, 30]]),
            "pow_freq_bands__normalize": False,
        },
        n_jobs=1,
    )


ENTROPIES = {
    "sample_entropy": {"m": 2, "r": 0.2},
    "approximate_entropy": {"m": 2, "r": 0.2},
    "multiscale_entropy": {"m": 2, "r": 0.2, "scales": [1, 2]},
}
LONG_WINDOW_CHANNELS = 6


def long_windows(n_samples, n_windows):
    """EEG-like windows (synthetic alpha + noise at 100 Hz) of ``n_samples`` samples."""
    config = dict(SYNTHETIC, sfreq=100, duration_s=n_samples * n_windows / 100 + 1)
    data = synthetic_raw(1, config).get_data()[:LONG_WINDOW_CHANNELS]
    data = data[:, : n_samples * n_windows]
    return data.reshape(LONG_WINDOW_CHANNELS, n_windows, n_samples).transpose(1, 0, 2)


def entropy_speed():
    """Rows of windows/s of the compiled and the NumPy count per entropy and length."""
    rows = []
    for n_samples, n_windows in ((256, 200), (3000, 8), (4000, 6)):
        windows = long_windows(n_samples, n_windows)
        batch = WindowBatch(windows, 100.0, WELCH)
        for name, params in ENTROPIES.items():
            function = FEATURES[name].function
            seconds, values = {}, {}
            for path, compiled_from in (("compiled", 0), ("all_pairs", math.inf)):
                complexity.COMPILED_FROM_COMPARISONS = compiled_from
                function(WindowBatch(windows[:1], 100.0, WELCH), **params)  # warm up
                start = time.perf_counter()
                values[path] = function(batch, **params)
                seconds[path] = time.perf_counter() - start
            complexity.COMPILED_FROM_COMPARISONS = COMPILED_FROM_COMPARISONS
            rows.append(
                {
                    "feature": name,
                    "samples": n_samples,
                    "compiled_windows_per_s": n_windows / seconds["compiled"],
                    "all_pairs_windows_per_s": n_windows / seconds["all_pairs"],
                    "speedup": seconds["all_pairs"] / seconds["compiled"],
                    "identical": all(
                        np.array_equal(values["compiled"][k], v, equal_nan=True)
                        for k, v in values["all_pairs"].items()
                    ),
                }
            )
    return rows


def timed(function, recordings, n_jobs):
    start = time.perf_counter()
    Parallel(n_jobs=n_jobs)(delayed(function)(windows) for windows in recordings)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cores", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    recordings = recipe_windows()
    n_windows = sum(len(w) for w in recordings)

    rows = []
    for name in sorted(FEATURES):
        seconds = timed(lambda w: ours(w, {name: PARAMS.get(name, {})}), recordings, 1)
        rows.append(
            {"feature": name, "seconds": seconds, "windows_per_s": n_windows / seconds}
        )
    print(
        f"{n_windows} windows (16 recordings x 120 x 6 channels x 256 samples), 1 core:"
    )
    print_table(rows, ["feature", "seconds", "windows_per_s"])

    rows = entropy_speed()
    print(f"\nlong windows ({LONG_WINDOW_CHANNELS} channels, 100 Hz), 1 core:")
    print_table(rows, list(rows[0]))

    rows = []
    for cores in args.cores:
        # start the worker processes and compile mne-features' numba code in each first
        small = [w[:4] for w in recordings] * cores
        timed(lambda w: (ours(w, RECIPE), theirs(w)), small, cores)
        ours_s = timed(lambda w: ours(w, RECIPE), recordings, cores)
        theirs_s = timed(theirs, recordings, cores)
        rows.append(
            {
                "cores": cores,
                "ours_s": ours_s,
                "ours_windows_per_s": n_windows / ours_s,
                "mne_features_s": theirs_s,
                "speedup_vs_mne_features": theirs_s / ours_s,
            }
        )
    print(
        "\nrecipe mix (variance + multiscale entropy scales 1-2 + alpha/beta band power):"
    )
    print_table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
