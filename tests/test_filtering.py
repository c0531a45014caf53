"""eegflow's FIR filtering against MNE's raw.filter and raw.notch_filter themselves."""

import warnings

import mne
import numpy as np
import pytest

from eegflow.filtering import filter_raw, notch_raw


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


@pytest.mark.parametrize(
    ("sfreq", "l_freq", "h_freq"),
    [
        (100.0, None, 30.0),  # braindecode's sleep example: a 45-tap low-pass
        (256.0, 0.5, 40.0),  # a 1,691-tap band-pass
        (250.0, 1.0, None),  # high-pass
        (500.0, 48.0, 52.0),  # a narrow band-pass
        (512.0, 100.0, 10.0),  # band-stop (l_freq above h_freq)
        (1000.0, 0.1, 100.0),  # 33,001 taps, longer than nothing but the recording
    ],
)
def test_fir_filter_equals_raw_filter(sfreq, l_freq, h_freq):
    raw = recording(sfreq, seconds=40)
    ours, theirs = raw.copy(), raw.copy()
    filter_raw(ours, l_freq, h_freq)
    theirs.filter(l_freq, h_freq, verbose="error")
    assert_same(ours, theirs)
    np.testing.assert_array_equal(ours.get_data([3, 4]), raw.get_data([3, 4]))


@pytest.mark.parametrize(
    ("sfreq", "freqs"), [(256.0, [50.0, 100.0]), (250.0, [60.0]), (1000.0, [50.0])]
)
def test_notch_equals_raw_notch_filter(sfreq, freqs):
    raw = recording(sfreq)
    ours, theirs = raw.copy(), raw.copy()
    notch_raw(ours, freqs)
    theirs.notch_filter(freqs, verbose="error")
    assert_same(ours, theirs)


@pytest.mark.parametrize(
    ("sfreq", "seconds", "l_freq", "h_freq"),
    [(100.0, 0.3, None, 30.0), (256.0, 2.0, 0.5, None)],  # 45 taps (here), 1,691 (MNE)
)
def test_a_filter_longer_than_the_recording_warns_once_as_mne_does(
    sfreq, seconds, l_freq, h_freq
):
    raw = recording(sfreq, seconds=seconds)
    ours, theirs = raw.copy(), raw.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        filter_raw(ours, l_freq, h_freq)
    with pytest.warns(RuntimeWarning, match="longer than the signal"):
        theirs.filter(l_freq, h_freq, verbose="warning")
    assert sum("longer than the signal" in str(w.message) for w in caught) == 1
    assert_same(ours, theirs)


def test_iir_and_stretches_between_edge_annotations_are_filtered_by_mne():
    raw = recording(200.0)
    ours, theirs = raw.copy(), raw.copy()
    filter_raw(ours, 1.0, 30.0, method="iir")
    theirs.filter(1.0, 30.0, method="iir", verbose="error")
    assert_same(ours, theirs)

    joined = mne.concatenate_raws([recording(200.0, seed=1), recording(200.0, seed=2)])
    assert "EDGE boundary" in joined.annotations.description  # MNE: pieces apart
    ours, theirs = joined.copy(), joined.copy()
    filter_raw(ours, 1.0, 30.0)
    notch_raw(ours, [50.0])
    theirs.filter(1.0, 30.0, verbose="error").notch_filter([50.0], verbose="error")
    assert_same(ours, theirs)
