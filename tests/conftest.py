"""Shared test helpers: import the workflow's package, run the real snakemake."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))

# A tiny synthetic data set: 4 recordings x 6 channels x 30 s at 128 Hz.
TINY_CONFIG = {"input": {"synthetic": {"n_recordings": 4, "duration_s": 30}}}


def run_snakemake(workdir, *args, check=True):
    """Run the real snakemake CLI on this repository's Snakefile in ``workdir``."""
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
         "--cores", "2", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


def planned_jobs(workdir):
    """{rule: job count} that a dry run of the workflow in ``workdir`` plans."""
    result = run_snakemake(workdir, "--dry-run")
    output = result.stdout + result.stderr
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


def write_config(workdir, config):
    """Write ``config`` as the workdir's config.yaml."""
    (Path(workdir) / "config.yaml").write_text(yaml.safe_dump(config))


@pytest.fixture
def tiny_workdir(tmp_path):
    """A working directory holding the tiny data set's config.yaml."""
    write_config(tmp_path, TINY_CONFIG)
    return tmp_path
