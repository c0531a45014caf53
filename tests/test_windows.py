"""Windowing: positions, scaling and the window table, checked by hand."""

import json

import mne
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import window_settings
from eegflow import UserError
from eegflow.fifread import FifWindowReader
from eegflow.windows import (
    make_windows,
    read_windows,
    scale_channelwise,
    window_starts,
    window_table_info,
)


def test_window_starts_drop_last():
    assert window_starts(10, 4, 4, drop_last=True).tolist() == [0, 4]
    # the extra window ends on the last sample, like braindecode's drop_last_window=False
    assert window_starts(10, 4, 4, drop_last=False).tolist() == [0, 4, 6]
    assert window_starts(12, 4, 4, drop_last=False).tolist() == [0, 4, 8]
    assert window_starts(10, 4, 3, drop_last=True).tolist() == [0, 3, 6]


def test_scale_channelwise_is_a_zscore_per_window_and_channel():
    rng = np.random.default_rng(1)
    windows = rng.normal(3.0, 2.0, size=(4, 2, 50))
    windows[1, 1] = 5.0  # constant channels: one whose mean is exact, and one whose
    windows[2, 0] = 0.1  # mean rounds (its residues have a spread of their own)
    scaled = scale_channelwise(windows)
    in_place = windows.copy()  # copy=False: the same values, in the windows' array
    assert scale_channelwise(in_place, copy=False) is in_place
    np.testing.assert_array_equal(in_place, scaled)
    frozen = windows.copy()  # read-only: scaled into a copy
    frozen.flags.writeable = False
    np.testing.assert_array_equal(scale_channelwise(frozen, copy=False), scaled)
    expected = (windows[0, 0] - windows[0, 0].mean()) / windows[0, 0].std()
    np.testing.assert_allclose(scaled[0, 0], expected)
    np.testing.assert_array_equal(scaled[1, 1], 0.0)
    np.testing.assert_array_equal(scaled[2, 0], 0.0)
    np.testing.assert_array_equal(
        scale_channelwise(np.full((2, 3000), 3.3e-5, "f4")), 0
    )
    # alternating between two neighbouring float32 values: below any resolved spread
    steps = np.full(1000, 0.1, np.float32)
    steps[::2] = np.nextafter(steps[0], np.float32(1))
    np.testing.assert_array_equal(scale_channelwise(steps), 0)
    # float32 windows (what a training set holds) with an offset 5x their spread, in
    # volts: within float32's rounding of the float64 z-score
    offset = (rng.normal(1e-4, 2e-5, size=(3, 19, 1000))).astype(np.float32)
    scaled = scale_channelwise(offset)
    exact = offset.astype(np.float64)
    exact = (exact - exact.mean(-1, keepdims=True)) / exact.std(-1, keepdims=True)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, exact, atol=1e-5)


@pytest.fixture
def cropped_fif(tmp_path):
    """A 2-channel 10 Hz recording of 100 samples, cropped from sample 20."""
    data = np.arange(2 * 120, dtype=float).reshape(2, 120)
    raw = mne.io.RawArray(
        data, mne.create_info(["A", "B"], 10.0, "eeg"), verbose="error"
    )
    raw.crop(tmin=2.0)
    path = tmp_path / "rec_raw.fif"
    raw.save(path, fmt="double", verbose="error")
    return path


def test_make_windows_writes_the_table_windows_are_read_by(cropped_fif, tmp_path):
    settings = window_settings(window_s=3.0, stride_s=2.0)
    table_path = tmp_path / "w.parquet"
    make_windows(cropped_fif, table_path, settings, "rec", {"target": 1})
    windows, table, sfreq, ch_names = read_windows(cropped_fif, table_path)
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
        make_windows(cropped_fif, tmp_path / "w.parquet", settings, "rec", {})
    assert not list(tmp_path.glob("w.*"))


def labelled_fif(tmp_path, annotations, seconds=300, sfreq=10.0, tmin=0.0):
    """A 1-channel recording whose sample values are their own indices, annotated."""
    data = np.arange(int(seconds * sfreq), dtype=float)[None]
    raw = mne.io.RawArray(data, mne.create_info(["A"], sfreq, "eeg"), verbose="error")
    raw.set_meas_date(1_000_000_000)
    onsets, durations, descriptions = zip(*annotations)
    raw.set_annotations(
        mne.Annotations(
            onsets, durations, descriptions, orig_time=raw.info["meas_date"]
        ),
        emit_warning=False,
    )
    raw.crop(tmin=tmin)
    path = tmp_path / "rec_raw.fif"
    raw.save(path, fmt="double", verbose="error")
    return path


SLEEP = {"W": 0, "N1": 1, "N2": 2}


def test_annotation_windows_are_labelled_and_lie_inside_their_annotation(tmp_path):
    fif = labelled_fif(
        tmp_path,
        [
            (0, 60, "W"),
            (60, 90, "N2"),
            (150, 30, "artefact"),
            (180, 20, "N1"),
            (200, 0, "N1"),
            (290, 30, "N2"),
        ],
    )
    settings = window_settings(
        window_s=30.0,
        annotations={"mapping": SLEEP, "crop_wake_mins": None, "wake": []},
    )
    make_windows(
        fif,
        tmp_path / "w.parquet",
        settings,
        "rec",
        {"subject": "01", "target": "ignored"},
    )
    windows, table, _, _ = read_windows(fif, tmp_path / "w.parquet")
    rows = table.to_pandas()
    # W: 2 windows, N2: 3; the artefact is not mapped; the 20 s N1 holds no 30 s window; the
    # N1 event (duration 0) gives one window from its onset; the last N2 runs past the end
    assert rows["start_s"].tolist() == [0, 30, 60, 90, 120, 200]
    assert rows["label"].tolist() == ["W", "W", "N2", "N2", "N2", "N1"]
    assert rows["target"].tolist() == [0, 0, 2, 2, 2, 1]
    assert rows["subject"].tolist() == ["01"] * 6
    assert rows["window_index"].tolist() == list(range(6))
    np.testing.assert_array_equal(
        windows[:, 0, 0], rows["start_sample"]
    )  # values = index


def test_annotation_windows_after_a_crop_count_from_the_original_start(tmp_path):
    fif = labelled_fif(tmp_path, [(0, 60, "W"), (60, 60, "N2")], tmin=15.0)
    settings = window_settings(
        window_s=30.0, annotations={"mapping": {"W": 0, "N2": 2}}
    )
    make_windows(fif, tmp_path / "w.parquet", settings, "rec", {})
    windows, table, _, _ = read_windows(fif, tmp_path / "w.parquet")
    rows = table.to_pandas()
    # MNE's crop cuts the W annotation to [15, 60): one 30 s window from 15 s
    assert rows["start_s"].tolist() == [15, 60, 90]
    np.testing.assert_array_equal(windows[:, 0, 0], [150, 600, 900])


def test_crop_wake_mins_keeps_wake_near_sleep_only(tmp_path):
    night = [(t, 30, "W") for t in range(0, 600, 30)] + [
        (600, 60, "N1"),
        (660, 60, "N2"),
    ]
    night += [(t, 30, "W") for t in range(720, 1500, 30)]
    fif = labelled_fif(tmp_path, night, seconds=1500)
    settings = window_settings(
        window_s=30.0,
        annotations={"mapping": SLEEP, "crop_wake_mins": 2, "wake": ["W"]},
    )
    make_windows(fif, tmp_path / "w.parquet", settings, "rec", {})
    rows = read_windows(fif, tmp_path / "w.parquet")[1].to_pandas()
    # sleep from 600 (N1 onset) to 720 s (N2 end): keep windows inside [480, 840] s
    assert rows["start_s"].tolist() == list(range(480, 811, 30))
    assert rows["label"].tolist() == ["W"] * 4 + ["N1"] * 2 + ["N2"] * 2 + ["W"] * 4


def test_no_mapped_annotation_names_what_the_recording_has(tmp_path):
    fif = labelled_fif(tmp_path, [(0, 60, "Sleep stage W")])
    settings = window_settings(
        window_s=30.0,
        annotations={"mapping": SLEEP, "crop_wake_mins": None, "wake": []},
    )
    with pytest.raises(
        UserError, match=r"label 'W': no annotation.*\['Sleep stage W'\]"
    ):
        make_windows(fif, tmp_path / "w.parquet", settings, "rec", {})


CUES = {"left_hand": 1, "right_hand": 2, "feet": 3}


def motor_imagery_fif(tmp_path):
    """A 100 Hz recording with 1.25 s cue annotations (as BCI files store them), every
    8 s, cycling through three classes; 4 cues of each."""
    names = list(CUES) * 4
    cues = [(4.0 + 8.0 * i, 1.25, name) for i, name in enumerate(names)]
    return labelled_fif(tmp_path, cues, seconds=110, sfreq=100.0)


def test_cues_shorter_than_a_window_are_an_error_naming_label_and_durations(tmp_path):
    fif = motor_imagery_fif(tmp_path)
    settings = window_settings(window_s=2.0, annotations={"mapping": CUES})
    with pytest.raises(UserError) as error:
        make_windows(
            fif,
            tmp_path / "w.parquet",
            settings,
            "rec",
            {},
            source="data/S01.gdf",
        )
    message = str(error.value)
    assert message.startswith(
        "data/S01.gdf: config windows.annotations.mapping gives no window in recording "
        "'rec' for label 'left_hand': 4 annotations lasting 1.25 to 1.25 s, each shorter "
        "than a window; label 'right_hand': 4 annotations"
    )
    assert "windows.window_s=2.0" in message and "stop_offset_s" in message
    assert not list(tmp_path.glob("w.*"))


@pytest.mark.parametrize("start_offset_s, stop_offset_s", [(0.0, 0.75), (0.5, 1.25)])
def test_trial_offsets_give_one_window_per_cue(tmp_path, start_offset_s, stop_offset_s):
    fif = motor_imagery_fif(tmp_path)
    settings = window_settings(
        window_s=2.0,
        annotations={
            "mapping": CUES,
            "start_offset_s": start_offset_s,
            "stop_offset_s": stop_offset_s,
        },
    )
    make_windows(fif, tmp_path / "w.parquet", settings, "rec", {})
    windows, table, _, _ = read_windows(fif, tmp_path / "w.parquet")
    rows = table.to_pandas()
    # braindecode: from onset + start offset to onset + duration + stop offset, 2 s each
    expected = [4.0 + 8.0 * i + start_offset_s for i in range(12)]
    np.testing.assert_allclose(rows["start_s"], expected)
    assert rows["label"].tolist() == list(CUES) * 4
    assert rows["target"].tolist() == [1, 2, 3] * 4
    assert windows.shape == (12, 1, 200)
    np.testing.assert_array_equal(
        windows[:, 0, 0], rows["start_sample"]
    )  # values = index
    counts = json.loads(table.schema.metadata[b"eegflow"])["label_counts"]
    assert counts["feet"]["annotations"] == 4 and counts["feet"]["windows"] == 4


def test_events_of_zero_or_one_sample_give_one_window_each(tmp_path):
    fif = labelled_fif(
        tmp_path,
        [(10, 0, "go"), (20, 0.01, "go"), (30, 0.02, "go")],
        seconds=60,
        sfreq=100.0,
    )
    settings = window_settings(window_s=2.0, annotations={"mapping": {"go": 1}})
    make_windows(fif, tmp_path / "w.parquet", settings, "rec", {})
    rows = read_windows(fif, tmp_path / "w.parquet")[1].to_pandas()
    # 0 and 1 sample (0.01 s at 100 Hz) are events; 2 samples are a (too short) span
    assert rows["start_s"].tolist() == [10.0, 20.0]
    # the lost one is in the table (and so the QC table's windows_warnings), not
    # only in the log
    warnings = window_table_info(pq.read_schema(tmp_path / "w.parquet"))["warnings"]
    assert len(warnings) == 1
    assert "label 'go': 1 of 3 annotations are too short for a window" in warnings[0]


def test_a_label_some_recordings_lack_can_be_allowed(tmp_path, caplog):
    fif = labelled_fif(tmp_path, [(0, 60, "W"), (60, 60, "N2")])
    settings = window_settings(
        window_s=30.0, annotations={"mapping": SLEEP, "missing_label": "warn"}
    )
    make_windows(fif, tmp_path / "w.parquet", settings, "rec", {})
    rows = read_windows(fif, tmp_path / "w.parquet")[1].to_pandas()
    assert rows["label"].tolist() == ["W", "W", "N2", "N2"]
    message = "gives no window in recording 'rec' for label 'N1': no annotation"
    assert message in caplog.text
    info = window_table_info(pq.read_schema(tmp_path / "w.parquet"))
    assert any(message in warning for warning in info["warnings"])


def preprocessed_2_s_windows(raw, tmp_path, **preprocess):
    """Save ``raw`` as a FIF, preprocess it with ``preprocess`` settings and cut 2 s
    windows (``tmp_path / "w.parquet"``); the preprocessed FIF's path."""
    from conftest import config_section
    from eegflow.preprocess import preprocess_recording

    source = tmp_path / "late_raw.fif"
    raw.save(source, verbose="error")
    preprocessed, record = tmp_path / "p_raw.fif", tmp_path / "p.json"
    settings = config_section("preprocess", **preprocess)
    preprocess_recording(source, preprocessed, settings, record_path=record)
    make_windows(
        preprocessed,
        tmp_path / "w.parquet",
        window_settings(window_s=2.0),
        "rec",
        {},
        record_path=record,
    )
    return preprocessed


def test_positions_count_from_the_files_first_sample(tmp_path):
    """A FIF whose first sample is not sample 0 (MNE's first_samp, as acquisition
    systems write): crop.tmin and start_s both count from the file's first sample."""

    sfreq = 100.0
    data = np.tile(np.arange(3000, dtype=float), (2, 1)) * 1e-6
    raw = mne.io.RawArray(
        data,
        mne.create_info(["A", "B"], sfreq, "eeg"),
        first_samp=4296,
        verbose="error",
    )
    preprocessed = preprocessed_2_s_windows(
        raw, tmp_path, crop={"tmin": 5.0}, filter={"h_freq": None}
    )
    windows, table, _, _ = read_windows(preprocessed, tmp_path / "w.parquet")
    rows = table.to_pandas()
    assert rows["start_s"].tolist()[:3] == [5.0, 7.0, 9.0]
    assert rows["start_sample"].tolist()[:3] == [500, 700, 900]
    np.testing.assert_allclose(windows[:3, 0, 0], np.array([500, 700, 900]) * 1e-6)


@pytest.mark.parametrize("tmin", [0.0, 5.0])
def test_a_resampled_late_starting_file_keeps_its_positions(tmp_path, tmin):
    """Resampling rounds MNE's first_samp to the new rate (37 samples at 1000 Hz are
    9 at 256 Hz, 1.85 ms earlier): the windows still start where the data do."""

    data = np.random.default_rng(0).normal(0, 1e-5, (2, 1000 * 20))
    raw = mne.io.RawArray(
        data, mne.create_info(["A", "B"], 1000.0, "eeg"), first_samp=37, verbose="error"
    )
    preprocessed_2_s_windows(
        raw, tmp_path, crop={"tmin": tmin}, resample_sfreq=256, filter={"h_freq": None}
    )
    rows = pd.read_parquet(tmp_path / "w.parquet")
    assert rows["start_s"].tolist()[:2] == [tmin, tmin + 2.0]
    assert rows["start_sample"].tolist()[:2] == [tmin * 256, (tmin + 2) * 256]


@pytest.mark.parametrize("stride", [250, 1000], ids=["overlapping", "gapped"])
def test_window_rejection_reads_a_block_at_a_time_not_the_recording(
    tmp_path, monkeypatch, stride
):
    """Peak-to-peak per window reads blocks of windows from the file, never the whole
    recording nor every overlapping window at once (20 ch x 1 h at 250 Hz in 1 s
    strides would be 36 GB), and one stretch at a time (gapped windows: two a block)."""
    import tracemalloc

    from eegflow import windows as windowing

    data = np.random.default_rng(0).normal(size=(8, 250 * 1800)) * 1e-5
    fif = tmp_path / "long_raw.fif"
    mne.io.RawArray(data, mne.create_info(8, 250.0, "eeg"), verbose="error").save(
        fif, verbose="error"
    )  # 28.8 MB as float64
    signal = FifWindowReader(fif)
    starts = np.arange(0, signal.n_times - 500 + 1, stride)
    settings = window_settings(reject={"ptp_uv": "auto"})["reject"]
    block = 8 * 100 * 500 * 8  # 3.2 MB: 100 windows; all 1,799 windows: 57.6 MB
    monkeypatch.setattr(windowing, "WINDOW_BLOCK_BYTES", block)
    tracemalloc.start()
    reasons = windowing.rejected_windows(signal, starts, 500, settings, list(range(8)))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(reasons) == len(starts) == (450_000 - 500) // stride + 1
    # one stretch (at most a block's windows long) and small temporaries; no copy of
    # the windows, no second stretch
    assert peak < 1.2 * block
    ptp = np.ptp(
        np.lib.stride_tricks.sliding_window_view(data, 500, axis=1)[:, starts], axis=-1
    ).T
    np.testing.assert_allclose(  # the same peak-to-peak as from the whole array
        windowing.peak_to_peak(signal, starts, 500, list(range(8))), ptp, rtol=1e-6
    )


def mne_epochs_of(fif, starts, window):
    """The reference: MNE's own Epochs at FIF samples ``starts``, ``window`` long."""
    raw = mne.io.read_raw_fif(fif, verbose="error")
    events = np.column_stack(
        [starts + raw.first_samp, np.zeros_like(starts), np.ones_like(starts)]
    )
    epochs = mne.Epochs(
        raw,
        events,
        tmin=0,
        tmax=(window - 1) / raw.info["sfreq"],
        baseline=None,
        event_repeated="drop",  # overlapping windows can share a start: not here
        preload=True,
        verbose="error",
    )
    return epochs.get_data(copy=False)


@pytest.mark.parametrize("scaling", ["none", "zscore"])
def test_windows_read_from_the_fif_equal_mne_epochs(tmp_path, scaling):
    """Windows are not stored: read back from the FIF (sparse, overlapping, by slice,
    index array or integer) they equal MNE's epochs at the table's positions."""
    rng = np.random.default_rng(3)
    raw = mne.io.RawArray(
        rng.normal(size=(3, 6000)) * 1e-5,
        mne.create_info(["A", "B", "C"], 100.0, "eeg"),
        verbose="error",
    )
    raw.set_meas_date(1_000_000_000)
    onsets = [1.0, 1.5, 2.0, 30.0, 55.0]  # overlapping, then far apart
    raw.set_annotations(
        mne.Annotations(onsets, [2.0] * 5, ["T1"] * 5, orig_time=raw.info["meas_date"])
    )
    raw.crop(tmin=0.5)  # positions in the FIF differ from the source's samples
    fif = tmp_path / "rec_raw.fif"
    raw.save(fif, verbose="error")
    settings = window_settings(
        window_s=2.0,
        scaling=scaling,
        annotations={"mapping": {"T1": 1}, "crop_wake_mins": None, "wake": []},
    )
    make_windows(fif, tmp_path / "w.parquet", settings, "rec", {})
    windows, table, _, _ = read_windows(fif, tmp_path / "w.parquet")
    rows = table.to_pandas()
    assert rows["fif_sample"].tolist() == [50, 100, 150, 2950, 5450]
    assert rows["start_sample"].tolist() == [100, 150, 200, 3000, 5500]
    expected = mne_epochs_of(fif, rows["fif_sample"].to_numpy(), 200)
    if scaling == "zscore":
        expected = scale_channelwise(expected)
    assert windows.shape == expected.shape == (5, 3, 200) and len(windows) == 5
    np.testing.assert_array_equal(windows[:], expected)
    np.testing.assert_array_equal(windows[1:4], expected[1:4])
    np.testing.assert_array_equal(windows[np.array([4, 0])], expected[[4, 0]])
    np.testing.assert_array_equal(windows[3], expected[3])


def test_a_batch_reads_no_more_of_the_fif_than_its_windows_hold(tmp_path):
    """Far-apart windows are read one stretch each, not the whole span between."""
    from unittest import mock

    raw = mne.io.RawArray(
        np.zeros((2, 100_000)), mne.create_info(2, 100.0, "eeg"), verbose="error"
    )
    fif = tmp_path / "rec_raw.fif"
    raw.save(fif, verbose="error")
    signal = FifWindowReader(fif)
    from eegflow.windows import window_runs

    starts = np.array([0, 100, 200, 50_000, 99_000])
    with mock.patch.object(signal, "read", wraps=signal.read) as read:
        list(window_runs(signal, starts, 100))
    stretches = [
        stop - start for start, stop in (call.args for call in read.mock_calls)
    ]
    assert stretches == [300, 100, 100]


@pytest.mark.parametrize(
    "starts",
    [
        [0, 300, 600, 900],  # fixed-length windows: views of the stretch
        [0, 150, 300, 450, 600],  # overlapping by half: views
        [5, 90, 700, 701, 1500],  # uneven (annotation windows): copies
        [900, 0, 450],  # out of order
        [7],
    ],
)
def test_window_runs_give_each_window_as_mne_reads_it(tmp_path, starts):
    from eegflow.windows import window_runs

    data = np.random.default_rng(3).normal(size=(3, 2000)) * 1e-5
    fif = tmp_path / "rec_raw.fif"
    mne.io.RawArray(data, mne.create_info(3, 100.0, "eeg"), verbose="error").save(
        fif, verbose="error"
    )
    raw = mne.io.read_raw_fif(fif, verbose="error")  # the file's float32 values
    starts = np.array(starts)
    seen = np.full(len(starts), False)
    for first, last, windows in window_runs(FifWindowReader(fif), starts, 300):
        assert windows.shape == (3, last - first, 300)
        evenly_spaced = len(set(np.diff(starts[first:last]))) <= 1
        assert windows.flags.writeable != evenly_spaced  # a view of the stretch, or not
        for row, start in enumerate(starts[first:last]):
            np.testing.assert_array_equal(
                windows[:, row], raw.get_data(start=start, stop=start + 300)
            )
        seen[first:last] = True
    assert seen.all()


def test_a_window_table_from_other_data_is_refused(cropped_fif, tmp_path):
    make_windows(cropped_fif, tmp_path / "w.parquet", window_settings(), "rec", {})
    other = tmp_path / "other_raw.fif"
    mne.io.RawArray(
        np.zeros((3, 200)), mne.create_info(3, 10.0, "eeg"), verbose="error"
    ).save(other, verbose="error")
    with pytest.raises(UserError, match=r"other_raw.fif.*stale"):
        read_windows(other, tmp_path / "w.parquet")
    shorter = tmp_path / "shorter_raw.fif"
    mne.io.read_raw_fif(cropped_fif, verbose="error").crop(tmax=5.0).save(
        shorter, verbose="error"
    )
    with pytest.raises(UserError, match=r"shorter_raw.fif.*length.*stale"):
        read_windows(shorter, tmp_path / "w.parquet")


def test_lost_cue_classes_stop_the_run_naming_the_source_file(tmp_path):
    """A motor-imagery EDF+ with 1.25 s cues, end to end: 2 s windows give no window
    for any class, and the job fails naming data/S01.edf (not the intermediate FIF);
    the trial offsets then give one window per cue."""
    from conftest import run_snakemake, synthetic_settings, write_config
    from eegflow.synthetic import synthetic_raw

    raw = synthetic_raw(0, synthetic_settings(["C3", "Cz", "C4"], 110, seed=4))
    names = list(CUES) * 4
    raw.set_annotations(
        mne.Annotations([4.0 + 8.0 * i for i in range(12)], [1.25] * 12, names)
    )
    (tmp_path / "data").mkdir()
    mne.export.export_raw(tmp_path / "data" / "S01.edf", raw, verbose="error")
    config = {
        "input": {"source": "files", "files": ["data/*.edf"]},
        "windows": {"window_s": 2, "annotations": {"mapping": CUES}},
    }
    write_config(tmp_path, config)
    result = run_snakemake(tmp_path, check=False)
    assert result.returncode != 0
    assert (
        "data/S01.edf: config windows.annotations.mapping gives no window in recording"
        " 'S01' for label 'left_hand': 4 annotations lasting 1.25 to 1.25 s, each "
        "shorter than a window; label 'right_hand': 4 annotations"
    ) in result.stderr
    config["windows"]["annotations"].update(start_offset_s=0.5, stop_offset_s=1.25)
    write_config(tmp_path, config)
    run_snakemake(tmp_path)
    table = pd.read_parquet(tmp_path / "results" / "features.parquet")
    assert table["label"].tolist() == names
    np.testing.assert_allclose(table["start_s"], [4.5 + 8.0 * i for i in range(12)])


def preprocessed_windows(tmp_path, source, mapping, window_s=2.0):
    """Preprocess ``source`` (defaults, no filter) and cut windows on ``mapping``'s
    annotations (missing labels only warned of): the window table as a DataFrame."""
    from conftest import config_section
    from eegflow.preprocess import preprocess_recording

    preprocessed, record = tmp_path / "p_raw.fif", tmp_path / "p.json"
    settings = config_section("preprocess", filter={"h_freq": None})
    preprocess_recording(source, preprocessed, settings, record_path=record)
    table = tmp_path / "w.parquet"
    annotations = {"mapping": mapping, "missing_label": "warn"}
    make_windows(
        preprocessed,
        table,
        window_settings(window_s=window_s, annotations=annotations),
        "rec",
        {},
        record_path=record,
    )
    return pd.read_parquet(table)


def annotated_edf(path, labels):
    """Write an EDF+ (edfio, UTF-8 annotations) of 2 channels of noise, 10 s per
    label, each label annotated for 4 s from 2 s into its stretch."""
    raw = mne.io.RawArray(
        np.random.default_rng(0).normal(0, 1e-5, (2, 128 * 10 * len(labels))),
        mne.create_info(["Cz", "Pz"], 128.0, "eeg"),
        verbose="error",
    )
    onsets = [2 + 10 * index for index in range(len(labels))]
    raw.set_annotations(mne.Annotations(onsets, [4] * len(labels), labels))
    mne.export.export_raw(path, raw, verbose="error")
    return path


def test_labels_beyond_latin1_survive_the_workflow_as_the_source_holds_them(
    tmp_path,
):
    """MNE writes FIF text as Latin-1 with each other character as '&#<number>;':
    labels read back from the preprocessed FIF are decoded, and '&' kept."""
    from conftest import run_snakemake, write_config

    labels = ["Schlaf ü–Stadium", "睡眠 N2", "R&D &amp; &#38; x", "plain"]
    annotated_edf(tmp_path / "labels.edf", labels)
    mapping = {label: index for index, label in enumerate(labels)}
    write_config(
        tmp_path,
        {
            "input": {"source": "files", "files": ["labels.edf"]},
            "windows": {
                "window_s": 2.0,
                "annotations": {"mapping": mapping, "missing_label": "warn"},
            },
        },
    )
    run_snakemake(tmp_path, "results/windows/labels.parquet")
    table = tmp_path / "results" / "windows" / "labels.parquet"
    rows = pd.read_parquet(table)
    assert rows["label"].tolist() == [label for label in labels for _ in range(2)]
    assert rows["target"].tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert window_table_info(pq.read_schema(table))["warnings"] == []


def test_a_utf8_label_of_an_edfbrowser_file_gives_its_windows(tmp_path):
    """pyedflib's test_utf8.edf: Chinese event text among ASCII ones."""
    from conftest import edfbrowser_file

    mapping = {"中文测试八个字": 1, "XLEvent": 0}
    rows = preprocessed_windows(tmp_path, edfbrowser_file("test_utf8.edf"), mapping)
    assert rows["label"].tolist() == ["中文测试八个字", "XLEvent"]
    assert rows["target"].tolist() == [1, 0]
    assert rows["start_s"].tolist() == pytest.approx([119.605, 290.107], abs=1 / 128)


def test_a_label_a_fif_cannot_hold_is_refused_naming_it(tmp_path):
    label = "a &#8211; b"  # would read back as "a – b"
    source = annotated_edf(tmp_path / "odd.edf", [label])
    with pytest.raises(
        UserError, match=rf"odd.edf: the annotation description '{label}'"
    ):
        preprocessed_windows(tmp_path, source, {label: 0})
