"""The project's own checks, run by pytest so that CI (the README's test command) runs
them: Snakemake's linter, snakefmt, and ruff (pyflakes rules, syntax errors, line
length; the formatter) on the package, job scripts, tests and benchmarks, as
``.ruff.toml`` configures it."""

import subprocess
import sys

from conftest import ROOT


def run(*command):
    """Run a checker in the repository; its output when it fails."""
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def test_snakemake_lint_finds_nothing():
    code, output = run(sys.executable, "-m", "snakemake", "--lint", "--cores", "1")
    assert code == 0 and "Congratulations" in output, output


def test_snakefmt_would_change_nothing():
    code, output = run(sys.executable, "-m", "snakefmt", "--check", ".")
    assert code == 0, output


def test_ruff_finds_no_unused_or_undefined_names_or_long_lines():
    code, output = run(sys.executable, "-m", "ruff", "check", ".")  # .ruff.toml
    assert code == 0, output


def test_ruff_format_would_change_nothing():
    code, output = run(sys.executable, "-m", "ruff", "format", "--check", ".")
    assert code == 0, output
