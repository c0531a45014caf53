"""The README's install, alone, in a fresh virtual environment (no test requirements):
its first command as written, then the commands a newcomer types next (QC, the HTML
report, the package imported from another folder). The test requirements must not
hide a missing runtime dependency (pygments for --report was one)."""

import re
import shutil
import subprocess
import sys

from conftest import ROOT

# what a user's clone holds besides the repository's files
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git", ".venv", ".venv-*", "results", "resources", ".snakemake", "*.egg-info",
    "__pycache__", ".pytest_cache", "report.html",
)  # fmt: skip


def readme_install_command():
    """The first bash block under "## Two commands": install and run."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Two commands", 1)[1]
    return re.search(r"```bash\n(.+?)\n```", section, re.S).group(1).strip()


def run(command, cwd):
    """Run ``command`` in bash in ``cwd``; raise with its output if it fails."""
    result = subprocess.run(
        ["bash", "-c", command], cwd=cwd, capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command}\n{output[-8000:]}"
    return output


def test_readme_install_alone_runs_the_readme_commands(tmp_path):
    command = readme_install_command()
    assert command.startswith("python3 -m venv .venv && ")
    clone = tmp_path / "clone"
    shutil.copytree(ROOT, clone, ignore=NOT_IN_A_CLONE)
    # the interpreter running the tests stands for the user's python3
    run(command.replace("python3 ", f"{sys.executable} ", 1), clone)
    assert (clone / "results" / "features.parquet").exists()
    venv = clone / ".venv" / "bin"
    run(f"{venv}/snakemake --cores 2 qc", clone)
    run(f"{venv}/snakemake --report report.html qc", clone)
    assert (clone / "report.html").stat().st_size > 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = run(
        f"{venv}/python -c 'import eegflow, pandas; print(eegflow.__file__); "
        f'print(len(pandas.read_parquet("{clone}/results/features.parquet")))\'',
        elsewhere,
    )
    # the installed package is the clone's own code, the code the jobs run
    assert str(clone / "workflow" / "scripts" / "eegflow") in out
    # no test tool came with the runtime install
    listed = run(f"{venv}/pip list --format=freeze", clone)
    assert "antropy==" not in listed and "pyedflib==" not in listed
