"""BIDS derivatives of a BIDS input: BIDS names, sidecars mne-bids reads, reruns."""

import json
import os
import warnings

import mne
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import planned_jobs, run_snakemake, use_example, write_config
from test_dirty_eeg import realistic_eeg

DERIVATIVES = "results/derivatives/eegflow"


@pytest.fixture(scope="module")
def derivatives_run(tmp_path_factory):
    """A BIDS data set (one subject with two sessions, one without; P3 of sub-01
    ses-1 marked bad in its channels.tsv) run with the BIDS example config, which
    turns BIDS derivatives on."""
    import mne_bids

    workdir = tmp_path_factory.mktemp("derivatives")
    root = workdir / "data" / "bids"
    for seed, (subject, session) in enumerate([("01", "1"), ("01", "2"), ("02", None)]):
        raw = realistic_eeg(seconds=20, seed=seed)
        raw.set_annotations(mne.Annotations([2], [10], ["rest"]))
        path = mne_bids.BIDSPath(
            subject=subject, session=session, task="rest", datatype="eeg", root=root
        )
        mne_bids.write_raw_bids(
            raw, path, allow_preload=True, format="EDF", verbose="error"
        )
    mne_bids.mark_channels(
        mne_bids.BIDSPath(
            subject="01", session="1", task="rest", datatype="eeg", root=root
        ),
        ch_names=["P3"],
        status="bad",
        descriptions=["electrode bridged"],
        verbose="error",
    )
    use_example(workdir, "bids")
    run_snakemake(workdir)
    return workdir


def test_outputs_get_bids_names_beside_the_combined_table(derivatives_run):
    files = sorted(
        str(path.relative_to(derivatives_run / DERIVATIVES))
        for path in (derivatives_run / DERIVATIVES).rglob("*")
        if not path.is_dir()
    )
    stems = [
        "sub-01/ses-1/eeg/sub-01_ses-1_task-rest",
        "sub-01/ses-2/eeg/sub-01_ses-2_task-rest",
        "sub-02/eeg/sub-02_task-rest",
    ]
    names = [
        "desc-features_eeg.parquet",
        "desc-preproc_channels.tsv",
        "desc-preproc_eeg.fif",
        "desc-preproc_eeg.json",
        "desc-windows_eeg.parquet",
    ]
    assert files == sorted(
        ["dataset_description.json", "participants.tsv"]
        + [f"{stem}_{name}" for stem in stems for name in names]
    )
    # links to the stage outputs (no second copy), relative: the folder can move
    fif = derivatives_run / DERIVATIVES / f"{stems[2]}_desc-preproc_eeg.fif"
    assert fif.is_symlink() and not os.readlink(fif).startswith("/")
    assert (
        fif.resolve()
        == (
            derivatives_run / "results" / "preprocessed" / "sub-02_task-rest_raw.fif"
        ).resolve()
    )
    combined = pd.read_parquet(derivatives_run / "results" / "features.parquet")
    features = pd.read_parquet(
        derivatives_run / DERIVATIVES / f"{stems[0]}_desc-features_eeg.parquet"
    )
    assert features.equals(
        combined[combined["recording"] == "sub-01_ses-1_task-rest"].reset_index(
            drop=True
        )[features.columns]
    )

    description = json.loads(
        (derivatives_run / DERIVATIVES / "dataset_description.json").read_text()
    )
    assert description["DatasetType"] == "derivative"
    generated = description["GeneratedBy"][0]
    assert generated["Name"] == "eegflow" and generated["Version"]
    assert generated["Config"]["preprocess"]["filter"]["l_freq"] == 1
    participants = pd.read_csv(
        derivatives_run / DERIVATIVES / "participants.tsv", sep="\t"
    )
    assert participants["participant_id"].tolist() == ["sub-01", "sub-02"]


def test_mne_bids_reads_the_preprocessed_recording_back(derivatives_run):
    import mne_bids

    path = mne_bids.BIDSPath(
        root=derivatives_run / DERIVATIVES,
        subject="01",
        session="1",
        task="rest",
        description="preproc",
        datatype="eeg",
        suffix="eeg",
        extension=".fif",
        check=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every sidecar it looks for is there
        raw = mne_bids.read_raw_bids(path, verbose="error")
    written = mne.io.read_raw_fif(
        derivatives_run / "results" / "preprocessed" / "sub-01_ses-1_task-rest_raw.fif",
        verbose="error",
    )
    np.testing.assert_array_equal(raw.get_data(), written.get_data())
    assert raw.info["bads"] == ["P3"] and raw.info["sfreq"] == written.info["sfreq"]
    channels = pd.read_csv(
        str(path.fpath).replace("_eeg.fif", "_channels.tsv"), sep="\t"
    )
    assert channels.set_index("name").loc["P3", "status_description"] == (
        "marked bad in BIDS channels.tsv"
    )
    sidecar = json.loads(path.copy().update(extension=".json").fpath.read_text())
    assert sidecar["SamplingFrequency"] == written.info["sfreq"]
    assert sidecar["EEGChannelCount"] == 8 and sidecar["TaskName"] == "rest"
    assert sidecar["SoftwareFilters"]["eegflow"]["l_freq"] == 1
    assert sidecar["Sources"] == [
        "bids::sub-01/ses-1/eeg/sub-01_ses-1_task-rest_eeg.edf"
    ]
    assert sidecar["eegflow"]["bad_channels"] == {
        "P3": ["marked bad in BIDS channels.tsv"]
    }


def test_derivatives_rerun_with_their_recording_only(derivatives_run):
    assert planned_jobs(derivatives_run) == {}  # links are up to date, not relinked
    link = (
        derivatives_run
        / DERIVATIVES
        / "sub-02/eeg/sub-02_task-rest_desc-windows_eeg.parquet"
    )
    link.unlink()
    assert planned_jobs(derivatives_run) == {"bids_derivatives": 1, "all": 1}
    config = derivatives_run / "config.yaml"
    original = config.read_text()
    try:
        write_config(
            derivatives_run, {**yaml.safe_load(original), "windows": {"window_s": 4}}
        )
        assert planned_jobs(derivatives_run) == {  # the description records the config
            "windows": 3,
            "features": 3,
            "combine": 1,
            "bids_derivatives": 3,
            "bids_dataset_description": 1,
            "all": 1,
        }
    finally:
        config.write_text(original)


def test_with_ica_the_derivative_is_the_signal_the_windows_index(derivatives_run):
    config = derivatives_run / "config.yaml"
    original = config.read_text()
    settings = yaml.safe_load(original)
    settings["preprocess"]["reference"] = "average"
    try:
        write_config(derivatives_run, {**settings, "ica": {"enabled": True}})
        plan = run_snakemake(derivatives_run, "--dry-run").stdout
    finally:
        config.write_text(original)
    job = plan[plan.index("rule bids_derivatives:") :]
    inputs = job[job.index("input:") + 6 : job.index("\n", job.index("input:"))]
    signals = [path for path in inputs.split(", ") if path.endswith("_raw.fif")]
    assert len(signals) == 1 and signals[0].startswith("results/ica/"), inputs


def test_the_sidecar_says_ica_was_applied():
    from eegflow.derivatives import recording_sidecar

    info = mne.create_info(["Cz"], 100.0, "eeg")
    record = {"duration_s": 1.0, "notch_hz": [], "bad_channels": {}}
    settings = {
        "reference": "average",
        "notch": {"line_freq": None},
        "filter": {"l_freq": 1, "h_freq": 40, "method": "fir"},
    }
    ica = {"enabled": True, "method": "picard"}
    source = "sub-01/eeg/sub-01_task-rest_eeg.edf"
    assert (
        recording_sidecar(info, record, settings, source, ica)["eegflow"]["ica"] == ica
    )
    assert "ica" not in recording_sidecar(info, record, settings, source)["eegflow"]


def test_derivatives_need_a_bids_input(tmp_path):
    write_config(tmp_path, {"input": {"bids": {"derivatives": True}}})
    result = run_snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert (
        "config input.bids.derivatives: true needs input.source: bids"
        in result.stdout + result.stderr
    )
