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
per second of the workflow's sorted-template kernel beside the all-pairs count it
replaced (every lag compared, vectorised in NumPy; kept here as the yardstick), the
speed-up and whether the values are identical.
"""

import argparse
import sys
import time

import numpy as np
from joblib import Parallel, delayed

from measure import ROOT, print_table

sys.path.insert(0, str(ROOT / "workflow" / "scripts"))

from eegflow.complexity import coarse_grain  # noqa: E402
from eegflow.features import FEATURES  # noqa: E402
from eegflow.registry import WindowBatch  # noqa: E402
from eegflow.synthetic import synthetic_raw  # noqa: E402

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


def all_pairs_runs(x, tolerance, length, n_templates):
    """Yield ``(lag, close, run)``: templates i and i + lag within tolerance, every lag."""
    for lag in range(1, n_templates):
        close = np.abs(x[..., lag:] - x[..., :-lag]) <= tolerance
        n_pairs = n_templates - lag
        run = close[..., :n_pairs].copy()
        for k in range(1, length):
            run &= close[..., k : k + n_pairs]
        yield lag, close, run


def all_pairs_sample_entropy(x, m, tolerance):
    tolerance = np.asarray(tolerance)[..., None]
    matches = np.zeros((2,) + x.shape[:-1], dtype=np.int64)
    for _, close, run in all_pairs_runs(x, tolerance, m, x.shape[-1] - m):
        matches[0] += run.sum(axis=-1)
        run &= close[..., m : m + run.shape[-1]]
        matches[1] += run.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sampen = np.log(matches[0]) - np.log(matches[1])
    return np.where(matches.all(axis=0), sampen, np.nan)


def all_pairs_approximate_entropy(x, m, tolerance):
    tolerance = np.asarray(tolerance)[..., None]

    def phi(length):
        n_templates = x.shape[-1] - length + 1
        counts = np.ones(x.shape[:-1] + (n_templates,))
        for lag, _, run in all_pairs_runs(x, tolerance, length, n_templates):
            counts[..., : run.shape[-1]] += run
            counts[..., lag:] += run
        return np.log(counts / n_templates).mean(axis=-1)

    return phi(m) - phi(m + 1)


def all_pairs(name, data, m, r, scales=(1,)):
    """The entropy ``name`` by the all-pairs count, as the registered feature's output."""
    tolerance = r * data.std(axis=-1)
    if name == "approximate_entropy":
        return {"": all_pairs_approximate_entropy(data, m, tolerance)}
    values = {
        f"scale{s}": all_pairs_sample_entropy(coarse_grain(data, s), m, tolerance)
        for s in scales
    }
    return values if name == "multiscale_entropy" else {"": values["scale1"]}


def long_windows(n_samples, n_windows):
    """EEG-like windows (synthetic alpha + noise at 100 Hz) of ``n_samples`` samples."""
    config = dict(SYNTHETIC, sfreq=100, duration_s=n_samples * n_windows / 100 + 1)
    data = synthetic_raw(1, config).get_data()[:LONG_WINDOW_CHANNELS]
    data = data[:, : n_samples * n_windows]
    return data.reshape(LONG_WINDOW_CHANNELS, n_windows, n_samples).transpose(1, 0, 2)


def entropy_speed():
    """Rows of windows/s of the kernel and the all-pairs count per entropy and length."""
    rows = []
    for n_samples, n_windows in ((256, 200), (3000, 8), (4000, 6)):
        windows = long_windows(n_samples, n_windows)
        batch = WindowBatch(windows, 100.0, WELCH)
        for name, params in ENTROPIES.items():
            FEATURES[name].function(WindowBatch(windows[:1], 100.0, WELCH), **params)
            start = time.perf_counter()
            ours_values = FEATURES[name].function(batch, **params)
            ours_s = time.perf_counter() - start
            start = time.perf_counter()
            reference = all_pairs(name, windows, **params)
            all_pairs_s = time.perf_counter() - start
            rows.append(
                {
                    "feature": name,
                    "samples": n_samples,
                    "windows_per_s": n_windows / ours_s,
                    "all_pairs_windows_per_s": n_windows / all_pairs_s,
                    "speedup": all_pairs_s / ours_s,
                    "identical": all(
                        np.array_equal(ours_values[k], reference[k], equal_nan=True)
                        for k in reference
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
