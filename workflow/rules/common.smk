# Shared by every stage: validated config, the recordings table, resource estimates.
import functools
import gc
import json
import os
import sys
import time

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.settings.types import ExecMode
from snakemake.utils import min_version, validate

min_version("9.0")

sys.path.insert(0, os.path.join(workflow.basedir, "workflow", "scripts"))
# Jobs inherit it: MNE would load numba's compiler to compute a recording's times (crop,
# 0.2 s and about 50 MB of a preprocess job's peak); its NumPy code gives the same
# values. MNE_USE_NUMBA=true in the environment keeps MNE's numba.
os.environ.setdefault("MNE_USE_NUMBA", "false")

from eegflow import JOB_BASE_MB, OPTIONAL_RECORDING_STAGES, RECORDING_STAGES, UserError
from eegflow.changes import describe_changes, write_last_run_config
from eegflow.checks import check_config, check_metadata_columns
from eegflow.dependencies import package_modules, write_code_stamp
from eegflow.failures import failed_jobs, format_failure_table, write_failure_table
from eegflow.features import feature_job_mem_mb
from eegflow.fileio import window_table_shape
from eegflow.input_functions import (
    parameters_inspected_once,
    resource_evaluation_inspected_once,
)
from eegflow.recordings import SYNTHETIC_DIR, discover_recordings, recording_files
from eegflow.resources import (
    JOB_START_S,
    SECONDS_PER_INPUT_MB,
    features_seconds,
    ica_fit_seconds,
    input_job_seconds,
    runtime_request_min,
)
from eegflow.remote import RemoteStorage, is_remote
from eegflow.workers import cancel_scheduler_timers, run_job_script, script_job

_snakemake_expand = expand


def expand(*args, **wildcards):
    """Snakemake's expand(), also on rules' outputs under --default-storage-provider,
    where ``rules.<rule>.output`` are storage objects that expand() refuses (Snakemake
    issue #3876): their patterns are expanded as written, and Snakemake maps the
    paths to the storage again."""
    patterns = args[0] if isinstance(args[0], (list, tuple)) else [args[0]]
    return _snakemake_expand(
        list(map(stored_pattern, patterns)), *args[1:], **wildcards
    )


def stored_pattern(path):
    """The pattern a rule wrote for ``path``, a storage object under
    --default-storage-provider (any other storage object: its URL); ``path`` itself
    otherwise."""
    storage_object = getattr(path, "flags", {}).get("storage_object")
    if storage_object is None:
        return path
    prefix = workflow.storage_settings.default_storage_prefix
    return storage_object.query.removeprefix(f"{(prefix or '').rstrip('/')}/")


RUN_STARTED = time.time()  # a job whose log is older did not run in this run
FAILED_JOBS_TABLE = "results/failed_jobs.tsv"
# the settings of the last successful run, to say what changed since (eegflow.changes)
LAST_RUN_CONFIG = "results/code/last_run_config.json"

validate(config, "../schemas/config.schema.yaml", set_default=True)
# recordings on S3/HTTP(S): listed here, fetched per job by Snakemake's storage plugins
# (a SLURM job's Snakemake parses this again: it reads the main process's listings)
REMOTE = RemoteStorage(
    registry=storage,
    log=logger.warning,
    snapshot_dir=".snakemake/eegflow/remote",
    main_process=workflow.is_main_process,
)
try:
    for warning in check_config(config):
        logger.warning(f"Warning: {warning}")
    RECORDINGS = discover_recordings(config["input"], REMOTE)
    check_metadata_columns(RECORDINGS, config)
except UserError as error:
    raise WorkflowError(str(error)) from None
for change in describe_changes(config, LAST_RUN_CONFIG):
    logger.info(f"Changed since the last successful run: {change}")

if workflow.is_main_process:
    # Planning keeps every object it makes (a few hundred a job: Snakemake's jobs,
    # their files and resources), and Python's cycle collector, run every 700 new
    # objects, rescans the older ones again and again: a quarter of `snakemake -n` over
    # 20,000 recordings (86 s; 60-64 s with this). What exists now is kept for the run
    # (freeze); the collector runs every 100,000 new objects, over everything every
    # 50 million at most (still, in a long run, its cycles are collected). Job
    # processes (workers, a SLURM job's Snakemake) keep Python's defaults.
    gc.freeze()
    gc.set_threshold(100_000, 50, 10)
resource_evaluation_inspected_once()


wildcard_constraints:
    recording=r"[A-Za-z0-9_][A-Za-z0-9_.-]*",
    bids_path=r"sub-[^/]+/(ses-[^/]+/)?[a-z]+/sub-[^/]+",
    index=r"\d+",


PACKAGE_DIR = os.path.relpath(
    os.path.join(workflow.basedir, "workflow", "scripts", "eegflow")
)


def run_script_warm(script, job):
    """What ``script: "../scripts/<script>.py"`` does, in a warm worker process.

    For the ``run:`` block of the per-recording stages and of combine (short jobs, the
    last one on the run's critical path), given its ``locals()``: the job
    script runs unchanged with the names and values ``script:`` gives it as
    ``snakemake`` (:func:`eegflow.workers.script_job`; in a worker without Snakemake's
    classes: :func:`eegflow.workers.job_view`), in one of ``--cores`` worker processes that
    imported MNE, SciPy and pyarrow once (:mod:`eegflow.workers`), not in a new process
    per job. Where this Snakemake runs a single job (a SLURM job's), in this process.
    """
    run_job_script(
        os.path.join(os.path.dirname(PACKAGE_DIR), f"{script}.py"),
        script_job(job, config, os.path.dirname(PACKAGE_DIR)),
        workers=workflow.cores if workflow.exec_mode == ExecMode.DEFAULT else None,
    )


@functools.cache
def package_code(script):
    """The code input of job script ``script``'s rule: results/code/<script>.sha256,
    the hashes of the script and of the package modules it runs (its imports,
    followed through the package), rewritten at the start only when one changed:
    editing one reruns its jobs, a new module included."""
    path = os.path.join(os.path.dirname(PACKAGE_DIR), f"{script}.py")
    stamp, changed = write_code_stamp(
        f"results/code/{script}.sha256",
        [path, *package_modules(path, PACKAGE_DIR, ".snakemake/eegflow/imports.json")],
    )
    if changed:
        logger.info(f"Code of {script} changed: {', '.join(changed)}")
    return local(stamp)


@parameters_inspected_once
def recording_path(wildcards):
    """The raw file of a recording (its URL for a remote one)."""
    return RECORDINGS[wildcards.recording]["path"]


@parameters_inspected_once
def recording_input(wildcards):
    """The raw file of a recording as a job input (a remote one fetched by Snakemake)."""
    return REMOTE.as_input(recording_path(wildcards))


@parameters_inspected_once
def recording_companions(wildcards):
    """The files a recording consists of besides its main file (BrainVision .eeg and
    .vmrk, EEGLAB .fdt, FIF splits, a folder's files; a remote recording's objects,
    BIDS sidecars included): editing one reruns it."""
    entry = RECORDINGS[wildcards.recording]
    if entry["remote_files"]:
        return REMOTE.as_input(entry["remote_files"][1:])
    path = entry["path"]
    return [name for name in recording_files(path) if name != path]


@parameters_inspected_once
def recording_annotations(wildcards):
    """The annotations file paired with a recording (input.annotations), if any."""
    annotations = RECORDINGS[wildcards.recording]["annotations"]
    return [REMOTE.as_input(annotations)] if annotations else []


@parameters_inspected_once
def bids_sidecars(wildcards):
    """A local BIDS recording's sidecar files (events, channels, json) that exist
    (a remote one's are among its companions)."""
    entry = RECORDINGS[wildcards.recording]
    if not entry["bids_root"] or entry["remote_files"]:
        return []
    stem = entry["path"].rsplit("_", 1)[0]
    datatype = config["input"]["bids"]["datatype"]
    names = (f"{stem}_events.tsv", f"{stem}_channels.tsv", f"{stem}_{datatype}.json")
    return [name for name in names if os.path.exists(name)]


@parameters_inspected_once
def recording_bids_root(wildcards):
    """The BIDS root of a recording read with mne-bids, or "" for plain files."""
    return RECORDINGS[wildcards.recording]["bids_root"] or ""


# a BIDS recording's path in the data set, without suffix and extension -> its id
BIDS_PATHS = {
    entry["bids_path"]: rid for rid, entry in RECORDINGS.items() if entry["bids_path"]
}


def of_bids_recording(pattern):
    """An input function: output ``pattern`` of the recording at ``{bids_path}``."""
    return parameters_inspected_once(
        lambda wildcards: expand(pattern, recording=BIDS_PATHS[wildcards.bids_path])[0]
    )


def of_every_recording(pattern):
    """An input function: output ``pattern`` of every recording, none for None.

    A function, so that a run not asking for qc does not pay for its inputs. Snakemake
    looks at each path a rule names when it reads the rule, 0.26 s of a no-op run
    over 2,000 recordings for the 6,000 paths of qc (py-spy).
    """
    return parameters_inspected_once(
        lambda wildcards: (
            [] if pattern is None else expand(pattern, recording=sorted(RECORDINGS))
        )
    )


def bids_source(recording):
    """A BIDS recording's main file, relative to its data set's root."""
    entry = RECORDINGS[recording]
    return os.path.relpath(entry["path"], entry["bids_root"])


@parameters_inspected_once
def bids_root_files(wildcards):
    """A remote BIDS root's dataset_description.json and participants.tsv (those it
    has), fetched for the derivative data set's files; none for a local root (read
    in place)."""
    root = (config["input"]["bids"]["root"] or "").rstrip("/")
    if not is_remote(root):
        return []
    files = (
        f"{root}/{name}" for name in ("dataset_description.json", "participants.tsv")
    )
    return REMOTE.as_input([url for url in files if REMOTE.exists(url)])


def bids_derivative_targets():
    """With config input.bids.derivatives: every BIDS derivative file; else none."""
    if not config["input"]["bids"]["derivatives"]:
        return []
    return [
        *rules.bids_dataset_description.output,
        *expand(list(rules.bids_derivatives.output), bids_path=sorted(BIDS_PATHS)),
    ]


@parameters_inspected_once
def recording_overrides(wildcards):
    """A recording's own preprocessing from the recordings table: bad_channels,
    units_scale."""
    return RECORDINGS[wildcards.recording]["preprocess"]


@parameters_inspected_once
def recording_metadata(wildcards):
    """Per-recording columns (e.g. target) carried into every window's row."""
    return RECORDINGS[wildcards.recording]["metadata"]


def data_input_mb(input):
    """Size (MB) of a job's input files less its code stamp; 0 for a file not there yet,
    the listed size for a remote object not fetched yet.

    Snakemake's ``input.size_mb`` also counts the code every job has as input
    and runs an event loop per call: at 2,000 recordings the dry run spent 16 of its
    69 s (profiled) there.
    """
    size = 0
    for path in input:
        if path != input.code:
            try:
                size += os.stat(path).st_size
            except FileNotFoundError:  # planned, not written yet; remote, not fetched
                size += REMOTE.listed_size(path)
    return size / 1e6


def mem_mb_per_input_mb(factor, base_mb=JOB_BASE_MB):
    """A mem_mb callable: base + factor x the job's data input size, more on retries."""

    @parameters_inspected_once
    def mem_mb(wildcards, input, attempt):
        return int((base_mb + factor * data_input_mb(input)) * attempt)

    return mem_mb


def runtime_per_input_mb(seconds_per_mb):
    """A runtime (minutes) callable growing with the job's data input size and retries
    (eegflow.resources: the rates measured per rule, SECONDS_PER_INPUT_MB)."""

    @parameters_inspected_once
    def runtime(wildcards, input, attempt):
        seconds = input_job_seconds(seconds_per_mb, data_input_mb(input))
        return runtime_request_min(seconds, attempt)

    return runtime


FIXED_RUNTIME_MIN = runtime_request_min(JOB_START_S)  # a job of no data: the minimum


@parameters_inspected_once
def features_runtime(wildcards, input, attempt):
    """A features job's runtime (minutes): its windows' values times the measured
    cost of each configured feature (read from the window table's footer, so
    evaluated when the windows exist), more on retries."""
    shape = window_table_shape(input.windows)
    return runtime_request_min(features_seconds(config["features"], shape), attempt)


@parameters_inspected_once
def ica_fit_runtime(wildcards, input, attempt):
    """An ICA fit's runtime (minutes): it grows with the recording's size times its
    channels (their number from the preprocessing record), more on retries."""
    record = expand(rules.preprocess.output.record, recording=wildcards.recording)[0]
    with open(record) as handle:  # a missing record: Snakemake's FileNotFoundError
        n_channels = len(json.load(handle)["channels"])
    seconds = ica_fit_seconds(data_input_mb(input), n_channels)
    return runtime_request_min(seconds, attempt)


@parameters_inspected_once
def features_mem_mb(wildcards, input, attempt):
    """A features job's memory: base + its feature table + batches of windows within
    config execution.feature_memory_mb (read from the window table's footer, so
    evaluated when the windows exist), more on retries."""
    return (
        feature_job_mem_mb(
            config["features"],
            window_table_shape(input.windows),
            config["execution"]["feature_batch_windows"],
            config["execution"]["feature_memory_mb"],
        )
        * attempt
    )


@parameters_inspected_once
def synthetic_mem_mb(wildcards, attempt):
    """Interpreter + 3x one synthetic recording in float64, more on retries."""
    synthetic = config["input"]["synthetic"]
    n_values = len(synthetic["channels"]) * synthetic["sfreq"] * synthetic["duration_s"]
    return int((JOB_BASE_MB + 3 * 8 * n_values / 1e6) * attempt)


def synthetic_signal_settings():
    """Config input.synthetic less n_recordings: all one recording's data depend on."""
    synthetic = config["input"]["synthetic"]
    return {key: value for key, value in synthetic.items() if key != "n_recordings"}


def run_jobs():
    """Every job a run can have: {key: {"rule", "recording", "log", "benchmark",
    "outputs"}}, a key being "<rule>/<recording>", "combine" or "qc"."""
    jobs = {}

    def add(key, job_rule, **wildcards):
        rule_name, _, recording = key.partition("/")
        jobs[key] = {
            "rule": rule_name,
            "recording": recording,
            "log": expand(job_rule.log[0], **wildcards)[0],
            "benchmark": expand(job_rule.benchmark, **wildcards)[0],
            "outputs": expand(list(job_rule.output), **wildcards),
        }

    add("combine", rules.combine)
    add("qc", rules.qc)
    add("bids_dataset_description", rules.bids_dataset_description)
    for recording, entry in RECORDINGS.items():
        if entry["index"] is not None:  # a synthetic recording
            add(
                f"synthetic_recording/{recording}",
                rules.synthetic_recording,
                index=entry["index"],
            )
        for rule_name in (*RECORDING_STAGES, *OPTIONAL_RECORDING_STAGES):
            add(
                f"{rule_name}/{recording}",
                getattr(rules, rule_name),
                recording=recording,
            )
        if entry["bids_path"]:
            add(
                f"bids_derivatives/{recording}",
                rules.bids_derivatives,
                bids_path=entry["bids_path"],
            )
    return jobs


def report_failed_jobs():
    """After a failed run: print and write the table of failed jobs (onerror)."""
    failed = failed_jobs(run_jobs().values(), RUN_STARTED)
    if failed:
        write_failure_table(failed, FAILED_JOBS_TABLE)
        logger.error(format_failure_table(failed, FAILED_JOBS_TABLE))
        write_run_qc(failed)


def write_run_qc(failed):
    """The QC table of a run that did not build it with its qc job: the ``failed``
    jobs' recordings with their message, the others with what their finished
    stages recorded (its HTML page removed, so the qc rule reruns when asked)."""
    from eegflow.qc import write_run_qc_table  # pandas: only when needed

    recordings = {
        recording: {
            "source": RECORDINGS[recording]["path"],
            "record": expand(rules.preprocess.output.record, recording=recording)[0],
            "windows": expand(rules.windows.output.table, recording=recording)[0],
            "features": expand(rules.features.output.table, recording=recording)[0],
        }
        for recording in sorted(RECORDINGS)
    }
    outputs = {
        name: str(getattr(rules.qc.output, name)) for name in ("parquet", "csv", "html")
    }
    table = write_run_qc_table(recordings, failed, config["input"]["exclude"], outputs)
    counts = table["status"].value_counts().to_dict()
    (logger.error if failed else logger.info)(
        f"QC table of this run ({', '.join(f'{n} {s}' for s, n in counts.items())}): "
        f"{outputs['csv']}"
    )


def replace_failed_run_tables():
    """After a successful run (onsuccess): the failed-jobs table of an earlier failed
    run is stale, removed; so is its QC table, rewritten for this run unless this
    run's qc job wrote it."""
    if os.path.exists(FAILED_JOBS_TABLE):
        os.remove(FAILED_JOBS_TABLE)
        html = str(rules.qc.output.html)
        if not os.path.exists(html) or os.path.getmtime(html) < RUN_STARTED:
            write_run_qc([])


def remember_run_config():
    """After a successful run: its settings are what later runs say they changed
    (onsuccess)."""
    write_last_run_config(config, LAST_RUN_CONFIG)


def benchmark_job_inputs():
    """{job key: the data files the job reads}, for the input sizes of the summary:
    a recording's files for preprocess, the files each other per-recording rule
    names as inputs (its code aside)."""
    inputs = {"combine": [str(path) for path in rules.combine.input.tables]}
    inputs["qc"] = [
        str(path)
        for name, paths in rules.qc.input.items()
        if name != "code"
        for path in (
            paths({})
            if callable(paths)
            else [paths] if isinstance(paths, str) else paths
        )
    ]
    for recording, entry in RECORDINGS.items():
        for rule_name in (*RECORDING_STAGES, *OPTIONAL_RECORDING_STAGES):
            patterns = [
                pattern
                for name, pattern in getattr(rules, rule_name).input.items()
                if name != "code" and isinstance(pattern, str)
            ]
            inputs[f"{rule_name}/{recording}"] = expand(patterns, recording=recording)
        inputs[f"preprocess/{recording}"] = entry["remote_files"] or recording_files(
            entry["path"]
        )
    return inputs
