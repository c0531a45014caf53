"""Real-recording inputs end to end: the README's Sleep-EDF recipe on Sleep-EDF-shaped files
with EDF+ hypnograms, a BIDS data set, files other software wrote, a recordings table."""

import datetime

import edfio
import mne
import numpy as np
import pandas as pd
import pytest

from conftest import (
    documented_classifier_scores,
    edfbrowser_file,
    edit,
    planned_jobs,
    run_snakemake,
    use_example,
    write_config,
)

SLEEP_DIR = "data/physionet-sleep-data"
# (description, onset s, duration s) of one night: long runs of a stage are one annotation,
# as in Sleep-EDF's hypnograms
NIGHT = [
    ("Sleep stage W", 0, 3000),
    ("Sleep stage 1", 3000, 300),
    ("Sleep stage 2", 3300, 900),
    ("Sleep stage 3", 4200, 300),
    ("Sleep stage 4", 4500, 300),
    ("Sleep stage R", 4800, 600),
    ("Sleep stage ?", 5400, 30),
    ("Sleep stage W", 5430, 1770),
]
# what each stage sounds like: (frequency Hz, amplitude µV) over 10 µV of noise
RHYTHM = {
    "W": (10, 20),
    "1": (6, 20),
    "2": (13, 20),
    "3": (2, 50),
    "4": (1.5, 60),
    "R": (7, 15),
    "?": (20, 5),
}


def write_night(folder, name, hypnogram_name, seed):
    """A 2 h PSG EDF (2 EEG + 1 EOG at 100 Hz) and its EDF+ hypnogram, Sleep-EDF style."""
    sfreq, rng = 100.0, np.random.default_rng(seed)
    n = int(7200 * sfreq)
    t = np.arange(n) / sfreq
    eeg = rng.normal(0, 10e-6, size=(2, n))
    for description, onset, duration in NIGHT:
        freq, amplitude = RHYTHM[description.split()[-1]]
        span = slice(int(onset * sfreq), int((onset + duration) * sfreq))
        eeg[:, span] += amplitude * 1e-6 * np.sin(2 * np.pi * freq * t[span])
    eog = rng.normal(0, 20e-6, size=(1, n))
    info = mne.create_info(["EEG Fpz-Cz", "EEG Pz-Oz", "EOG horizontal"], sfreq, "eeg")
    raw = mne.io.RawArray(np.vstack([eeg, eog]), info, verbose="error")
    raw.set_meas_date(
        datetime.datetime(1989, 4, 24, 16, 13, tzinfo=datetime.timezone.utc)
    )
    mne.export.export_raw(folder / name, raw, verbose="error")
    annotations = [
        edfio.EdfAnnotation(onset, duration, description)
        for description, onset, duration in NIGHT
    ]
    edfio.Edf([], annotations=annotations).write(folder / hypnogram_name)


@pytest.fixture(scope="module")
def sleep_run(tmp_path_factory):
    """The Sleep-EDF example (the README's recipe), run on two Sleep-EDF-shaped nights."""
    workdir = tmp_path_factory.mktemp("sleep")
    folder = workdir / SLEEP_DIR
    folder.mkdir(parents=True)
    write_night(folder, "SC4001E0-PSG.edf", "SC4001EC-Hypnogram.edf", seed=1)
    write_night(folder, "SC4011E0-PSG.edf", "SC4011EH-Hypnogram.edf", seed=2)
    use_example(workdir, "sleep_edf")  # the README shows it (test_examples.py)
    run_snakemake(workdir)
    return workdir


def test_sleep_recipe_labels_30_s_windows_by_stage(sleep_run):
    table = pd.read_parquet(sleep_run / "results" / "features.parquet")
    assert sorted(set(table["recording"])) == ["SC4001E0-PSG", "SC4011E0-PSG"]
    night = table[table["recording"] == "SC4001E0-PSG"]
    # crop_wake_mins 30: wake from 1200 s (30 min before sleep at 3000 s) to 7200 s (the
    # end, within 30 min of the last sleep at 5400 s); "Sleep stage ?" makes no window
    counts = night.groupby("label").size().to_dict()
    assert counts == {
        "Sleep stage W": 60 + 59,
        "Sleep stage 1": 10,
        "Sleep stage 2": 30,
        "Sleep stage 3": 10,
        "Sleep stage 4": 10,
        "Sleep stage R": 20,
    }
    assert night["start_s"].iloc[0] == 1200 and night["start_s"].iloc[-1] == 7170
    assert night["start_s"].is_monotonic_increasing
    stage_target = dict(zip(night["label"], night["target"]))
    assert stage_target["Sleep stage 3"] == stage_target["Sleep stage 4"] == 3
    # renamed, picked channels; the EOG is gone; the stage rhythms show in the features
    assert "band_power_Fpz-Cz_delta" in table and not any(
        "EOG" in c for c in table.columns
    )
    deep = night[night["target"] == 3]["band_power_Fpz-Cz_delta"].mean()
    wake = night[night["target"] == 0]["band_power_Fpz-Cz_delta"].mean()
    assert deep > 0.8 > 0.2 > wake


def test_readme_classifier_example_runs_on_the_table(sleep_run):
    scores = documented_classifier_scores(sleep_run)
    assert len(scores) == 2 and min(scores) > 0.9, scores


@pytest.fixture(scope="module")
def bids_root(tmp_path_factory):
    """A BIDS data set of EDFbrowser's EDF+ file (mne-bids), events in events.tsv."""
    import mne_bids

    root = tmp_path_factory.mktemp("bids")
    for subject in ("01", "02"):
        raw = mne.io.read_raw(edfbrowser_file("test_generator.edf"), verbose="error")
        raw.set_annotations(
            mne.Annotations([10, 100, 300], [60, 60, 60], ["rest", "task", "rest"])
        )
        path = mne_bids.BIDSPath(
            subject=subject, task="demo", datatype="eeg", root=root
        )
        mne_bids.write_raw_bids(raw, path, verbose="error")
    participants = root / "participants.tsv"
    rows = participants.read_text().splitlines()
    participants.write_text(
        "\n".join(
            [rows[0] + "\tgroup"]
            + [
                row + "\t" + ("patient" if row.startswith("sub-01") else "control")
                for row in rows[1:]
            ]
        )
        + "\n"
    )
    return root


def test_bids_events_label_windows_and_entities_become_columns(bids_root, tmp_path):
    write_config(
        tmp_path,
        {
            "input": {"source": "bids", "bids": {"root": str(bids_root)}},
            "preprocess": {"picks": ["sine 8 Hz", "sine 15 Hz"]},
            "windows": {
                "window_s": 20,
                "annotations": {"mapping": {"rest": 0, "task": 1}},
            },
            "features": {"compute": {"peak_frequency": {"bands": {"all": [1, 30]}}}},
        },
    )
    run_snakemake(tmp_path)
    table = pd.read_parquet(tmp_path / "results" / "features.parquet")
    assert sorted(set(table["recording"])) == ["sub-01_task-demo", "sub-02_task-demo"]
    assert table.groupby("recording").size().tolist() == [9, 9]  # 3 x 60 s / 20 s
    assert table["label"].tolist()[:9] == ["rest"] * 3 + ["task"] * 3 + ["rest"] * 3
    assert table["target"].tolist()[:9] == [0] * 3 + [1] * 3 + [0] * 3
    assert set(table["subject"]) == {"01", "02"} and set(table["task"]) == {"demo"}
    assert table.set_index("subject")["group"].to_dict() == {
        "01": "patient",
        "02": "control",
    }
    assert np.all(table["peak_frequency_sine 8 Hz_all"] == 8.0)
    assert np.all(table["peak_frequency_sine 15 Hz_all"] == 15.0)


def test_files_other_software_wrote_at_two_rates_combine_after_renaming(tmp_path):
    """EDFbrowser's EDF+ (200 Hz) and BDF (1000 Hz) files: resampled to one rate, channels
    renamed to one set; then the features find each file's own sine."""
    # both are named test_generator: a table gives them their own ids
    (tmp_path / "recordings.tsv").write_text(
        "path\trecording\n"
        f"{edfbrowser_file('test_generator.edf')}\tedf-plus\n"
        f"{edfbrowser_file('test_generator.bdf')}\tbdf\n"
    )
    write_config(
        tmp_path,
        {
            "input": {"source": "table", "table": "recordings.tsv"},
            "preprocess": {
                "rename": {
                    "sine 8 Hz": "sine",
                    "sine 5Hz": "sine",
                    "noise": "noise",
                    "white noise": "noise",
                },
                "picks": ["sine", "noise"],
                "crop": {"tmin": 10},
                "resample_sfreq": 200,
            },
            "windows": {"window_s": 4},
            "features": {
                "welch": {"segment_s": 2.0},
                "compute": {
                    "peak_frequency": {"bands": {"all": [1, 25]}},
                    "total_power": {},
                },
            },
        },
    )
    run_snakemake(tmp_path)
    table = pd.read_parquet(tmp_path / "results" / "features.parquet")
    per_file = table.groupby("recording")
    assert per_file.size().to_dict() == {
        "edf-plus": (600 - 10) // 4,
        "bdf": (30 - 10) // 4,
    }
    peaks = per_file["peak_frequency_sine_all"].agg(["min", "max"])
    assert peaks.loc["edf-plus"].tolist() == [8.0, 8.0]
    assert peaks.loc["bdf"].tolist() == [5.0, 5.0]
    # a sine of amplitude A has power A²/2 (both sines are below the 30 Hz low-pass)
    for recording, name, channel in (
        ("edf-plus", "test_generator.edf", "sine 8 Hz"),
        ("bdf", "test_generator.bdf", "sine 5Hz"),
    ):
        raw = mne.io.read_raw(edfbrowser_file(name), verbose="error")
        amplitude = np.abs(raw.get_data(picks=[channel])).max()
        np.testing.assert_allclose(
            per_file["total_power_sine"].mean()[recording], amplitude**2 / 2, rtol=0.01
        )


def test_table_metadata_flows_and_mismatched_channels_are_dropped_or_refused(tmp_path):
    from conftest import synthetic_settings
    from eegflow.synthetic import synthetic_raw

    (tmp_path / "raw").mkdir()
    for name, channels, seed in (("a", ["O1", "O2", "Cz"], 1), ("b", ["O1", "O2"], 2)):
        raw = synthetic_raw(
            seed, synthetic_settings(channels, duration_s=10, seed=seed)
        )
        mne.export.export_raw(tmp_path / "raw" / f"{name}.edf", raw, verbose="error")
    (tmp_path / "recordings.csv").write_text(
        "path,recording,subject,age,target\n"
        "raw/a.edf,night-a,01,31.5,1\n"
        "raw/b.edf,night-b,02,n/a,0\n"
    )
    config = {
        "input": {"source": "table", "table": "recordings.csv"},
        "features": {"compute": {"variance": {}}},
    }
    write_config(tmp_path, config)
    refused = run_snakemake(tmp_path, check=False)
    assert refused.returncode != 0
    assert "different columns" in refused.stdout + refused.stderr
    assert "combine.mismatched_columns: drop" in refused.stdout + refused.stderr
    write_config(tmp_path, {**config, "combine": {"mismatched_columns": "drop"}})
    run_snakemake(tmp_path)
    table = pd.read_parquet(tmp_path / "results" / "features.parquet")
    assert [c for c in table.columns if c.startswith("variance")] == [
        "variance_O1",
        "variance_O2",
    ]
    first = table.iloc[0]
    assert (first["recording"], first["subject"], first["age"], first["target"]) == (
        "night-a",
        "01",
        31.5,
        1,
    )
    assert table.groupby("recording").size().tolist() == [5, 5]
    assert table[table["recording"] == "night-b"]["age"].isna().all()
    edit(tmp_path / "recordings.csv", "02,n/a,0", "02,44,0")  # one recording's metadata
    assert planned_jobs(tmp_path) == {
        "windows": 1,
        "features": 1,
        "combine": 1,
        "all": 1,
    }
