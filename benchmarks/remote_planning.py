"""Planning cost of a BIDS data set in an S3 bucket against the same one on local disk.

    python benchmarks/remote_planning.py [--recordings 200 1000]

For each size, a BIDS tree of that many BrainVision recordings (header, data, marker,
channels.tsv, events.tsv and eeg.json each, one recording a subject, plus
participants.tsv and dataset_description.json; the files are placeholders: planning
opens only headers and participants.tsv) is written to a temporary folder and uploaded
to a local S3 server (moto's server mode). ``snakemake -n`` is timed on the folder
(``input.bids.root: data/bids``) and on the bucket (``s3://eeg/ds``), with the number
of requests the S3 server answered during the bucket's dry run.
"""

import argparse
import contextlib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3

from measure import print_table, run_measured, snakemake

SIDECARS = ("channels.tsv", "events.tsv", "eeg.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, nargs="+", default=[200, 1000])
    args = parser.parse_args()
    rows = []
    with s3_server() as (endpoint, requests_log):
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            region_name="us-east-1",
        )
        for n in args.recordings:
            with tempfile.TemporaryDirectory(prefix="eegflow-remote-") as name:
                workdir = Path(name)
                root = bids_tree(workdir / "data" / "bids", n)
                bucket = f"eeg-{n}"
                client.create_bucket(Bucket=bucket)
                files = sorted(path for path in root.rglob("*") if path.is_file())
                for path in files:
                    key = f"ds/{path.relative_to(root).as_posix()}"
                    client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
                command = snakemake("--dry-run", "--quiet", "all", "--cores", "2")
                config = workdir / "config.yaml"
                config.write_text("input: {source: bids, bids: {root: data/bids}}\n")
                local_s, local_mib = run_measured(command, workdir)
                config.write_text(
                    f"input: {{source: bids, bids: {{root: 's3://{bucket}/ds'}}}}\n"
                )
                before = len(requests_log.read_text().splitlines())
                s3_s, s3_mib = run_measured(
                    command
                    + ["--storage-s3-endpoint-url", endpoint]
                    + ["--storage-s3-access-key", "test"]
                    + ["--storage-s3-secret-key", "test"],
                    workdir,
                )
                requests = len(requests_log.read_text().splitlines()) - before
            rows.append(
                {
                    "recordings": n,
                    "objects": len(files),
                    "local_s": f"{local_s:.1f}",
                    "local_mib": f"{local_mib:.0f}",
                    "s3_s": f"{s3_s:.1f}",
                    "s3_mib": f"{s3_mib:.0f}",
                    "s3_requests": requests,
                }
            )
    print(
        "snakemake -n of a BIDS data set (3 jobs a recording), 2 cores: on local disk"
        " and in a local S3 server (moto); s3_requests: requests it answered"
    )
    print_table(rows, list(rows[0]))


def bids_tree(root, n_recordings):
    """``n_recordings`` placeholder BrainVision recordings in BIDS under ``root``."""
    lines = ["participant_id\tgroup"]
    for index in range(n_recordings):
        subject = f"sub-{index:05d}"
        stem = f"{subject}_task-rest"
        folder = root / subject / "eeg"
        folder.mkdir(parents=True)
        (folder / f"{stem}_eeg.vhdr").write_text(
            f"DataFile={stem}_eeg.eeg\nMarkerFile={stem}_eeg.vmrk\n"
        )
        for suffix in ("eeg.eeg", "eeg.vmrk", *SIDECARS):
            (folder / f"{stem}_{suffix}").write_text("\n")
        lines.append(f"{subject}\t{index % 2}")
    (root / "participants.tsv").write_text("\n".join(lines) + "\n")
    (root / "dataset_description.json").write_text('{"Name": "placeholder"}\n')
    return root


@contextlib.contextmanager
def s3_server():
    """(endpoint, file of its request log lines) of a moto S3 server on localhost."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.NamedTemporaryFile(prefix="moto-", suffix=".log") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for _ in range(200):
                with contextlib.suppress(OSError):
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port}", Path(log.name)
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
