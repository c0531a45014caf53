"""The example configurations in workflow/examples, each run end to end on small data
written here in the formats a lab has (the BIDS and Sleep-EDF examples run in
test_bids_derivatives.py and test_real_recordings.py)."""

import json

import mne
import numpy as np
import pandas as pd
import yaml

from conftest import ROOT, documentation, documented_block, run_snakemake, use_example
from test_dirty_eeg import SFREQ, realistic_eeg

EXAMPLES = ROOT / "workflow" / "examples"


def test_every_example_is_in_the_readme_and_run_by_a_test():
    readme = documentation()
    tests = "".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    names = sorted(path.stem for path in EXAMPLES.glob("*.yaml"))
    assert names == ["bids", "clinical_files", "sleep_edf", "table"]
    for name in names:
        assert f"workflow/examples/{name}.yaml" in readme, name
        assert f'use_example(workdir, "{name}")' in tests, name


def test_readme_shows_the_sleep_edf_example():
    shown = yaml.safe_load(documented_block("yaml", "### Sleep-EDF recipe"))
    assert shown == yaml.safe_load((EXAMPLES / "sleep_edf.yaml").read_text())


def test_readme_shows_the_clinical_settings():
    shown = yaml.safe_load(
        documented_block("yaml", "One worked config for a clinical EEG")
    )
    example = yaml.safe_load((EXAMPLES / "clinical_files.yaml").read_text())
    assert shown == {key: example[key] for key in ("preprocess", "windows")}


def test_clinical_files_example(tmp_path):
    """EDF, BrainVision, EEGLAB and FIF files with 50 Hz mains; the BrainVision one has
    a dead electrode, the EDF one a movement artefact."""
    workdir = tmp_path
    data = workdir / "data" / "site-a"
    data.mkdir(parents=True)
    mains = 30e-6 * np.sin(2 * np.pi * 50 * np.arange(int(30 * SFREQ)) / SFREQ)
    files = {"edf": "p01.edf", "brainvision": "p02.vhdr", "eeglab": "p03.set"}
    for seed, (fmt, name) in enumerate(files.items()):
        raw = realistic_eeg(seconds=30, seed=20 + seed)
        raw._data += mains
        if fmt == "brainvision":
            raw._data[3] = 0.0  # Oz dead
        if fmt == "edf":
            raw._data[:2, int(10.5 * SFREQ) : int(11 * SFREQ)] += 1e-3  # Fz, Cz: 1 mV
        mne.export.export_raw(data / name, raw, fmt=fmt, verbose="error")
    realistic_eeg(seconds=30, seed=30).save(data / "p04_raw.fif", verbose="error")
    use_example(workdir, "clinical_files")
    run_snakemake(workdir, "qc")

    table = pd.read_parquet(workdir / "results" / "features.parquet")
    assert table.groupby("recording").size().to_dict() == {
        "p01": 15,
        "p02": 15,
        "p03": 15,
        "p04": 15,
    }
    assert table.filter(like="variance_").notna().all().all()  # Oz interpolated
    # p01's movement, and the 0.5 Hz high-pass's response to its edges beside it
    rejected = table.query("rejected")
    assert set(rejected["recording"]) == {"p01"} and 10.0 in set(rejected["start_s"])
    assert rejected["start_s"].between(6, 14).all()
    record = json.loads((workdir / "results" / "preprocessed" / "p02.json").read_text())
    assert record["bad_channels"] == {"Oz": ["flat"]}
    assert record["bad_channel_action"] == "interpolate"
    assert record["notch_hz"] == [50.0, 100.0]
    qc = pd.read_parquet(workdir / "results" / "qc.parquet").set_index("recording")
    assert (qc.loc[["p01", "p02", "p03"], "line_noise_db_50"] > 10).all()
    assert abs(qc.loc["p04", "line_noise_db_50"]) < 3  # the FIF has no mains
    assert qc.loc["p02", "bad_channels"] == "Oz: flat"


def test_table_example(tmp_path):
    """Recordings at two rates listed in a table with metadata and a known-bad channel."""
    workdir = tmp_path
    (workdir / "raw").mkdir()
    patient = realistic_eeg(seconds=20, seed=40)
    mne.export.export_raw(workdir / "raw" / "p01.edf", patient, verbose="error")
    control = realistic_eeg(seconds=20, seed=41).resample(500, verbose="error")
    mne.export.export_raw(workdir / "raw" / "c01.vhdr", control, verbose="error")
    (workdir / "recordings.tsv").write_text(
        "path\trecording\tsubject\tgroup\ttarget\tbad_channels\n"
        "raw/p01.edf\tp01\t01\tpatient\t1\tC3\n"
        "raw/c01.vhdr\tc01\t02\tcontrol\t0\t\n"
    )
    use_example(workdir, "table")
    run_snakemake(workdir)

    table = pd.read_parquet(workdir / "results" / "features.parquet")
    assert table.groupby("recording").size().to_dict() == {"c01": 9, "p01": 9}
    assert table.groupby("recording")["subject"].first().to_dict() == {
        "c01": "02",
        "p01": "01",
    }
    assert table.groupby("recording")["target"].first().to_dict() == {
        "c01": 0,
        "p01": 1,
    }
    p01 = table[table["recording"] == "p01"]
    assert p01["variance_C3"].isna().all() and p01["variance_C4"].notna().all()
    record = json.loads((workdir / "results" / "preprocessed" / "c01.json").read_text())
    assert record["sfreq_original"] == 500 and record["sfreq"] == 128
