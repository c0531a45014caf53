"""Job bundling on a real SLURM: how many jobs SLURM receives for a corpus of short recordings.

    sudo python3 benchmarks/slurm_bundling.py [--recordings 1000] [--per-job 20]

Starts the tests' one-node SLURM (tests/slurm/start.sh: root, Debian's slurm-wlm), writes
``--recordings`` FIF recordings of 30 s (6 channels, 128 Hz) and runs the default config on
them with ``snakemake --profile slurm --group-components recording=<per-job>`` (the
profile's bundles run their jobs one at a time on 1 CPU, so the 2-CPU node runs two
bundles side by side). The submissions are counted from SLURM's own controller log (every
``_slurm_rpc_submit_batch_job``), not from Snakemake's plan, and printed beside the wall
time, the recordings per submission and the check that every recording has its features.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

from measure import ROOT, print_table, run_measured, snakemake


from eegflow.synthetic import synthetic_raw  # noqa: E402

SLURM_DIR = ROOT / "tests" / "slurm"
RECORDING = {
    "channels": ["O1", "Oz", "O2", "Cz", "Pz", "POz"],
    "sfreq": 128,
    "duration_s": 30,
    "noise_uv": 10,
    "alpha_hz": 10,
    "alpha_uv": 10,
    "seed": 7,
}
# a one-node cluster without an accounting database: squeue for status, no account
TEST_CLUSTER_ARGS = [
    "--slurm-status-command",
    "squeue",
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--seconds-between-status-checks",
    "2",
    "--slurm-keep-successful-logs",
]


def write_recordings(folder, n):
    """``n`` short FIF recordings in ``folder``."""
    folder.mkdir()
    for index in range(n):
        path = folder / f"rec{index:05d}_raw.fif"
        synthetic_raw(index, RECORDING).save(path, fmt="single", verbose="error")


def submissions(controller_log):
    """Batch jobs SLURM accepted, from its controller's log."""
    text = Path(controller_log).read_text()
    return len(re.findall(r"_slurm_rpc_submit_batch_job: JobId=\d+", text))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=1000)
    parser.add_argument("--per-job", type=int, default=20)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("starting the test SLURM cluster needs root")

    state = Path(tempfile.mkdtemp(prefix="eegflow-slurm-state-"))
    subprocess.run(["bash", str(SLURM_DIR / "start.sh"), str(state)], check=True)
    try:
        workdir = Path(tempfile.mkdtemp(prefix="eegflow-bundling-"))
        write_recordings(workdir / "data", args.recordings)
        (workdir / "config.yaml").write_text(
            "input: {source: files, files: ['data/*.fif']}\n"
        )
        env = dict(os.environ, XDG_CONFIG_HOME=str(workdir / "user-config"))
        subprocess.run(
            ["bash", str(ROOT / "profiles" / "slurm" / "install.sh")],
            env=env,
            check=True,
        )
        before = submissions(state / "slurmctld.log")
        command = snakemake(
            "--profile",
            "slurm",
            *TEST_CLUSTER_ARGS,
            "--group-components",
            f"recording={args.per_job}",
        )
        wall, _ = run_measured(command, workdir, env=env)
        submitted = submissions(state / "slurmctld.log") - before
        table = pd.read_parquet(workdir / "results" / "features.parquet")
    finally:
        subprocess.run(["bash", str(SLURM_DIR / "stop.sh"), str(state)])
    print(
        f"{args.recordings} recordings of {RECORDING['duration_s']} s, default config, "
        f"one-node SLURM ({os.cpu_count()} CPUs), --group-components "
        f"recording={args.per_job}"
    )
    print_table(
        [
            {
                "recordings": args.recordings,
                "slurm_submissions": submitted,
                "recordings_per_submission": args.recordings / submitted,
                "wall_min": wall / 60,
                "recordings_with_features": table["recording"].nunique(),
            }
        ],
        [
            "recordings",
            "slurm_submissions",
            "recordings_per_submission",
            "wall_min",
            "recordings_with_features",
        ],
    )


if __name__ == "__main__":
    main()
