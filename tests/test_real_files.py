"""Features of recordings other software wrote: EDFbrowser's test generator files
(in pyedflib's wheel), whose signals are known by construction."""

import mne
import numpy as np
import pytest

from conftest import edfbrowser_file
from eegflow.features import FEATURES
from eegflow.registry import WindowBatch


def windows_of(name, window_s):
    """(windows, channels, samples) of a whole file, its sfreq and channel names."""
    raw = mne.io.read_raw(edfbrowser_file(name), verbose="error")
    data = raw.get_data()
    n = int(window_s * raw.info["sfreq"])
    n_windows = data.shape[1] // n
    windows = (
        data[:, : n_windows * n].reshape(len(data), n_windows, n).transpose(1, 0, 2)
    )
    return windows, raw.info["sfreq"], raw.ch_names


def feature(name, windows, sfreq, segment_s, **params):
    batch = WindowBatch(windows, sfreq, {"segment_s": segment_s, "overlap": 0.5})
    return FEATURES[name].function(batch, **params)


def test_sines_of_an_edf_plus_file_have_their_frequency_and_power():
    windows, sfreq, channels = windows_of("test_generator.edf", 4)
    sines = {
        name: float(name.split()[1]) for name in channels if name.startswith("sine")
    }
    index = [channels.index(name) for name in sines]
    peaks = feature("peak_frequency", windows, sfreq, 2, bands={"all": [0.5, 90]})[
        "all"
    ]
    power = feature("total_power", windows, sfreq, 2)[""]
    for i, (name, freq) in zip(index, sines.items()):
        # 0.5 Hz bins: 8.1777 Hz falls in the 8 Hz bin
        assert np.all(np.abs(peaks[:, i] - freq) <= 0.25), name
        # amplitude 100 µV: power A²/2 (Parseval), within the edge effects of Welch
        np.testing.assert_allclose(
            power[:, i], (100e-6) ** 2 / 2, rtol=2e-3, err_msg=name
        )


def test_pink_and_white_noise_of_a_bdf_file():
    windows, sfreq, channels = windows_of("test_generator.bdf", 5)
    pink, white = channels.index("pink noise"), channels.index("white noise")
    slope = feature("spectral_slope", windows, sfreq, 1, fmin=2, fmax=200)[
        "slope"
    ].mean(axis=0)
    assert slope[pink] == pytest.approx(-1.0, abs=0.1)  # 1/f
    assert slope[white] == pytest.approx(0.0, abs=0.1)
    dfa = feature("detrended_fluctuation", windows, sfreq, 1)[""].mean(axis=0)
    assert dfa[pink] == pytest.approx(1.0, abs=0.1)  # Peng et al.: 1/f noise gives 1
    assert dfa[white] == pytest.approx(0.5, abs=0.1)  # white noise gives 0.5
    lempel_ziv = feature("lempel_ziv", windows, sfreq, 1)[""].mean(axis=0)
    assert lempel_ziv[white] == pytest.approx(
        1.0, abs=0.1
    )  # random: about N / log2 N words
    assert lempel_ziv[channels.index("sine 5Hz")] < 0.1  # regular: few words
