"""Recordings given as files in the formats users have, end to end."""

import mne
import pandas as pd

from conftest import run_snakemake, write_config, synthetic_settings
from eegflow.synthetic import synthetic_raw

SYNTHETIC = synthetic_settings(["O1", "Oz", "Cz"], duration_s=12, seed=5)
FILES = [
    "edf/rec.edf",
    "bdf/alpha.bdf",
    "vhdr/rec-bv.vhdr",
    "set/alpha-eeglab.set",
    "fif/x_raw.fif",
]


def test_every_main_format_runs_through(tmp_path):
    for index, name in enumerate(FILES):
        path = tmp_path / "data" / name
        path.parent.mkdir(parents=True)
        raw = synthetic_raw(index, SYNTHETIC)
        if name.endswith(".fif"):
            raw.save(path, verbose="error")
        else:
            mne.export.export_raw(path, raw, verbose="error")
    patterns = [
        "data/**/*.edf",
        "data/**/*.bdf",
        "data/**/*.vhdr",
        "data/**/*.set",
        "data/**/*.fif",
    ]
    write_config(tmp_path, {"input": {"source": "files", "files": patterns}})
    run_snakemake(tmp_path)
    table = pd.read_parquet(tmp_path / "results" / "features.parquet")
    assert sorted(set(table["recording"])) == [
        "alpha",
        "alpha-eeglab",
        "rec",
        "rec-bv",
        "x",
    ]
    assert len(table) == 5 * 12 // 2 and not table.isna().any().any()
    alpha = table.groupby("recording")["band_power_O1_alpha"].mean()
    assert min(alpha["alpha"], alpha["alpha-eeglab"]) > 3 * max(
        alpha["rec"], alpha["rec-bv"], alpha["x"]
    )
