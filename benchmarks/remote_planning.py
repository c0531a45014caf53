"""Planning cost of a BIDS data set in an S3 bucket against the same one on local disk.

    python benchmarks/remote_planning.py [--recordings 200 1000] [--materialised 40]

For each size, a BIDS tree of that many BrainVision recordings (header, data, marker,
channels.tsv, events.tsv and eeg.json each, one recording a subject, plus
participants.tsv and dataset_description.json; the files are placeholders: planning
opens only headers and participants.tsv) is written to a temporary folder and uploaded
to a local S3 server (moto's server mode). ``snakemake -n`` is timed on the folder
(``input.bids.root: data/bids``) and on the bucket (``s3://eeg/ds``), with the number
of requests the S3 server answered during the bucket's dry run.

Then ``--materialised`` real recordings (4 channels, 60 s at 128 Hz, BrainVision) are
run to the end from the folder and from the bucket, and the no-op rerun of each is
timed; the bucket's run counts its requests and the downloads of each object (moto's
request log): every byte of a recording fetched once.
"""

import argparse
import collections
import contextlib
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import numpy as np

from measure import print_table, run_measured, snakemake

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SIDECARS = ("channels.tsv", "events.tsv", "eeg.json")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--materialised", type=int, default=40)
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
        if args.materialised:
            no_op = materialised_runs(client, endpoint, requests_log, args.materialised)
    print(
        "snakemake -n of a BIDS data set (3 jobs a recording), 2 cores: on local disk"
        " and in a local S3 server (moto); s3_requests: requests it answered"
    )
    print_table(rows, list(rows[0]))
    for row in rows:
        print(
            f"{row['recordings']} recordings: planning from S3 / from disk = "
            f"{float(row['s3_s']) / float(row['local_s']):.2f}x (target <= 2x)"
        )
    if args.materialised:
        print(
            f"\n{args.materialised} recordings run to the end, then run again with "
            "nothing to do (snakemake --cores 2), from disk and from S3"
        )
        print_table([no_op], list(no_op))
        print(
            f"no-op rerun from S3 / from disk = {no_op['s3_no_op_s'] / no_op['local_no_op_s']:.2f}x"
            f" (target <= 2x); objects fetched more than once: {no_op['refetched']}"
        )


def materialised_runs(client, endpoint, requests_log, n_recordings):
    """Run ``n_recordings`` real recordings from disk and from a bucket; time each run
    and its no-op rerun; count the bucket's downloads per object."""
    s3 = ["--storage-s3-endpoint-url", endpoint]
    s3 += ["--storage-s3-access-key", "test", "--storage-s3-secret-key", "test"]
    with tempfile.TemporaryDirectory(prefix="eegflow-remote-run-") as name:
        workdir = Path(name)
        root = bids_tree(workdir / "data" / "bids", n_recordings, real=True)
        bucket = "eeg-run"
        client.create_bucket(Bucket=bucket)
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            key = f"ds/{path.relative_to(root).as_posix()}"
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        times = {}
        for where, root_setting, options in (
            ("local", "data/bids", []),
            ("s3", f"s3://{bucket}/ds", s3),
        ):
            run_dir = workdir / where
            run_dir.mkdir()
            (run_dir / "data").symlink_to(workdir / "data")
            (run_dir / "config.yaml").write_text(
                f"input: {{source: bids, bids: {{root: '{root_setting}'}}}}\n"
                "windows: {window_s: 2}\nfeatures: {compute: {variance: {}}}\n"
            )
            before = len(requests_log.read_text().splitlines())
            times[f"{where}_run_s"] = run_measured(
                snakemake("--cores", "2", "--quiet", "all", *options), run_dir
            )[0]
            if where == "s3":
                # moto colours some lines (206 partial content) with ANSI codes
                lines = ANSI.sub("", requests_log.read_text()).splitlines()[before:]
                requests = len(lines)
                gets = collections.Counter(
                    match.group(1)
                    for line in lines
                    for match in [re.search(rf'"GET /{bucket}/(ds/[^ ?]+)[ ?]', line)]
                    if match
                )
            times[f"{where}_no_op_s"] = run_measured(
                snakemake("--cores", "2", "--quiet", "all", *options), run_dir
            )[0]
        objects = len([p for p in root.rglob("*") if p.is_file()])
    return {
        **{key: round(value, 1) for key, value in times.items()},
        "objects": objects,
        "s3_run_requests": requests,
        "fetched": len(gets),
        "refetched": sum(count > 1 for count in gets.values()),
    }


def bids_tree(root, n_recordings, real=False):
    """``n_recordings`` BrainVision recordings in BIDS under ``root``: placeholders
    (planning reads no more), or ``real`` ones (see :func:`brainvision_files`)."""
    lines = ["participant_id\tgroup"]
    for index in range(n_recordings):
        subject = f"sub-{index:05d}"
        stem = f"{subject}_task-rest"
        folder = root / subject / "eeg"
        folder.mkdir(parents=True)
        if real:
            brainvision_files(folder, f"{stem}_eeg", seed=index)
        else:
            (folder / f"{stem}_eeg.vhdr").write_text(
                f"DataFile={stem}_eeg.eeg\nMarkerFile={stem}_eeg.vmrk\n"
            )
            for suffix in ("eeg.eeg", "eeg.vmrk", *SIDECARS):
                (folder / f"{stem}_{suffix}").write_text("\n")
        lines.append(f"{subject}\t{index % 2}")
    (root / "participants.tsv").write_text("\n".join(lines) + "\n")
    (root / "dataset_description.json").write_text('{"Name": "placeholder"}\n')
    return root


def brainvision_files(folder, stem, seed, channels=("Fz", "Cz", "Pz", "Oz")):
    """A BrainVision recording ``<stem>.vhdr/.eeg/.vmrk`` in ``folder``: 60 s at
    128 Hz of noise, int16 at 0.1 uV a step."""
    samples = np.random.default_rng(seed).normal(0, 200, (128 * 60, len(channels)))
    samples.astype("<i2").tofile(folder / f"{stem}.eeg")
    (folder / f"{stem}.vhdr").write_text(
        "Brain Vision Data Exchange Header File Version 1.0\n[Common Infos]\n"
        f"Codepage=UTF-8\nDataFile={stem}.eeg\nMarkerFile={stem}.vmrk\n"
        "DataFormat=BINARY\nDataOrientation=MULTIPLEXED\n"
        f"NumberOfChannels={len(channels)}\nSamplingInterval=7812.5\n"
        "[Binary Infos]\nBinaryFormat=INT_16\n[Channel Infos]\n"
        + "".join(f"Ch{i}={name},,0.1,µV\n" for i, name in enumerate(channels, 1))
    )
    (folder / f"{stem}.vmrk").write_text(
        "Brain Vision Data Exchange Marker File, Version 1.0\n[Common Infos]\n"
        f"Codepage=UTF-8\nDataFile={stem}.eeg\n[Marker Infos]\n"
        "Mk1=New Segment,,1,1,0\n"
    )


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
