"""ICA + ICLabel: a known blink source leaves the frontal channels, an alpha rhythm
stays; the thresholds rerun only the apply step; clear errors."""

from unittest import mock

import mne
import numpy as np
import pandas as pd
import pytest
import scipy.signal
import yaml

from conftest import planned_jobs, run_snakemake, write_config

SFREQ, SECONDS = 250.0, 60
CHANNELS = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8",
            "P7", "P3", "Pz", "P4", "P8", "O1", "O2"]  # fmt: skip
FRONTAL, OCCIPITAL = ["Fp1", "Fp2"], ["O1", "O2"]
# the bounds the test holds the stage to
BLINK_CORRELATION_AFTER = 0.2  # |r| of Fp1/Fp2 with the blink source (about 0.9 before)
ALPHA_POWER_CHANGE = 0.10  # relative change of O1/O2 8-12 Hz power


def scalp_blob(positions, centre, width_m):
    """A smooth topography: a Gaussian of the distance to ``centre``."""
    return np.exp(-((positions - centre) ** 2).sum(axis=-1) / (2 * width_m**2))


def eeg_with_blinks(seed=0, seconds=SECONDS, channels=CHANNELS):
    """10-20 channels (19 by default): 19 pink-noise sources with smooth topographies (10 µV), an
    occipital 10 Hz alpha rhythm (15 µV) and 300 ms blinks every ~3 s (150 µV at
    Fp1/Fp2, falling off over the scalp). Returns the raw and the blink source."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SFREQ)
    times = np.arange(n) / SFREQ
    montage = mne.channels.make_standard_montage("colin27_1020")
    where = montage.get_positions()["ch_pos"]
    positions = np.array([where[name] for name in channels])
    spectrum = np.fft.rfft(rng.normal(size=(len(channels), n)))
    freqs = np.fft.rfftfreq(n, 1 / SFREQ)
    pink = np.fft.irfft(spectrum / np.sqrt(np.maximum(freqs, freqs[1])), n)
    pink /= pink.std(axis=1, keepdims=True)
    centres = positions[rng.permutation(len(channels))]
    mixing = scalp_blob(positions[:, None, :], centres[None], 0.04)
    data = mixing @ pink * 10e-6
    alpha = np.sin(2 * np.pi * 10 * times) * (1 + 0.5 * np.sin(2 * np.pi * 0.1 * times))
    occipital = scalp_blob(positions, (where["O1"] + where["O2"]) / 2, 0.04)
    data += np.outer(occipital, alpha) * 15e-6
    blinks = np.zeros(n)
    shape = np.hanning(int(0.3 * SFREQ))
    for onset in np.arange(2, seconds - 1, 3.0) + rng.uniform(-0.5, 0.5):
        start = int(onset * SFREQ)
        blinks[start : start + len(shape)] += shape
    frontal = scalp_blob(positions, (where["Fp1"] + where["Fp2"]) / 2, 0.05)
    data += np.outer(frontal, blinks) * 150e-6
    raw = mne.io.RawArray(
        data, mne.create_info(channels, SFREQ, "eeg"), verbose="error"
    )
    return raw, blinks


ICA_CONFIG = {
    "input": {"source": "files", "files": ["data/*.fif"]},
    "preprocess": {
        "montage": "colin27_1020",
        "reference": "average",
        "filter": {"l_freq": None, "h_freq": None},
    },
    "ica": {"enabled": True},
    "windows": {"window_s": 2},
    "features": {"compute": {"band_power": {"bands": {"alpha": [8, 12]}}}},
}


def alpha_power(data):
    freqs, psd = scipy.signal.welch(data, fs=SFREQ, nperseg=int(2 * SFREQ))
    return psd[..., (freqs >= 8) & (freqs < 12)].sum(axis=-1)


@pytest.fixture(scope="module")
def ica_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("ica")
    (workdir / "data").mkdir()
    raw, blinks = eeg_with_blinks()
    raw.save(workdir / "data" / "blinks_raw.fif", fmt="double", verbose="error")
    write_config(workdir, ICA_CONFIG)
    run_snakemake(workdir)
    return workdir, raw, blinks


def test_blinks_leave_the_frontal_channels_and_alpha_stays(ica_run):
    workdir, raw, blinks = ica_run
    before = mne.io.read_raw_fif(
        workdir / "results" / "preprocessed" / "blinks_raw.fif", verbose="error"
    )
    after = mne.io.read_raw_fif(
        workdir / "results" / "ica" / "blinks_raw.fif", verbose="error"
    )
    for name in FRONTAL:
        assert np.corrcoef(before.get_data(picks=name)[0], blinks)[0, 1] > 0.8
        assert abs(np.corrcoef(after.get_data(picks=name)[0], blinks)[0, 1]) < (
            BLINK_CORRELATION_AFTER
        )
    change = alpha_power(after.get_data(picks=OCCIPITAL)) / alpha_power(
        before.get_data(picks=OCCIPITAL)
    )
    assert np.all(np.abs(change - 1) < ALPHA_POWER_CHANGE), change

    components = pd.read_csv(
        workdir / "results" / "ica" / "blinks_components.tsv", sep="\t"
    )
    assert len(components) == 18  # 19 channels, average reference: rank 18
    removed = components[components["removed"]]
    assert removed["label"].tolist() == ["eye blink"]
    assert removed["reason"].item().startswith("eye blink ")
    probabilities = components.filter(like="p_")
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-3)
    figure = workdir / "results" / "qc" / "blinks_ica.png"
    assert figure.read_bytes()[:4] == b"\x89PNG" and figure.stat().st_size < 200_000
    # the feature table says ICA shaped it
    import json

    import pyarrow.parquet as pq

    metadata = pq.read_schema(workdir / "results" / "features.parquet").metadata
    provenance = json.loads(metadata[b"eegflow"])["provenance"]
    assert provenance["config"]["ica"]["exclude"]["eye blink"] == 0.8


def test_the_saved_ica_removes_what_was_removed(ica_run):
    # read_ica(...).apply(raw) on the preprocessed recording gives the cleaned one
    workdir = ica_run[0]
    results = workdir / "results"
    components = pd.read_csv(results / "ica" / "blinks_components.tsv", sep="\t")
    ica = mne.preprocessing.read_ica(
        results / "ica" / "blinks_applied_ica.fif", verbose="error"
    )
    assert ica.exclude == components.loc[components["removed"], "component"].tolist()
    assert ica.exclude  # the blink
    preprocessed = mne.io.read_raw_fif(
        results / "preprocessed" / "blinks_raw.fif", preload=True, verbose="error"
    )
    cleaned = mne.io.read_raw_fif(results / "ica" / "blinks_raw.fif", verbose="error")
    reapplied = ica.apply(preprocessed, verbose="error").get_data()
    np.testing.assert_allclose(reapplied, cleaned.get_data(), rtol=0, atol=1e-9)  # 1 nV


def test_qc_table_lists_the_removed_components(ica_run):
    workdir = ica_run[0]
    run_snakemake(workdir, "qc")
    qc = pd.read_parquet(workdir / "results" / "qc.parquet")
    assert qc[["ica_components", "ica_removed"]].values.tolist() == [[18, 1]]
    assert qc["ica_removed_why"].item() == "0: eye blink 1.00"
    assert qc["ica_warnings"].item() == "", qc["ica_warnings"].item()  # a clean fit


def test_what_goes_against_the_fit_is_in_the_labels_table_and_the_log(tmp_path, caplog):
    """Data low-passed below ICLabel's 100 Hz and a solver stopped before it
    converged: each a note in fit_warnings (and the log), not only on stderr."""
    from conftest import config_section
    from eegflow.ica import fit_ica

    raw, _ = eeg_with_blinks(seconds=40)
    raw.set_montage("colin27_1020")
    raw.filter(None, 40.0, verbose="error")
    raw.set_eeg_reference("average", verbose="error")
    fif = tmp_path / "low_raw.fif"
    raw.save(fif, verbose="error")
    settings = config_section("ica", n_components=5)  # Picard
    labels = tmp_path / "labels.tsv"
    with caplog.at_level("WARNING"):
        with mock.patch("mne.preprocessing.ICA.__init__", stopped_early_ica()):
            fit_ica(fif, tmp_path / "low-ica.fif", labels, settings, "low.fif")
    notes = pd.read_csv(labels, sep="\t")["fit_warnings"].unique().tolist()
    assert len(notes) == 1 and "low-passed at 40 Hz" in notes[0], notes
    assert "config ica.method=picard: Picard did not converge" in notes[0], notes
    assert "low.fif: config ica.method=picard" in caplog.text


def stopped_early_ica():
    """An ICA constructor that keeps its solver to one iteration (so it cannot
    converge): what a recording hard to decompose does to the configured solver."""
    original = mne.preprocessing.ICA.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **{**kwargs, "max_iter": 1})

    return init


def test_thresholds_rerun_the_apply_step_never_the_fit(ica_run):
    workdir = ica_run[0]
    fitted = workdir / "results" / "ica" / "blinks-ica.fif"
    stamp, content = fitted.stat().st_mtime_ns, fitted.read_bytes()
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    config["ica"]["exclude"] = {"eye blink": 0.99, "other": 0.9}
    write_config(workdir, config)
    assert planned_jobs(workdir) == {
        "ica_apply": 1, "windows": 1, "features": 1, "combine": 1, "all": 1
    }  # fmt: skip
    run_snakemake(workdir)
    assert fitted.stat().st_mtime_ns == stamp and fitted.read_bytes() == content
    config["ica"]["random_state"] = 1  # a fit setting refits
    write_config(workdir, config)
    assert planned_jobs(workdir)["ica_fit"] == 1


def test_ica_needs_an_average_reference(tmp_path):
    write_config(tmp_path, {**ICA_CONFIG, "preprocess": {"montage": "colin27_1020"}})
    result = run_snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert "config ica.enabled: true needs preprocess.reference: average" in (
        result.stdout + result.stderr
    )


@pytest.mark.parametrize(
    "preprocess, ica, message",
    [
        ({"montage": None}, {}, "data/short_raw.fif: ICA with ICLabel needs channel positions"),
        ({}, {"n_components": 19}, "ica.n_components=19, but its 19 good EEG channels"),
        ({}, {}, "are too few for 18 ICA components (at least 20 x n_components² = "
                 "6480 samples); set config ica.n_components to 15 or fewer (for every "
                 "recording), use a longer recording, or leave the recording out of the "
                 "run with config input.exclude (no features for it: ICA cannot be "
                 "switched off for one recording)"),
    ],
)  # fmt: skip
def test_ica_errors_name_the_file_and_the_setting(tmp_path, preprocess, ica, message):
    (tmp_path / "data").mkdir()
    eeg_with_blinks(seconds=20)[0].save(
        tmp_path / "data" / "short_raw.fif", verbose="error"
    )
    config = yaml.safe_load(yaml.safe_dump(ICA_CONFIG))
    config["preprocess"].update(preprocess)
    config["ica"].update(ica)
    write_config(tmp_path, config)
    result = run_snakemake(tmp_path, "results/ica/short-ica.fif", check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
