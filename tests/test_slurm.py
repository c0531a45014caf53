"""The workflow on a real one-node SLURM cluster, through Snakemake's SLURM plugin.

tests/slurm/start.sh installs SLURM from Debian's packages if needed and starts it;
this needs root. Elsewhere the tests are skipped with the reason shown.
"""

import os
import shutil
import subprocess

import mne
import pandas as pd
import pytest

from conftest import (
    ROOT,
    run_snakemake,
    synthetic_settings,
    tiny_copy_of_default_config,
    write_config,
)
from eegflow.synthetic import synthetic_raw
from test_remote import local_run, servers  # noqa: F401 (fixtures: an S3 server)

SLURM_DIR = ROOT / "tests" / "slurm"
# What a one-node test cluster without an accounting database needs (not for real
# clusters, which have sacct and accounts), and quick status checks.
SLURM_ARGS = (
    "--profile",
    "slurm",  # as the README types it, after profiles/slurm/install.sh
    "--slurm-status-command",
    "squeue",
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--seconds-between-status-checks",
    "1",
)


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("starting a SLURM cluster needs root")
    if shutil.which("apt-get") is None and shutil.which("slurmctld") is None:
        pytest.skip("no apt-get to install SLURM from Debian's packages")
    state = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(
        ["bash", str(SLURM_DIR / "start.sh"), str(state)],
        capture_output=True,
        text=True,
    )
    if started.returncode != 0:
        subprocess.run(["bash", str(SLURM_DIR / "stop.sh"), str(state)])
        reason = f"could not start SLURM: {started.stderr.strip()[-500:]}"
        if os.environ.get("CI"):
            pytest.fail(reason)  # on the CI machine this test must run
        pytest.skip(reason)
    # the README's one-time step, into a config folder of the test's own
    saved = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    subprocess.run(
        ["bash", str(ROOT / "profiles" / "slurm" / "install.sh")], check=True
    )
    yield state
    if saved is None:
        del os.environ["XDG_CONFIG_HOME"]
    else:
        os.environ["XDG_CONFIG_HOME"] = saved
    subprocess.run(["bash", str(SLURM_DIR / "stop.sh"), str(state)])


def test_slurm_run_equals_local_run_and_rerun_submits_nothing(
    slurm_cluster, finished_run, tmp_path
):
    tiny_copy_of_default_config(tmp_path)
    result = run_snakemake(tmp_path, *SLURM_ARGS, "--group-components", "recording=2")
    output = result.stdout + result.stderr
    # 4 recordings grouped 2 by 2, then combine: 3 SLURM jobs, not 17
    assert output.count("has been submitted with SLURM jobid") == 3
    assert_local_table_and_nothing_left(tmp_path, finished_run)


def test_slurm_runs_a_corpus_in_batches_as_the_readme_shows(
    slurm_cluster, finished_run, tmp_path
):
    # README, "Thousands of recordings": the batch loop, here with --profile slurm
    tiny_copy_of_default_config(tmp_path)
    submissions = []
    for batch in ("combine=1/2", "combine=2/2"):
        result = run_snakemake(
            tmp_path,
            *SLURM_ARGS,
            "--group-components",
            "recording=2",
            "--batch",
            batch,
        )
        output = result.stdout + result.stderr
        submissions.append(output.count("has been submitted with SLURM jobid"))
        if batch == "combine=1/2":  # its 2 recordings' tables, no combined table
            assert len(list((tmp_path / "results" / "features").iterdir())) == 2
            assert not (tmp_path / "results" / "features.parquet").exists()
    # batch 1: one bundle of 2 recordings; batch 2: the other bundle, then combine
    assert submissions == [1, 2]
    assert_local_table_and_nothing_left(tmp_path, finished_run)


def assert_local_table_and_nothing_left(workdir, finished_run):
    """The combined table of the SLURM run in ``workdir`` is the local run's, exactly,
    and a rerun has nothing to do and submits nothing."""
    pd.testing.assert_frame_equal(
        pd.read_parquet(workdir / "results" / "features.parquet"),
        pd.read_parquet(finished_run / "results" / "features.parquet"),
        check_exact=True,
    )
    again = run_snakemake(workdir, *SLURM_ARGS)
    assert "Nothing to be done" in again.stdout + again.stderr
    assert "submitted" not in again.stdout + again.stderr


def test_a_failing_slurm_job_is_reported_with_its_log(slurm_cluster, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    synthetic = synthetic_settings(["O1", "Oz"], duration_s=10, seed=1)
    for index in range(2):
        mne.export.export_raw(
            data / f"good{index}.edf", synthetic_raw(index, synthetic)
        )
    (data / "broken.edf").write_bytes(b"this is not an EDF file" * 10)
    write_config(tmp_path, {"input": {"source": "files", "files": ["data/*.edf"]}})

    result = run_snakemake(
        tmp_path,
        *SLURM_ARGS,
        "--group-components",
        "recording=1",
        "--keep-going",
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Error in group recording" in output
    # the failed SLURM job's log is named, and shown (profiles/default: show-failed-logs)
    slurm_logs = list((tmp_path / "results" / "logs" / "slurm").rglob("*.log"))
    failed = [log for log in slurm_logs if "broken.edf" in log.read_text()]
    assert failed and str(failed[0]) in output
    assert "ERROR eegflow: data/broken.edf: MNE could not read this recording" in output
    features = sorted(p.name for p in (tmp_path / "results" / "features").iterdir())
    assert features == ["good0.parquet", "good1.parquet"]


def test_recordings_on_s3_run_on_slurm_as_locally(
    slurm_cluster,
    servers,  # noqa: F811 (the S3 server fixture, imported)
    local_run,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    """A BIDS data set in a bucket of the tests' S3 server, run with the SLURM profile,
    the endpoint and keys given as environment variables (the SLURM plugin passes the
    environment to its jobs, not the --storage-s3-* options): Snakemake fetches each
    recording's objects, the jobs run on the cluster, the table is the local copy's
    run's, and a rerun has nothing to do. The jobs' Snakemake reads the listing the
    main process made instead of listing the bucket again."""
    from test_remote import BUCKET, PREFIX, SETTINGS

    monkeypatch.setenv("SNAKEMAKE_STORAGE_S3_ENDPOINT_URL", servers["s3"])
    monkeypatch.setenv("SNAKEMAKE_STORAGE_S3_ACCESS_KEY", "test")
    monkeypatch.setenv("SNAKEMAKE_STORAGE_S3_SECRET_KEY", "test")
    write_config(
        tmp_path,
        {
            "input": {"source": "bids", "bids": {"root": f"s3://{BUCKET}/{PREFIX}"}},
            **SETTINGS,
        },
    )
    result = run_snakemake(tmp_path, *SLURM_ARGS, "--group-components", "recording=3")
    output = result.stdout + result.stderr
    # 3 recordings in one bundle, then combine
    assert output.count("has been submitted with SLURM jobid") == 2
    listings = list((tmp_path / ".snakemake" / "eegflow" / "remote").glob("*.json"))
    assert len(listings) == 1  # one listing of the data set's prefix, kept for the jobs
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "results" / "features.parquet"),
        pd.read_parquet(local_run / "results" / "features.parquet"),
        check_exact=True,
    )
    again = run_snakemake(tmp_path, *SLURM_ARGS)
    assert "Nothing to be done" in again.stdout + again.stderr
