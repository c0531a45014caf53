"""The feature catalogue against independent references: textbook formulas written
plainly here, NumPy/SciPy, and mne-features and antropy (installed only for tests)."""

import warnings

import antropy
import numpy as np
import pytest
import scipy.signal
import scipy.stats
from mne_features import bivariate as mne_features_bivariate
from mne_features import univariate as mne_features

from conftest import ROOT
from eegflow.features import FEATURES, feature_columns
from eegflow.registry import WindowBatch

SFREQ = 128.0
WELCH = {"segment_s": 1.0, "overlap": 0.5}
# parameters for features that need some; the others run with their defaults
BANDS = {"alpha": [8, 12], "beta": [12, 30]}
PARAMS = {
    "band_power": {"bands": BANDS},
    "peak_frequency": {"bands": BANDS},
    "coherence": {"bands": BANDS},
    "imaginary_coherence": {"bands": BANDS},
}


def compute(name, windows, **params):
    return FEATURES[name].function(WindowBatch(windows, SFREQ, WELCH), **params)


@pytest.fixture
def noise():
    return np.random.default_rng(0).normal(size=(4, 3, 512))


def sine(freq, amplitude=1.0, n=512, phase=0.3):
    return amplitude * np.sin(2 * np.pi * freq * np.arange(n) / SFREQ + phase)


@pytest.mark.parametrize(
    "name, reference",
    [
        ("mean", lambda x: x.mean(axis=-1)),
        ("std", lambda x: x.std(axis=-1)),
        ("hjorth_activity", lambda x: x.var(axis=-1)),
        ("rms", lambda x: np.sqrt(np.mean(x**2, axis=-1))),
        ("peak_to_peak", lambda x: x.max(axis=-1) - x.min(axis=-1)),
        ("skewness", lambda x: scipy.stats.skew(x, axis=-1)),
        ("kurtosis", lambda x: scipy.stats.kurtosis(x, axis=-1)),  # excess (Fisher)
    ],
)
def test_moments_match_numpy_and_scipy(noise, name, reference):
    np.testing.assert_allclose(compute(name, noise)[""], reference(noise), rtol=1e-10)


def test_quantiles_match_numpy(noise):
    values = compute("quantiles", noise, q=[0.05, 0.5, 0.975])
    assert list(values) == ["q5", "q50", "q97.5"]
    for key, q in (("q5", 0.05), ("q50", 0.5), ("q97.5", 0.975)):
        np.testing.assert_allclose(values[key], np.quantile(noise, q, axis=-1))


@pytest.mark.parametrize(
    "name, theirs",
    [
        ("line_length", mne_features.compute_line_length),
        ("decorrelation_time", lambda x: mne_features.compute_decorr_time(SFREQ, x)),
        (
            "zero_crossings",  # ours counts sign changes of the window minus its mean
            lambda x: mne_features.compute_zero_crossings(
                x - x.mean(axis=-1, keepdims=True)
            ),
        ),
    ],
)
def test_matches_mne_features(noise, name, theirs):
    ours = compute(name, noise)[""]
    for w in range(len(noise)):
        np.testing.assert_allclose(ours[w], theirs(noise[w]), rtol=1e-12)


def test_hjorth_of_a_sine_is_textbook():
    # x = sin(w n): var(diff x) / var(x) = 2 (1 - cos w), so mobility = 2 sin(w / 2);
    # the derivative of a sine is a sine of the same frequency: complexity = 1
    freq = 7.0  # 4096 samples hold 224 whole periods
    x = sine(freq, n=4096)[None, None]
    omega = 2 * np.pi * freq / SFREQ
    assert compute("hjorth_mobility", x)[""][0, 0] == pytest.approx(
        2 * np.sin(omega / 2), rel=1e-3
    )
    assert compute("hjorth_complexity", x)[""][0, 0] == pytest.approx(1.0, rel=1e-3)


def test_hjorth_close_to_mne_features(noise):
    # mne-features prepends a 0 sample and uses ddof=1: equal up to that edge effect
    for name, theirs in (
        ("hjorth_mobility", mne_features.compute_hjorth_mobility),
        ("hjorth_complexity", mne_features.compute_hjorth_complexity),
    ):
        ours = compute(name, noise)[""]
        for w in range(len(noise)):
            np.testing.assert_allclose(ours[w], theirs(noise[w]), rtol=5e-3)


def test_teager_kaiser_energy_of_a_sine_is_constant():
    # Kaiser (1990): for A sin(w n + phi), x[n]**2 - x[n-1] x[n+1] = A**2 sin(w)**2
    x = sine(10.0, amplitude=3.0)[None, None]
    omega = 2 * np.pi * 10.0 / SFREQ
    value = compute("teager_kaiser_energy", x)[""][0, 0]
    assert value == pytest.approx(9.0 * np.sin(omega) ** 2, rel=1e-10)


def test_zero_crossings_of_a_sine():
    # sin(2 pi f t + phase) is zero at t = (k pi - phase) / (2 pi f): count those
    # strictly between the first and the last sample
    freq, phase, n = 10.0, 0.3, 512
    last_t = (n - 1) / SFREQ
    expected = sum(
        0 < (k * np.pi - phase) / (2 * np.pi * freq) < last_t for k in range(200)
    )
    assert expected == 79
    x = sine(freq, n=n, phase=phase)[None, None]
    assert compute("zero_crossings", x)[""][0, 0] == expected


@pytest.mark.parametrize(
    "name, params, theirs",
    [
        (
            "permutation_entropy",
            {"order": 3, "delay": 1},
            lambda x: antropy.perm_entropy(x, order=3),
        ),
        (
            "permutation_entropy",
            {"order": 4, "delay": 2, "normalize": True},
            lambda x: antropy.perm_entropy(x, order=4, delay=2, normalize=True),
        ),
        (
            "svd_entropy",
            {"order": 3, "delay": 1},
            lambda x: antropy.svd_entropy(x, order=3),
        ),
        (
            "svd_entropy",
            {"order": 5, "delay": 2, "normalize": True},
            lambda x: antropy.svd_entropy(x, order=5, delay=2, normalize=True),
        ),
        ("petrosian_fd", {}, antropy.petrosian_fd),
        ("katz_fd", {}, antropy.katz_fd),
        ("higuchi_fd", {"kmax": 10}, lambda x: antropy.higuchi_fd(x, kmax=10)),
        (
            "sample_entropy",
            {"m": 2, "r": 0.2},
            lambda x: antropy.sample_entropy(x, order=2),
        ),
        (
            "sample_entropy",
            {"m": 3, "r": 0.2},
            lambda x: antropy.sample_entropy(x, order=3),
        ),
        ("detrended_fluctuation", {}, antropy.detrended_fluctuation),
        (
            "lempel_ziv",
            {},
            lambda x: antropy.lziv_complexity(x > np.median(x), normalize=True),
        ),
        (
            "lempel_ziv",
            {"normalize": False},
            lambda x: antropy.lziv_complexity(x > np.median(x)),
        ),
    ],
)
def test_complexity_matches_antropy(noise, name, params, theirs):
    ours = compute(name, noise, **params)[""]
    for w in range(len(noise)):
        for c in range(noise.shape[1]):
            assert ours[w, c] == pytest.approx(theirs(noise[w, c]), rel=1e-9)


def reference_approximate_entropy(x, m, r):
    """Pincus (1991) written out: Phi_m - Phi_{m+1}, self-matches included."""

    def phi(length):
        templates = [x[i : i + length] for i in range(len(x) - length + 1)]
        fractions = [
            sum(max(abs(a - b) for a, b in zip(t, u)) <= r for u in templates)
            / len(templates)
            for t in templates
        ]
        return sum(np.log(f) for f in fractions) / len(templates)

    return phi(m) - phi(m + 1)


def test_approximate_entropy_matches_its_definition_and_antropy(noise):
    ours = compute("approximate_entropy", noise, m=2, r=0.2)[""]
    for c in range(noise.shape[1]):
        x = noise[0, c, :120]
        short = compute("approximate_entropy", x[None, None], m=2, r=0.2)[""][0, 0]
        assert short == pytest.approx(
            reference_approximate_entropy(list(x), 2, 0.2 * x.std()), rel=1e-12
        )
        assert ours[0, c] == pytest.approx(
            antropy.app_entropy(noise[0, c], order=2), rel=1e-9
        )


def test_permutation_entropy_by_hand():
    # a ramp has one ordinal pattern: 0 bits; white noise uses all 3! = 6 about equally
    ramp = np.arange(100.0)[None, None]
    assert compute("permutation_entropy", ramp)[""][0, 0] == 0.0
    noise = np.random.default_rng(3).normal(size=(1, 1, 20000))
    value = compute("permutation_entropy", noise, normalize=True)[""][0, 0]
    assert value == pytest.approx(1.0, abs=1e-3)


def test_higuchi_fd_of_noise_and_of_a_smooth_curve():
    # Higuchi (1988): white noise has dimension 2, a smooth curve 1
    noise = np.random.default_rng(4).normal(size=(1, 1, 4096))
    assert compute("higuchi_fd", noise)[""][0, 0] == pytest.approx(2.0, abs=0.03)
    assert compute("higuchi_fd", sine(1.0, n=4096)[None, None])[""][
        0, 0
    ] == pytest.approx(1.0, abs=0.01)


def welch(x):
    return scipy.signal.welch(x, fs=SFREQ, nperseg=128)


def test_relative_and_log_band_power_from_welch(noise):
    bands = {"alpha": [8, 12], "beta": [12, 30]}
    relative = compute("band_power", noise, bands=bands, kind="relative")
    log10 = compute("band_power", noise, bands=bands, kind="log10")
    total = compute("total_power", noise)[""]
    for w in range(len(noise)):
        for c in range(noise.shape[1]):
            freqs, psd = welch(noise[w, c])
            step = freqs[1] - freqs[0]
            whole = sum(psd) * step
            assert total[w, c] == pytest.approx(whole, rel=1e-12)
            for name, (low, high) in bands.items():
                power = sum(p for f, p in zip(freqs, psd) if low <= f < high) * step
                assert relative[name][w, c] == pytest.approx(power / whole, rel=1e-12)
                assert log10[name][w, c] == pytest.approx(np.log10(power), rel=1e-12)


@pytest.mark.parametrize("normalize", [False, True])
def test_spectral_entropy_matches_antropy(noise, normalize):
    ours = compute("spectral_entropy", noise, normalize=normalize)[""]
    for w in range(len(noise)):
        theirs = antropy.spectral_entropy(
            noise[w], SFREQ, method="welch", nperseg=128, normalize=normalize
        )
        np.testing.assert_allclose(ours[w], theirs, rtol=1e-10)


def test_spectral_edge_frequency_by_cumulative_power(noise):
    values = compute("spectral_edge_frequency", noise, edges=[0.5, 0.95])
    assert list(values) == ["sef50", "sef95"]
    for w in range(len(noise)):
        for c in range(noise.shape[1]):
            freqs, psd = welch(noise[w, c])
            running, total = 0.0, sum(psd)
            for f, p in zip(
                freqs, psd
            ):  # the first bin where the running sum reaches 95 %
                running += p
                if running >= 0.95 * total:
                    break
            assert values["sef95"][w, c] == f
    assert (
        compute("spectral_edge_frequency", sine(10.0)[None, None])["sef50"][0, 0]
        == 10.0
    )


def test_peak_frequency_finds_the_sine():
    x = (sine(20.0) + 0.1 * np.random.default_rng(1).normal(size=512))[None, None]
    values = compute("peak_frequency", x, bands={"alpha": [8, 12], "beta": [15, 25]})
    assert values["beta"][0, 0] == 20.0
    assert 8 <= values["alpha"][0, 0] < 12


def test_spectral_hjorth_from_welch_moments(noise):
    values = compute("spectral_hjorth", noise)
    for w in range(len(noise)):
        for c in range(noise.shape[1]):
            freqs, psd = welch(noise[w, c])
            m0, m2, m4 = (sum(f**k * p for f, p in zip(freqs, psd)) for k in (0, 2, 4))
            assert values["mobility"][w, c] == pytest.approx(
                np.sqrt(m2 / m0), rel=1e-12
            )
            assert values["complexity"][w, c] == pytest.approx(
                np.sqrt(m4 / m2) / np.sqrt(m2 / m0), rel=1e-12
            )
    # a sine's power sits at its frequency: mobility = f, complexity = 1
    sine_values = compute("spectral_hjorth", sine(16.0)[None, None])
    assert sine_values["mobility"][0, 0] == pytest.approx(16.0, rel=1e-2)
    assert sine_values["complexity"][0, 0] == pytest.approx(1.0, rel=1e-2)


def test_spectral_slope_of_an_exact_power_law():
    data = np.random.default_rng(0).normal(size=(1, 1, 256))  # not constant: its
    batch = WindowBatch(data, SFREQ, WELCH)  # PSD is replaced by an exact power law
    freqs = np.arange(65.0)
    with np.errstate(divide="ignore"):
        batch.__dict__["psd"] = (freqs, (3.0 * freqs**-2.0)[None, None])  # PSD = 3 f^-2
    values = FEATURES["spectral_slope"].function(batch, fmin=1.0, fmax=None)
    assert values["slope"][0, 0] == pytest.approx(-2.0, rel=1e-12)
    assert values["intercept"][0, 0] == pytest.approx(np.log10(3.0), rel=1e-12)


def test_spectral_slope_of_pink_noise():
    # noise shaped to PSD ~ 1/f in the frequency domain, 32 s: slope close to -1
    rng = np.random.default_rng(2)
    n = 32 * 128
    spectrum = np.fft.rfft(rng.normal(size=(8, n)))
    freqs = np.fft.rfftfreq(n, 1 / SFREQ)
    spectrum[:, 1:] /= np.sqrt(freqs[1:])
    pink = np.fft.irfft(spectrum, n)[:, None]
    values = compute("spectral_slope", pink, fmin=2.0, fmax=40.0)
    assert np.mean(values["slope"]) == pytest.approx(-1.0, abs=0.05)


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_every_feature_declares_its_columns_and_survives_a_constant(noise, name):
    params = PARAMS.get(name, {})
    declared = FEATURES[name].suffixes(**FEATURES[name].parameters(params))
    assert list(compute(name, noise, **params)) == declared
    for constant in (5e-6, 0.1):  # a mean that is exact, one that rounds
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no RuntimeWarning either
            values = compute(name, np.full((2, 3, 256), constant), **params)
        for array in values.values():
            assert array.shape == (2, 3)  # 3 channels, or their 3 pairs
            assert not FEATURES[name].nan_for_constant or np.isnan(array).all()


NAN_FOR_CONSTANT = sorted(name for name in FEATURES if FEATURES[name].nan_for_constant)


@pytest.mark.parametrize("constant", [0.0, 5e-6, 3.3e-5, 0.1, np.float32(0.1)])
@pytest.mark.parametrize("name", NAN_FOR_CONSTANT)
def test_undefined_on_a_constant_is_nan_however_its_mean_rounds(noise, name, constant):
    """0/0 by definition (a spread or a spectrum normalised): NaN on the constant
    channel and every pair with it, whether or not the constant's mean rounds (at
    3.3e-5 and 0.1 it does: the formula met the rounding residue and gave a
    skewness of +-1, a kurtosis of -2, a coherence of 26, a correlation of 1); the
    other channels' values are those computed without it."""
    params = PARAMS.get(name, {})
    windows = noise.copy()
    windows[1:, 2] = constant  # windows 1-3: the last channel stuck
    values = compute(name, windows, **params)
    alone = compute(name, noise[:, :2], **params)
    pairwise = FEATURES[name].pairwise
    for suffix, array in values.items():
        stuck = [1, 2] if pairwise else [2]  # pairs (0, 2), (1, 2); channel 2
        assert np.isnan(array[1:, stuck]).all()
        assert not np.isnan(array[0]).all()  # window 0 is not constant
        np.testing.assert_array_equal(
            array[:, :1] if pairwise else array[:, :2],
            alone[suffix][:, :1] if pairwise else alone[suffix],
        )


def test_relative_band_power_of_a_constant_is_nan_absolute_about_zero():
    constant = np.full((1, 2, 256), 0.1)  # its mean rounds
    relative = compute("band_power", constant, bands=BANDS, kind="relative")
    absolute = compute("band_power", constant, bands=BANDS)
    assert all(np.isnan(power).all() for power in relative.values())
    assert all((power < 1e-60).all() for power in absolute.values())


def test_the_catalogue_says_which_features_are_nan_for_a_constant():
    rows = [
        line
        for line in (ROOT / "workflow" / "docs" / "features.md")
        .read_text()
        .splitlines()
        if line.startswith("| `")
    ]
    for name in FEATURES:
        (row,) = [row for row in rows if f"`{name}`" in row.split("|")[1]]
        assert ("NaN for a constant" in row) == FEATURES[name].nan_for_constant, name


def test_feature_columns_are_known_before_computing():
    compute = {
        "quantiles": {"q": [0.5]},
        "band_power": PARAMS["band_power"],
        "peak_frequency": PARAMS["peak_frequency"],
    }
    columns = [
        column for *_, column in feature_columns({"compute": compute}, ["O1", "O2"])
    ]
    assert columns == [
        "quantiles_O1_q50",
        "quantiles_O2_q50",
        "band_power_O1_alpha",
        "band_power_O2_alpha",
        "band_power_O1_beta",
        "band_power_O2_beta",
        "peak_frequency_O1_alpha",
        "peak_frequency_O2_alpha",
        "peak_frequency_O1_beta",
        "peak_frequency_O2_beta",
    ]


def test_the_whole_catalogue_in_one_feature_table(tmp_path):
    from conftest import synthetic_settings, window_settings
    from eegflow.features import compute_features
    from eegflow.synthetic import synthetic_raw
    from eegflow.windows import make_windows
    import pyarrow.parquet as pq

    fif = tmp_path / "rec_raw.fif"
    synthetic_raw(1, synthetic_settings(["O1", "Oz"], duration_s=20, seed=4)).save(fif)
    windows_config = window_settings()
    make_windows(fif, tmp_path / "w.parquet", windows_config, "rec", {})
    settings = {
        "welch": WELCH,
        "compute": {name: PARAMS.get(name, {}) for name in FEATURES},
    }
    compute_features(
        fif,
        tmp_path / "w.parquet",
        tmp_path / "f.parquet",
        settings,
        batch_size=3,
    )
    table = pq.read_table(tmp_path / "f.parquet").to_pandas()
    planned = [column for *_, column in feature_columns(settings, ["O1", "Oz"])]
    assert list(table.columns) == [
        "recording",
        "window_index",
        "start_sample",
        "start_s",
        "rejected",
        "reject_reason",
        *planned,
    ]
    assert len(table) == 10 and not table.isna().any().any()


def test_lempel_ziv_parsing_of_kaspar_and_schuster_example():
    from eegflow.complexity import lempel_ziv_count

    # Kaspar & Schuster (1987): 0 . 001 . 10 . 100 . 1000 . 101
    assert lempel_ziv_count("0001101001000101") == 6
    assert lempel_ziv_count("0" * 50) == 2  # 0 . 000...0 (copied from itself)


def test_svd_fisher_information_matches_mne_features(noise):
    ours = compute("svd_fisher_information", noise, order=10, delay=2)[""]
    theirs = np.array(
        [mne_features.compute_svd_fisher_info(w, tau=2, emb=10) for w in noise]
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def reference_hurst(x, min_length=8):
    """Rescaled range written out: mean R/S over segments per length, then a line fit."""
    lengths, log_rs = [], []
    n = min_length
    while n <= len(x) / 2:
        ratios = []
        for start in range(0, len(x) - n + 1, n):
            segment = x[start : start + n]
            walk = np.cumsum(segment - segment.mean())
            ratios.append((walk.max() - walk.min()) / segment.std())
        lengths.append(np.log(n))
        log_rs.append(np.log(np.mean(ratios)))
        n *= 2
    return np.polyfit(lengths, log_rs, 1)[0]


def test_hurst_exponent_by_rescaled_range(noise):
    ours = compute("hurst_exponent", noise)[""]
    for c in range(noise.shape[1]):
        assert ours[0, c] == pytest.approx(reference_hurst(noise[0, c]), rel=1e-12)
    long_noise = np.random.default_rng(1).normal(size=(1, 2, 16384))
    white = compute("hurst_exponent", long_noise)[""]
    assert np.all((white > 0.5) & (white < 0.6))  # 0.5 + the known small-n bias of R/S
    walk = compute("hurst_exponent", np.cumsum(long_noise, axis=-1))[""]
    assert np.all(walk > 0.9)


def test_spectral_moments_from_welch(noise):
    freqs, psd = scipy.signal.welch(noise, fs=SFREQ, nperseg=128)
    values = compute("spectral_moments", noise, orders=[0, 1, 2], normalize=False)
    for k in (0, 1, 2):
        expected = (freqs**k * psd).sum(axis=-1) * (freqs[1] - freqs[0])
        np.testing.assert_allclose(values[f"m{k}"], expected, rtol=1e-12)
    centroid = compute("spectral_moments", sine(20.0)[None, None], orders=[1])["m1"]
    assert centroid[0, 0] == pytest.approx(20.0, abs=0.5)


def test_wavelet_energy_matches_mne_features_and_finds_the_band(noise):
    x = noise[..., :256]
    values = compute("wavelet_energy", x, wavelet="db4", levels=5)
    theirs = np.array(
        [mne_features.compute_wavelet_coef_energy(w, "db4").reshape(3, 5) for w in x]
    )
    for j in range(1, 6):
        np.testing.assert_allclose(values[f"d{j}"], theirs[..., j - 1], rtol=1e-12)
    # a 24 Hz sine at 128 Hz lies in level 2's band (16-32 Hz); db4 is not an ideal
    # band-pass, so the neighbours get some (82 % in d2 here)
    energies = compute("wavelet_energy", sine(24.0, n=256)[None, None], levels=5)
    assert energies["d2"][0, 0] > 0.75 * sum(e[0, 0] for e in energies.values())


def test_wavelet_energy_with_too_many_levels_names_the_setting(noise):
    from eegflow import UserError

    with pytest.raises(UserError, match="wavelet_energy.levels=6.*at most 5"):
        compute("wavelet_energy", noise[..., :256], levels=6)


@pytest.fixture
def coupled():
    """Three channels: noise, the same noise plus its own noise, independent noise."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 3, 512))
    x[:, 1] += x[:, 0]
    return x


def band_mean(freqs, values, low, high):
    return values[..., (freqs >= low) & (freqs < high)].mean(axis=-1)


def test_coherence_matches_scipy(coupled):
    values = compute("coherence", coupled, bands=BANDS)
    for pair, (i, j) in enumerate([(0, 1), (0, 2), (1, 2)]):
        freqs, msc = scipy.signal.coherence(
            coupled[:, i], coupled[:, j], fs=SFREQ, nperseg=128
        )
        for band, (low, high) in BANDS.items():
            np.testing.assert_allclose(
                values[band][:, pair], band_mean(freqs, msc, low, high), rtol=1e-12
            )
    assert values["alpha"][:, 0].mean() > 0.3 > values["alpha"][:, 1].mean()


def test_imaginary_coherence_by_its_definition_and_of_a_quarter_period_lag():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 2, 512))
    values = compute("imaginary_coherence", x, bands=BANDS)
    freqs, sxy = scipy.signal.csd(x[:, 0], x[:, 1], fs=SFREQ, nperseg=128)
    _, sxx = scipy.signal.welch(x[:, 0], fs=SFREQ, nperseg=128)
    _, syy = scipy.signal.welch(x[:, 1], fs=SFREQ, nperseg=128)
    expected = band_mean(freqs, sxy.imag / np.sqrt(sxx * syy), 8, 12)
    np.testing.assert_allclose(values["alpha"][:, 0], expected, rtol=1e-12)
    # a 10 Hz sine and the same sine a quarter period later: |imaginary coherence| = 1
    t = np.arange(512) / SFREQ
    lagged = np.stack(
        [np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 10 * (t - 0.025))]
    )
    quarter = compute("imaginary_coherence", lagged[None], bands={"ten": [10, 10.5]})
    assert abs(quarter["ten"][0, 0]) == pytest.approx(1.0, abs=1e-6)
    same = compute(
        "imaginary_coherence", lagged[None, [0, 0]], bands={"ten": [10, 10.5]}
    )
    assert same["ten"][0, 0] == pytest.approx(
        0.0, abs=1e-12
    )  # zero lag: no imaginary part


def test_correlations_match_numpy(coupled):
    time = compute("correlation", coupled)[""]
    spectral = compute("spectral_correlation", coupled)[""]
    _, psd = scipy.signal.welch(coupled, fs=SFREQ, nperseg=128)
    for w in range(len(coupled)):
        np.testing.assert_allclose(
            time[w], np.corrcoef(coupled[w])[np.triu_indices(3, 1)], rtol=1e-12
        )
        np.testing.assert_allclose(
            spectral[w], np.corrcoef(psd[w])[np.triu_indices(3, 1)], rtol=1e-12
        )


def test_phase_locking_value_matches_mne_features_and_locks_in_band(coupled):
    ours = compute("phase_locking_value", coupled)[""]
    theirs = np.array(
        [mne_features_bivariate.compute_phase_lock_val(w) for w in coupled]
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    # 10 Hz with a fixed phase lag under independent broadband noise: locked in alpha only
    rng = np.random.default_rng(5)
    t = np.arange(512) / SFREQ
    x = np.stack([np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 10 * t + 1.0)])
    x = x + 0.5 * rng.normal(size=(2, 512))
    values = compute(
        "phase_locking_value", x[None], bands={"alpha": [8, 12], "high": [30, 60]}
    )
    assert values["alpha"][0, 0] > 0.9 > 0.5 > values["high"][0, 0]


def test_pairwise_columns_name_both_channels():
    settings = {"welch": WELCH, "compute": {"coherence": {"bands": {"alpha": [8, 12]}}}}
    columns = [column for *_, column in feature_columns(settings, ["O1", "Oz", "O2"])]
    assert columns == [
        "coherence_O1-Oz_alpha",
        "coherence_O1-O2_alpha",
        "coherence_Oz-O2_alpha",
    ]


def test_pairwise_feature_of_a_single_channel_recording_gives_no_columns(tmp_path):
    from conftest import synthetic_settings, window_settings
    from eegflow.features import compute_features
    from eegflow.synthetic import synthetic_raw
    from eegflow.windows import make_windows
    import pyarrow.parquet as pq

    fif = tmp_path / "rec_raw.fif"
    synthetic_raw(1, synthetic_settings(["O1"], duration_s=10, seed=4)).save(fif)
    windows_config = window_settings()
    make_windows(fif, tmp_path / "w.parquet", windows_config, "rec", {})
    settings = {
        "welch": WELCH,
        "compute": {"variance": {}, "coherence": PARAMS["coherence"]},
    }
    compute_features(fif, tmp_path / "w.parquet", tmp_path / "f.parquet", settings)
    table = pq.read_table(tmp_path / "f.parquet")
    assert table.column_names[-1] == "variance_O1"
    # said in the table, not only in the log
    from eegflow.windows import window_table_info

    assert window_table_info(table)["warnings"] == [
        "config features.compute.coherence: no columns (a pairwise feature needs 2 "
        "channels or more; this recording has 1)"
    ]
