"""eegflow's FIR filtering against MNE's raw.filter itself."""

import warnings

import mne
import numpy as np
import pytest

from eegflow import filtering
from eegflow.filtering import OnePassFilters, filter_raw


def recording(sfreq, seconds=20, seed=0):
    """EEG, EOG and misc channels of noise with a drift, µV scale (MNE filters only
    the data channels: EEG here)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sfreq)
    data = np.cumsum(rng.normal(size=(5, n)), axis=1) * 1e-6 + rng.normal(
        size=(5, n)
    ) * (20e-6)
    info = mne.create_info(
        ["Fz", "Cz", "Pz", "EOG", "Trigger"],
        sfreq,
        ["eeg", "eeg", "eeg", "eog", "misc"],
    )
    return mne.io.RawArray(data, info, verbose="error")


def assert_same(ours, theirs):
    """Equal samples (1e-6 of the largest value: rounding alone leaves ~1e-15) and
    the same highpass/lowpass in the measurement info."""
    expected = theirs.get_data()
    np.testing.assert_allclose(
        ours.get_data(), expected, rtol=0, atol=1e-6 * np.abs(expected).max()
    )
    assert ours.info["highpass"] == theirs.info["highpass"]
    assert ours.info["lowpass"] == theirs.info["lowpass"]


@pytest.fixture
def mne_calls(monkeypatch):
    """The calls of raw.filter (MNE's own filtering), counted."""
    calls = []
    real = mne.io.BaseRaw.filter
    monkeypatch.setattr(
        mne.io.BaseRaw, "filter", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    return calls


@pytest.mark.parametrize(
    ("sfreq", "l_freq", "h_freq", "taps"),
    [
        (100.0, None, 30.0, 45),  # braindecode's sleep example
        (128.0, None, 30.0, 57),  # the default config's data
        (500.0, 48.0, 52.0, 139),  # a narrow band-pass
        (250.0, 40.0, None, 83),  # a high-pass
        (512.0, 100.0, 10.0, 677),  # band-stop (l_freq above h_freq): MNE's
        (256.0, 0.5, 40.0, 1691),  # MNE's
    ],
)
@pytest.mark.parametrize("block", [None, 1000], ids=["one_block", "blocks_of_1000"])
def test_fir_filter_equals_raw_filter(
    sfreq, l_freq, h_freq, taps, block, mne_calls, monkeypatch
):
    if block:  # a channel convolved a block at a time, as a long recording's are
        monkeypatch.setattr(filtering, "CONVOLUTION_BLOCK_SAMPLES", block)
    raw = recording(sfreq, seconds=40)
    h = mne.filter.create_filter(raw.get_data(), sfreq, l_freq, h_freq, verbose="error")
    assert len(h) == taps
    ours = raw.copy()
    filter_raw(ours, l_freq, h_freq)
    assert not mne_calls
    theirs = raw.copy()
    theirs.filter(l_freq, h_freq, verbose="error")
    assert_same(ours, theirs)
    if taps > filtering.SHORT_FILTER_TAPS:  # MNE's own overlap-add, as raw.filter's
        np.testing.assert_array_equal(ours.get_data(), theirs.get_data())
    np.testing.assert_array_equal(ours.get_data([3, 4]), raw.get_data([3, 4]))


@pytest.mark.parametrize(
    ("sfreq", "notch", "l_freq", "h_freq", "seconds", "one_pass"),
    [
        (256.0, [50.0, 100.0], 0.5, 40.0, 40, True),  # benchmarks/overhead.py's
        (100.0, [50.0 / 3], None, 30.0, 20, True),  # a short low-pass, a long product
        (500.0, [60.0, 120.0, 180.0], 1.0, None, 30, True),
        (250.0, [50.0], 0.1, 100.0, 40, True),  # 8,251 + 1,651 taps: 9,901 samples
        (250.0, [50.0], 0.1, 100.0, 35, False),  # in 8,750
    ],
)
def test_notch_and_band_pass_in_one_pass_equal_mnes_two_calls(
    sfreq, notch, l_freq, h_freq, seconds, one_pass, mne_calls
):
    """Every sample, the first and last included, equals raw.notch_filter then
    raw.filter: the product of the filters, MNE's odd-reflection padding covering it,
    is the two passes (where the recording is shorter than the product, the filters
    are applied one after the other)."""
    raw = recording(sfreq, seconds=seconds)
    theirs = raw.copy().notch_filter(notch, verbose="error")
    theirs.filter(l_freq, h_freq, verbose="error")
    ours = raw.copy()
    filters = OnePassFilters(ours)
    filters.notch(notch)
    filters.band(l_freq, h_freq)
    assert np.array_equal(ours._data, raw._data) == one_pass  # nothing applied yet?
    filters.apply()
    assert len(mne_calls) == 1  # theirs
    assert_same(ours, theirs)
    np.testing.assert_array_equal(ours.get_data([3, 4]), raw.get_data([3, 4]))


def test_a_filter_longer_than_the_recording_warns_once_as_mne_does():
    raw = recording(100.0, seconds=0.3)  # 30 samples, 45 taps
    ours, theirs = raw.copy(), raw.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filter_raw(ours, None, 30.0)
    with pytest.warns(RuntimeWarning, match="longer than the signal"):
        theirs.filter(None, 30.0, verbose="warning")
    assert sum("longer than the signal" in str(w.message) for w in caught) == 1
    assert_same(ours, theirs)


def test_cached_filter_designs_are_mnes_bit_for_bit(tmp_path, monkeypatch):
    """Notch and band-pass (long and short filters) with the designs cached, cold and
    warm, equal the same calls designing anew exactly; a design longer than the signal is MNE's call
    (it warns); a cache that cannot be written changes nothing but the speed."""
    monkeypatch.setenv("EEGFLOW_CACHE_DIR", str(tmp_path / "cache"))
    raw = recording(256.0, seconds=30)
    theirs = raw.copy().notch_filter([50.0, 100.0], verbose="error")
    filter_raw(theirs, 0.5, 40.0)  # (filter_raw equals raw.filter: tested above)
    filter_raw(theirs, None, 30.0)
    designs = []
    for _ in range(2):  # designs made, then read back
        ours = raw.copy()
        with filtering.cached_filter_designs():
            ours.notch_filter([50.0, 100.0], verbose="error")
            filter_raw(ours, 0.5, 40.0)  # 1,691 taps: MNE's overlap-add
            filter_raw(ours, None, 30.0)  # 113 taps: convolved here
        np.testing.assert_array_equal(ours.get_data(), theirs.get_data())
        designs.append(sorted((tmp_path / "cache" / "filters").iterdir()))
    assert len(designs[0]) == 3 and designs[0] == designs[1]
    assert mne.filter.create_filter.__module__ == "mne.filter"  # restored
    short = recording(100.0, seconds=0.3)
    with filtering.cached_filter_designs():
        for _ in range(2):  # designed, then cached: MNE designs and warns each time
            with pytest.warns(RuntimeWarning, match="longer than the signal"):
                filter_raw(short.copy(), None, 30.0)
    monkeypatch.setenv("EEGFLOW_CACHE_DIR", "/proc/no-cache-here")
    with filtering.cached_filter_designs():
        ours = raw.copy().notch_filter([50.0, 100.0], verbose="error")
    np.testing.assert_array_equal(
        ours.get_data(),
        raw.copy().notch_filter([50.0, 100.0], verbose="error").get_data(),
    )


def test_iir_and_stretches_between_edge_annotations_are_filtered_by_mne(mne_calls):
    raw = recording(200.0)
    ours, theirs = raw.copy(), raw.copy()
    filter_raw(ours, 1.0, 30.0, method="iir")
    theirs.filter(1.0, 30.0, method="iir", verbose="error")
    assert_same(ours, theirs)

    joined = mne.concatenate_raws([recording(100.0, seed=1), recording(100.0, seed=2)])
    assert "EDGE boundary" in joined.annotations.description  # MNE: pieces apart
    ours, theirs = joined.copy(), joined.copy()
    filter_raw(ours, None, 30.0)
    theirs.filter(None, 30.0, verbose="error")
    assert_same(ours, theirs)
    assert len(mne_calls) == 4  # both IIR calls, both calls on the joined recording
