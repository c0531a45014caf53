"""Windows cut from a FIF's data buffers equal MNE's own reading of the file."""

import logging
import os

import mne
import numpy as np
import pytest
from eegflow import UserError
from eegflow.fifread import FifWindowReader, fif_reader, layout_path, write_layout


def written_fif(
    path, fmt, buffer_size_sec, first_samp=0, split_size=None, cals=1.0, seed=0
):
    """A FIF that MNE wrote: 4 channels x 60 s at 100 Hz, stored as ``fmt``."""
    rng = np.random.default_rng(seed)
    info = mne.create_info(["Fz", "Cz", "Pz", "Oz"], 100.0, "eeg")
    raw = mne.io.RawArray(
        rng.normal(size=(4, 6000)) * 1e-5, info, first_samp=first_samp, verbose="error"
    )
    for channel, cal in zip(raw.info["chs"], np.broadcast_to(cals, 4)):
        channel["cal"] = cal
    kwargs = {"split_size": split_size} if split_size else {}
    raw.save(
        path,
        fmt=fmt,
        buffer_size_sec=buffer_size_sec,
        overwrite=True,
        verbose="error",
        **kwargs,
    )
    return path


def windows_everywhere(n_times, window):
    """Window starts at the file's edges and across every 0.7 s, so that many
    cross a buffer boundary whatever the buffer size."""
    return [0, n_times - window, *range(13, n_times - window, 70)]


@pytest.mark.parametrize(
    "fmt, buffer_size_sec, first_samp, split_size, cals",
    [
        ("single", 1.0, 0, None, 1.0),
        ("single", 0.37, 250, None, 1.0),  # buffers shorter than a window
        ("double", 7.0, 1234, None, 1.0),
        ("double", 100.0, 0, None, 1.0),  # one buffer
        # split files (MNE keeps 1 MB of each part for its end tags)
        ("single", 0.5, 500, 1_080_000, [1.0, 0.5, 2.0, 1e-3]),
        ("short", 1.0, 10, None, 1e-9),  # integers times the calibration
        ("int", 3.0, 0, None, [1e-12, 1e-11, 1e-12, 1e-12]),
    ],
)
def test_windows_equal_mne_get_data(
    tmp_path, fmt, buffer_size_sec, first_samp, split_size, cals
):
    fif = written_fif(
        tmp_path / "rec_raw.fif", fmt, buffer_size_sec, first_samp, split_size, cals
    )
    raw = mne.io.read_raw_fif(fif, verbose="error")
    assert (len(raw._filenames) > 1) == bool(split_size)
    reader = FifWindowReader(fif)
    assert reader.fallback is None
    assert (reader.ch_names, reader.sfreq, reader.n_times) == (
        raw.ch_names,
        raw.info["sfreq"],
        raw.n_times,
    )
    window = 130
    starts = windows_everywhere(raw.n_times, window)
    for start in starts:
        expected = raw.get_data(start=start, stop=start + window)
        np.testing.assert_array_equal(reader.read(start, start + window), expected)
        np.testing.assert_allclose(
            reader.read(start, start + window, dtype=np.float32), expected, rtol=1e-6
        )
    batch = reader.read_windows(np.array(starts[:5]), window, dtype=np.float32)
    assert batch.dtype == np.float32 and batch.shape == (5, 4, window)
    np.testing.assert_allclose(
        batch[3], raw.get_data(start=starts[3], stop=starts[3] + window), rtol=1e-6
    )
    with pytest.raises(IndexError, match="outside"):
        reader.read(raw.n_times - 10, raw.n_times + 1)
    # the layout the writing job leaves beside the file: the same reader, no MNE
    assert write_layout(fif) == tmp_path / "rec_raw.layout.json"
    from_layout = FifWindowReader(fif)
    assert from_layout.buffers == reader.buffers and from_layout.raw is None
    assert (from_layout.ch_names, from_layout.sfreq, from_layout.n_times) == (
        raw.ch_names,
        raw.info["sfreq"],
        raw.n_times,
    )
    assert from_layout.first_samp == raw.first_samp == first_samp
    assert from_layout.ch_types == raw.get_channel_types()
    for start in starts:
        np.testing.assert_array_equal(
            from_layout.read(start, start + window),
            raw.get_data(start=start, stop=start + window),
        )


def test_a_compressed_fif_is_read_through_mne_saying_why(tmp_path, caplog):
    fif = written_fif(tmp_path / "rec_raw.fif.gz", "single", 1.0, first_samp=7)
    with caplog.at_level(logging.WARNING, logger="eegflow.fifread"):
        reader = FifWindowReader(fif)
    assert reader.fallback == "the file is compressed (.gz)"
    assert "rec_raw.fif.gz: windows read through MNE's get_data" in caplog.text
    raw = mne.io.read_raw_fif(fif, verbose="error")
    np.testing.assert_array_equal(
        reader.read(95, 305), raw.get_data(start=95, stop=305)
    )
    reader.release(95, 305)  # nothing mapped to let go of
    from eegflow.windows import peak_to_peak

    ptp = peak_to_peak(reader, np.array([0, 100, 300]), 100, [0, 1])
    np.testing.assert_array_equal(
        ptp[2], np.ptp(raw.get_data(picks=[0, 1], start=300, stop=400), axis=1)
    )


def test_readers_are_not_pickled_and_a_replaced_file_is_opened_again(tmp_path):
    import pickle

    fif = written_fif(tmp_path / "rec_raw.fif", "single", 1.0)
    reader = fif_reader(fif)
    assert fif_reader(fif) is reader  # once per process
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(reader)
    reader.read(0, 10)  # maps the file
    written_fif(tmp_path / "rec_raw.fif", "double", 2.0, seed=1)
    replaced = fif_reader(fif)
    assert replaced is not reader
    raw = mne.io.read_raw_fif(fif, verbose="error")
    np.testing.assert_array_equal(replaced.read(0, 10), raw.get_data(stop=10))


def test_features_job_reads_the_same_windows_as_through_mne(tmp_path, monkeypatch):
    """The features job's windows come from the buffers; its table equals the one
    made from MNE's get_data (the reader made to fall back)."""
    import pandas as pd
    from conftest import config_section, window_settings
    from eegflow import fifread
    from eegflow.features import compute_features
    from eegflow.windows import make_windows

    fif = written_fif(tmp_path / "rec_raw.fif", "single", 0.37, first_samp=11)
    settings = window_settings(window_s=1.3, stride_s=0.9, reject={"ptp_uv": None})
    make_windows(fif, tmp_path / "w.parquet", settings, "rec", {})
    features = config_section("features", compute={"variance": {}})
    compute_features(fif, tmp_path / "w.parquet", tmp_path / "fast.parquet", features)
    monkeypatch.setattr(fifread, "fallback_reason", lambda raw: "made to, in a test")
    fifread.close_readers()  # else the reader opened above is used again
    compute_features(fif, tmp_path / "w.parquet", tmp_path / "mne.parquet", features)
    assert fifread.fif_reader(fif).fallback == "made to, in a test"
    fifread.close_readers()
    fast, through_mne = (
        pd.read_parquet(tmp_path / f"{name}.parquet") for name in ("fast", "mne")
    )
    assert len(fast) == 66
    pd.testing.assert_frame_equal(fast, through_mne, check_exact=True)


def test_a_truncated_fif_is_an_error_naming_it(tmp_path):
    """A file cut short after its header was read (e.g. being rewritten)."""
    import os

    fif = written_fif(tmp_path / "rec_raw.fif", "single", 1.0)
    reader = FifWindowReader(fif)
    os.truncate(fif, fif.stat().st_size // 2)
    with pytest.raises(UserError, match=r"rec_raw.fif: shorter than its header"):
        reader.read(5000, 5100)


def test_files_mapped_at_once_are_bounded(tmp_path, monkeypatch):
    """Past MAX_OPEN_FILES the oldest reader's maps close; it maps again when read."""
    from eegflow import fifread

    monkeypatch.setattr(fifread, "MAX_OPEN_FILES", 2)
    fifs = [
        written_fif(tmp_path / f"rec{index}_raw.fif", "single", 1.0, seed=index)
        for index in range(3)
    ]
    readers = [FifWindowReader(fif) for fif in fifs]
    for _ in range(2):
        for fif, reader in zip(fifs, readers):
            raw = mne.io.read_raw_fif(fif, verbose="error")
            np.testing.assert_array_equal(
                reader.read(150, 450), raw.get_data(start=150, stop=450)
            )
            assert sum(r.maps is not None for r in readers) <= 2


def test_the_layout_keeps_the_annotations_and_a_replaced_file_is_read_by_mne(
    tmp_path, caplog
):
    fif = tmp_path / "rec_raw.fif"
    raw = mne.io.RawArray(
        np.random.default_rng(0).normal(size=(2, 3000)) * 1e-5,
        mne.create_info(["Cz", "EOG"], 100.0, ["eeg", "eog"]),
        first_samp=40,
        verbose="error",
    )
    raw.set_annotations(
        mne.Annotations([1.0, 12.5], [2.0, 0.0], ["Schlaf ü", "BAD_x"], orig_time=None)
    )
    raw.save(fif, verbose="error")
    write_layout(fif)
    through_mne = mne.io.read_raw_fif(fif, verbose="error")
    signal = FifWindowReader(fif)
    np.testing.assert_array_equal(
        signal.annotations.onset, through_mne.annotations.onset
    )
    np.testing.assert_array_equal(
        signal.annotations.duration, through_mne.annotations.duration
    )
    assert list(signal.annotations.description) == ["Schlaf ü", "BAD_x"]
    assert signal.ch_types == ["eeg", "eog"]
    # the file replaced by a longer one: its layout no longer matches and is ignored
    raw.crop(tmax=25.0).save(fif, overwrite=True, verbose="error")
    with caplog.at_level(logging.INFO, logger="eegflow.fifread"):
        replaced = FifWindowReader(fif)
    assert "does not match rec_raw.fif (ignored)" in caplog.text
    assert layout_path(fif).exists() and replaced.n_times == 2501
    np.testing.assert_array_equal(
        replaced.read(0, 2501),
        mne.io.read_raw_fif(fif, verbose="error").get_data(),
    )


def resident_mib_of(path):
    """This process's resident memory (MiB) in its maps of file ``path``."""
    resident, mapping = 0, None
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and not fields[0].endswith(":"):
                mapping = fields[5] if len(fields) > 5 else None
            elif fields[0] == "Rss:" and mapping == str(path):
                resident += int(fields[1])
    return resident / 1024


@pytest.mark.skipif(
    not os.path.exists("/proc/self/smaps"), reason="reads Linux's /proc/self/smaps"
)
def test_a_sweep_over_a_recording_does_not_keep_its_file_resident(tmp_path):
    """Judging every window reads the whole FIF; the pages read are dropped from the
    process behind it (FifWindowReader.release), not held to its end: a windows
    job's resident memory does not grow with the recording."""
    from eegflow.windows import peak_to_peak, read_windows

    data = np.random.default_rng(0).normal(size=(8, 250 * 1800)) * 1e-5
    fif = tmp_path / "long_raw.fif"  # 14.4 MB of float32
    mne.io.RawArray(data, mne.create_info(8, 250.0, "eeg"), verbose="error").save(
        fif, verbose="error"
    )
    signal = FifWindowReader(fif)
    starts = np.arange(0, signal.n_times - 500 + 1, 500)
    ptp = peak_to_peak(signal, starts, 500, list(range(8)))
    assert resident_mib_of(fif) < 1
    expected = mne.io.read_raw_fif(fif, verbose="error").get_data()
    np.testing.assert_array_equal(  # released pages are read again, the same
        signal.read(1000, 1500), expected[:, 1000:1500]
    )
    np.testing.assert_allclose(ptp[2], np.ptp(expected[:, 1000:1500], axis=1))
    table = tmp_path / "w.parquet"
    from eegflow.windows import make_windows
    from conftest import window_settings

    make_windows(fif, table, window_settings(window_s=2.0), "rec", {})
    windows = read_windows(fif, table)[0]
    for first in range(0, len(windows), 100):
        windows[first : first + 100]
        windows.release(first, first + 100)
    assert resident_mib_of(fif) < 1
