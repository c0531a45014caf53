"""Provenance inside every table: config, software versions, source files."""

import hashlib
import json
import platform

import logging

import mne
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy

from conftest import run_snakemake, synthetic_settings, write_config
from eegflow import UserError, __version__
from eegflow.combine import combine_feature_tables
from eegflow.provenance import same_data
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
    # what every recording shares; a recording's own settings beside its files
    assert set(combined["config"]) == {"preprocess", "windows", "features", "combine"}
    assert combined["recording_settings"] == {
        name: {"bad_channels": [], "units_scale": None} for name in ("a", "b")
    }
    # one run, one software: one group holding both recordings
    assert [group["recordings"] for group in combined["table_software"]] == [["a", "b"]]
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


def feature_table(path, alpha, mne_version, bad_channels=(), channels=("O1",)):
    """A one-row feature table as the features stage writes it: metadata with the
    sampling rate and the provenance of the settings and software given, the alpha
    power of ``channels``."""
    provenance = {
        "config": {
            "features": {"compute": {"band_power": {"bands": {"alpha": alpha}}}},
            "recording": {"bad_channels": list(bad_channels), "units_scale": None},
        },
        "software": {"eegflow": __version__, "mne": mne_version},
        "source_files": [
            {"path": f"data/{path.stem}.edf", "bytes": 100, "sha256": path.stem}
        ],
    }
    metadata = {"sfreq": 100.0, "provenance": provenance}
    table = pa.table(
        {
            "recording": [path.stem],
            **{f"band_power_{channel}_alpha": [1.0] for channel in channels},
        }
    )
    pq.write_table(
        table.replace_schema_metadata({"eegflow": json.dumps(metadata)}), path
    )
    return path


def test_combine_refuses_tables_made_with_other_settings(tmp_path):
    # e.g. --batch runs on either side of an edit of the alpha band
    paths = [
        feature_table(tmp_path / "a.parquet", [8, 12], "1.13.2"),
        feature_table(tmp_path / "b.parquet", [8, 12], "1.13.2", ["Fz"]),
        feature_table(tmp_path / "c.parquet", [7, 12], "1.13.2"),
    ]
    with pytest.raises(UserError) as error:
        combine_feature_tables(paths, tmp_path / "combined.parquet")
    assert str(error.value).startswith(
        f"{paths[2]} was made with other settings than {paths[0]} (config "
        "features.compute.band_power.bands.alpha: [7, 12] against [8, 12]; 1 of 3 feature "
        "tables differ from the first)"
    )
    assert "run snakemake once without --batch" in str(error.value)
    assert not (tmp_path / "combined.parquet").exists()


def test_combine_refuses_to_drop_every_feature_column(tmp_path):
    # combine.mismatched_columns: drop on recordings without a channel in common
    # would leave the recording column alone
    paths = [
        feature_table(tmp_path / "a.parquet", [8, 12], "1.13.2", channels=["O1", "O2"]),
        feature_table(tmp_path / "b.parquet", [8, 12], "1.13.2", channels=["O2", "Cz"]),
        feature_table(tmp_path / "c.parquet", [8, 12], "1.13.2", channels=["Cz"]),
    ]
    combine_feature_tables(paths[:2], tmp_path / "two.parquet", "drop")
    assert pq.read_schema(tmp_path / "two.parquet").names == [
        "recording",
        "band_power_O2_alpha",
    ]
    with pytest.raises(UserError) as error:
        combine_feature_tables(paths, tmp_path / "combined.parquet", "drop")
    message = str(error.value)
    assert message.startswith(
        "config combine.mismatched_columns: drop would drop every feature column: "
        f"{paths[2]} shares none with {paths[0]} .. {paths[1]} "
        "(['band_power_Cz_alpha'] against ['band_power_O2_alpha']: different channels?)"
    )
    assert "preprocess.picks" in message and "input.exclude" in message
    assert "\n" not in message
    assert not (tmp_path / "combined.parquet").exists()


def test_combine_records_which_software_made_which_tables(tmp_path, caplog):
    # a recording's own bad channels differ by design; an MNE upgrade between runs
    # is combined, logged and recorded
    paths = [
        feature_table(tmp_path / "a.parquet", [8, 12], "1.13.2", ["Fz"]),
        feature_table(tmp_path / "b.parquet", [8, 12], "1.14.0"),
        feature_table(tmp_path / "c.parquet", [8, 12], "1.13.2"),
    ]
    with caplog.at_level(logging.WARNING, logger="eegflow"):
        combine_feature_tables(paths, tmp_path / "combined.parquet")
    combined = provenance_of(tmp_path / "combined.parquet")
    assert combined["table_software"] == [
        {
            "software": {"eegflow": __version__, "mne": "1.13.2"},
            "recordings": ["a", "c"],
        },
        {"software": {"eegflow": __version__, "mne": "1.14.0"}, "recordings": ["b"]},
    ]
    assert combined["recording_settings"]["a"]["bad_channels"] == ["Fz"]
    assert "recording" not in combined["config"]
    assert "2 different software versions (differing: mne)" in caplog.text


def test_same_data_is_the_largest_file_the_samples():
    def files(*entries):
        return [{"path": p, "bytes": n, "sha256": h} for p, n, h in entries]

    # a BrainVision copy renamed: its header (naming the data file) differs, the
    # samples do not; a recording whose samples differ is not the same data
    sources = {
        "night1": files(
            ("n1.vhdr", 300, "h1"), ("n1.eeg", 10**6, "S"), ("n1.vmrk", 90, "m")
        ),
        "night2": files(("n2.edf", 10**6, "T")),
        "night1_copy": files(
            ("c.vhdr", 310, "h2"), ("c.eeg", 10**6, "S"), ("c.vmrk", 90, "m")
        ),
        "night3": files(
            ("n3.vhdr", 300, "h1"), ("n3.eeg", 10**6, "U"), ("n3.vmrk", 90, "m")
        ),
        "not_hashed": [],
    }
    assert same_data(sources) == {"night1": ["night1_copy"], "night1_copy": ["night1"]}
