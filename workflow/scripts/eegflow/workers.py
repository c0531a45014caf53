"""Warm worker processes for the per-recording stages' job scripts.

A job script started by Snakemake's ``script:`` is a new Python process that imports
MNE, SciPy and pyarrow before its work: about 0.6 s of a job whose work is often less
(a 20-minute recording's windows take 0.1 s). The per-recording stages run their
unchanged job script in one of ``--cores`` long-lived worker processes instead, each
importing those once: :func:`run_job_script`, called by the rules' ``run:`` blocks.

Each job still runs in a process of its own at a time (never two in one process: MNE's
logging, Python's warning filters and the job's log file are per process), fails on its
own (a worker that dies, killed or out of memory, fails the job it ran and is
replaced), and logs as before (:func:`eegflow.jobs.job_logging`). A worker gets the
job's names and values without Snakemake's classes (:func:`job_view`: it never imports
Snakemake) and gives the memory a job freed back to the system before the next
(:func:`return_freed_memory`). Where this Snakemake process runs one job only (a
SLURM job, or a ``run:`` job Snakemake spawned because ``--force-use-threads`` was
off), the script runs in this process itself: there is nothing to keep warm.
"""

import atexit
import ctypes
import functools
import os
import pickle
import queue
import runpy
import subprocess
import sys
import threading
import time
import traceback
import types
import warnings

PARENT_CHECK_S = 0.5  # a worker whose Snakemake died stops within this
# the CPU thread caps Snakemake gives a ``script:`` job of one thread: the pooled
# stages' rules declare ``threads: 1``
THREAD_CAP_VARIABLES = (
    "OMP_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


class NamedValues(list):
    """One of a job's lists (input, output, params, wildcards, resources, log) as its
    script reads it: a list whose named entries are also attributes, as Snakemake's
    ``Namedlist``, made of plain values (see :func:`job_view`)."""

    def __init__(self, values, names=None):
        super().__init__(str(v) if isinstance(v, str) else v for v in values)
        self._names = dict(names or {})
        for name, (start, end) in self._names.items():
            setattr(
                self,
                name,
                self[start] if end is None else NamedValues(self[start:end]),
            )

    def __getitem__(self, key):
        """An entry by position or slice, or by name (``input["raw"]``)."""
        if isinstance(key, str):
            if key not in self._names:
                raise KeyError(key)
            return getattr(self, key)
        return super().__getitem__(key)

    def keys(self):
        """The names, in order."""
        return self._names.keys()

    def items(self):
        """(name, value) pairs, in order."""
        return [(name, self[name]) for name in self._names]

    def get(self, key, default=None):
        """The value named ``key``, else ``default``."""
        return self[key] if key in self._names else default


# what Snakemake's ``snakemake`` object of a ``script:`` job holds for its script
SCRIPT_JOB_FIELDS = (
    "input",
    "output",
    "params",
    "wildcards",
    "threads",
    "resources",
    "log",
    "config",
    "rule",
    "bench_iteration",
    "scriptdir",
)


def script_job(rule_locals, config, scriptdir):
    """What Snakemake's ``script:`` hands its job script as ``snakemake``, for the job
    of a ``run:`` block whose ``locals()`` are ``rule_locals``: the fields of
    :data:`SCRIPT_JOB_FIELDS`, the file lists (input, output, log) as plain strings
    (their ``_plainstrings()``, a remote file's local copy or query as Snakemake gives
    it), params, wildcards, resources as the job has them.

    Snakemake's own class for it (``snakemake.iocontainers.Snakemake``) imports pandas
    and polars when it is made, to store any data frame among params: 0.3 s before the
    first job could start, and 67 MiB in Snakemake's own process while the first jobs
    run, for params that hold none (the README's install; Snakemake's record of a
    finished job imports pandas later, wherever it is installed).
    """
    return types.SimpleNamespace(
        **{
            name: rule_locals[name]._plainstrings()
            for name in ("input", "output", "log")
        },
        **{
            name: rule_locals[name]
            for name in SCRIPT_JOB_FIELDS
            if name not in ("input", "output", "log", "config", "scriptdir")
        },
        config=config,
        scriptdir=scriptdir,
    )


def job_view(job):
    """``job`` (Snakemake's ``snakemake`` object of a ``script:`` job) for a worker: its
    fields (:data:`SCRIPT_JOB_FIELDS`) with the same values, its lists (Snakemake's
    ``Namedlist``: input, output, params, ...) as :class:`NamedValues` of the same
    values and names, their strings plain ``str``.

    Unpickling Snakemake's own classes would import Snakemake into every worker (117
    modules, 11 MiB of resident memory and 0.06 s a worker) for a job script that only
    reads names and values.
    """
    view = types.SimpleNamespace()
    for field in SCRIPT_JOB_FIELDS:
        if hasattr(job, field):
            value = getattr(job, field)
            names = getattr(value, "_names", None)  # Namedlist: {name: (start, end)}
            if isinstance(value, list) and isinstance(names, dict):
                value = NamedValues(value, names)
            setattr(view, field, value)
    return view


class JobScriptFailed(Exception):
    """A pooled job script failed; its log says why (and Snakemake shows the log)."""


def run_job_script(script, job, *, workers):
    """Run job script ``script`` with ``snakemake`` bound to ``job``.

    Parameters
    ----------
    script : str or path-like
        The job script (``workflow/scripts/<rule>.py``), exactly what ``script:`` ran.
    job : object
        What a ``script:`` job gets as ``snakemake`` (:func:`script_job`).
    workers : int or None
        Run it in one of this many warm worker processes (this Snakemake's
        ``--cores``); None: in this process.

    Raises
    ------
    JobScriptFailed
        When the script exits non-zero or raises, or its worker dies.
    """
    if workers is None:
        outcome = run_in_this_process(str(script), job, time.time())
    else:
        outcome = _pool(workers).run(str(script), job)
    if outcome != 0:
        outcome = f"exit {outcome}" if isinstance(outcome, int) else outcome
        raise JobScriptFailed(
            f"{os.path.basename(script)} failed ({outcome}): see its log, "
            f"{job.log[0] if job.log else 'none'}"
        )


def run_in_this_process(script, job, submitted):
    """Run ``script`` as ``__main__`` with ``snakemake = job``; its exit code.

    ``submitted`` (``time.time()`` when the job was handed over) is what the job logs
    its start-up from. Python's warning filters are restored afterwards and the FIF
    files the job mapped unmapped (:func:`eegflow.fifread.close_readers`); the kernel's
    peak-memory mark is reset first (Linux) and the CPU seconds so far noted, so the
    job logs its own peak and CPU time.
    """
    from . import jobs

    jobs.JOB_SUBMITTED_AT = submitted
    jobs.JOB_CPU_S_AT_START = jobs.process_cpu_s()
    _reset_peak_memory()
    try:
        with warnings.catch_warnings():
            runpy.run_path(script, init_globals={"snakemake": job}, run_name="__main__")
    except SystemExit as exit:
        return exit.code if isinstance(exit.code, int) else 1
    except BaseException:  # noqa: BLE001 - reported as the job's failure
        # job_logging logged its own exceptions; this is one raised outside it
        traceback.print_exc()
        return 1
    finally:
        jobs.JOB_SUBMITTED_AT, jobs.JOB_CPU_S_AT_START = None, 0.0
        fifread = sys.modules.get(f"{__package__}.fifread")
        if fifread is not None:  # the job's file maps end with it
            fifread.close_readers()
    return 0


def _reset_peak_memory():
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")  # resets VmHWM, the peak resident set
    except OSError:
        pass


class _Pool:
    """Up to ``size`` worker processes, started as jobs need them, one job each at a time."""

    def __init__(self, size):
        self.size = size
        self.idle = queue.LifoQueue()  # the warmest worker first
        self.started = 0
        self.lock = threading.Lock()
        self.processes = []
        atexit.register(self.close)

    def close(self):
        """End the workers (at Snakemake's exit): their CPU time is then counted as
        this process's children's, as a job process's is."""
        for worker in self.processes:
            if worker.poll() is None:
                worker.stdin.close()
        for worker in self.processes:
            try:
                worker.wait(timeout=PARENT_CHECK_S * 4)
            except subprocess.TimeoutExpired:
                worker.kill()

    def run(self, script, job):
        """Run ``script`` in a worker: its exit code, or why its worker died."""
        worker = self._take()
        try:
            pickle.dump((script, job_view(job), time.time()), worker.stdin)
            worker.stdin.flush()
            code = pickle.load(worker.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            returncode = worker.wait()
            with self.lock:
                self.started -= 1
            self.idle.put(None)  # a free place for a new worker
            return f"its worker process died, {_signal_text(returncode)}"
        self.idle.put(worker)
        return code

    def _take(self):
        with self.lock:
            if self.started < self.size and self.idle.empty():
                return self._start()
        worker = self.idle.get()
        if worker is None:
            with self.lock:
                return self._start()
        return worker

    def _start(self):
        self.started += 1
        self.processes.append(_start_worker())
        return self.processes[-1]


def cancel_scheduler_timers(scheduler):
    """Cancel the timers ``scheduler`` (Snakemake's job scheduler, ``workflow.scheduler``)
    leaves behind at the end of a run.

    With its job-rate limit on (``--max-jobs-per-timespan``, 100/1s by default), every
    scheduling round of a run sets a ``threading.Timer`` of one timespan that wakes the
    scheduler to look again. Python waits for such threads before it exits: up to 1 s
    after "Elapsed time" (1.3 s from it to the exit of a one-job run, 0.3 s with this).
    Called first by the Snakefile's ``onsuccess`` and ``onerror``, which Snakemake runs
    once the scheduler returned; only timers whose action holds this scheduler are
    cancelled (another scheduler in the same process keeps its own).
    """
    if scheduler is None:
        return
    for thread in threading.enumerate():
        action = getattr(thread, "function", None)
        if isinstance(thread, threading.Timer) and any(
            cell.cell_contents is scheduler
            for cell in getattr(action, "__closure__", None) or ()
        ):
            thread.cancel()


def _signal_text(returncode):
    if returncode is not None and returncode < 0:
        import signal

        name = signal.Signals(-returncode).name
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"killed by {name}{hint}"
    return f"exit {returncode}"


_POOLS = {}
_POOLS_LOCK = threading.Lock()


def _pool(size):
    with _POOLS_LOCK:
        if size not in _POOLS:
            _POOLS[size] = _Pool(size)
        return _POOLS[size]


def _start_worker():
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [package_parent, environment.get("PYTHONPATH")])
    )
    environment.update(dict.fromkeys(THREAD_CAP_VARIABLES, "1"))
    return subprocess.Popen(
        [sys.executable, "-c", "from eegflow.workers import serve; serve()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=environment,
    )


def serve():
    """A worker's loop: read a job from stdin, run it, answer its exit code.

    The answers go to the process's original standard output; the jobs' own output goes
    to standard error. The worker ends when its Snakemake closes the pipe or dies (each
    job has closed its log by then).
    """
    requests = sys.stdin.buffer
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    parent = os.getppid()
    threading.Thread(target=_stop_with_parent, args=(parent,), daemon=True).start()
    while True:
        try:
            script, job, submitted = pickle.load(requests)
        except EOFError:  # Snakemake is done: end without the interpreter's teardown
            sys.stdout.flush()  # (0.4 s with MNE, SciPy, numba and pyarrow loaded)
            sys.stderr.flush()
            os._exit(0)
        code = run_in_this_process(script, job, submitted)
        return_freed_memory()
        pickle.dump(code, answers)
        answers.flush()


def return_freed_memory():
    """Give the memory freed by the job that just ended back to the system, where the
    C library is glibc (``malloc_trim``): a worker waiting for its next job then holds
    its imports, not the peak of its last job.

    glibc keeps freed memory in its heap for reuse, and after a large array is freed it
    serves allocations up to that size from the heap too: a worker that preprocessed a
    9 h recording held 108 MiB between jobs, 75 MiB once trimmed (3-channel, 100 Hz
    EDF). The system's accounting counts what a waiting worker holds while the other
    workers run.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, looked up once a process; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc (musl)
        return None


def _stop_with_parent(parent):
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)
