"""Input discovery: safe unique ids, clear errors."""

import pytest

from conftest import edfbrowser_file, input_config
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
        input_config(source="files", files=["**/*.edf", "**/*.bdf"])
    )
    assert {rid: entry["path"] for rid, entry in found.items()} == {
        "rec1": "a/rec1.bdf",
        "rec2": "b/rec2.edf",
    }
    assert all(e["metadata"] == {} and e["annotations"] is None for e in found.values())


@pytest.mark.parametrize(
    "names, patterns, message",
    [
        (
            ["a/rec.edf", "b/rec.edf"],
            ["**/*.edf"],
            "'rec' is shared by a/rec.edf and b/rec.edf",
        ),
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
        discover_recordings(input_config(source="files", files=patterns))


def test_exclude_leaves_out_recordings_and_catches_typos():
    config = {"source": "synthetic", "synthetic": {"n_recordings": 3}}
    kept = discover_recordings(input_config(**config, exclude=["synthetic-01"]))
    assert list(kept) == ["synthetic-00", "synthetic-02"]
    with pytest.raises(
        UserError, match=r"input.exclude: \['synthetic-1'\] name no recording"
    ):
        discover_recordings(input_config(**config, exclude=["synthetic-1"]))


def touch(root, *names):
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x")


def test_table_gives_paths_ids_metadata_and_annotations(tmp_path):
    touch(tmp_path, "data/n1.edf", "data/n2.bdf", "data/n1-hyp.csv")
    table = tmp_path / "recordings.tsv"
    table.write_text(
        "path\trecording\tsubject\tage\ttarget\tannotations\n"
        "data/n1.edf\t\t01\t31.5\tpatient\tdata/n1-hyp.csv\n"
        "data/n2.bdf\tnight two\tsub2\tn/a\tcontrol\t\n"
    )
    found = discover_recordings(input_config(source="table", table=str(table)))
    assert list(found) == ["n1", "night-two"]
    assert found["n1"]["path"] == str(tmp_path / "data/n1.edf")
    assert found["n1"]["annotations"] == str(tmp_path / "data/n1-hyp.csv")
    assert found["n1"]["metadata"] == {
        "subject": "01",
        "age": 31.5,
        "target": "patient",
    }
    assert found["night-two"]["metadata"] == {
        "subject": "sub2",
        "age": None,
        "target": "control",
    }
    assert found["night-two"]["annotations"] is None


@pytest.mark.parametrize(
    "content, message",
    [
        ("file\ndata/n1.edf\n", "needs a 'path' column"),
        ("path\ndata/gone.edf\n", "line 2: .*gone.edf does not exist"),
        (
            "path,annotations\ndata/n1.edf,nope.csv\n",
            "line 2: annotations file .*nope.csv",
        ),
        (
            "path,start_s\ndata/n1.edf,3\n",
            r"metadata columns \['start_s'\] would replace",
        ),
    ],
)
def test_table_errors_name_the_line(tmp_path, content, message):
    touch(tmp_path, "data/n1.edf")
    (tmp_path / "t.csv").write_text(content)
    with pytest.raises(UserError, match=message):
        discover_recordings(input_config(source="table", table=str(tmp_path / "t.csv")))


def test_rewritten_ids_are_logged_and_shared_ones_blame_the_recording_column(
    tmp_path, caplog
):
    touch(tmp_path, "data/Müller.edf", "data/n2.edf", "data/n3.edf")
    table = tmp_path / "t.csv"
    table.write_text("path,recording\ndata/Müller.edf,\ndata/n2.edf,../../x\n")
    found = discover_recordings(input_config(source="table", table=str(table)))
    assert list(found) == ["M-ller", "x"]
    assert (
        "2 recording ids differ from the names they come from (an id keeps letters, "
        "digits, _ . - and drops a leading . or -): 'Müller' -> 'M-ller', "
        "'../../x' -> 'x'"
    ) in caplog.text

    table.write_text("path,recording\ndata/n2.edf,Müller\ndata/n3.edf,M?ller\n")
    with pytest.raises(
        UserError,
        match=r"recording id 'M-ller' is shared by .*n2.edf and .*n3.edf; ids come "
        r"from the 'recording' column of .*t.csv \(here 'Müller' and 'M\?ller'",
    ):
        discover_recordings(input_config(source="table", table=str(table)))


def test_hypnograms_are_paired_by_key(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    touch(
        tmp_path,
        "psg/SC4001E0-PSG.edf",
        "psg/SC4002E0-PSG.edf",
        "hyp/SC4001EC-Hypnogram.edf",
    )
    found = discover_recordings(
        input_config(
            source="files",
            files=["psg/*.edf"],
            annotations={"files": ["hyp/*-Hypnogram.edf"], "key": r"^(SC4\d{3})"},
        )
    )
    assert found["SC4001E0-PSG"]["annotations"] == "hyp/SC4001EC-Hypnogram.edf"
    assert found["SC4002E0-PSG"]["annotations"] is None
    touch(tmp_path, "hyp/SC4001EH-Hypnogram.edf")
    with pytest.raises(UserError, match="share the key 'SC4001'"):
        discover_recordings(
            input_config(
                source="files",
                files=["psg/*.edf"],
                annotations={"files": ["hyp/*-Hypnogram.edf"], "key": r"^(SC4\d{3})"},
            )
        )
    with pytest.raises(UserError, match="input.annotations.key='\\(': not a regular"):
        discover_recordings(
            input_config(
                source="files",
                files=["psg/*.edf"],
                annotations={"files": ["hyp/*"], "key": "("},
            )
        )


@pytest.fixture(scope="module")
def bids_root(tmp_path_factory):
    """A BIDS data set of EDFbrowser's EDF+ file: 2 subjects, 2 runs of sub-02."""
    import mne
    import mne_bids

    root = tmp_path_factory.mktemp("bids")
    for subject, run in (("01", "1"), ("02", "1"), ("02", "2")):
        raw = mne.io.read_raw(edfbrowser_file("test_generator.edf"), verbose="error")
        raw.set_annotations(mne.Annotations([10, 40], [30, 30], ["rest", "task"]))
        path = mne_bids.BIDSPath(
            subject=subject, task="sleep", run=run, datatype="eeg", root=root
        )
        mne_bids.write_raw_bids(raw, path, verbose="error", overwrite=True)
    participants = root / "participants.tsv"
    rows = participants.read_text().splitlines()
    participants.write_text(
        "\n".join(
            [rows[0] + "\tgroup"]
            + [
                row + ("\tpatient" if row.startswith("sub-01") else "\tcontrol")
                for row in rows[1:]
            ]
        )
        + "\n"
    )
    return root


def test_bids_recordings_carry_entities_and_participants(bids_root):
    found = discover_recordings(
        input_config(source="bids", bids={"root": str(bids_root)})
    )
    assert list(found) == [
        "sub-01_task-sleep_run-1",
        "sub-02_task-sleep_run-1",
        "sub-02_task-sleep_run-2",
    ]
    entry = found["sub-02_task-sleep_run-2"]
    assert entry["bids_root"] == str(bids_root)
    assert entry["metadata"]["subject"] == "02" and entry["metadata"]["run"] == "2"
    assert (
        entry["metadata"]["task"] == "sleep" and entry["metadata"]["group"] == "control"
    )
    selected = discover_recordings(
        input_config(
            source="bids",
            bids={"root": str(bids_root), "subjects": ["02"], "runs": ["2"]},
        )
    )
    assert list(selected) == ["sub-02_task-sleep_run-2"]
    with pytest.raises(
        UserError, match="no eeg recording in .* matches {'subjects': \\['03'\\]}"
    ):
        discover_recordings(
            input_config(
                source="bids", bids={"root": str(bids_root), "subjects": ["03"]}
            )
        )
