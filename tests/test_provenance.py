"""Provenance inside every table: config, software versions, source files."""

import hashlib
import json
import platform

import mne
import numpy as np
import pyarrow.parquet as pq
import scipy

from conftest import run_snakemake, synthetic_settings, write_config
from eegflow import __version__
from eegflow.synthetic import synthetic_raw


def provenance_of(path):
    """The provenance a parquet file carries, read as the README says."""
    return json.loads(pq.read_schema(path).metadata[b"eegflow"])["provenance"]


def test_tables_carry_config_versions_and_source_hashes(tmp_path):
    (tmp_path / "data").mkdir()
    settings = synthetic_settings(["O1", "Oz"], duration_s=12, seed=1)
    for index, name in enumerate(("a", "b")):
        mne.export.export_raw(
            tmp_path / "data" / f"{name}.vhdr",
            synthetic_raw(index, settings),
            verbose="error",
        )
    config = {
        "input": {"source": "files", "files": ["data/*.vhdr"]},
        "windows": {"window_s": 3},
    }
    write_config(tmp_path, config)
    run_snakemake(tmp_path)

    combined = provenance_of(tmp_path / "results" / "features.parquet")
    assert combined["software"] == {
        "eegflow": __version__,
        "eegflow_git": combined["software"]["eegflow_git"],
        "python": platform.python_version(),
        "mne": mne.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }
    assert set(combined["config"]) == {
        "preprocess",
        "recording",
        "windows",
        "features",
        "combine",
    }
    assert combined["config"]["windows"]["window_s"] == 3
    assert combined["config"]["preprocess"]["filter"]["h_freq"] == 30  # a default
    # every file of each recording, hashed independently here
    for name in ("a", "b"):
        files = combined["recordings"][name]
        assert [f["path"] for f in files] == [
            f"data/{name}.vhdr",
            f"data/{name}.eeg",
            f"data/{name}.vmrk",
        ]
        for entry in files:
            content = (tmp_path / entry["path"]).read_bytes()
            assert entry["bytes"] == len(content)
            assert entry["sha256"] == hashlib.sha256(content).hexdigest()
    one = provenance_of(tmp_path / "results" / "features" / "a.parquet")
    assert one["source_files"] == combined["recordings"]["a"]
    assert one["config"]["features"] == combined["config"]["features"]
