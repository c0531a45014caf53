"""Input discovery: safe unique ids, clear errors."""

import pytest

from eegflow import UserError
from eegflow.recordings import (
    SUPPORTED_EXTENSIONS,
    discover_recordings,
    recording_id,
    synthetic_recordings,
)


def test_every_listed_extension_is_opened_by_mne_read_raw():
    from mne.io._read_raw import _get_supported

    supported = _get_supported()
    assert set(SUPPORTED_EXTENSIONS) <= set(supported)


@pytest.mark.parametrize(
    "path, expected",
    [
        ("data/SC4001E0-PSG.edf", "SC4001E0-PSG"),
        ("data/sub-01_task-rest_eeg.vhdr", "sub-01_task-rest_eeg"),
        ("x/rec.fif.gz", "rec"),
        ("x/../../etc passwd;rm -rf $HOME.edf", "etc-passwd-rm--rf-HOME"),
        ("x/..hidden.bdf", "hidden"),
    ],
)
def test_recording_ids_are_safe(path, expected):
    assert recording_id(path) == expected


def test_synthetic_recordings_alternate_targets():
    recordings = synthetic_recordings({"n_recordings": 3})
    assert list(recordings) == ["synthetic-00", "synthetic-01", "synthetic-02"]
    assert [r["metadata"]["target"] for r in recordings.values()] == [0, 1, 0]


def test_files_are_found_sorted_with_ids(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ["b/rec2.edf", "a/rec1.bdf", "a/rec1.bdf.txt"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    found = discover_recordings(
        {"source": "files", "files": ["**/*.edf", "**/*.bdf"], "exclude": []}
    )
    assert found == {
        "rec1": {"path": "a/rec1.bdf", "metadata": {}},
        "rec2": {"path": "b/rec2.edf", "metadata": {}},
    }


@pytest.mark.parametrize(
    "names, patterns, message",
    [
        (["a/rec.edf", "b/rec.edf"], ["**/*.edf"], "'rec' is shared by a/rec.edf and b/rec.edf"),
        (["a/rec.xyz"], ["**/*"], "a/rec.xyz: unsupported file type"),
        ([], ["**/*.edf"], "no file matches"),
        ([], [], "input.files is empty"),
    ],
)
def test_discovery_errors(tmp_path, monkeypatch, names, patterns, message):
    monkeypatch.chdir(tmp_path)
    for name in names:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    with pytest.raises(UserError, match=message):
        discover_recordings({"source": "files", "files": patterns, "exclude": []})


def test_exclude_leaves_out_recordings_and_catches_typos():
    config = {"source": "synthetic", "synthetic": {"n_recordings": 3}}
    kept = discover_recordings({**config, "exclude": ["synthetic-01"]})
    assert list(kept) == ["synthetic-00", "synthetic-02"]
    with pytest.raises(UserError, match=r"input.exclude: \['synthetic-1'\] name no recording"):
        discover_recordings({**config, "exclude": ["synthetic-1"]})
