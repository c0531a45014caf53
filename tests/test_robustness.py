"""Bad recordings, kills, concurrent runs and code edits, with the real snakemake."""

import json
import os
import shutil
import signal
import subprocess
import time

import pytest

import mne
import pandas as pd
import pyarrow.parquet as pq

from conftest import (
    synthetic_settings,
    ROOT,
    edit,
    planned_jobs,
    run_snakemake,
    snakemake_command,
    tiny_copy_of_default_config,
    write_config,
)
from eegflow.synthetic import synthetic_raw

SYNTHETIC = synthetic_settings(["O1", "Oz"], duration_s=10, seed=2)


def test_a_bad_recording_fails_alone_and_can_be_excluded(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for index in range(3):
        mne.export.export_raw(
            data / f"good{index}.edf", synthetic_raw(index, SYNTHETIC)
        )
    whole = (data / "good0.edf").read_bytes()
    (data / "cut.edf").write_bytes(whole[: len(whole) // 2])  # header lies about length
    config = {"input": {"source": "files", "files": ["data/*.edf"]}}
    write_config(tmp_path, config)

    result = run_snakemake(tmp_path, "--keep-going", check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "data/cut.edf: the header's length does not match the file size" in output
    assert "results/logs/preprocess/cut.log" in output
    features = sorted(p.name for p in (tmp_path / "results" / "features").iterdir())
    assert features == ["good0.parquet", "good1.parquet", "good2.parquet"]
    assert not (tmp_path / "results" / "features.parquet").exists()  # never fewer rows
    # at the end: which recordings failed and why, printed and as a table
    assert "1 job(s) failed:" in output
    assert "This table is in results/failed_jobs.tsv." in output
    failed = pd.read_csv(tmp_path / "results" / "failed_jobs.tsv", sep="\t")
    assert failed[["rule", "recording", "log"]].values.tolist() == [
        ["preprocess", "cut", "results/logs/preprocess/cut.log"]
    ]
    assert (
        failed["message"]
        .item()
        .startswith("data/cut.edf: the header's length does not match the file size")
    )
    # the QC table says it too, one row per recording, known without a plot
    assert "QC table of this run (3 done, 1 failed): results/qc.csv" in output
    qc = pd.read_csv(tmp_path / "results" / "qc.csv")
    assert qc[["recording", "status", "failed_rule"]].fillna("").values.tolist() == [
        ["cut", "failed", "preprocess"],
        ["good0", "done", ""],
        ["good1", "done", ""],
        ["good2", "done", ""],
    ]
    assert qc["message"][0] == failed["message"].item()
    assert qc["source"][0] == "data/cut.edf"
    assert (qc["windows"][1:] == 5).all() and qc["sfreq"][1:].notna().all()

    write_config(tmp_path, {"input": {**config["input"], "exclude": ["cut"]}})
    run_snakemake(tmp_path)
    assert not (tmp_path / "results" / "failed_jobs.tsv").exists()  # stale: removed
    run_snakemake(tmp_path, "qc")
    qc = pd.read_parquet(tmp_path / "results" / "qc.parquet")
    assert qc[["recording", "status"]].values.tolist() == [
        ["good0", "done"],
        ["good1", "done"],
        ["good2", "done"],
        ["cut", "excluded"],
    ]
    table = pd.read_parquet(tmp_path / "results" / "features.parquet")
    assert sorted(set(table["recording"])) == ["good0", "good1", "good2"]


def test_the_qc_table_describes_the_last_run_after_a_failure_is_fixed(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    good = synthetic_raw(0, SYNTHETIC)
    mne.export.export_raw(data / "good.edf", good)
    whole = (data / "good.edf").read_bytes()
    (data / "cut.edf").write_bytes(whole[: len(whole) // 2])  # header lies about length
    write_config(tmp_path, {"input": {"source": "files", "files": ["data/*.edf"]}})
    assert run_snakemake(tmp_path, "--keep-going", check=False).returncode != 0
    qc_csv = tmp_path / "results" / "qc.csv"
    assert pd.read_csv(qc_csv)["status"].tolist() == ["failed", "done"]

    mne.export.export_raw(data / "cut.edf", synthetic_raw(1, SYNTHETIC), overwrite=True)
    run_snakemake(tmp_path)  # the fixed recording goes through: the run succeeds
    table = pd.read_csv(qc_csv)  # not the failed run's table any more
    assert table[["recording", "status"]].values.tolist() == [
        ["cut", "done"],
        ["good", "done"],
    ]
    assert "failed_rule" not in table
    run_snakemake(tmp_path, "qc")  # and the full table is built when asked for
    table = pd.read_csv(qc_csv)
    assert table["status"].tolist() == ["done", "done"]
    assert (tmp_path / "results" / "qc.html").exists()
    assert table["windows"].tolist() == [5, 5]


def test_a_copied_recording_is_named_in_the_log_qc_table_and_provenance(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for index, name in enumerate(("a", "b")):
        mne.export.export_raw(data / f"{name}.edf", synthetic_raw(index, SYNTHETIC))
    shutil.copy(data / "a.edf", data / "a_copy.edf")  # the same night twice
    write_config(tmp_path, {"input": {"source": "files", "files": ["data/*.edf"]}})
    result = run_snakemake(tmp_path)
    assert (
        "recordings holding the same data as another (byte for byte the same samples "
        "file): a = a_copy; a_copy = a; each copy counts again in the table"
    ) in result.stdout + result.stderr
    metadata = pq.read_schema(tmp_path / "results" / "features.parquet").metadata
    provenance = json.loads(metadata[b"eegflow"])["provenance"]
    assert provenance["same_data"] == {"a": ["a_copy"], "a_copy": ["a"]}
    run_snakemake(tmp_path, "qc")
    qc = pd.read_parquet(tmp_path / "results" / "qc.parquet")
    assert dict(zip(qc["recording"], qc["same_data_as"])) == {
        "a": "a_copy",
        "a_copy": "a",
        "b": "",
    }


def test_mixed_sampling_rates_are_refused_by_combine(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    raw = synthetic_raw(0, SYNTHETIC)
    raw.save(data / "a_raw.fif")
    raw.copy().resample(64).save(data / "b_raw.fif")
    write_config(tmp_path, {"input": {"source": "files", "files": ["data/*.fif"]}})
    result = run_snakemake(tmp_path, check=False)
    assert "recordings have different sampling rates (128 Hz: " in result.stderr
    assert "set config preprocess.resample_sfreq" in result.stderr
    assert not (tmp_path / "results" / "features.parquet").exists()


def wait_for(condition, poll_s=0.2, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(poll_s)


def test_kill_9_then_rerun_gives_the_same_table(tmp_path, finished_run):
    tiny_copy_of_default_config(tmp_path)
    first = subprocess.Popen(
        snakemake_command("--cores", "1"),
        cwd=tmp_path,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    windows = tmp_path / "results" / "windows"
    wait_for(lambda: windows.exists() and any(windows.glob("*.parquet")), 0.01)
    # frozen mid-run (Snakemake and its workers), to be killed there
    os.killpg(first.pid, signal.SIGSTOP)
    assert not (tmp_path / "results" / "features.parquet").exists()

    second = run_snakemake(tmp_path, check=False)  # while the first still runs
    assert second.returncode != 0
    assert "Directory cannot be locked" in second.stdout + second.stderr

    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    # whatever carries a final name is complete: it opens
    for path in (tmp_path / "results").rglob("*"):
        if path.name.startswith(".tmp-") or not path.is_file():
            continue
        if path.suffix == ".parquet":
            pq.read_table(path)
        elif path.name.endswith("_raw.fif"):
            mne.io.read_raw_fif(path, verbose="error").load_data()

    run_snakemake(tmp_path, "--unlock")  # the kill left Snakemake's lock behind
    run_snakemake(tmp_path)  # the default profile sets rerun-incomplete
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "results" / "features.parquet"),
        pd.read_parquet(finished_run / "results" / "features.parquet"),
        check_exact=True,
    )


def test_code_edits_rerun_their_jobs_and_doc_edits_nothing(tmp_path):
    for name in ("Snakefile", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ("workflow", "profiles", "envs"):
        shutil.copytree(
            ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    tiny_copy_of_default_config(tmp_path)
    snakefile = tmp_path / "Snakefile"
    run_snakemake(tmp_path, snakefile=snakefile)

    edit(tmp_path / "README.md", "# eegflow", "# eegflow (our lab's copy)")
    assert planned_jobs(tmp_path, snakefile=snakefile) == {}

    time.sleep(1)  # Snakemake compares modification times
    features = tmp_path / "workflow" / "scripts" / "eegflow" / "features.py"
    features.touch()  # a checkout of the same content: the hashes say nothing changed
    assert planned_jobs(tmp_path, snakefile=snakefile) == {}
    features.write_text(features.read_text() + "\n# a changed feature function\n")
    assert planned_jobs(tmp_path, snakefile=snakefile) == {
        "features": 4,
        "combine": 1,
        "all": 1,
    }
    run_snakemake(tmp_path, snakefile=snakefile)
    time.sleep(1)
    # a job script is in its stage's stamp: a touch reruns nothing, an edit the stage
    script = tmp_path / "workflow" / "scripts" / "windows.py"
    script.touch()
    assert planned_jobs(tmp_path, snakefile=snakefile) == {}
    script.write_text(script.read_text() + "# edited\n")
    assert planned_jobs(tmp_path, snakefile=snakefile) == {
        "windows": 4,
        "features": 4,
        "combine": 1,
        "all": 1,
    }

    # a module the package did not have, imported by a stage's module: tracked at once
    run_snakemake(tmp_path, snakefile=snakefile)
    package = tmp_path / "workflow" / "scripts" / "eegflow"
    (package / "line_helpers.py").write_text('"""Helpers."""\n\nMAINS_HZ = (50, 60)\n')
    cleaning = package / "cleaning.py"
    cleaning.write_text(
        cleaning.read_text().replace(
            "from . import UserError\n",
            "from . import UserError\nfrom .line_helpers import MAINS_HZ  # noqa: F401\n",
        )
    )
    run_snakemake(tmp_path, snakefile=snakefile)
    time.sleep(1)
    helpers = package / "line_helpers.py"
    helpers.write_text(helpers.read_text() + "# edited\n")
    assert planned_jobs(tmp_path, snakefile=snakefile) == {
        "preprocess": 4,
        "windows": 4,
        "features": 4,
        "combine": 1,
        "all": 1,
    }


def test_failed_jobs_are_found_from_their_logs(tmp_path):
    from eegflow.failures import FAILED_BY_SNAKEMAKE, KILLED, failed_jobs

    started = time.time() - 1
    names = ("killed", "crashed", "old", "ok", "skewed")
    logs = {name: tmp_path / f"{name}.log" for name in names}
    logs["skewed"].write_text(
        "2026-01-01 10:00:00,1 INFO eegflow: peak RSS of this job: 9 MiB\n"
    )
    logs["killed"].write_text("2026-01-01 10:00:00,1 INFO eegflow: thread caps: ...\n")
    logs["crashed"].write_text(
        "2026-01-01 10:00:00,1 ERROR eegflow: job failed\nTraceback (most recent call last):\n"
        '  File "x.py", line 1\nValueError: operands could not be broadcast\n'
    )
    logs["old"].write_text("2026-01-01 10:00:00,1 ERROR eegflow: from an earlier run\n")
    os.utime(logs["old"], (started - 100, started - 100))
    logs["ok"].write_text("done\n")
    (tmp_path / "ok.out").write_text("")
    jobs = [
        {
            "rule": "features",
            "recording": name,
            "log": str(path),
            "outputs": [str(tmp_path / f"{name}.out")],
        }
        for name, path in logs.items()
    ]
    jobs.append(
        {
            "rule": "windows",
            "recording": "never",
            "log": str(tmp_path / "no.log"),
            "outputs": [str(tmp_path / "no.out")],
        }
    )
    failed = failed_jobs(jobs, started)
    assert [(job["recording"], job["message"]) for job in failed] == [
        ("killed", KILLED),
        ("crashed", "job failed: ValueError: operands could not be broadcast"),
        ("skewed", FAILED_BY_SNAKEMAKE),
    ]


def test_a_full_disk_is_one_line_naming_the_file(tmp_path, capsys):
    """ENOSPC inside a job: one line with the file, the space left and the fix."""
    import errno

    from eegflow.jobs import job_logging

    target = tmp_path / "results" / "preprocessed" / "x_raw.fif"
    with pytest.raises(SystemExit) as exited:
        with job_logging(tmp_path / "job.log"):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
    assert exited.value.code == 1
    (line,) = [
        line
        for line in (tmp_path / "job.log").read_text().splitlines()
        if "ERROR" in line
    ]
    assert str(target) in line and "No space left on device" in line
    assert "MB free there" in line and "run the same command again" in line
    assert "Traceback" not in (tmp_path / "job.log").read_text()
