"""BIDS derivatives of a BIDS input: BIDS names, sidecars mne-bids reads, reruns."""

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import edit, planned_jobs, run_snakemake, use_example, write_config
from test_dirty_eeg import realistic_eeg

DERIVATIVES = "results/derivatives/eegflow"


LINE_FREQ = 60  # the sources' PowerLineFrequency (config notch.line_freq stays null)


def write_bids_recording(root, raw, datatype, subject, session=None):
    """Write ``raw`` (a "rest" annotation, power line at LINE_FREQ) as an EDF
    recording of BIDS data set ``root`` with mne-bids; its BIDSPath."""
    import mne_bids

    raw.set_annotations(mne.Annotations([2], [10], ["rest"]))
    raw.info["line_freq"] = LINE_FREQ
    path = mne_bids.BIDSPath(
        subject=subject, session=session, task="rest", datatype=datatype, root=root
    )
    mne_bids.write_raw_bids(
        raw, path, allow_preload=True, format="EDF", verbose="error"
    )
    return path


@pytest.fixture(scope="module")
def derivatives_run(tmp_path_factory):
    """A BIDS data set (one subject with two sessions, one without; P3 of sub-01
    ses-1 marked bad in its channels.tsv) run with the BIDS example config, which
    turns BIDS derivatives on."""
    import mne_bids

    workdir = tmp_path_factory.mktemp("derivatives")
    root = workdir / "data" / "bids"
    for seed, (subject, session) in enumerate([("01", "1"), ("01", "2"), ("02", None)]):
        path = write_bids_recording(
            root, realistic_eeg(seconds=20, seed=seed), "eeg", subject, session
        )
        if seed == 0:
            mne_bids.mark_channels(
                path,
                ch_names=["P3"],
                status="bad",
                descriptions=["electrode bridged"],
                verbose="error",
            )
    use_example(workdir, "bids")
    run_snakemake(workdir)
    return workdir


@pytest.fixture(scope="module")
def ieeg_run(tmp_path_factory):
    """A BIDS iEEG data set of one sEEG recording (mne-bids writes its electrodes.tsv
    and coordsystem.json) run with the BIDS example config for datatype ieeg."""
    workdir = tmp_path_factory.mktemp("ieeg")
    raw = realistic_eeg(seconds=20, seed=3)
    raw.set_channel_types(dict.fromkeys(raw.ch_names, "seeg"))
    write_bids_recording(workdir / "data" / "bids", raw, "ieeg", "01")
    use_example(workdir, "bids")
    edit(workdir / "config.yaml", "datatype: eeg", "datatype: ieeg")
    run_snakemake(workdir)
    return workdir


def bids_validator_errors(folder):
    """The errors bids-validator-deno (envs/requirements-test.txt) finds in
    ``folder``, as ``code location`` lines; skip where the validator cannot run."""
    validator = Path(sys.executable).parent / "bids-validator-deno"
    if not validator.exists():
        validator = shutil.which("bids-validator-deno")
    if validator is None:
        pytest.skip("bids-validator-deno is not installed (envs/requirements-test.txt)")
    result = subprocess.run(
        [str(validator), "--format", "json", str(folder)],
        capture_output=True,
        text=True,
    )
    try:
        issues = json.loads(result.stdout)["issues"]["issues"]
    except (json.JSONDecodeError, KeyError):
        pytest.skip(f"bids-validator-deno did not run: {result.stderr.strip()[-300:]}")
    return [
        f"{issue['code']} {issue.get('location', '')} {issue.get('subCode', '')}"
        for issue in issues
        if issue["severity"] == "error"
    ]


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
        "desc-preproc_eeg.eeg",
        "desc-preproc_eeg.fif",
        "desc-preproc_eeg.json",
        "desc-preproc_eeg.vhdr",
        "desc-preproc_eeg.vmrk",
        "desc-windows_eeg.parquet",
    ]
    assert files == sorted(
        [".bidsignore", "dataset_description.json", "participants.tsv"]
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


@pytest.mark.parametrize("run", ["derivatives_run", "ieeg_run"])
def test_the_derivatives_pass_the_bids_validator(run, request):
    assert bids_validator_errors(request.getfixturevalue(run) / DERIVATIVES) == []


def test_the_validator_sees_what_bidsignore_and_the_electrodes_answer(
    ieeg_run, tmp_path
):
    copy = tmp_path / "eegflow"
    shutil.copytree(ieeg_run / DERIVATIVES, copy)  # the links' files, as cp -rL
    (copy / ".bidsignore").unlink()
    for name in ("electrodes.tsv", "electrodes.json", "coordsystem.json"):
        (copy / "sub-01" / "ieeg" / f"sub-01_{name}").unlink()
    stem = "/sub-01/ieeg/sub-01_task-rest_desc"
    errors = bids_validator_errors(copy)
    for name in ("preproc_ieeg.fif", "windows_ieeg.parquet", "features_ieeg.parquet"):
        assert f"ALL_FILENAME_RULES_HAVE_ISSUES {stem}-{name} " in errors
    assert f"IEEG_ELECTRODES_REQUIRED {stem}-preproc_ieeg.vhdr " in errors


def test_ieeg_sidecars_say_what_bids_requires_of_ieeg(ieeg_run):
    folder = ieeg_run / DERIVATIVES / "sub-01" / "ieeg"
    channels = pd.read_csv(
        folder / "sub-01_task-rest_desc-preproc_channels.tsv", sep="\t"
    )
    assert channels.columns[:5].tolist() == [
        "name",
        "type",
        "units",
        "low_cutoff",
        "high_cutoff",
    ]
    assert set(channels["type"]) == {"SEEG"} and set(channels["units"]) == {"µV"}
    # the example config's filter: preprocess.filter {l_freq: 1, h_freq: 40}
    assert set(channels["low_cutoff"]) == {1} and set(channels["high_cutoff"]) == {40}
    sidecar = json.loads(
        (folder / "sub-01_task-rest_desc-preproc_ieeg.json").read_text()
    )
    assert sidecar["iEEGReference"] == "n/a (as recorded)"
    assert "EEGReference" not in sidecar and sidecar["SEEGChannelCount"] == 8
    assert sidecar["PowerLineFrequency"] == LINE_FREQ  # the source's
    source = ieeg_run / "data" / "bids" / "sub-01" / "ieeg"
    for name in ("electrodes.tsv", "electrodes.json", "coordsystem.json"):
        assert (folder / f"sub-01_{name}").read_bytes() == (
            source / f"sub-01_{name}"
        ).read_bytes()


@pytest.mark.parametrize("extension", [".vhdr", ".fif"])
def test_mne_bids_reads_the_preprocessed_recording_back(derivatives_run, extension):
    import mne_bids

    path = mne_bids.BIDSPath(
        root=derivatives_run / DERIVATIVES,
        subject="01",
        session="1",
        task="rest",
        description="preproc",
        datatype="eeg",
        suffix="eeg",
        extension=extension,
        check=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every sidecar it looks for is there
        raw = mne_bids.read_raw_bids(path, verbose="error")
    written = mne.io.read_raw_fif(
        derivatives_run / "results" / "preprocessed" / "sub-01_ses-1_task-rest_raw.fif",
        verbose="error",
    )
    # float32 in both (in µV in BrainVision): equal but for float32 rounding
    np.testing.assert_allclose(raw.get_data(), written.get_data(), rtol=1e-6, atol=0)
    assert raw.info["bads"] == ["P3"] and raw.info["sfreq"] == written.info["sfreq"]
    # BrainVision markers come back as "<type>/<description>"
    assert [name.split("/")[-1] for name in raw.annotations.description] == ["rest"]
    np.testing.assert_allclose(raw.annotations.onset, written.annotations.onset)
    np.testing.assert_allclose(raw.annotations.duration, written.annotations.duration)
    channels = pd.read_csv(
        str(path.fpath).replace(f"_eeg{extension}", "_channels.tsv"), sep="\t"
    )
    assert channels.set_index("name").loc["P3", "status_description"] == (
        "marked bad in BIDS channels.tsv"
    )
    assert set(channels["low_cutoff"]) == {1} and set(channels["high_cutoff"]) == {40}
    sidecar = json.loads(path.copy().update(extension=".json").fpath.read_text())
    assert sidecar["SamplingFrequency"] == written.info["sfreq"]
    assert sidecar["EEGChannelCount"] == 8 and sidecar["TaskName"] == "rest"
    assert sidecar["EEGReference"] == "n/a (as recorded)"
    assert sidecar["PowerLineFrequency"] == LINE_FREQ  # the source's
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
