"""Recordings on S3 and HTTP: the workflow against a real S3 server (moto's server
mode) and a real HTTP server (python's http.server), both on localhost, serving a
BIDS data set written by mne-bids. No test reaches the internet."""

import asyncio
import functools
import http.server
import io
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import planned_jobs, run_snakemake, write_config

pytest.importorskip("snakemake_storage_plugin_s3")
pytest.importorskip("snakemake_storage_plugin_http")
pytest.importorskip("moto.server")
boto3 = pytest.importorskip("boto3")

from eegflow import UserError  # noqa: E402
from eegflow.remote import (  # noqa: E402
    bids_recording_urls,
    by_folder,
    companion_urls,
    glob_folder,
    glob_match,
    local_root,
)

# (subject, session) of the data set's recordings
RECORDINGS = [("01", "1"), ("01", "2"), ("02", None)]
BUCKET, PREFIX = "eeg", "ds"
KEYS = ["--storage-s3-access-key", "test", "--storage-s3-secret-key", "test"]
# a server on this machine: no need for the HTTP plugin's 10 requests a second
HTTP_FAST = ["--storage-http-max-requests-per-second", "500"]
SETTINGS = {
    "preprocess": {"filter": {"l_freq": 1, "h_freq": 40, "method": "fir"}},
    "windows": {"window_s": 2},
    "features": {"compute": {"variance": {}}},
}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(command, port):
    """Start a server process, wait until it accepts connections on ``port``."""
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{command} did not start")


def bids_data_set(root):
    """Three BrainVision recordings (.vhdr, .eeg, .vmrk) in BIDS, written by mne-bids:
    4 channels, 20 s at 128 Hz, an annotation each (events.tsv)."""
    import mne
    import mne_bids

    for seed, (subject, session) in enumerate(RECORDINGS):
        data = np.random.default_rng(seed).normal(0, 1e-5, (4, 20 * 128))
        raw = mne.io.RawArray(
            data, mne.create_info(["Fz", "Cz", "Pz", "Oz"], 128, "eeg"), verbose="error"
        )
        raw.set_annotations(mne.Annotations([2], [10], ["rest"]))
        path = mne_bids.BIDSPath(
            subject=subject, session=session, task="rest", datatype="eeg", root=root
        )
        mne_bids.write_raw_bids(
            raw, path, allow_preload=True, format="BrainVision", verbose="error"
        )
    return root


def upload(client, root, bucket, **extra):
    client.create_bucket(Bucket=bucket)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            key = f"{PREFIX}/{path.relative_to(root).as_posix()}"
            client.upload_file(str(path), bucket, key, ExtraArgs=extra)


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """{"s3": endpoint, "http": base URL, "root": local BIDS root, "client": boto3}:
    a moto S3 server with the data set in s3://eeg/ds (private) and s3://open/ds
    (public-read), and an HTTP server of the local copy."""
    root = bids_data_set(tmp_path_factory.mktemp("data") / "bids")
    s3_port, http_port = free_port(), free_port()
    moto = serve([sys.executable, "-m", "moto.server", "-p", str(s3_port)], s3_port)
    web = serve(
        [sys.executable, "-m", "http.server", str(http_port), "--bind", "127.0.0.1"]
        + ["--directory", str(root)],
        http_port,
    )
    endpoint = f"http://127.0.0.1:{s3_port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        region_name="us-east-1",
    )
    upload(client, root, BUCKET)
    upload(client, root, "open", ACL="public-read")
    yield {
        "s3": endpoint,
        "http": f"http://127.0.0.1:{http_port}",
        "root": root,
        "client": client,
    }
    for process in (moto, web):
        process.terminate()
        process.wait()


def workflow_dir(tmp_path_factory, name, input_section):
    workdir = tmp_path_factory.mktemp(name)
    write_config(workdir, {"input": input_section, **SETTINGS})
    return workdir


def s3_options(servers):
    return ["--storage-s3-endpoint-url", servers["s3"], *KEYS]


@pytest.fixture(scope="module")
def local_run(servers, tmp_path_factory):
    workdir = workflow_dir(
        tmp_path_factory,
        "local",
        {"source": "bids", "bids": {"root": str(servers["root"])}},
    )
    run_snakemake(workdir)
    return workdir


@pytest.fixture(scope="module")
def s3_run(servers, tmp_path_factory):
    workdir = workflow_dir(
        tmp_path_factory,
        "s3",
        {
            "source": "bids",
            "bids": {"root": f"s3://{BUCKET}/{PREFIX}", "derivatives": True},
        },
    )
    run_snakemake(workdir, *s3_options(servers))
    return workdir


def features(workdir):
    return pd.read_parquet(workdir / "results" / "features.parquet")


def test_outputs_to_a_bucket_give_the_local_run_s_table(
    servers, local_run, tmp_path_factory
):
    workdir = workflow_dir(
        tmp_path_factory,
        "to-bucket",
        {"source": "bids", "bids": {"root": f"s3://{BUCKET}/{PREFIX}"}},
    )
    to_bucket = [
        *s3_options(servers),
        "--default-storage-provider",
        "s3",
        "--default-storage-prefix",
        "s3://results/run-1",
    ]
    run_snakemake(workdir, *to_bucket)
    client = servers["client"]
    table = client.get_object(Bucket="results", Key="run-1/results/features.parquet")
    pd.testing.assert_frame_equal(
        pd.read_parquet(io.BytesIO(table["Body"].read())), features(local_run)
    )
    keys = {
        item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket="results")
        for item in page.get("Contents", [])
    }
    for recording in features(local_run)["recording"].unique():
        assert f"run-1/results/preprocessed/{recording}_raw.fif" in keys
        assert f"run-1/results/features/{recording}.parquet" in keys
    assert not (workdir / "results" / "features.parquet").exists()
    assert planned_jobs(workdir, *to_bucket) == {}


def participants(root):
    return pd.read_csv(
        root / "participants.tsv", sep="\t", dtype=str, keep_default_na=False
    )


def test_a_bids_data_set_on_s3_gives_the_local_run_s_table(servers, local_run, s3_run):
    pd.testing.assert_frame_equal(features(s3_run), features(local_run))
    assert len(features(s3_run)["recording"].unique()) == len(RECORDINGS)
    # the provenance names the objects (their fingerprints are the local files')
    record = "results/preprocessed/sub-02_task-rest.json"
    local, remote = (
        json.loads((run / record).read_text())["provenance"]["source_files"]
        for run in (local_run, s3_run)
    )
    stem = "sub-02/eeg/sub-02_task-rest_eeg"
    assert [file["path"] for file in remote] == [
        f"s3://{BUCKET}/{PREFIX}/{stem}{extension}"
        for extension in (".vhdr", ".eeg", ".vmrk")
    ]
    assert [file["sha256"] for file in remote] == [file["sha256"] for file in local]
    # the BIDS derivatives name their source and carry its participants' rows
    derivatives = s3_run / "results" / "derivatives" / "eegflow"
    description = json.loads((derivatives / "dataset_description.json").read_text())
    assert description["SourceDatasets"] == [{"URL": f"s3://{BUCKET}/{PREFIX}"}]
    pd.testing.assert_frame_equal(
        participants(derivatives), participants(servers["root"])
    )
    # the local copies are gone after use (no --keep-storage-local-copies)
    copies = s3_run / ".snakemake" / "storage"
    assert not [path for path in copies.rglob("*") if path.is_file()]


def test_an_s3_rerun_does_nothing_and_a_changed_object_reruns_its_recording(
    servers, s3_run
):
    assert planned_jobs(s3_run, *s3_options(servers)) == {}
    events = "sub-02/eeg/sub-02_task-rest_events.tsv"
    time.sleep(1)  # S3 modification times have a resolution of one second
    servers["client"].upload_file(
        str(servers["root"] / events), BUCKET, f"{PREFIX}/{events}"
    )
    assert planned_jobs(s3_run, *s3_options(servers)) == {
        "preprocess": 1,
        "windows": 1,
        "features": 1,
        "combine": 1,
        "bids_derivatives": 1,
        "all": 1,
    }


def failed_dry_run(workdir, *options):
    """The output of a dry run that fails."""
    result = run_snakemake(workdir, "--dry-run", *options, check=False)
    assert result.returncode != 0
    return result.stdout + result.stderr


def without_credentials(monkeypatch, tmp_path):
    """No AWS credentials anywhere boto3 looks (environment, files, instance role)."""
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_a_public_bucket_is_read_without_credentials(servers, tmp_path, monkeypatch):
    without_credentials(monkeypatch, tmp_path)
    endpoint = ["--storage-s3-endpoint-url", servers["s3"]]
    public = tmp_path / "public"
    public.mkdir()
    write_config(
        public, {"input": {"source": "bids", "bids": {"root": "s3://open/ds"}}}
    )
    result = run_snakemake(public, "--dry-run", *endpoint)
    assert "reading s3:// anonymously" in result.stdout + result.stderr
    assert planned_jobs(public, *endpoint)["preprocess"] == len(RECORDINGS)
    # a private bucket: one line naming the object and what to do
    write_config(
        public, {"input": {"source": "bids", "bids": {"root": f"s3://{BUCKET}/ds"}}}
    )
    output = failed_dry_run(public, *endpoint)
    assert f"s3://{BUCKET}/ds/participants.tsv: cannot fetch it" in output
    assert "credentials" in output


def preprocessed(workdir):
    """The recordings whose preprocess job finished."""
    folder = workdir / "results" / "preprocessed"
    return sorted(path.name.removesuffix("_raw.fif") for path in folder.glob("*.fif"))


def assert_failed_alone(result, workdir, url):
    """The run failed on ``url`` alone: one line names it, the job that needed it
    failed, the other recordings' jobs finished."""
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"{url}: could not be fetched (" in output
    log = workdir / "results" / "logs" / "preprocess" / "sub-02_task-rest.log"
    assert f"{url}: could not be fetched" in log.read_text()
    assert "run the same command again" in log.read_text()
    assert preprocessed(workdir) == ["sub-01_ses-1_task-rest", "sub-01_ses-2_task-rest"]


def test_an_unreadable_object_fails_its_recording_alone_and_a_rerun_completes(
    servers, local_run, tmp_path, monkeypatch
):
    """Denied access to one object (Snakemake fetches storage inputs outside the
    jobs, where one failure would stop the run): its recording fails naming it, the
    others finish, a rerun completes."""
    without_credentials(monkeypatch, tmp_path)
    endpoint = ["--storage-s3-endpoint-url", servers["s3"]]
    write_config(
        tmp_path,
        {"input": {"source": "bids", "bids": {"root": "s3://open/ds"}}, **SETTINGS},
    )
    key = f"{PREFIX}/sub-02/eeg/sub-02_task-rest_eeg.eeg"
    servers["client"].put_object_acl(Bucket="open", Key=key, ACL="private")
    try:
        result = run_snakemake(tmp_path, *endpoint, "--keep-going", check=False)
    finally:
        servers["client"].put_object_acl(Bucket="open", Key=key, ACL="public-read")
    assert_failed_alone(result, tmp_path, f"s3://open/{key}")
    run_snakemake(tmp_path, *endpoint)
    pd.testing.assert_frame_equal(features(tmp_path), features(local_run))


class DroppingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files, but drops the connection halfway through the body of each path
    in the server's ``dropped`` set (a network failure mid-download); with the
    server's ``stop_at`` set to n, stops answering at all (closes each connection
    unanswered) from the request for the n-th recording's data (``_eeg.eeg``) on."""

    def handle(self):
        if not getattr(self.server, "stopped", False):
            super().handle()

    def send_head(self):
        if (
            getattr(self.server, "stop_at", None)
            and self.command == "GET"
            and self.path.endswith("_eeg.eeg")
        ):
            self.server.data_asked.add(self.path)
            if len(self.server.data_asked) >= self.server.stop_at:
                self.server.stopped = True
                return None  # closed unanswered
        if self.command != "GET" or self.path not in self.server.dropped:
            return super().send_head()
        body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        return None

    def log_message(self, *args):
        pass


def test_a_dropped_connection_fails_its_recording_alone_and_a_rerun_completes(
    servers, local_run, tmp_path
):
    handler = functools.partial(DroppingHandler, directory=str(servers["root"]))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        server.dropped = {"/sub-02/eeg/sub-02_task-rest_eeg.eeg"}
        threading.Thread(target=server.serve_forever, daemon=True).start()
        root = f"http://127.0.0.1:{server.server_address[1]}"
        write_config(
            tmp_path, {"input": {"source": "bids", "bids": {"root": root}}, **SETTINGS}
        )
        result = run_snakemake(tmp_path, *HTTP_FAST, "--keep-going", check=False)
        assert_failed_alone(
            result, tmp_path, f"{root}/sub-02/eeg/sub-02_task-rest_eeg.eeg"
        )
        server.dropped = set()
        run_snakemake(tmp_path, *HTTP_FAST)
        server.shutdown()
    pd.testing.assert_frame_equal(features(tmp_path), features(local_run))


def test_a_server_stopped_mid_run_fails_the_recordings_left_and_a_rerun_completes(
    servers, local_run, tmp_path
):
    """The server stops answering when the second recording's data is asked for
    (one job at a time): the first recording finishes, the two left fail naming
    their objects (not the run: the data set's shared files it keeps, Snakemake's
    checks of their times are answered from what the server said before), and a
    rerun with the server back completes."""
    handler = functools.partial(DroppingHandler, directory=str(servers["root"]))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        server.dropped, server.stop_at, server.data_asked = set(), 2, set()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        root = f"http://127.0.0.1:{server.server_address[1]}"
        write_config(
            tmp_path, {"input": {"source": "bids", "bids": {"root": root}}, **SETTINGS}
        )
        result = run_snakemake(
            tmp_path, *HTTP_FAST, "--keep-going", "--cores", "1", check=False
        )
        assert result.returncode != 0
        assert len(preprocessed(tmp_path)) == 1, result.stdout + result.stderr
        logs = sorted((tmp_path / "results" / "logs" / "preprocess").glob("*.log"))
        failed = [log for log in logs if "could not be fetched" in log.read_text()]
        assert len(failed) == 2
        for log in failed:
            assert f"{root}/sub-0" in log.read_text()
        server.stop_at, server.stopped = None, False
        run_snakemake(tmp_path, *HTTP_FAST)
        server.shutdown()
    pd.testing.assert_frame_equal(features(tmp_path), features(local_run))


def test_recordings_listed_by_https_url_give_the_local_table(servers, tmp_path_factory):
    vhdr = "sub-02/eeg/sub-02_task-rest_eeg.vhdr"
    runs = {}
    for name, location in (("http", servers["http"]), ("disk", servers["root"])):
        workdir = workflow_dir(
            tmp_path_factory, name, {"source": "table", "table": "recordings.tsv"}
        )
        (workdir / "recordings.tsv").write_text(
            f"path\tgroup\n{location}/{vhdr}\tcontrol\n"
        )
        run_snakemake(workdir)
        runs[name] = features(workdir)
    pd.testing.assert_frame_equal(runs["http"], runs["disk"])
    assert runs["http"]["group"].eq("control").all()


def test_a_missing_remote_recording_is_named(servers, tmp_path):
    write_config(
        tmp_path, {"input": {"source": "files", "files": [f"{servers['http']}/no.edf"]}}
    )
    assert "config input.files: no file matches" in failed_dry_run(tmp_path)
    write_config(
        tmp_path,
        {"input": {"source": "files", "files": [f"{servers['http']}/none/*.edf"]}},
    )
    assert "cannot list this folder over HTTP" in failed_dry_run(tmp_path)


@pytest.mark.parametrize("where", ["s3", "http"])
def test_patterns_find_recordings_with_their_companion_objects(
    servers, tmp_path, where
):
    base = {"s3": f"s3://{BUCKET}/{PREFIX}", "http": servers["http"]}[where]
    write_config(
        tmp_path, {"input": {"source": "files", "files": [f"{base}/**/*.vhdr"]}}
    )
    result = run_snakemake(tmp_path, "--dry-run", *s3_options(servers))
    eeg = f"{base}/sub-02/eeg/sub-02_task-rest_eeg"
    for companion in (".eeg", ".vmrk"):
        assert f"{eeg}{companion} (retrieve from storage)" in result.stdout
    assert planned_jobs(tmp_path, *s3_options(servers))["preprocess"] == len(RECORDINGS)
    write_config(tmp_path, {"input": {"source": "files", "files": [f"{base}/**/*"]}})
    assert "unsupported file type" in failed_dry_run(tmp_path, *s3_options(servers))


def test_a_bids_data_set_over_http_gives_the_local_run_s_table(
    servers, local_run, tmp_path
):
    write_config(
        tmp_path,
        {"input": {"source": "bids", "bids": {"root": servers["http"]}}, **SETTINGS},
    )
    run_snakemake(tmp_path)
    pd.testing.assert_frame_equal(features(tmp_path), features(local_run))


def test_globs_match_as_glob_does():
    assert glob_match("s3://b/ds/**/*.edf", "s3://b/ds/x.edf")
    assert glob_match("s3://b/ds/**/*.edf", "s3://b/ds/a/b/x.edf")
    assert not glob_match("s3://b/ds/*.edf", "s3://b/ds/a/x.edf")
    assert glob_match("s3://b/ds/sub-0[12]/*.vhdr", "s3://b/ds/sub-02/x.vhdr")
    assert glob_folder("s3://b/ds/sub-*/eeg/*.vhdr") == "s3://b/ds"
    assert glob_folder("s3://b/ds/x.edf") == "s3://b/ds"


def test_a_remote_bids_root_s_local_copy_is_found_from_a_file_in_it():
    local = ".snakemake/storage/s3/eeg/ds/sub-01/eeg/sub-01_task-rest_eeg.vhdr"
    assert local_root("s3://eeg/ds", local) == ".snakemake/storage/s3/eeg/ds"
    assert local_root("s3://eeg/ds/", local) == ".snakemake/storage/s3/eeg/ds"
    assert local_root("data/bids", "data/bids/x.edf") == "data/bids"
    assert local_root("", "x.edf") is None
    with pytest.raises(UserError, match="not a local copy"):
        local_root("s3://other/ds", local)


def test_a_recording_s_objects_are_its_own_and_its_data_set_s_shared_ones():
    root = "s3://b/ds"
    eeg = f"{root}/sub-01/ses-1/eeg"
    listing = [
        f"{root}/participants.tsv",
        f"{root}/dataset_description.json",
        f"{root}/README",
        f"{root}/sub-01/ses-1/sub-01_ses-1_scans.tsv",
        f"{eeg}/sub-01_ses-1_task-rest_eeg.vhdr",
        f"{eeg}/sub-01_ses-1_task-rest_eeg.eeg",
        f"{eeg}/sub-01_ses-1_task-rest_events.tsv",
        f"{eeg}/sub-01_ses-1_electrodes.tsv",
        f"{eeg}/sub-01_ses-1_task-other_eeg.vhdr",
        f"{eeg}/sub-01_ses-1_task-other_eeg.eeg",
    ]
    main = f"{eeg}/sub-01_ses-1_task-rest_eeg.vhdr"
    assert bids_recording_urls(main, root, by_folder(listing)) == [
        main,
        f"{root}/dataset_description.json",
        f"{root}/participants.tsv",
        f"{eeg}/sub-01_ses-1_electrodes.tsv",
        f"{eeg}/sub-01_ses-1_task-rest_eeg.eeg",
        f"{eeg}/sub-01_ses-1_task-rest_events.tsv",
        f"{root}/sub-01/ses-1/sub-01_ses-1_scans.tsv",
    ]
    folder = "s3://b/raw"
    files = [f"{folder}/a.set", f"{folder}/a.fdt", f"{folder}/ab.fdt"]
    files += [f"{folder}/r_raw.fif", f"{folder}/r_raw-1.fif", f"{folder}/r.fif"]
    folders = by_folder(files)
    assert companion_urls(f"{folder}/a.set", folders) == [f"{folder}/a.fdt"]
    assert companion_urls(f"{folder}/r_raw.fif", folders) == [f"{folder}/r_raw-1.fif"]


def test_a_job_s_snakemake_reads_the_main_process_s_listing_not_the_network(tmp_path):
    """The Snakemake a SLURM job starts parses the Snakefile again: its RemoteStorage
    reads the listing and the planning files the run's main process kept, and asks no
    storage (none is given to it here)."""
    from eegflow.remote import RemoteStorage

    listed = {
        f"s3://{BUCKET}/{PREFIX}/sub-01/eeg/sub-01_eeg.edf": (1234, 1.5e9),
        f"s3://{BUCKET}/{PREFIX}/participants.tsv": (20, 1.5e9),
    }
    main = RemoteStorage(registry=None, snapshot_dir=tmp_path, main_process=True)
    main._list_s3 = lambda folder: dict(listed)  # what the main process listed
    assert main.listing(f"s3://{BUCKET}/{PREFIX}") == listed
    job = RemoteStorage(registry=None, snapshot_dir=tmp_path, main_process=False)
    assert job.listing(f"s3://{BUCKET}/{PREFIX}") == listed
    assert job.folders(f"s3://{BUCKET}/{PREFIX}/sub-01/eeg") == main.folders(
        f"s3://{BUCKET}/{PREFIX}"
    )
    elsewhere = RemoteStorage(
        registry=None, snapshot_dir=tmp_path / "x", main_process=False
    )
    with pytest.raises(
        AttributeError
    ):  # no snapshot: it would have to list (no storage)
        elsewhere.listing(f"s3://{BUCKET}/{PREFIX}")


class StorageObjectStandIn:
    """A storage plugin's object as Snakemake calls it (its ``managed_*`` methods),
    over a storage that gives ``answers`` ({"exists": ..., "size": ..., "mtime":
    ...}) or, without, denies everything; it counts what it is asked."""

    def __init__(self, query, answers=None):
        self.query = query
        self.answers = answers
        self.asked = []

    def local_path(self):
        return Path(".snakemake/storage/s3") / self.query.removeprefix("s3://")

    def answer(self, question):
        self.asked.append((question, self.query))
        if self.answers is None:
            raise RuntimeError(f"Failed to {question}\nClientError: 403 {self.query}")
        return self.answers[question]

    async def managed_exists(self):
        return self.answer("exists")

    async def managed_size(self):
        return self.answer("size")

    async def managed_mtime(self):
        return self.answer("mtime")

    async def managed_retrieve(self):
        return self.answer("retrieve")


def test_a_recording_s_objects_are_answered_from_the_listing_and_a_failed_fetch_is_kept(
    tmp_path, monkeypatch
):
    """While running, Snakemake asks each waiting job's inputs whether they exist and
    their size at every job's end, and kept copies' modification times (requests
    growing with recordings squared): the listing answers, or for HTTP (no sizes or
    times listed) the server's first answer. A failed fetch of a recording's object
    is kept for its job, which fails naming the URL; objects that are not
    recordings' (results in a bucket) are left to Snakemake."""
    from eegflow.remote import RemoteStorage, require_fetched

    monkeypatch.chdir(tmp_path)
    lines = []
    remote = RemoteStorage(registry=None, log=lines.append)
    listed_url = f"s3://{BUCKET}/{PREFIX}/sub-01/eeg/sub-01_eeg.edf"
    remote._listings[f"s3://{BUCKET}/{PREFIX}"] = {listed_url: (1234, 1.5e9)}
    listed, unlisted, result = (
        StorageObjectStandIn(url)
        for url in (listed_url, f"{listed_url}.json", f"s3://{BUCKET}/results/x")
    )
    for storage_object in (listed, unlisted):
        remote._serve_jobs(storage_object)
    assert asyncio.run(listed.managed_exists()) is True
    assert asyncio.run(listed.managed_size()) == 1234
    assert asyncio.run(listed.managed_mtime()) == 1.5e9
    assert listed.asked == []
    # not in a listing: asked, and a denial left to the fetch to report (a
    # modification time is not made up)
    assert asyncio.run(unlisted.managed_exists()) is True
    assert asyncio.run(unlisted.managed_size()) == 0
    with pytest.raises(RuntimeError, match="403"):
        asyncio.run(unlisted.managed_mtime())
    # an HTTP object (no sizes or times listed): the server's first answers kept
    answering = StorageObjectStandIn(
        f"{listed_url}.vmrk", {"exists": True, "size": 7, "mtime": 1.6e9}
    )
    remote._serve_jobs(answering)
    for _ in range(2):
        assert asyncio.run(answering.managed_exists()) is True
        assert asyncio.run(answering.managed_size()) == 7
        assert asyncio.run(answering.managed_mtime()) == 1.6e9
    assert answering.asked.count(("mtime", answering.query)) == 1
    assert len(answering.asked) == 3
    asyncio.run(listed.managed_retrieve())  # kept, not raised
    assert lines == [
        f"{listed_url}: could not be fetched (ClientError: 403 {listed_url}); the jobs "
        "that need it fail, the other recordings go on (with --keep-going)"
    ]
    require_fetched([str(unlisted.local_path())])  # no failure kept for it
    with pytest.raises(
        UserError, match=f"^{listed_url}: could not be fetched .*again$"
    ):
        require_fetched(["results/code/preprocess.sha256", str(listed.local_path())])
    for ask in (
        result.managed_exists,
        result.managed_size,
        result.managed_mtime,
        result.managed_retrieve,
    ):
        with pytest.raises(RuntimeError):
            asyncio.run(ask())


def test_s3_options_a_cluster_s_jobs_would_not_receive_are_refused(servers, tmp_path):
    """On SLURM, --storage-s3-* options stay with the submitting Snakemake; the run
    refuses them before submitting anything, naming the environment variable to set
    instead (no cluster needed: it stops while planning)."""
    write_config(
        tmp_path, {"input": {"source": "bids", "bids": {"root": f"s3://{BUCKET}/ds"}}}
    )
    result = run_snakemake(
        tmp_path,
        "--executor",
        "slurm",
        "--jobs",
        "1",
        *s3_options(servers),
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert (
        "--storage-s3-endpoint-url: a cluster executor's jobs do not receive" in output
    )
    assert "export SNAKEMAKE_STORAGE_S3_ENDPOINT_URL=" in output
