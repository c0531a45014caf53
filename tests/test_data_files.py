"""Every file a recording consists of is an input of its jobs: editing any reruns it."""

import re
import time

import mne
import numpy as np
import scipy.io

from conftest import planned_jobs, run_snakemake, synthetic_settings, write_config
from eegflow.recordings import recording_files, recording_id
from eegflow.resources import (
    SECONDS_PER_INPUT_MB,
    input_job_seconds,
    runtime_request_min,
)
from eegflow.synthetic import synthetic_raw

SYNTHETIC = synthetic_settings(["O1", "Oz"], duration_s=10, seed=3)


def write_eeglab_with_fdt(path, raw):
    """An EEGLAB .set whose data lie in a separate .fdt file (EEGLAB's usual layout).

    MNE's exporter embeds the data in the .set; here the .set is rewritten with
    ``data`` naming the .fdt, which holds float32 samples, channels fastest.
    """
    embedded = path.with_name("embedded.set")
    mne.export.export_raw(embedded, raw, verbose="error")
    fields = {
        key: value
        for key, value in scipy.io.loadmat(embedded).items()
        if not key.startswith("__")
    }
    data = fields["data"].astype("<f4")
    fields["data"] = path.with_suffix(".fdt").name
    scipy.io.savemat(path, fields, appendmat=False)
    data.T.tofile(path.with_suffix(".fdt"))
    embedded.unlink()


def edit_later():
    """Wait a moment before editing, so that the edit's time is after the outputs'.

    Snakemake reruns on a newer input only if its content changed (it compares
    checksums recorded with the outputs), so the tests change the content.
    """
    time.sleep(1)


def test_fif_ids_drop_mnes_raw_suffix():
    assert recording_id("data/sub-01_raw.fif") == "sub-01"
    assert recording_id("data/run-raw.fif.gz") == "run"
    assert recording_id("data/raw.fif") == "raw"  # nothing left: the name stays


def test_folder_recordings_and_fif_splits_list_their_files(tmp_path):
    folder = tmp_path / "night.mff"  # EGI's format is a folder of files
    (folder / "signal1").mkdir(parents=True)
    for name in ("info.xml", "signal1/signal1.bin", "events.xml"):
        (folder / name).write_text("x")
    assert recording_files(str(folder)) == [
        str(folder / name) for name in ("events.xml", "info.xml", "signal1/signal1.bin")
    ]
    raw = synthetic_raw(0, synthetic_settings(["O1", "Oz"], duration_s=3000, seed=1))
    raw.save(
        tmp_path / "long_raw.fif", split_size="2MB", verbose="error"
    )  # 3 MB in all
    assert recording_files(str(tmp_path / "long_raw.fif")) == [
        str(tmp_path / name)
        for name in ("long_raw.fif", "long_raw-1.fif", "long_raw-2.fif")
    ]
    assert (
        mne.io.read_raw_fif(tmp_path / "long_raw.fif", verbose="error").n_times
        == raw.n_times
    )  # MNE reads the splits as one recording


def test_fif_splits_belong_to_their_own_recording_only(tmp_path):
    """Split files are matched by the whole stem, which may itself hold "-<digit>"."""
    names = ["sub-01_raw.fif", "sub-01_raw-1.fif", "sub-1_raw.fif", "sub-10_raw.fif"]
    for name in names + ["sub-01_raw-1.fif.bak", "notes-1.txt"]:
        (tmp_path / name).write_text("x")
    assert recording_files(str(tmp_path / "sub-01_raw.fif")) == [
        str(tmp_path / "sub-01_raw.fif"),
        str(tmp_path / "sub-01_raw-1.fif"),
    ]
    for name in ("sub-1_raw.fif", "sub-10_raw.fif"):
        assert recording_files(str(tmp_path / name)) == [str(tmp_path / name)]
    missing = tmp_path / "gone" / "x_raw.fif"
    assert recording_files(str(missing)) == [str(missing)]  # fails in its own job


def test_editing_any_file_of_a_recording_reruns_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    mne.export.export_raw(
        data / "bv.vhdr", synthetic_raw(0, SYNTHETIC), verbose="error"
    )
    write_eeglab_with_fdt(data / "lab.set", synthetic_raw(1, SYNTHETIC))
    synthetic_raw(2, SYNTHETIC).save(data / "plain_raw.fif", verbose="error")
    assert recording_files(str(data / "bv.vhdr")) == [
        str(data / name) for name in ("bv.vhdr", "bv.eeg", "bv.vmrk")
    ]
    assert recording_files(str(data / "lab.set")) == [
        str(data / "lab.set"),
        str(data / "lab.fdt"),
    ]
    patterns = ["data/*.vhdr", "data/*.set", "data/*.fif"]
    write_config(tmp_path, {"input": {"source": "files", "files": patterns}})
    run_snakemake(tmp_path)
    assert planned_jobs(tmp_path) == {}
    assert (
        tmp_path / "results" / "preprocessed" / "plain_raw.fif"
    ).exists()  # no _raw_raw
    # a touch of a small input (under 1 MB) after the first run: Snakemake compares its
    # checksum, so nothing reruns (README, "Your own recordings")
    edit_later()
    (data / "bv.vmrk").touch()
    assert planned_jobs(tmp_path) == {}

    # the samples of the BrainVision .eeg change (the .vhdr is untouched)
    edit_later()
    samples = np.fromfile(data / "bv.eeg", dtype="<f4")
    samples[:100] *= 2
    samples.tofile(data / "bv.eeg")
    rerun = {"preprocess": 1, "windows": 1, "features": 1, "combine": 1, "all": 1}
    assert planned_jobs(tmp_path) == rerun
    dry = run_snakemake(tmp_path, "--dry-run").stdout
    assert "results/preprocessed/bv_raw.fif" in dry
    assert "lab_raw.fif" not in dry and "plain_raw.fif" not in dry
    run_snakemake(tmp_path)

    edit_later()
    marker = data / "bv.vmrk"  # a marker edited in the .vmrk
    marker.write_text(marker.read_text() + "Mk2=Comment,edited,500,1,0\n")
    assert planned_jobs(tmp_path) == rerun
    run_snakemake(tmp_path)

    edit_later()
    fdt = np.fromfile(data / "lab.fdt", dtype="<f4")  # EEGLAB's data file
    fdt[-10:] = 0
    fdt.tofile(data / "lab.fdt")
    assert planned_jobs(tmp_path) == rerun
    dry = run_snakemake(tmp_path, "--dry-run").stdout
    assert "results/preprocessed/lab_raw.fif" in dry and "bv_raw.fif" not in dry


def test_resources_count_the_data_files(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    long = synthetic_settings([f"E{i}" for i in range(8)], duration_s=1800, seed=3)
    mne.export.export_raw(data / "bv.vhdr", synthetic_raw(0, long), verbose="error")
    write_config(tmp_path, {"input": {"source": "files", "files": ["data/*.vhdr"]}})
    dry = run_snakemake(tmp_path, "--dry-run").stdout
    block = dry.split("rule preprocess:", 1)[1].split("\n\n", 1)[0]
    mem_mb = int(re.search(r"mem_mb=(\d+)", block).group(1))
    data_mib = sum(p.stat().st_size for p in data.iterdir()) / 2**20
    assert data_mib > 5 and (data / "bv.vhdr").stat().st_size < 2_000
    # base 400 + 10 x the input (the .eeg included, not only the tiny header)
    assert mem_mb >= 400 + int(10 * data_mib)
    # the runtime eegflow.resources estimates from the same input
    runtime = int(re.search(r"runtime=(\d+)", block).group(1))
    seconds = input_job_seconds(
        SECONDS_PER_INPUT_MB["preprocess"], data_mib * 2**20 / 1e6
    )
    assert runtime == runtime_request_min(seconds)
