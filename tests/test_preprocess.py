"""Preprocessing: the same result as MNE's own calls, and clear errors."""

import mne
import numpy as np
import pytest

from conftest import config_section, synthetic_settings
from eegflow import UserError
from eegflow.fileio import read_record
from eegflow.preprocess import preprocess_recording
from eegflow.synthetic import synthetic_raw

SYNTHETIC = synthetic_settings(["O1", "Oz", "Cz"], duration_s=20, seed=3)

# the preprocessed FIF stores float32: each value within its rounding (2**-24, relative)
FLOAT32 = {"rtol": 2**-23, "atol": 0}


def settings(**changes):
    """Config ``preprocess`` with the schema's defaults, cropped from 2 s, changed."""
    return config_section("preprocess", **{"crop": {"tmin": 2.0}, **changes})


@pytest.fixture
def edf(tmp_path):
    """The synthetic recording exported to EDF, as users' files usually are."""
    path = tmp_path / "rec.edf"
    mne.export.export_raw(path, synthetic_raw(1, SYNTHETIC), verbose="error")
    return path


def test_crop_pick_filter_match_mne(edf, tmp_path):
    out = tmp_path / "rec_raw.fif"
    preprocess_recording(edf, out, settings(picks=["O1", "Cz"]))
    expected = mne.io.read_raw(edf, preload=True, verbose="error")
    expected.crop(tmin=2.0).pick(["O1", "Cz"]).filter(None, 30, verbose="error")
    result = mne.io.read_raw_fif(out, verbose="error")
    assert result.ch_names == ["O1", "Cz"]
    assert result.first_samp == 256
    np.testing.assert_allclose(result.get_data(), expected.get_data(), **FLOAT32)


def test_resample_then_filter(edf, tmp_path):
    out = tmp_path / "rec_raw.fif"
    preprocess_recording(edf, out, settings(resample_sfreq=64.0))
    result = mne.io.read_raw_fif(out, verbose="error")
    assert result.info["sfreq"] == 64.0 and result.n_times == 18 * 64


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"crop": {"tmin": 50.0, "tmax": None}},
            r"preprocess.crop.tmin=50.0 s is beyond",
        ),
        ({"picks": ["O1", "T7"]}, r"preprocess.picks asks for \['T7'\]"),
        ({"filter": {"l_freq": None, "h_freq": 64, "method": "fir"}}, r"h_freq=64 Hz"),
        ({"resample_sfreq": 50.0}, r"Nyquist frequency 25 Hz"),
        ({"channel_types": {"Oz": "brain"}}, r"preprocess.channel_types"),
        (
            {"rename": {"O1": "T7", "T7": "X"}, "picks": ["X"]},
            r"picks asks for \['X'\]",
        ),
        ({"reference": ["A1"]}, r"preprocess.reference asks for \['A1'\]"),
    ],
)
def test_bad_settings_name_file_and_key(edf, tmp_path, changes, message):
    with pytest.raises(UserError, match=message) as error:
        preprocess_recording(edf, tmp_path / "out_raw.fif", settings(**changes))
    assert "rec.edf" in str(error.value)
    assert not list(tmp_path.glob("*out*"))  # nothing half-written


@pytest.mark.parametrize(
    "content, message",
    [(b"", "file is empty"), (b"not an EDF at all" * 20, "could not read")],
)
def test_unreadable_files_name_the_file(tmp_path, content, message):
    bad = tmp_path / "bad.edf"
    bad.write_bytes(content)
    with pytest.raises(UserError, match=message):
        preprocess_recording(bad, tmp_path / "out_raw.fif", settings())


def test_an_edf_without_records_or_a_one_sample_file_is_named_plainly(edf, tmp_path):
    """A header-only EDF failed with MNE's IndexError, a 1-sample file as 'every
    channel is bad (flat)'."""
    header = bytearray(edf.read_bytes()[: 256 * (1 + int(edf.read_bytes()[252:256]))])
    header[236:244] = b"0       "
    empty = tmp_path / "empty.edf"
    empty.write_bytes(header)
    with pytest.raises(
        UserError,
        match="empty.edf: the EDF/BDF header says the file holds 0 data records",
    ):
        preprocess_recording(empty, tmp_path / "out_raw.fif", settings())
    one = tmp_path / "one_raw.fif"
    info = mne.create_info(["Cz", "Pz"], 128.0, "eeg")
    mne.io.RawArray(np.full((2, 1), 1e-5), info, verbose="error").save(
        one, verbose="error"
    )
    with pytest.raises(
        UserError,
        match=r"one_raw.fif: the recording holds only 1 sample\(s\), no signal",
    ):
        preprocess_recording(
            one, tmp_path / "out_raw.fif", settings(crop={"tmin": 0.0})
        )


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="gone.edf: file not found"):
        preprocess_recording(
            tmp_path / "gone.edf", tmp_path / "out_raw.fif", settings()
        )


def test_nan_flat_and_dead_stretch_channels_are_marked_bad_not_fatal(tmp_path):
    raw = synthetic_raw(0, synthetic_settings(["O1", "Oz", "Cz", "Pz"], 200, seed=3))
    data = raw.get_data()
    data[1, 500:510] = np.nan  # Oz: NaN samples
    data[2] = 1e-6  # Cz: constant (a dead electrode)
    data[3, 128 * 100 : 128 * 170] = 2e-6  # Pz: dead for 70 s of 200
    path = tmp_path / "spoilt_raw.fif"
    mne.io.RawArray(data, raw.info, verbose="error").save(
        path, fmt="double", verbose="error"
    )
    out, record = tmp_path / "out_raw.fif", tmp_path / "out.json"
    preprocess_recording(path, out, settings(), record_path=record)
    assert read_record(record)["bad_channels"] == {
        "Oz": ["nan"],
        "Cz": ["flat"],
        "Pz": ["flat for 70 s"],
    }
    result = mne.io.read_raw_fif(out, verbose="error")
    assert (
        result.info["bads"] == ["Oz", "Cz", "Pz"]
        and np.isfinite(result.get_data()).all()
    )

    with pytest.raises(
        UserError,
        match=r"channel Oz holds NaN .* add nan to config "
        r"preprocess.bad_channels.detect",
    ):
        preprocess_recording(path, out, settings(bad_channels={"detect": ["flat"]}))

    data[0] = np.nan  # no good channel left: the recording fails, naming them all
    mne.io.RawArray(data, raw.info, verbose="error").save(
        path, fmt="double", overwrite=True, verbose="error"
    )
    with pytest.raises(UserError, match=r"spoilt_raw.fif: every channel is bad"):
        preprocess_recording(path, out, settings())


def test_truncated_edf_is_refused(edf, tmp_path):
    whole = edf.read_bytes()
    cut = tmp_path / "cut.edf"
    cut.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(UserError, match="cut.edf: the header's length does not match"):
        preprocess_recording(cut, tmp_path / "out_raw.fif", settings())


def test_rename_type_and_average_reference_match_mne(edf, tmp_path):
    out = tmp_path / "rec_raw.fif"
    changes = {
        "rename": {"Oz": "OZ"},
        "channel_types": {"Cz": "eog"},
        "reference": "average",
        "picks": ["eeg", "eog"],
    }
    preprocess_recording(edf, out, settings(**changes))
    expected = mne.io.read_raw(edf, preload=True, verbose="error")
    expected.rename_channels({"Oz": "OZ"}).set_channel_types({"Cz": "eog"})
    expected.crop(tmin=2.0).pick(["eeg", "eog"]).set_eeg_reference(
        "average", verbose="error"
    )
    expected.filter(None, 30, verbose="error")
    result = mne.io.read_raw_fif(out, verbose="error")
    assert (
        result.ch_names == ["O1", "OZ", "Cz"] and result.get_channel_types()[2] == "eog"
    )
    np.testing.assert_allclose(result.get_data(), expected.get_data(), **FLOAT32)
    eeg = result.get_data(picks="eeg")
    # average of EEG = 0, up to the float32 rounding of each channel (~1e-12 V)
    np.testing.assert_allclose(eeg.sum(axis=0), 0, atol=1e-11)


def test_channel_names_beyond_ascii_are_refused_naming_them_and_the_rename(tmp_path):
    import pybv

    data = np.random.default_rng(0).normal(0, 1e-5, (3, 256 * 10))  # V
    pybv.write_brainvision(
        data=data,
        sfreq=256,
        ch_names=["Fpß", "Cz", "O1"],
        fname_base="umlaut",
        folder_out=tmp_path,
        unit="µV",
    )
    source, out = tmp_path / "umlaut.vhdr", tmp_path / "out_raw.fif"
    with pytest.raises(
        UserError,
        match=r"umlaut.vhdr: channel names \['Fpß'\] hold characters beyond ASCII.*"
        r"config preprocess.rename, e.g. \{'Fpß': 'Fp\?'\}",
    ):
        preprocess_recording(source, out, settings())
    assert not out.exists()
    preprocess_recording(source, out, settings(rename={"Fpß": "Fpss"}))
    assert mne.io.read_raw_fif(out, verbose="error").ch_names == ["Fpss", "Cz", "O1"]


def test_reference_to_a_channel_not_picked_drops_it(edf, tmp_path):
    out = tmp_path / "rec_raw.fif"
    preprocess_recording(edf, out, settings(picks=["O1", "Oz"], reference=["Cz"]))
    raw = mne.io.read_raw(edf, preload=True, verbose="error").crop(tmin=2.0)
    expected = raw.get_data(["O1", "Oz"]) - raw.get_data(["Cz"])  # before the low-pass
    result = mne.io.read_raw_fif(out, verbose="error")
    assert result.ch_names == ["O1", "Oz"]
    unfiltered = tmp_path / "unfiltered_raw.fif"
    no_filter = {"l_freq": None, "h_freq": None, "method": "fir"}
    preprocess_recording(
        edf,
        unfiltered,
        settings(picks=["O1", "Oz"], reference=["Cz"], filter=no_filter),
    )
    got = mne.io.read_raw_fif(unfiltered, verbose="error").get_data()
    np.testing.assert_allclose(got, expected, **FLOAT32)


def test_annotations_file_is_attached_and_cropped_with_the_data(edf, tmp_path):
    annotations = tmp_path / "hypnogram.csv"
    mne.Annotations([0, 6, 12], [6, 6, 6], ["W", "N2", "N2"]).save(annotations)
    out = tmp_path / "rec_raw.fif"
    preprocess_recording(edf, out, settings(), annotations_path=annotations)
    result = mne.io.read_raw_fif(out, verbose="error")
    assert list(result.annotations.description) == ["W", "N2", "N2"]
    # the first one, cut by crop.tmin=2, starts at the crop and is 2 s shorter (MNE's crop)
    np.testing.assert_allclose(result.annotations.onset - result.first_time, [0, 4, 10])
    np.testing.assert_allclose(result.annotations.duration, [4, 6, 6])


def test_unreadable_annotations_file_is_named(edf, tmp_path):
    bad = tmp_path / "hypnogram.edf"
    bad.write_bytes(b"not an EDF")
    with pytest.raises(
        UserError, match="hypnogram.edf: (MNE could not read|no) annotations"
    ):
        preprocess_recording(
            edf, tmp_path / "out_raw.fif", settings(), annotations_path=bad
        )


def test_picks_null_keeps_eeg_not_meg_and_applies_projectors(tmp_path):
    """An MEG+EEG FIF with an unapplied average-reference projector (as Elekta files
    carry): the default picks keep the EEG only, and the projector is applied."""
    rng = np.random.default_rng(4)
    names = ["MEG0111", "MEG0112", "MEG0113", "EEG001", "EEG002", "EEG003", "STI101"]
    kinds = ["mag", "grad", "grad", "eeg", "eeg", "eeg", "stim"]
    data = (
        rng.normal(0, 1, (7, 2000)) * np.array([1e-13] * 3 + [1e-5] * 3 + [0])[:, None]
    )
    data[3:6] += 5e-5  # a common offset that the average reference removes
    raw = mne.io.RawArray(data, mne.create_info(names, 200.0, kinds), verbose="error")
    raw.set_eeg_reference("average", projection=True, verbose="error")
    path = tmp_path / "meg_raw.fif"
    raw.save(path, verbose="error")
    out, record = tmp_path / "out_raw.fif", tmp_path / "out.json"
    preprocess_recording(
        path,
        out,
        settings(crop={"tmin": 0.0}, filter={"h_freq": None}),
        record_path=record,
    )
    result = mne.io.read_raw_fif(out, verbose="error")
    assert result.ch_names == ["EEG001", "EEG002", "EEG003"]
    expected = data[3:6] - data[3:6].mean(axis=0)
    np.testing.assert_allclose(result.get_data(), expected, atol=1e-11)  # float32 file
    assert read_record(record)["projectors_applied"] == ["Average EEG reference"]

    with pytest.raises(UserError, match=r"channel_types: Cannot change channel type"):
        preprocess_recording(path, out, settings(channel_types={"EEG001": "misc"}))
    meg_only = tmp_path / "meg_only_raw.fif"
    raw.copy().pick("meg").save(meg_only, verbose="error")
    with pytest.raises(UserError, match=r"preprocess.picks is null.*has none.*\[meg\]"):
        preprocess_recording(meg_only, out, settings())
    preprocess_recording(path, out, settings(crop={"tmin": 0.0}, picks=["meg"]))
    assert mne.io.read_raw_fif(out, verbose="error").ch_names == names[:3]


def test_damaged_samples_name_the_file(tmp_path):
    """An EEGLAB file whose .fdt is cut: the header opens, MNE fails reading samples."""
    from test_data_files import write_eeglab_with_fdt

    write_eeglab_with_fdt(tmp_path / "cut.set", synthetic_raw(0, SYNTHETIC))
    fdt = tmp_path / "cut.fdt"
    fdt.write_bytes(fdt.read_bytes()[: fdt.stat().st_size // 2])
    with pytest.raises(
        UserError,
        match=r"cut.set: MNE opened this recording but could not "
        r"read its samples \(RuntimeError",
    ):
        preprocess_recording(tmp_path / "cut.set", tmp_path / "out_raw.fif", settings())


def test_any_mne_step_in_order_equals_mnes_own_calls(edf, tmp_path):
    steps = [
        {"notch_filter": {"freqs": [50], "notch_widths": 2}},
        {"crop": {"tmax": 10.0}},
        {"set_eeg_reference": {"ref_channels": ["Cz"]}},
    ]
    out = tmp_path / "out_raw.fif"
    preprocess_recording(edf, out, settings(steps=steps, filter={"h_freq": None}))
    expected = mne.io.read_raw(edf, preload=True, verbose="error").crop(tmin=2.0)
    expected.notch_filter([50], notch_widths=2, verbose="error")
    expected.crop(tmax=10.0).set_eeg_reference(["Cz"], verbose="error")
    result = mne.io.read_raw_fif(out, verbose="error")
    np.testing.assert_allclose(result.get_data(), expected.get_data(), **FLOAT32)


@pytest.mark.parametrize(
    "steps, message",
    [
        (
            [{"notch_filtre": {"freqs": [50]}}],
            r"steps\[0\]: 'notch_filtre' is not a method",
        ),
        (
            [{"filter": {"l_freq": 1, "hfreq": 30}}],
            r"steps\[0\]: raw.filter has no keyword \['hfreq'\]; it takes \['l_freq', 'h_freq'",
        ),
        (
            [{"crop": {}}, {"save": {"fname": "x_raw.fif"}}],
            r"steps\[1\]: 'save' is not a method",
        ),
        ([{"crop": {}, "filter": {}}], r"steps\[0\]=.*expected one method"),
        ([{"compute_psd": {"fmax": 40}}], r"steps\[0\]: 'compute_psd' is not a method"),
        ([{"describe": {}}], r"steps\[0\]: 'describe' is not a method"),
        ([{"crop_by_annotations": {}}], r"'crop_by_annotations' is not a method"),
        ([{"copy": {}}], r"steps\[0\]: 'copy' is not a method"),
        (
            [{"apply_function": {"fun": "print"}}],
            r"steps\[0\]: raw.apply_function needs a Python function, which a YAML",
        ),
    ],
)
def test_bad_steps_are_refused_at_start_naming_them(steps, message):
    from eegflow.preprocess import check_steps

    with pytest.raises(UserError, match=message):
        check_steps(steps)


def test_a_step_failing_on_a_recording_names_file_and_step(edf, tmp_path):
    with pytest.raises(
        UserError, match=r"rec.edf: config preprocess.steps\[0\] raw.crop"
    ):
        preprocess_recording(
            edf, tmp_path / "o_raw.fif", settings(steps=[{"crop": {"tmin": 99}}])
        )


def noisy_fif(tmp_path, sfreq, seconds=20):
    """A 2-channel recording of white noise (~10 µV) at ``sfreq``, saved as FIF."""
    data = np.random.default_rng(0).normal(0, 1e-5, (2, int(sfreq * seconds)))
    raw = mne.io.RawArray(
        data, mne.create_info(["Cz", "Pz"], sfreq, "eeg"), verbose="error"
    )
    path = tmp_path / "noise_raw.fif"
    raw.save(path, fmt="double", verbose="error")
    return path


@pytest.mark.parametrize("line_freq", [50, 60])
def test_a_harmonic_whose_notch_reaches_nyquist_is_left_out_and_noted(
    tmp_path, line_freq
):
    """At 600.6 Hz the 300 Hz harmonic's notch band (300 +- 1.25 Hz) crosses Nyquist
    (300.3 Hz), where MNE's notch_filter fails naming neither file nor notch."""
    source = noisy_fif(tmp_path, 600.6)
    out, record = tmp_path / "out_raw.fif", tmp_path / "r.json"
    changes = {"crop": {"tmin": 0.0}, "filter": {"h_freq": None}}
    preprocess_recording(
        source,
        out,
        settings(notch={"line_freq": line_freq}, **changes),
        record_path=record,
    )
    kept = [float(f) for f in range(line_freq, 300, line_freq)]
    written = read_record(record)
    assert written["notch_hz"] == kept
    assert (
        f"config preprocess.notch.line_freq={line_freq} Hz: harmonics [300.0] Hz left "
        "out, their notch band (MNE's f/400 + 0.5 Hz each side) reaches the Nyquist "
        "frequency 300.3 Hz (sfreq 600.6 Hz)"
    ) in written["warnings"]
    expected = mne.io.read_raw_fif(source, preload=True, verbose="error")
    expected.notch_filter(kept, verbose="error")
    result = mne.io.read_raw_fif(out, verbose="error").get_data()
    np.testing.assert_allclose(result, expected.get_data(), **FLOAT32)

    with pytest.raises(
        UserError, match=r"noise_raw.fif: config preprocess.notch.freqs \[300.0\] Hz"
    ):
        preprocess_recording(source, out, settings(notch={"freqs": [300]}, **changes))


def test_a_line_freq_at_or_above_nyquist_is_noted_not_silent(tmp_path):
    source = noisy_fif(tmp_path, 100.0)
    record = tmp_path / "r.json"
    preprocess_recording(
        source,
        tmp_path / "out_raw.fif",
        settings(notch={"line_freq": 50}),
        record_path=record,
    )
    written = read_record(record)
    assert written["notch_hz"] == []
    assert (
        "config preprocess.notch.line_freq=50 Hz is not below the Nyquist frequency "
        "50 Hz (sfreq 100 Hz): no notch"
    ) in written["warnings"]


def test_the_records_before_spectrum_is_at_most_512_bins_keeping_the_power():
    """50 channels at 2 kHz (2,001 bins each) made the spectrum 1.1 MB of a 1.5 MB
    record; averaged runs of bins keep the total power and the mains peak's place."""
    import json

    import scipy.signal

    from eegflow.preprocess import rounded_spectra

    sfreq, rng = 2000.0, np.random.default_rng(0)
    t = np.arange(int(5 * sfreq)) / sfreq
    data = rng.normal(size=(50, t.size)) + 5 * np.sin(2 * np.pi * 50 * t)
    freqs, power = scipy.signal.periodogram(data, fs=sfreq, window="hann")
    spectra = {f"ch{i}": p for i, p in enumerate(power)}
    record = rounded_spectra(freqs, spectra)
    assert len(record["freqs"]) <= 512 < len(freqs)
    assert len(json.dumps(record)) < 300_000
    kept = np.asarray(record["power"]["ch0"])
    width = np.diff(record["freqs"]).mean()
    assert np.isclose(
        kept.sum() * width, power[0].sum() * (freqs[1] - freqs[0]), rtol=0.02
    )
    assert abs(record["freqs"][int(np.argmax(kept))] - 50) < width
    # a spectrum with few bins is kept as it is, rounded
    few = rounded_spectra(freqs[:100], {"a": power[0][:100]})
    assert len(few["freqs"]) == 100
