"""Windowing: positions, scaling and the window table, checked by hand."""

import mne
import numpy as np
import pytest

from conftest import window_settings
from eegflow import UserError
from eegflow.windows import make_windows, read_windows, scale_channelwise, window_starts


def test_window_starts_drop_last():
    assert window_starts(10, 4, 4, drop_last=True).tolist() == [0, 4]
    # the extra window ends on the last sample, like braindecode's drop_last_window=False
    assert window_starts(10, 4, 4, drop_last=False).tolist() == [0, 4, 6]
    assert window_starts(12, 4, 4, drop_last=False).tolist() == [0, 4, 8]
    assert window_starts(10, 4, 3, drop_last=True).tolist() == [0, 3, 6]


def test_scale_channelwise_is_a_zscore_per_window_and_channel():
    rng = np.random.default_rng(1)
    windows = rng.normal(3.0, 2.0, size=(4, 2, 50))
    windows[1, 1] = 5.0  # a constant channel
    scaled = scale_channelwise(windows)
    expected = (windows[0, 0] - windows[0, 0].mean()) / windows[0, 0].std()
    np.testing.assert_allclose(scaled[0, 0], expected)
    np.testing.assert_array_equal(scaled[1, 1], 0.0)


@pytest.fixture
def cropped_fif(tmp_path):
    """A 2-channel 10 Hz recording of 100 samples, cropped from sample 20."""
    data = np.arange(2 * 120, dtype=float).reshape(2, 120)
    raw = mne.io.RawArray(data, mne.create_info(["A", "B"], 10.0, "eeg"), verbose="error")
    raw.crop(tmin=2.0)
    path = tmp_path / "rec_raw.fif"
    raw.save(path, fmt="double", verbose="error")
    return path


def test_make_windows_writes_windows_and_table(cropped_fif, tmp_path):
    settings = window_settings(window_s=3.0, stride_s=2.0)
    windows_path, table_path = tmp_path / "w.npy", tmp_path / "w.parquet"
    make_windows(cropped_fif, windows_path, table_path, settings, "rec", {"target": 1})
    windows, table, sfreq, ch_names = read_windows(windows_path, table_path)
    assert isinstance(windows, np.memmap)
    assert windows.shape == (4, 2, 30)  # starts 0, 20, 40, 60 of 100 samples
    assert (sfreq, ch_names) == (10.0, ["A", "B"])
    df = table.to_pandas()
    assert df["window_index"].tolist() == [0, 1, 2, 3]
    # positions count from the start of the original recording (crop at sample 20)
    assert df["start_sample"].tolist() == [20, 40, 60, 80]
    assert df["start_s"].tolist() == [2.0, 4.0, 6.0, 8.0]
    assert set(df["target"]) == {1} and set(df["recording"]) == {"rec"}
    np.testing.assert_array_equal(windows[1, 0], np.arange(40, 70))
    np.testing.assert_array_equal(windows[1, 1], np.arange(160, 190))


def test_recording_shorter_than_a_window_names_file_and_key(cropped_fif, tmp_path):
    settings = window_settings(window_s=20.0)
    with pytest.raises(UserError, match=r"rec_raw.fif.*windows.window_s=20.0"):
        make_windows(cropped_fif, tmp_path / "w.npy", tmp_path / "w.parquet", settings, "rec", {})
    assert not list(tmp_path.glob("w.*"))
