"""Shared test helpers: import the workflow's package, run the real snakemake."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "workflow" / "scripts"))


@pytest.fixture(autouse=True, scope="session")
def filter_design_cache_of_the_tests(tmp_path_factory):
    """Filter designs (eegflow.filtering.cached_filter_designs) cached in a folder of
    the test session, for it and the workflows it runs, not in the user's cache."""
    os.environ["EEGFLOW_CACHE_DIR"] = str(tmp_path_factory.mktemp("eegflow-cache"))


# The documentation a user reads: README.md and the pages it links to.
DOCS = ROOT / "workflow" / "docs"


def documentation_pages():
    """README.md and every page under workflow/docs, in that order."""
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def documentation():
    """The text of every documentation page, joined: where a setting, an example or
    a feature must be documented, whichever page holds it."""
    return "\n\n".join(page.read_text() for page in documentation_pages())


def documented_block(language, heading):
    """The first ```language block after ``heading`` in the documentation."""
    text = documentation()
    start = text.index(f"```{language}\n", text.index(heading)) + len(language) + 4
    return text[start : text.index("```", start)]


def documented_classifier_scores(workdir):
    """Run the README's scikit-learn block in ``workdir`` (a finished run): the
    balanced accuracy of each fold it prints."""
    result = subprocess.run(
        [sys.executable, "-c", documented_block("python", "### Training a classifier")],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    )
    return [float(x) for x in re.findall(r"[\d.]+", result.stdout.split(":")[1])]


# A tiny synthetic data set: 4 recordings x 6 channels x 30 s at 128 Hz.
N_RECORDINGS, DURATION_S, WINDOW_S = 4, 30, 2
TINY_CONFIG = {
    "input": {"synthetic": {"n_recordings": N_RECORDINGS, "duration_s": DURATION_S}}
}


def synthetic_settings(channels, duration_s, seed):
    """Settings of eegflow.synthetic for a small test recording (128 Hz, 10 µV)."""
    return {
        "channels": channels,
        "sfreq": 128,
        "duration_s": duration_s,
        "noise_uv": 10,
        "alpha_hz": 10,
        "alpha_uv": 10,
        "seed": seed,
    }


def snakemake_command(*args, snakefile=ROOT / "Snakefile"):
    """The real snakemake CLI on this repository's Snakefile (2 cores unless args say)."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(snakefile),
        "--cores",
        "2",
        *args,
    ]


def run_snakemake(workdir, *args, check=True, snakefile=ROOT / "Snakefile"):
    """Run snakemake in ``workdir``; raise with its output if it fails and ``check``."""
    result = subprocess.run(
        snakemake_command(*args, snakefile=snakefile),
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result


def planned_jobs(workdir, *args, snakefile=ROOT / "Snakefile"):
    """{rule: job count} that a dry run of the workflow in ``workdir`` plans (with
    snakemake options ``args``)."""
    result = run_snakemake(workdir, "--dry-run", *args, snakefile=snakefile)
    output = result.stdout + result.stderr
    if "Nothing to be done" in output:
        return {}
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", table, re.M)}


def write_config(workdir, config):
    """Write ``config`` as the workdir's config.yaml."""
    # in the given key order: order shapes outputs (feature columns), so it is a param
    (Path(workdir) / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def use_example(workdir, name):
    """Copy ``workflow/examples/<name>.yaml`` to the workdir's config.yaml, as the README
    tells a user to."""
    shutil.copy(
        ROOT / "workflow" / "examples" / f"{name}.yaml", Path(workdir) / "config.yaml"
    )


def edit(path, old, new):
    """Replace one exact piece of text in a file, as a user's edit would."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} not found once in {path}"
    path.write_text(text.replace(old, new))


def tiny_copy_of_default_config(workdir):
    config = workdir / "config.yaml"
    shutil.copy(ROOT / "config.yaml", config)
    edit(config, "n_recordings: 16", f"n_recordings: {N_RECORDINGS}")
    edit(config, "duration_s: 240", f"duration_s: {DURATION_S}")
    return config


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory):
    """A complete run of the workflow on the tiny data set, with --cores 2."""
    workdir = tmp_path_factory.mktemp("run")
    tiny_copy_of_default_config(workdir)
    run_snakemake(workdir)
    return workdir


def edfbrowser_file(name):
    """A file written by EDFbrowser's test generator, shipped in pyedflib's wheel.

    ``test_generator.edf``: EDF+, 600 s at 200 Hz, 11 signals (square, ramp, pulse,
    noise, sines of 1, 8, 8.1777, 8.5, 15, 17 and 50 Hz, amplitude 100 µV), two
    annotations. ``test_generator.bdf``: BDF, 30 s at 1000 Hz (sine 5 Hz, square
    13 Hz, ramp 7 Hz, pink noise, white noise).
    """
    import pyedflib

    package = Path(pyedflib.__file__).parent
    path = package / "data" / name
    return path if path.exists() else package / "tests" / "data" / name


def config_section(name, **changes):
    """Config section ``name`` with ``changes`` over the schema's defaults."""
    from snakemake.utils import validate

    config = {name: changes}
    validate(
        config,
        str(ROOT / "workflow" / "schemas" / "config.schema.yaml"),
        set_default=True,
    )
    return config[name]


def window_settings(**changes):
    """Config ``windows`` with its defaults (fixed-length windows), changed by ``changes``."""
    return config_section("windows", **changes)


def input_config(**section):
    """Config ``input`` with ``section`` over the schema's defaults."""
    return config_section("input", **section)
