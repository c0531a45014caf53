"""WindowsDataset: a finished run's windows for training, read from its FIFs."""

import multiprocessing
import pickle

import mne
import numpy as np
import pandas as pd
import pytest
from conftest import config_section, documented_block, window_settings
from eegflow import UserError, WindowsDataset
from eegflow.combine import combine_feature_tables
from eegflow.dataset import window_signal_path
from eegflow.features import compute_features
from eegflow.windows import make_windows, scale_channelwise

SUBJECTS = {"rec-a": "01", "rec-b": "01", "rec-c": "02", "rec-d": "03", "rec-e": "04"}


def finished_results(
    folder, window_s=2.0, scaling="none", only=None, combine=True, seed=0
):
    """A results folder as a run leaves it, made by the stages' own functions: per
    recording (4 channels x 40 s at 100 Hz, one 2 mV artefact at 5 s) a preprocessed
    FIF, its window table (windows rejected above 500 µV) and feature table, and
    the combined table of all of them (unless not ``combine``). ``only``: remake
    just these recordings."""
    rng = np.random.default_rng(seed)
    settings = window_settings(
        window_s=window_s, scaling=scaling, reject={"ptp_uv": 500}
    )
    features = config_section("features", compute={"variance": {}})
    for index, (rid, subject) in enumerate(SUBJECTS.items()):
        fif = folder / "preprocessed" / f"{rid}_raw.fif"
        if only is None or rid in only:
            fif.parent.mkdir(parents=True, exist_ok=True)
            data = rng.normal(size=(4, 4000)) * 1e-5
            data[1, 500] += 2e-3
            mne.io.RawArray(
                data,
                mne.create_info(["Fz", "Cz", "Pz", "Oz"], 100.0, "eeg"),
                first_samp=37 * index,
                verbose="error",
            ).save(fif, overwrite=True, verbose="error")
            table = folder / "windows" / f"{rid}.parquet"
            metadata = {"subject": subject, "target": index % 2}
            make_windows(fif, table, settings, rid, metadata)
            compute_features(
                fif, table, folder / "features" / f"{rid}.parquet", features
            )
    if combine:
        combine_feature_tables(
            [folder / "features" / f"{rid}.parquet" for rid in SUBJECTS],
            folder / "features.parquet",
        )
    return folder


@pytest.fixture
def results(tmp_path):
    return finished_results(tmp_path / "results")


def expected_window(results, row, window):
    """The reference: MNE's get_data of the window's stretch of its FIF."""
    raw = mne.io.read_raw_fif(
        results / "preprocessed" / f"{row.recording}_raw.fif", verbose="error"
    )
    start = int(round(row.start_s * raw.info["sfreq"])) - raw.first_samp
    return raw.get_data(start=start, stop=start + window)


def test_windows_are_the_fifs_samples_with_their_metadata(results):
    ds = WindowsDataset(results)
    combined = pd.read_parquet(results / "features.parquet")
    assert len(ds) == len(combined) == 5 * 20
    assert ds.ch_names == ["Fz", "Cz", "Pz", "Oz"] and ds.sfreq == 100.0
    metadata = ds.metadata
    for column in ("recording", "window_index", "start_s", "target", "rejected"):
        assert column in metadata
    assert {"reject_reason", "subject", "start_sample"} <= set(metadata.columns)
    assert "fif_sample" not in metadata  # a place in a file, not a description
    pd.testing.assert_frame_equal(  # the combined table's rows, in its order
        metadata[["recording", "window_index", "target", "subject"]].astype(str),
        combined[["recording", "window_index", "target", "subject"]].astype(str),
    )
    for index in (0, 19, 20, 57, len(ds) - 1, -1):
        x, y = ds[index]
        row = metadata.iloc[index]
        assert x.dtype == np.float32 and x.shape == (4, 200)
        np.testing.assert_allclose(x, expected_window(results, row, 200), rtol=1e-6)
        assert y == row.target and np.asarray(ds.get_batch([index])[1]).dtype == int
    x, y = ds.get_batch([57, 3, 57])
    assert x.shape == (3, 4, 200) and list(y) == list(metadata.target.iloc[[57, 3, 57]])
    np.testing.assert_array_equal(x[0], ds[57][0])
    np.testing.assert_array_equal(x[1], ds[3][0])
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_zscored_windows_are_zscored_per_channel(tmp_path):
    results = finished_results(tmp_path / "results", scaling="zscore")
    ds = WindowsDataset(results)
    row = ds.metadata.iloc[30]
    expected = scale_channelwise(expected_window(results, row, 200))
    np.testing.assert_allclose(ds[30][0], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ds.get_batch([30])[0][0], ds[30][0], rtol=1e-6)


def test_rejected_windows_can_be_left_out(results):
    every = WindowsDataset(results)
    rejected = every.metadata["rejected"]
    assert rejected.sum() == 5  # the artefact's window in each recording
    assert set(every.metadata.loc[rejected, "start_s"] % 40) >= {4.0}
    kept = WindowsDataset(results, drop_rejected=True)
    assert len(kept) == len(every) - 5 and not kept.metadata["rejected"].any()
    np.testing.assert_array_equal(kept[4][0], every[5][0])  # window 4 was dropped


def test_subset_by_query_or_mask(results):
    ds = WindowsDataset(results)
    ones = ds.subset("target == 1 and not rejected")
    assert len(ones) == 2 * 19 and set(ones.metadata["recording"]) == {
        "rec-b",
        "rec-d",
    }
    mask = (ds.metadata["subject"] == "02").to_numpy()
    two = ds.subset(mask)
    assert len(two) == 20
    np.testing.assert_array_equal(two[0][0], ds[int(np.flatnonzero(mask)[0])][0])


def test_split_by_subject_keeps_each_subject_on_one_side(results):
    ds = WindowsDataset(results)
    for seed in range(5):
        train, test = ds.split(by="subject", test_size=0.25, seed=seed)
        train_subjects = set(train.metadata["subject"])
        test_subjects = set(test.metadata["subject"])
        assert not train_subjects & test_subjects
        assert len(test_subjects) == 1 and len(train) + len(test) == len(ds)
    train, test = ds.split(by="recording", test_size=0.4, seed=1)
    assert len(set(test.metadata["recording"])) == 2
    with pytest.raises(UserError, match=r"no such column.*by='recording'"):
        ds.split(by="site")


def read_all(ds):
    return [ds[index] for index in range(len(ds))]


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pickled_small_and_read_in_worker_processes(results, method):
    ds = WindowsDataset(results)
    ds[0]  # files opened and the metadata built in this process: neither pickled
    data = pickle.dumps(ds)
    assert len(data) < 4000 + 40 * len(ds)
    assert b"mmap" not in data and b"DataFrame" not in data
    expected = read_all(ds)
    context = multiprocessing.get_context(method)
    with context.Pool(2) as pool:
        read = pool.map(ds.__getitem__, range(len(ds)), chunksize=7)
        halves = pool.map(read_all, list(ds.split(by="recording", seed=0)))
    for (x, y), (x0, y0) in zip(read, expected):
        np.testing.assert_array_equal(x, x0)
        assert y == y0
    assert sum(len(half) for half in halves) == len(ds)
    assert pickle.loads(data).metadata.equals(ds.metadata)  # read again when asked


def test_metadata_is_compact(results):
    metadata = WindowsDataset(results).metadata
    assert isinstance(metadata["recording"].dtype, pd.CategoricalDtype)
    assert isinstance(metadata["subject"].dtype, pd.CategoricalDtype)
    # 1,000 recordings x 1,000 windows within 300 MB: under 300 bytes a window
    assert metadata.memory_usage(deep=True).sum() / len(metadata) < 100


def test_results_made_with_other_settings_are_refused(results):
    """A rerun with another window length that stopped before combining leaves a
    combined table that disagrees with the window tables remade so far."""
    finished_results(results, window_s=4.0, only=["rec-c"], combine=False)
    with pytest.raises(
        UserError,
        match=r"rec-c.parquet was made with other settings than .*features.parquet "
        r"records \(config windows.window_s: 4.0 against 2.0\)",
    ):
        WindowsDataset(results)
    (results / "windows" / "rec-c.parquet").unlink()
    with pytest.raises(UserError, match=r"1 of the 5 window tables .* missing"):
        WindowsDataset(results)
    with pytest.raises(UserError, match=r"features.parquet: not found"):
        WindowsDataset(results / "nowhere")


def test_windows_are_read_from_the_signal_their_table_names(tmp_path):
    """The window table names its FIF; older tables: the ICA-cleaned recording when
    their provenance records config ica, else the preprocessed one."""
    table = tmp_path / "results" / "windows" / "rec.parquet"
    ica = {"provenance": {"config": {"windows": {}, "ica": {"enabled": True}}}}
    plain = {"provenance": {"config": {"windows": {}}}}
    assert window_signal_path(table, ica, "rec") == (
        tmp_path / "results" / "ica" / "rec_raw.fif"
    )
    assert window_signal_path(table, plain, "rec") == (
        tmp_path / "results" / "preprocessed" / "rec_raw.fif"
    )
    named = {"signal": "../ica/rec_raw.fif", **plain}
    assert window_signal_path(table, named, "rec").resolve() == (
        tmp_path / "results" / "ica" / "rec_raw.fif"
    )


def test_window_tables_name_their_signal(results):
    import pyarrow.parquet as pq
    from eegflow.windows import window_table_info

    info = window_table_info(pq.read_schema(results / "windows" / "rec-a.parquet"))
    assert info["signal"] == "../preprocessed/rec-a_raw.fif"


def test_to_braindecode_gives_the_same_windows(request):
    pytest.importorskip("braindecode", reason="braindecode (and torch) not installed")
    ds = WindowsDataset(request.getfixturevalue("results"))
    converted = ds.to_braindecode()
    assert len(converted) == len(ds)
    for index in (0, 21, len(ds) - 1):
        x, y = ds[index]
        their_x, their_y, _ = converted[index]
        np.testing.assert_allclose(np.asarray(their_x), x, rtol=1e-6)
        assert their_y == y
    assert converted.description["subject"].tolist() == list(SUBJECTS.values())
    part = ds.subset([45, 3, 44])  # rec-c's windows 5 and 4, rec-a's window 3
    converted = part.to_braindecode()
    assert [len(d) for d in converted.datasets] == [2, 1]
    for index, position in enumerate([0, 2, 1]):  # grouped by recording
        np.testing.assert_allclose(
            np.asarray(converted[index][0]), part[position][0], rtol=1e-6
        )


def test_without_braindecode_the_error_says_what_to_install(results, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "braindecode", None)
    monkeypatch.setitem(sys.modules, "braindecode.datasets", None)
    with pytest.raises(ImportError, match="pip install braindecode"):
        WindowsDataset(results).to_braindecode()


def test_dataset_of_a_workflow_run(finished_run):
    """The tiny workflow's results, as the README shows them."""
    ds = WindowsDataset(finished_run / "results")
    combined = pd.read_parquet(finished_run / "results" / "features.parquet")
    assert len(ds) == len(combined)
    window = ds.window_samples
    for index in (0, len(ds) // 2, len(ds) - 1):
        row = ds.metadata.iloc[index]
        raw = mne.io.read_raw_fif(
            finished_run / "results" / "preprocessed" / f"{row.recording}_raw.fif",
            verbose="error",
        )
        table = pd.read_parquet(
            finished_run / "results" / "windows" / f"{row.recording}.parquet"
        )
        first = int(table["fif_sample"][row.window_index])
        np.testing.assert_allclose(
            ds[index][0], raw.get_data(start=first, stop=first + window), rtol=1e-6
        )
        assert ds[index][1] == row.target


def test_readme_training_loop_runs(request, monkeypatch):
    """The README's PyTorch loop: valid Python always, run where torch is installed."""
    block = documented_block("python", "### Training on windows")
    code = compile(block, "README.md", "exec")
    pytest.importorskip("torch", reason="torch not installed (not a dependency)")
    monkeypatch.chdir(request.getfixturevalue("finished_run"))
    shown = {}
    exec(code, shown)
    assert len(shown["train"]) + len(shown["test"]) == len(shown["dataset"])
    assert shown["loss"].item() >= 0


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_torch_dataloader_reads_the_same_windows(request, method):
    torch = pytest.importorskip(
        "torch", reason="torch not installed (not a dependency)"
    )
    from torch.utils.data import DataLoader

    ds = WindowsDataset(request.getfixturevalue("results"))
    loader = DataLoader(
        ds, batch_size=16, num_workers=2, multiprocessing_context=method
    )
    batches = list(loader)
    x, y = ds.get_batch(np.arange(len(ds)))
    np.testing.assert_array_equal(torch.cat([b[0] for b in batches]).numpy(), x)
    np.testing.assert_array_equal(torch.cat([b[1] for b in batches]).numpy(), y)
