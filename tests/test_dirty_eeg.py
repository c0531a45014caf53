"""Dirty EEG: line noise, bad channels, bad windows and wrong units, injected into
recordings the tests write, handled and recorded; checked with SciPy's Welch PSD."""

import mne
import numpy as np
import pandas as pd
import pytest
import scipy.signal
import yaml

from conftest import config_section, edfbrowser_file, run_snakemake, write_config
from eegflow import UserError
from eegflow.fileio import read_record
from eegflow.preprocess import preprocess_recording

SFREQ = 250.0
CHANNELS = ["Fz", "Cz", "Pz", "Oz", "C3", "C4", "P3", "P4"]


def realistic_eeg(seconds=60, seed=0):
    """8 channels sharing a broadband source (EEG is correlated across the scalp)
    plus independent noise, ~20 µV, as an MNE Raw with 10-20 names."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SFREQ)
    common = rng.normal(size=n)
    mixing = rng.uniform(0.6, 1.0, size=(len(CHANNELS), 1))
    data = (mixing * common + 0.4 * rng.normal(size=(len(CHANNELS), n))) * 20e-6
    return mne.io.RawArray(
        data, mne.create_info(CHANNELS, SFREQ, "eeg"), verbose="error"
    )


def settings(**changes):
    return config_section("preprocess", **{"filter": {"h_freq": None}, **changes})


def power_db(data, sfreq, freq):
    """Welch power (dB) in the 0.25 Hz bin at ``freq``, averaged over channels."""
    freqs, psd = scipy.signal.welch(data, fs=sfreq, nperseg=int(4 * sfreq))
    return 10 * np.log10(psd[..., np.argmin(np.abs(freqs - freq))].mean())


def preprocessed(raw, tmp_path, **changes):
    """Save ``raw``, preprocess it with ``changes``; (output Raw, record)."""
    source, out, record = (
        tmp_path / "in_raw.fif",
        tmp_path / "out_raw.fif",
        tmp_path / "r.json",
    )
    raw.save(source, fmt="double", overwrite=True, verbose="error")
    preprocess_recording(source, out, settings(**changes), record_path=record)
    return mne.io.read_raw_fif(out, verbose="error"), read_record(record)


def test_notch_removes_injected_mains_and_leaves_neighbours(tmp_path):
    raw = realistic_eeg()
    times = raw.times
    mains = 30e-6 * np.sin(2 * np.pi * 50 * times) + 10e-6 * np.sin(
        2 * np.pi * 100 * times
    )
    raw._data += mains
    clean, record = preprocessed(raw, tmp_path, notch={"line_freq": 50})
    assert record["notch_hz"] == [50.0, 100.0]  # harmonics below Nyquist (125 Hz)
    before, after = raw.get_data(), clean.get_data()
    for freq in (50, 100):
        assert power_db(before, SFREQ, freq) - power_db(after, SFREQ, freq) >= 20
        for neighbour in (freq - 1, freq + 1):
            change = power_db(after, SFREQ, neighbour) - power_db(
                before, SFREQ, neighbour
            )
            assert abs(change) < 1, (neighbour, change)


def test_notch_on_edfbrowsers_50_hz_channel(tmp_path):
    source = edfbrowser_file("test_generator.edf")
    raw = mne.io.read_raw(source, verbose="error").load_data()
    out, record = tmp_path / "out_raw.fif", tmp_path / "r.json"
    preprocess_recording(
        source,
        out,
        settings(notch={"line_freq": 50}, picks=["sine 50 Hz", "noise"]),
        record_path=record,
    )
    clean = mne.io.read_raw_fif(out, verbose="error")
    assert read_record(record)["notch_hz"] == [50.0]  # 100 Hz is Nyquist at 200 Hz
    sine_before = raw.get_data(picks=["sine 50 Hz"])
    sine_after = clean.get_data(picks=["sine 50 Hz"])
    assert power_db(sine_before, 200, 50) - power_db(sine_after, 200, 50) >= 20
    noise_before, noise_after = (
        raw.get_data(picks=["noise"]),
        clean.get_data(picks=["noise"]),
    )
    for neighbour in (49, 51):
        change = power_db(noise_after, 200, neighbour) - power_db(
            noise_before, 200, neighbour
        )
        assert abs(change) < 1


def test_noisy_and_dead_channels_are_found_by_prep_criteria(tmp_path):
    raw = realistic_eeg(seed=1)
    rng = np.random.default_rng(5)
    raw._data[2] = rng.normal(0, 200e-6, raw.n_times)  # Pz: loose electrode, 10x noise
    raw._data[5] = 0.0  # C4: dead
    detect = ["nan", "flat", "deviation", "correlation", "hf_noise"]
    _, record = preprocessed(raw, tmp_path, bad_channels={"detect": detect})
    assert list(record["bad_channels"]) == ["Pz", "C4"]
    assert record["bad_channels"]["C4"] == ["flat"]
    assert "deviation" in record["bad_channels"]["Pz"]


def test_interpolation_restores_a_bad_channel_from_its_neighbours(tmp_path):
    raw = realistic_eeg(seed=2)
    truth = raw.get_data(picks=["Cz"])[0].copy()
    raw._data[1] = 0.0  # Cz dead
    clean, record = preprocessed(
        raw, tmp_path, montage="colin27_1020", bad_channels={"action": "interpolate"}
    )
    assert record["bad_channel_action"] == "interpolate" and list(
        record["bad_channels"]
    ) == ["Cz"]
    assert clean.info["bads"] == []
    # the shared source carries ~80 % of each channel's variance, the rest is the lost
    # channel's own noise: the interpolated Cz follows the lost one (a dead one: 0)
    assert np.corrcoef(clean.get_data(picks=["Cz"])[0], truth)[0, 1] > 0.6

    with pytest.raises(
        UserError, match=r"action=interpolate needs channel positions.*Fz"
    ):
        preprocessed(raw, tmp_path, bad_channels={"action": "interpolate"})


def test_what_mne_says_of_a_setting_is_in_the_record_not_only_stderr(tmp_path, caplog):
    """MNE's warnings were dropped (verbose="error"): a filter longer than the
    recording ("distortion is likely"), a montage name MNE deprecates. Each is now
    in the record's warnings (so the QC table) and the log, naming the setting; as
    is a crop.tmax past the end."""
    raw = realistic_eeg().crop(0, 20)  # 20 s: a 0.1 Hz high-pass needs 33 s
    with caplog.at_level("WARNING"):
        old, record = preprocessed(
            raw,
            tmp_path,
            montage="standard_1020",
            filter={"l_freq": 0.1, "h_freq": 40.0, "method": "fir"},
            crop={"tmin": 0, "tmax": 60},
        )
    notes = record["warnings"]
    starts = (
        "config preprocess.montage: ",
        "config preprocess.crop.tmax=60 s is past the end (20.0",
        "config preprocess.filter: ",
    )
    assert len(notes) == 3, notes
    assert all(note.startswith(start) for note, start in zip(notes, starts)), notes
    assert "colin27_1020" in notes[0] and "distortion is likely" in notes[2]
    assert all(note in caplog.text for note in notes)
    new, record = preprocessed(realistic_eeg(), tmp_path, montage="colin27_1020")
    assert record["warnings"] == []
    _, record = preprocessed(raw, tmp_path, resample_sfreq=2 * SFREQ)
    assert record["warnings"] == [
        f"config preprocess.resample_sfreq={2 * SFREQ:g} Hz is above the recording's "
        f"{SFREQ:g} Hz: upsampled, so it holds nothing above {SFREQ / 2:g} Hz"
    ]
    np.testing.assert_array_equal(
        [ch["loc"] for ch in old.info["chs"]], [ch["loc"] for ch in new.info["chs"]]
    )


def test_microvolts_stored_as_volts_are_refused_and_a_scale_fixes_them(tmp_path):
    raw = realistic_eeg()
    raw._data *= 1e6  # the values of µV, labelled V
    with pytest.raises(
        UserError, match=r"implausible EEG amplitudes.*units.scale: 1e-6"
    ):
        preprocessed(raw, tmp_path)
    clean, _ = preprocessed(raw, tmp_path, units={"scale": 1e-6})
    # the preprocessed FIF stores float32: each value within its rounding (2**-24)
    np.testing.assert_allclose(clean.get_data(), raw.get_data() * 1e-6, rtol=2**-23)


def test_dirty_recording_end_to_end(tmp_path):
    """Mains, a dead channel, a movement artefact and a BAD annotation, through the
    workflow with the README's "Dirty data" settings: exact channels and windows."""
    raw = realistic_eeg(seconds=40, seed=3)
    raw._data += 30e-6 * np.sin(2 * np.pi * 50 * raw.times)
    raw._data[:, int(10.75 * SFREQ) : int(11.25 * SFREQ)] += (
        2e-3  # 2 mV movement, 0.5 s
    )
    raw._data[3] = 0.0  # Oz dead
    raw.set_annotations(mne.Annotations([25.5], [1.0], ["BAD_electrode_pop"]))
    (tmp_path / "data").mkdir()
    raw.save(tmp_path / "data" / "dirty_raw.fif", fmt="double", verbose="error")
    write_config(
        tmp_path,
        {
            "input": {"source": "files", "files": ["data/*.fif"]},
            "preprocess": {
                "notch": {"line_freq": 50},
                "filter": {"h_freq": 40},
                "bad_channels": {"action": "mark"},
            },
            "windows": {"window_s": 2, "reject": {"ptp_uv": 500, "action": "flag"}},
            "features": {
                "compute": {"variance": {}, "band_power": {"bands": {"alpha": [8, 12]}}}
            },
        },
    )
    run_snakemake(tmp_path)
    table = pd.read_parquet(tmp_path / "results" / "features.parquet")
    assert len(table) == 20  # flagged, not dropped
    rejected = table[table["rejected"]]
    assert rejected["start_s"].tolist() == [10.0, 24.0, 26.0]
    # every good channel moved; Oz is bad (marked), so it is not judged
    assert rejected["reject_reason"].tolist()[0] == (
        "amplitude above 500 µV: Fz, Cz, Pz, C3, C4, P3, P4"
    )
    assert (
        rejected["reject_reason"].tolist()[1:] == ["annotation BAD_electrode_pop"] * 2
    )
    assert (
        table["variance_Oz"].isna().all() and table["band_power_Oz_alpha"].isna().all()
    )
    assert table["variance_Fz"].notna().all()
    record = read_record(tmp_path / "results" / "preprocessed" / "dirty.json")
    assert record["bad_channels"] == {"Oz": ["flat"]}
    import pyarrow.parquet as pq  # the window table says it too

    from eegflow.windows import window_table_info

    info = window_table_info(
        pq.read_table(tmp_path / "results" / "windows" / "dirty.parquet")
    )
    assert (info["bad_channels"], info["bad_channel_action"]) == (
        {"Oz": ["flat"]},
        "mark",
    )

    run_snakemake(tmp_path, "qc")  # the QC table sees the injected faults
    qc = pd.read_parquet(tmp_path / "results" / "qc.parquet").iloc[0]
    assert qc["line_noise_db_50"] > 10 and qc["line_noise_db_60"] < 3  # no 60 Hz peak
    assert (qc["n_bad_channels"], qc["bad_channels"]) == (1, "Oz: flat")
    assert (qc["windows"], qc["windows_rejected"], qc["notch_hz"]) == (20, 3, "50 100")
    assert (
        qc["warnings"] == qc["windows_warnings"] == qc["untreated"] == ""
    )  # handled faults are no warnings
    assert qc["amplitude_spread_uv_Oz"] == 0 and 10 < qc["amplitude_spread_uv_Fz"] < 40

    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    config["windows"]["reject"] = {"ptp_uv": "auto", "action": "drop"}
    write_config(tmp_path, config)
    run_snakemake(tmp_path)
    dropped = pd.read_parquet(tmp_path / "results" / "features.parquet")
    assert (
        10.0 not in dropped["start_s"].tolist()
        and 24.0 not in dropped["start_s"].tolist()
    )
    assert not dropped["rejected"].any()


def test_known_bad_channels_from_a_table_and_from_the_file(tmp_path):
    from conftest import planned_jobs

    (tmp_path / "data").mkdir()
    first, second = realistic_eeg(seconds=20, seed=6), realistic_eeg(seconds=20, seed=7)
    second.info["bads"] = ["Oz"]  # marked in the FIF itself
    first.save(tmp_path / "data" / "a_raw.fif", verbose="error")
    second.save(tmp_path / "data" / "b_raw.fif", verbose="error")
    table = tmp_path / "recordings.tsv"
    table.write_text(
        "path\tbad_channels\tgroup\ndata/a_raw.fif\tC3; P4\tx\ndata/b_raw.fif\t\ty\n"
    )
    write_config(
        tmp_path,
        {
            "input": {"source": "table", "table": "recordings.tsv"},
            "preprocess": {"filter": {"h_freq": 40}},
        },
    )
    run_snakemake(tmp_path)
    records = {
        rid: read_record(tmp_path / "results" / "preprocessed" / f"{rid}.json")
        for rid in ("a", "b")
    }
    assert records["a"]["bad_channels"] == {
        "C3": ["listed in the recordings table"],
        "P4": ["listed in the recordings table"],
    }
    assert records["b"]["bad_channels"] == {"Oz": ["marked bad in the file"]}
    features = pd.read_parquet(tmp_path / "results" / "features.parquet")
    assert "bad_channels" not in features.columns  # not a metadata column
    by_recording = features.set_index("recording")
    assert by_recording.loc["a", "variance_C3"].isna().all()
    assert by_recording.loc["b", "variance_C3"].notna().all()
    assert by_recording.loc["b", "variance_Oz"].isna().all()

    table.write_text(table.read_text().replace("C3; P4", "C3"))
    assert planned_jobs(tmp_path) == {
        "preprocess": 1,
        "windows": 1,
        "features": 1,
        "combine": 1,
        "all": 1,
    }


def test_real_edf_and_bdf_files_are_not_called_dirty(tmp_path):
    """EDFbrowser's generator files (clean test signals): the default bad-channel
    criteria find nothing, and auto rejection flags only what is really there."""
    from eegflow.windows import make_windows, read_windows

    out, record = tmp_path / "o_raw.fif", tmp_path / "r.json"
    for name in ("test_generator.edf", "test_generator.bdf"):
        preprocess_recording(
            edfbrowser_file(name), out, config_section("preprocess"), record_path=record
        )
        assert read_record(record)["bad_channels"] == {}
        make_windows(
            out,
            tmp_path / "w.parquet",
            config_section("windows", reject={"ptp_uv": "auto"}),
            "x",
            {},
            record_path=record,
        )
        rows = read_windows(out, tmp_path / "w.parquet")[1].to_pandas()
        flagged = rows[rows["rejected"]]
        if name.endswith(".bdf"):
            assert flagged.empty
            continue
        # the square wave is constant between its edges (flat in most 2 s windows); the
        # 50 Hz sine, low-passed at 30 Hz, keeps a filter edge in the last window only
        assert set(flagged["reject_reason"]) == {
            "flat below 0.1 µV: squarewave",
            "amplitude above the recording's robust threshold: sine 50 Hz; "
            "flat below 0.1 µV: squarewave",
        }
        edge = flagged[flagged["reject_reason"].str.contains("sine 50 Hz")]
        assert edge["window_index"].tolist() in ([0], [len(rows) - 1])


def test_bids_bad_channels_are_used_as_bad(tmp_path):
    import mne_bids

    source = tmp_path / "source_raw.fif"
    realistic_eeg(seconds=20, seed=8).save(source, verbose="error")
    root = tmp_path / "bids"
    path = mne_bids.BIDSPath(subject="01", task="rest", datatype="eeg", root=root)
    mne_bids.write_raw_bids(
        mne.io.read_raw_fif(source, verbose="error"), path, verbose="error"
    )
    mne_bids.mark_channels(
        path,
        ch_names=["P3"],
        status="bad",
        descriptions=["electrode bridged"],
        verbose="error",
    )
    write_config(tmp_path, {"input": {"source": "bids", "bids": {"root": str(root)}}})
    run_snakemake(tmp_path)
    record = read_record(
        tmp_path / "results" / "preprocessed" / "sub-01_task-rest.json"
    )
    assert record["bad_channels"] == {"P3": ["marked bad in BIDS channels.tsv"]}
    table = pd.read_parquet(tmp_path / "results" / "features.parquet")
    assert table["variance_P3"].isna().all() and table["variance_P4"].notna().all()


def test_a_table_scales_the_one_recording_stored_in_the_wrong_unit(tmp_path):
    (tmp_path / "data").mkdir()
    raw = realistic_eeg(seconds=20, seed=9)
    raw.save(tmp_path / "data" / "volts_raw.fif", fmt="double", verbose="error")
    wrong = raw.copy()
    wrong._data *= 1e6  # the same recording, microvolt values labelled volts
    wrong.save(tmp_path / "data" / "microvolts_raw.fif", fmt="double", verbose="error")
    table = tmp_path / "recordings.tsv"
    table.write_text(
        "path\nvolts_raw.fif\nmicrovolts_raw.fif\n".replace("\nv", "\ndata/v").replace(
            "\nm", "\ndata/m"
        )
    )
    write_config(tmp_path, {"input": {"source": "table", "table": "recordings.tsv"}})
    result = run_snakemake(tmp_path, "--keep-going", check=False)
    assert result.returncode != 0
    assert (
        "data/microvolts_raw.fif: implausible EEG amplitudes" in result.stderr
        and "units_scale column of 1e-6" in result.stderr
    )

    table.write_text(
        "path\tunits_scale\ndata/volts_raw.fif\t\ndata/microvolts_raw.fif\t1e-6\n"
    )
    run_snakemake(tmp_path)
    features = pd.read_parquet(tmp_path / "results" / "features.parquet")
    variance = features.groupby("recording")["variance_Cz"].mean()
    assert variance["microvolts"] == pytest.approx(variance["volts"], rel=1e-9)
    assert "units_scale" not in features.columns


def test_average_reference_leaves_bad_channels_out(tmp_path):
    raw = realistic_eeg(seconds=10, seed=10)
    rng = np.random.default_rng(11)
    raw._data[2] = rng.normal(0, 500e-6, raw.n_times)  # Pz: wild
    good = [index for index in range(len(CHANNELS)) if index != 2]
    clean, record = preprocessed(
        raw,
        tmp_path,
        reference="average",
        bad_channels={"detect": ["nan", "flat", "deviation"]},
    )
    assert list(record["bad_channels"]) == ["Pz"]
    data = raw.get_data()
    expected = data[good] - data[good].mean(axis=0)  # the average of good channels only
    np.testing.assert_allclose(clean.get_data()[good], expected, atol=1e-12)


def test_whole_recording_statistics_sample_a_fixed_amount_spread_over_it():
    from eegflow.cleaning import sample_segments

    data = np.tile(np.arange(250 * 3600, dtype=float), (2, 1))  # values = sample index
    raw = mne.io.RawArray(
        data, mne.create_info(["A", "B"], 250.0, "eeg"), verbose="error"
    )
    segments = sample_segments(raw, "B")
    assert segments.shape == (300, 500)  # 10 min of a 1 h recording
    assert segments[0, 0] == 0 and segments[-1, -1] == 250 * 3600 - 1  # both ends
    short = mne.io.RawArray(data[:, :2500], raw.info, verbose="error")
    assert sample_segments(short, "A").shape == (5, 500)  # all of a short one


@pytest.mark.parametrize("preload", [True, False])
def test_whole_recording_statistics_equal_their_per_channel_definition(
    tmp_path, monkeypatch, preload
):
    """Amplitude statistics and spectra, taken for blocks of channels at once, equal
    SciPy's median absolute deviation and periodogram of each channel's own segments
    (2 s, up to 300 spread evenly), read one segment at a time."""
    import scipy.stats

    from eegflow import cleaning

    raw = realistic_eeg(seconds=700, seed=3)  # 350 segments: 300 of them taken
    raw._data[2, 1000:3000] = 0  # a flat stretch in one channel
    if not preload:
        raw.save(tmp_path / "x_raw.fif", fmt="double", verbose="error")
        raw = mne.io.read_raw_fif(tmp_path / "x_raw.fif", verbose="error")
    monkeypatch.setattr(cleaning, "SAMPLED_BLOCK_BYTES", 3 * 300 * 500 * 8)  # 3 a block
    statistics = cleaning.amplitude_statistics_uv(raw)
    freqs, spectra = cleaning.mean_spectra(raw)
    starts = np.unique(np.linspace(0, 349 * 500, 300).astype(int))
    for name in CHANNELS:
        segments = np.stack(
            [raw.get_data(picks=[name], start=s, stop=s + 500)[0] for s in starts]
        )
        values = segments.ravel() * 1e6
        assert statistics[name]["median"] == pytest.approx(np.median(values), rel=1e-12)
        mad = scipy.stats.median_abs_deviation(values, scale="normal")
        assert statistics[name]["spread"] == pytest.approx(mad, rel=1e-5)  # 1.4826
        expected_freqs, power = scipy.signal.periodogram(
            segments, fs=SFREQ, window="hann", axis=-1
        )
        np.testing.assert_allclose(freqs, expected_freqs)
        np.testing.assert_allclose(spectra[name], power.mean(axis=0), rtol=1e-10)
    assert list(cleaning.amplitude_statistics_uv(raw, ["Pz", "Fz"])) == ["Pz", "Fz"]


def test_prep_criteria_that_cannot_run_are_recorded_not_silent(tmp_path, caplog):
    raw = realistic_eeg(seconds=20, seed=12).pick(["Fz", "Cz"])  # 2 channels: too few
    detect = ["nan", "flat", "deviation", "correlation"]
    _, record = preprocessed(raw, tmp_path, bad_channels={"detect": detect})
    assert record["bad_channels"] == {}
    assert record["bad_channel_criteria_skipped"] == ["deviation", "correlation"]
    assert (
        "PREP criteria ['deviation', 'correlation'] need 3 or more good channels"
        in caplog.text
    )


def eeg_with_blinking_eog(seconds=40, seed=13):
    """:func:`realistic_eeg` plus an EOG channel with a 400 µV blink every 4 s (clean
    EEG, as after ICA removed the blinks from it)."""
    raw = realistic_eeg(seconds=seconds, seed=seed)
    blinks = np.zeros(raw.n_times)
    for onset in np.arange(1.0, seconds, 4.0):
        first = int(onset * SFREQ)
        blinks[first : first + int(0.3 * SFREQ)] = 400e-6 * np.hanning(int(0.3 * SFREQ))
    noise = np.random.default_rng(seed).normal(0, 5e-6, raw.n_times)
    eog = mne.io.RawArray(
        (blinks + noise)[None], mne.create_info(["EOG"], SFREQ, "eog"), verbose="error"
    )
    return raw.add_channels([eog])


def test_eog_blinks_neither_reject_windows_nor_make_the_eog_a_bad_channel(tmp_path):
    """With preprocess.picks: [eeg, eog], windows were flagged for the EOG channel's
    blinks, and PREP's deviation found the EOG "bad" among the EEG channels: both
    now judge EEG channels only (channel_types), and say which they judged."""
    import pyarrow.parquet as pq

    from eegflow.windows import make_windows, window_table_info

    raw = eeg_with_blinking_eog()
    _, record = preprocessed(raw, tmp_path, picks=["eeg", "eog"])
    table = tmp_path / "w.parquet"
    make_windows(
        tmp_path / "out_raw.fif",
        table,
        config_section("windows", reject={"ptp_uv": 300}),
        "x",
        {},
        record_path=tmp_path / "r.json",
    )
    windows = pq.read_table(table)
    assert not windows.column("rejected").to_numpy().any()
    assert window_table_info(windows)["reject_channels"] == CHANNELS

    detect = ["nan", "flat", "deviation", "correlation", "hf_noise"]
    _, record = preprocessed(
        raw, tmp_path, picks=["eeg", "eog"], bad_channels={"detect": detect}
    )
    assert record["bad_channels"] == {}
    assert record["bad_channel_criteria_channels"] == CHANNELS

    # asked for, the EOG channel is judged too: its blinks flag their windows
    make_windows(
        tmp_path / "out_raw.fif",
        table,
        config_section(
            "windows", reject={"ptp_uv": 300, "channel_types": ["eeg", "eog"]}
        ),
        "x",
        {},
        record_path=tmp_path / "r.json",
    )
    reasons = pq.read_table(table).column("reject_reason").to_pylist()
    assert reasons.count("amplitude above 300 µV: EOG") == 10  # a blink every 4 s

    # an EOG-only recording: nothing to judge, which the window table says
    preprocessed(raw, tmp_path, picks=["eog"])
    make_windows(
        tmp_path / "out_raw.fif",
        table,
        config_section("windows"),
        "x",
        {},
        record_path=tmp_path / "r.json",
    )
    assert window_table_info(pq.read_table(table))["warnings"] == [
        "config windows.reject.ptp_uv/flat_uv judge no channel: no good channel is of "
        "windows.reject.channel_types ['eeg', 'seeg', 'ecog', 'dbs'] (this "
        "recording's types: ['eog']); add its types to judge them"
    ]


TEN_TWENTY = "Fp1 Fp2 F7 F3 Fz F4 F8 T7 C3 Cz C4 T8 P7 P3 Pz P4 P8 O1 O2".split()


def ten_twenty_eeg(dead, seconds=20, seed=14):
    """19 channels of the 10-20 system sharing a broadband source plus their own noise
    (~20 µV), with the channels ``dead`` (names) at 0."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SFREQ)
    mixing = rng.uniform(0.6, 1.0, size=(len(TEN_TWENTY), 1))
    data = (mixing * rng.normal(size=n) + 0.4 * rng.normal(size=(19, n))) * 20e-6
    data[[TEN_TWENTY.index(name) for name in dead]] = 0.0
    return mne.io.RawArray(
        data, mne.create_info(TEN_TWENTY, SFREQ, "eeg"), verbose="error"
    )


def test_too_many_bad_channels_are_kept_marked_or_fail_not_rebuilt(tmp_path, caplog):
    """12 of 19 channels bad were rebuilt from the 7 posterior ones (frontal channels
    6 times too large), without a word. Beyond max_interpolated_fraction they are
    kept marked and the record, the QC table and the log say so; or, asked for,
    the recording fails naming the file and the settings."""
    dead = TEN_TWENTY[:12]  # Fp1 .. T8: all but the parietal and occipital row
    raw = ten_twenty_eeg(dead)
    interpolate = {"montage": "colin27_1020", "bad_channels": {"action": "interpolate"}}
    with caplog.at_level("WARNING"):
        clean, record = preprocessed(raw, tmp_path, **interpolate)
    assert list(record["bad_channels"]) == dead
    assert record["bad_channel_action"] == "mark"  # so their features are NaN
    assert clean.info["bads"] == dead
    np.testing.assert_array_equal(clean.get_data(picks=dead), 0.0)  # not rebuilt
    (message,) = record["untreated"]
    assert message == (
        f"bad channels {dead} are kept marked, not interpolated (their features are "
        "NaN): 12 of 19 EEG channels are bad, more than preprocess.bad_channels."
        "max_interpolated_fraction=0.25 of them (config preprocess.bad_channels."
        "over_limit: mark)"
    )
    assert record["warnings"] == [message] and message in caplog.text

    interpolate["bad_channels"]["over_limit"] = "fail"
    with pytest.raises(UserError) as failure:
        preprocessed(raw, tmp_path, **interpolate)
    assert str(failure.value).startswith(
        f"{tmp_path / 'in_raw.fif'}: config preprocess.bad_channels.action=interpolate "
        "would extrapolate"
    )
    assert "max_interpolated_fraction=0.25" in str(failure.value)
    assert "over_limit: mark" in str(failure.value) and "\n" not in str(failure.value)


def test_a_bad_channel_among_bad_neighbours_is_not_rebuilt(tmp_path):
    """4 of 19 (within the fraction), but Fp1's neighbours Fp2, F7, F3 are bad too:
    only Fz of its 4 Delaunay neighbours is good (F7 keeps 2 of 4: enough). One bad
    channel among good ones is interpolated."""
    dead = ["Fp1", "Fp2", "F7", "F3"]
    interpolate = {"montage": "colin27_1020", "bad_channels": {"action": "interpolate"}}
    _, record = preprocessed(ten_twenty_eeg(dead), tmp_path, **interpolate)
    assert record["bad_channel_action"] == "mark"
    assert (
        ": fewer than half of the neighbours of bad channels Fp1 (1 of 4) are good ("
        in record["untreated"][0]
    )
    clean, record = preprocessed(ten_twenty_eeg(["Cz"]), tmp_path, **interpolate)
    assert record["bad_channel_action"] == "interpolate" and clean.info["bads"] == []
    assert record["untreated"] == [] and record["warnings"] == []


def test_mains_and_a_noisy_channel_left_in_are_said_with_the_setting(tmp_path):
    """With the default settings, 30 dB of 50 Hz mains and a channel of 300 µV noise
    passed without a word. Each is now an entry of the record's untreated (the QC
    table's column) and a warning naming the setting that treats it; clean data,
    or the settings turned on, give none."""
    raw = realistic_eeg(seconds=30, seed=15)
    _, record = preprocessed(raw, tmp_path)
    assert record["untreated"] == [] and record["warnings"] == []
    raw._data += 30e-6 * np.sin(2 * np.pi * 50 * raw.times)
    raw._data[2] = np.random.default_rng(16).normal(0, 300e-6, raw.n_times)  # Pz
    _, record = preprocessed(raw, tmp_path)
    mains, noisy = record["untreated"]
    assert mains.startswith("line noise at 50 Hz (") and mains.endswith(
        "[50.0, 100.0] Hz are neither notched nor low-passed; set config "
        "preprocess.notch.line_freq: 50"
    )
    assert noisy.startswith("channel Pz is noisy (a robust spread of 3") and (
        "add deviation (and correlation, hf_noise) to config "
        "preprocess.bad_channels.detect" in noisy
    )
    assert record["warnings"] == [mains, noisy]
    from eegflow.qc import qc_row

    windows = pd.DataFrame({"rejected": [False]})
    windows.attrs["info"] = {"warnings": []}
    assert qc_row("x", "in_raw.fif", record, windows)["untreated"] == (
        f"{mains}; {noisy}"
    )
    # the settings each message names treat it
    _, record = preprocessed(
        raw,
        tmp_path,
        notch={"line_freq": 50},
        bad_channels={"detect": ["nan", "flat", "deviation"]},
    )
    assert record["untreated"] == [] and list(record["bad_channels"]) == ["Pz"]
    # a low-pass at 30 Hz (the default) removes 50 Hz and its harmonics: treated
    _, record = preprocessed(raw, tmp_path, filter={"h_freq": 30})
    assert [m.split(" ")[:2] for m in record["untreated"]] == [["channel", "Pz"]]
