"""Features against independent references: NumPy, SciPy, textbook formulas."""

import math

import antropy
import numpy as np
import pytest
import scipy.signal

from eegflow import UserError
from eegflow import complexity, numerics
from eegflow.complexity import coarse_grain, multiscale_entropy, sample_entropy
from eegflow.features import FEATURES, WindowBatch, validate_feature_settings

SFREQ = 128.0
WELCH = {"segment_s": 1.0, "overlap": 0.5}


def reference_sample_entropy(x, m, r):
    """Richman & Moorman (2000) written out: count template pairs one by one."""
    n_templates = len(x) - m  # the same N - m templates for lengths m and m + 1

    def count(length):
        templates = [x[i : i + length] for i in range(n_templates)]
        return sum(
            max(abs(a - b) for a, b in zip(templates[i], templates[j])) <= r
            for i in range(n_templates)
            for j in range(i + 1, n_templates)
        )

    b, a = count(m), count(m + 1)
    return -math.log(a / b)


@pytest.fixture
def windows():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 3, 256))


def test_variance_matches_numpy(windows):
    values = FEATURES["variance"].function(WindowBatch(windows, SFREQ, WELCH))
    np.testing.assert_allclose(values[""], np.var(windows, axis=-1), rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 7, 10, 4001])
def test_median_last_axis_is_numpys(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(3, 4, n))
    x[0, 1] = np.round(x[0, 1])  # ties
    x[2, 3, n // 2] = np.nan  # a NaN row's median is NaN
    np.testing.assert_array_equal(numerics.median_last_axis(x), np.median(x, axis=-1))


def test_band_power_is_the_welch_psd_integrated_over_the_band(windows):
    bands = {"alpha": [8, 12], "beta": [12, 30]}
    values = FEATURES["band_power"].function(WindowBatch(windows, SFREQ, WELCH), bands)
    for w in range(windows.shape[0]):
        for c in range(windows.shape[1]):
            freqs, psd = scipy.signal.welch(windows[w, c], fs=SFREQ, nperseg=128)
            step = freqs[1] - freqs[0]
            for name, (low, high) in bands.items():
                expected = sum(p * step for f, p in zip(freqs, psd) if low <= f < high)
                assert values[name][w, c] == pytest.approx(expected, rel=1e-12)


def test_band_power_of_a_sine_is_half_its_squared_amplitude():
    # Parseval: a sine of amplitude A carries power A**2 / 2, all of it near its frequency
    times = np.arange(4 * 128) / SFREQ
    sine = 3.0 * np.sin(2 * np.pi * 10 * times)
    values = FEATURES["band_power"].function(
        WindowBatch(sine[None, None], SFREQ, WELCH),
        {"alpha": [8, 12], "beta": [12, 30]},
    )
    assert values["alpha"][0, 0] == pytest.approx(3.0**2 / 2, rel=1e-3)
    assert values["beta"][0, 0] < 1e-6


def test_psd_is_computed_once_per_batch(windows, monkeypatch):
    import eegflow.registry

    calls = []
    real_welch = eegflow.registry.welch_psd
    monkeypatch.setattr(
        eegflow.registry,
        "welch_psd",
        lambda *a, **k: calls.append(1) or real_welch(*a, **k),
    )
    batch = WindowBatch(windows, SFREQ, WELCH)
    FEATURES["band_power"].function(batch, {"alpha": [8, 12]})
    FEATURES["band_power"].function(batch, {"beta": [12, 30]})
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("shape", "sfreq", "nperseg", "noverlap"),
    [
        ((6, 3, 512), 256.0, 256, 128),  # windows x channels x samples, the default
        ((4, 500), 250.0, 125, 62),  # odd segment length
        ((2, 255), 100.0, 50, 0),  # segments not reaching the end
        ((3, 100), 100.0, 100, 10),  # one segment
    ],
)
def test_numpy_welch_equals_scipys(shape, sfreq, nperseg, noverlap):
    from eegflow.numerics import welch_psd

    data = np.random.default_rng(1).normal(size=shape)
    freqs, psd = welch_psd(data, sfreq, nperseg, noverlap)
    expected_freqs, expected = scipy.signal.welch(
        data, fs=sfreq, window="hann", nperseg=nperseg, noverlap=noverlap, axis=-1
    )
    np.testing.assert_allclose(freqs, expected_freqs, rtol=1e-15)
    np.testing.assert_allclose(psd, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_sample_entropy_matches_the_definition(m):
    rng = np.random.default_rng(m)
    x = rng.normal(size=(4, 150))
    r = 0.4 * x.std(axis=-1)  # wide enough for matches of length m + 1 = 4
    ours = sample_entropy(x, m, r)
    for row in range(len(x)):
        assert ours[row] == pytest.approx(
            reference_sample_entropy(list(x[row]), m, r[row]), rel=1e-12
        )


def test_sample_entropy_matches_antropy():
    # antropy (used only here) uses the same convention: r = 0.2 * std (ddof=0)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(3, 500))
    ours = sample_entropy(x, 2, 0.2 * x.std(axis=-1))
    theirs = [antropy.sample_entropy(row, order=2) for row in x]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_sample_entropy_undefined_is_nan_and_constant_is_zero():
    assert np.isnan(sample_entropy(np.array([[0.0, 1.0, 0.0, 5.0, 9.0]]), 2, 0.1))[0]
    assert sample_entropy(np.zeros((1, 50)), 2, 0.0)[0] == 0.0


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("m", [1, 2, 3])
def test_template_counts_equal_comparing_every_pair_on_the_boundary(
    m, compiled, monkeypatch
):
    # Integer samples (as digitised EEG before scaling) and an integer tolerance put
    # many sample differences exactly at r, where <= and < part; ties in the sort too.
    # Both counting paths (compiled sorted scan, NumPy lags) against every pair.
    monkeypatch.setattr(complexity, "_compiled", lambda series: compiled)
    rng = np.random.default_rng(m)
    x = rng.integers(-6, 7, size=(3, 120)).astype(float)
    r = np.array([0.0, 2.0, 3.0])
    n = x.shape[-1]
    pairs = complexity.count_template_pairs(x, r, m)
    matches = complexity.count_template_matches(x, r, m)
    for row in range(len(x)):
        templates = np.lib.stride_tricks.sliding_window_view(x[row], m + 1)
        # Chebyshev distances between all templates of length m and m + 1
        short = np.abs(templates[:, None, :m] - templates[None, :, :m]).max(axis=-1)
        long = np.abs(templates[:, None, :] - templates[None, :, :]).max(axis=-1)
        upper = np.triu(np.ones((n - m, n - m), dtype=bool), k=1)
        assert pairs[row, 0] == np.sum((short <= r[row]) & upper)
        assert pairs[row, 1] == np.sum((long <= r[row]) & upper)

        all_short = np.lib.stride_tricks.sliding_window_view(x[row], m)
        distance = np.abs(all_short[:, None, :] - all_short[None, :, :]).max(axis=-1)
        np.testing.assert_array_equal(
            matches[row, 0], np.sum(distance <= r[row], axis=1) - 1
        )
        np.testing.assert_array_equal(
            matches[row, 1, :-1], np.sum(long <= r[row], axis=1) - 1
        )
        assert matches[row, 1, -1] == 0


def test_coarse_grain_by_hand():
    x = np.array([1.0, 3.0, 2.0, 4.0, 6.0, 8.0, 5.0])
    np.testing.assert_array_equal(coarse_grain(x, 1), x)
    np.testing.assert_array_equal(coarse_grain(x, 2), [2.0, 3.0, 7.0])  # 5 dropped
    np.testing.assert_array_equal(coarse_grain(x, 3), [2.0, 6.0])  # 5 dropped


def test_multiscale_entropy_keeps_the_tolerance_of_the_original_series(windows):
    values = multiscale_entropy(WindowBatch(windows, SFREQ, WELCH), 2, 0.15, [1, 3])
    x = windows[2, 1]
    expected = reference_sample_entropy(list(coarse_grain(x, 3)), 2, 0.15 * x.std())
    assert values["scale3"][2, 1] == pytest.approx(expected, rel=1e-12)
    assert values["scale1"].shape == (5, 3)


SETTINGS = {
    "welch": WELCH,
    "compute": {
        "variance": {},
        "multiscale_entropy": {"m": 2, "r": 0.2, "scales": [1, 2]},
        "band_power": {"bands": {"alpha": [8, 12], "beta": [12, 30]}},
    },
}


@pytest.mark.parametrize(
    "change, message",
    [
        ({"varience": {}}, "features.compute.varience: unknown feature"),
        ({"variance": {"ddof": 1}}, "features.compute.variance: bad parameters"),
        ({"band_power": {"bands": {"alpha": [12, 8]}}}, "bands.alpha=[12, 8]"),
        ({"band_power": {"bands": {"gamma": [30, 80]}}}, "above the Nyquist"),
        (
            {"multiscale_entropy": {"scales": [0, 2]}},
            "multiscale_entropy.scales=[0, 2]: expected positive",
        ),
        (
            {"multiscale_entropy": {"r": -1}},
            "multiscale_entropy.r=-1: expected a number > 0",
        ),
        (
            {"approximate_entropy": {"m": 0}},
            "approximate_entropy.m=0: expected a positive integer",
        ),
        (
            {"permutation_entropy": {"order": 2.5}},
            "permutation_entropy.order=2.5: expected a positive",
        ),
        (
            {"wavelet_energy": {"levels": True}},
            "wavelet_energy.levels=True: expected a positive",
        ),
        (
            {"coherence": {"bands": {"alpha": [8, 80]}}},
            "coherence.bands.alpha=[8, 80]: high edge above",
        ),
        (
            {"band_power": {"bands": {"a": [8, 12], "b": [10, 30]}}},
            "a=[8, 12] and b=[10, 30] overlap",
        ),
        ({"band_power": {"bands": {"al/pha": [8, 12]}}}, "letters and digits only"),
    ],
)
def test_bad_feature_settings_name_the_key(change, message):
    settings = {"welch": WELCH, "compute": {**SETTINGS["compute"], **change}}
    with pytest.raises(
        UserError, match=message.replace("[", r"\[").replace("]", r"\]")
    ):
        validate_feature_settings(settings, window_s=2, sfreq=SFREQ)


def test_welch_segment_longer_than_window_is_refused():
    settings = {
        "welch": {"segment_s": 4, "overlap": 0.5},
        "compute": SETTINGS["compute"],
    }
    with pytest.raises(UserError, match="features.welch.segment_s=4"):
        validate_feature_settings(settings, window_s=2, sfreq=SFREQ)


def test_scales_that_are_not_a_list_are_refused():
    settings = {"welch": WELCH, "compute": {"multiscale_entropy": {"scales": 3}}}
    with pytest.raises(
        UserError, match="multiscale_entropy.scales=3: expected positive"
    ):
        validate_feature_settings(settings, window_s=2, sfreq=SFREQ)


def test_float32_storage_changes_no_feature_beyond_the_stated_tolerance():
    """Preprocessed FIFs and windows are stored as float32 (features are computed in
    float64 from them): every registered feature stays within 0.1 % of its value or
    0.01 % of its spread over windows of what float64 storage gives."""
    import inspect

    from eegflow.registry import FEATURES, WindowBatch

    rng = np.random.default_rng(0)
    n_samples, sfreq = 512, 256.0
    freqs = np.fft.rfftfreq(n_samples, 1 / sfreq)
    spectrum = np.fft.rfft(rng.normal(size=(40, 6, n_samples)))
    data = (
        np.fft.irfft(spectrum / np.sqrt(np.maximum(freqs, freqs[1])), n_samples) * 1e-5
    )
    data += 2e-5 * np.sin(2 * np.pi * 10 * np.arange(n_samples) / sfreq)  # alpha
    stored = data.astype(np.float32).astype(np.float64)
    welch = {"segment_s": 1.0, "overlap": 0.5}
    required = {"bands": {"alpha": [8, 12], "beta": [12, 30]}}
    for name, feature in FEATURES.items():
        parameters = list(inspect.signature(feature.function).parameters)[1:]
        params = {p: required[p] for p in parameters if p in required}
        exact = feature.function(WindowBatch(data, sfreq, welch), **params)
        from_float32 = feature.function(WindowBatch(stored, sfreq, welch), **params)
        for suffix, values in exact.items():
            np.testing.assert_allclose(
                from_float32[suffix],
                values,
                rtol=1e-3,
                atol=1e-4 * np.nanstd(values),
                err_msg=f"{name} {suffix}",
            )


def test_a_channel_stuck_at_a_value_gets_nan_where_undefined_and_says_so(
    tmp_path, caplog
):
    """A channel stuck at 0.1 V for a stretch (its float64 mean rounds): in the feature
    table its skewness is NaN on those windows, as for any constant, its variance the
    formula's (about 0), and the job's log names the channel and the features."""
    import logging

    import mne
    import pandas as pd
    from conftest import config_section, window_settings
    from eegflow.features import compute_features
    from eegflow.windows import make_windows

    data = np.random.default_rng(1).normal(size=(2, 1000)) * 1e-5
    data[1, 400:] = 0.1  # windows 4-9 of channel B: stuck
    fif = tmp_path / "rec_raw.fif"
    mne.io.RawArray(
        data, mne.create_info(["A", "B"], 100.0, "eeg"), verbose="error"
    ).save(fif, fmt="double", verbose="error")
    settings = window_settings(window_s=1.0, reject={"ptp_uv": None, "flat_uv": None})
    make_windows(fif, tmp_path / "w.parquet", settings, "rec", {})
    features = config_section("features", compute={"skewness": {}, "variance": {}})
    with caplog.at_level(logging.WARNING):
        compute_features(fif, tmp_path / "w.parquet", tmp_path / "f.parquet", features)
    table = pd.read_parquet(tmp_path / "f.parquet")
    assert table["skewness_B"].isna().tolist() == [False] * 4 + [True] * 6
    assert table["skewness_A"].notna().all()
    assert (table["variance_B"][4:] < 1e-30).all()
    assert "per channel {'B': 6}: skewness are NaN there" in caplog.text
