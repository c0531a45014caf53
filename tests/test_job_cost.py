"""What a recording's jobs import: only what they use (benchmarks/overhead.py measures
the cost beyond the work)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import mne
import numpy as np

from conftest import ROOT

HEAVY = ("numba", "scipy.signal", "scipy.stats", "mne")


def imported_by(code, workdir, modules=HEAVY):
    """The ``modules`` that ``code`` leaves imported, run as a job runs: in a fresh
    interpreter, with MNE_USE_NUMBA=false (:func:`eegflow.jobs.job_logging`)."""
    preamble = (
        f"import sys; sys.path[:0] = [{str(ROOT / 'workflow' / 'scripts')!r}, "
        f"{str(Path(__file__).parent)!r}]\n"
        "from conftest import config_section, window_settings\n"
    )
    report = f"\nimport json; print(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", preamble + code + report],
        cwd=workdir,
        env={**os.environ, "MNE_USE_NUMBA": "false"},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def test_jobs_import_neither_numba_nor_scipy_signal_nor_mne_they_do_not_use(tmp_path):
    rng = np.random.default_rng(0)
    raw = mne.io.RawArray(
        rng.normal(0, 20e-6, (3, 128 * 60)),
        mne.create_info(["O1", "Oz", "O2"], 128.0, "eeg"),
        verbose="error",
    )
    mne.export.export_raw(tmp_path / "rec.edf", raw, verbose="error")
    # preprocess needs MNE, not numba; scipy.signal (MNE designs its filters with it)
    # only for designs not cached yet: a second recording filtered alike needs none
    preprocess = (
        "from eegflow.preprocess import preprocess_recording\n"
        "preprocess_recording('rec.edf', 'rec_raw.fif', config_section("
        "'preprocess', filter={'l_freq': 1.0}, notch={'line_freq': 50}), "
        "record_path='rec.json')\n"
    )
    times_right = (
        "import mne, numpy as np\n"
        "raw = mne.io.read_raw_fif('rec_raw.fif', verbose='error')\n"
        "assert (raw.times == np.arange(raw.n_times) / raw.info['sfreq']).all()"
    )
    assert "numba" not in imported_by(preprocess + times_right, tmp_path)
    assert set(imported_by(preprocess, tmp_path)) == {"mne"}
    # the windows and features jobs read the FIF through the layout preprocess wrote,
    # and write their tables without pandas (0.2 s and 40 MiB a process)
    assert Path(tmp_path / "rec_raw.layout.json").exists()
    assert not imported_by(
        "from eegflow.windows import make_windows\n"
        "make_windows('rec_raw.fif', 'windows.parquet', window_settings(), 'rec',"
        " {'target': 1, 'group': 'a'}, record_path='rec.json')",
        tmp_path,
        HEAVY + ("pandas",),
    )
    assert not imported_by(  # its Welch PSD without SciPy
        "from eegflow.features import compute_features\n"
        "compute_features('rec_raw.fif', 'windows.parquet', 'features.parquet',"
        " config_section('features'))",
        tmp_path,
        HEAVY + ("pandas",),
    )
    assert not imported_by(  # the last job of every run
        "from eegflow.combine import combine_feature_tables\n"
        "combine_feature_tables(['features.parquet'], 'combined.parquet')",
        tmp_path,
        HEAVY + ("pandas",),
    )
    # reading the windows back, z-scored, for training
    imported_by(
        "from eegflow.windows import make_windows\n"
        "make_windows('rec_raw.fif', 'scaled.parquet', window_settings(scaling="
        "'zscore'), 'rec', {}, record_path='rec.json')",
        tmp_path,
    )
    assert not imported_by(
        "from eegflow.windows import read_windows\n"
        "windows = read_windows('rec_raw.fif', 'scaled.parquet')[0]\n"
        "assert abs(windows[:].std(axis=-1) - 1).max() < 1e-6",
        tmp_path,
        HEAVY + ("pandas",),
    )


def dry_run_reporting(script, marker, workdir, *targets, dry_run=True):
    """What ``script`` reports: it runs ``snakemake --dry-run --forceall`` (with
    ``dry_run=False``, ``snakemake``) on ``targets`` in ``workdir`` (a tiny copy of the
    default config) as Snakemake's command line does, then prints ``marker`` and a
    JSON value, returned here."""
    from conftest import snakemake_command, tiny_copy_of_default_config

    tiny_copy_of_default_config(workdir)
    options = ("--dry-run", "--forceall") if dry_run else ()
    command = snakemake_command(*options, *targets)
    result = subprocess.run(
        [sys.executable, "-c", script, *command[3:]],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.rsplit(marker, 1)[1])


COUNT_SIGNATURES = """
import collections, inspect, json, sys
from snakemake.cli import main

inspected = collections.Counter()
signature = inspect.signature


def counted(function, *args, **kwargs):
    code = getattr(function, "__code__", None)
    if code is not None and code.co_filename.endswith((".smk", "Snakefile")):
        inspected[f"{code.co_name} ({code.co_filename.rsplit('/', 1)[-1]}, "
                  f"{id(function)})"] += 1
    elif code is not None and code.co_qualname == "Resource.evaluate":
        inspected["Resource.evaluate"] += 1  # Snakemake's, bound to each resource
    return signature(function, *args, **kwargs)


inspect.signature = counted
try:
    main(sys.argv[1:])
finally:
    print("INSPECTED", json.dumps(inspected))
"""


def test_snakemake_inspects_each_input_function_once_not_once_per_job(tmp_path):
    """Planning looks up each input, params and resources function's parameters once
    (:func:`eegflow.input_functions.parameters_inspected_once`), not three times per
    job (46,000 lookups, 0.4-0.5 s of a no-op run over 2,000 recordings), nor those of
    Snakemake's ``Resource.evaluate`` three times per resource and job
    (:func:`eegflow.input_functions.resource_evaluation_inspected_once`). Fails when a
    rule names a function without the decorator, or when Snakemake stops reading the
    parameters it sets."""
    inspected = dry_run_reporting(
        COUNT_SIGNATURES, "INSPECTED", tmp_path, "all", "qc", "summary"
    )
    assert inspected  # the decorator's own look, once per function
    assert {name: n for name, n in inspected.items() if n > 1} == {}


GC_SETTINGS = """
import gc, json, sys
from snakemake.cli import main

try:
    main(sys.argv[1:])
finally:
    print("GC", json.dumps([gc.get_threshold(), gc.get_freeze_count()]))
"""


def test_planning_process_collects_garbage_rarely(tmp_path):
    """Snakemake's process plans with the parse's objects frozen and the cycle
    collector run every 100,000 new objects (a quarter of `snakemake -n` over 20,000
    recordings went to collections at Python's default of 700)."""
    threshold, frozen = dry_run_reporting(GC_SETTINGS, "GC", tmp_path, "all")
    assert threshold == [100_000, 50, 10]
    assert frozen > 10_000  # the modules, the config, the recordings table


COUNT_HEAVY_IMPORTS = """
import builtins, json, sys
from snakemake.cli import main

HEAVY = ("pandas", "pyarrow", "scipy", "mne", "numba", "matplotlib")
imported = set()
plain_import = builtins.__import__


def watched(name, globals=None, *args, **kwargs):
    if name.split(".")[0] in HEAVY:  # asked for by the workflow's code, however deep?
        frame = sys._getframe(1)
        while frame is not None:
            file = frame.f_code.co_filename
            if file.endswith((".smk", "Snakefile")) or "/eegflow/" in file:
                imported.add(f"{name} ({file.rsplit('/', 1)[-1]})")
                break
            frame = frame.f_back
    return plain_import(name, globals, *args, **kwargs)


builtins.__import__ = watched
try:
    main(sys.argv[1:])
finally:
    print("HEAVY", json.dumps(sorted(imported)))
"""


def test_snakemakes_process_imports_neither_pandas_nor_mne(tmp_path):
    """Snakemake's own process, which runs the Snakefile at every start (a run, a
    no-op, a SLURM job's) and the rules' ``run:`` blocks, imports through the
    workflow's code none of pandas, SciPy, MNE, and pyarrow only to read a window
    table's footer for a features job's memory: in the README's install (no SLURM
    plugin, whose efficiency report imports pandas) a dry run took 0.9 s and 73 MiB
    more with them, and a run's Snakemake 67 MiB more once its first job was handed
    over as Snakemake's ``snakemake`` object (:func:`eegflow.workers.script_job`)."""
    planned = dry_run_reporting(
        COUNT_HEAVY_IMPORTS, "HEAVY", tmp_path, "all", "qc", "summary"
    )
    assert planned == []
    ran = dry_run_reporting(
        COUNT_HEAVY_IMPORTS, "HEAVY", tmp_path, "all", dry_run=False
    )
    assert ran and {
        (name.split(".")[0], importer) for name, importer in map(str.split, ran)
    } == {("pyarrow", "(fileio.py)")}
