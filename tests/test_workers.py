"""Warm worker processes (eegflow.workers): a job script runs as ``script:`` ran it, in a
process that stays for the next job; failures and dead workers fail their job only."""

import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import types

import pytest

from conftest import ROOT
from eegflow.workers import JobScriptFailed, cancel_scheduler_timers, run_job_script

SCRIPT = """
import os, sys, time
from eegflow.jobs import job_logging

with job_logging(snakemake.log[0]):
    what = snakemake.params["what"]
    with open(snakemake.output[0], "w") as handle:
        handle.write(str(os.getpid()))
    if what == "exit":
        sys.exit(3)
    if what == "raise":
        raise ValueError("a bug in the job")
    if what == "die":
        os.kill(os.getpid(), 9)
    if what == "sleep":
        time.sleep(0.5)
    if what == "open_reader":  # as a windows or features job's fif_reader does
        from eegflow import fifread

        fifread._readers["a recording"] = "its reader"
    if what == "no_reader_left":
        from eegflow import fifread

        sys.exit(5 if fifread._readers else 0)
"""


def job(tmp_path, name, what="work"):
    return types.SimpleNamespace(
        output=[str(tmp_path / f"{name}.pid")],
        log=[str(tmp_path / f"{name}.log")],
        params={"what": what},
        rule="test",
        wildcards={},
    )


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "job.py"
    path.write_text(SCRIPT)
    return path


def pid_of(tmp_path, name):
    return int((tmp_path / f"{name}.pid").read_text())


def test_jobs_run_in_warm_workers_one_job_each_at_a_time(tmp_path, script):
    # four jobs from two threads at once (Snakemake's --cores 2): two workers, each
    # serving two jobs, none in this process
    threads = [
        threading.Thread(
            target=run_job_script,
            args=(script, job(tmp_path, f"job{i}", "sleep")),
            kwargs={"workers": 2},
        )
        for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pids = [pid_of(tmp_path, f"job{i}") for i in range(4)]
    assert os.getpid() not in pids
    assert len(set(pids)) == 2
    log = (tmp_path / "job0.log").read_text()
    assert "start-up: 0.0" in log and "peak RSS of this job" in log
    assert "CPU time of this job" in log
    # a later job reuses a warm worker
    run_job_script(script, job(tmp_path, "later"), workers=2)
    assert pid_of(tmp_path, "later") in pids


def test_a_jobs_file_maps_end_with_it(tmp_path, script):
    # else a worker's resident memory grows by every recording's FIF its jobs read
    run_job_script(script, job(tmp_path, "opens", "open_reader"), workers=1)
    run_job_script(script, job(tmp_path, "next", "no_reader_left"), workers=1)
    assert pid_of(tmp_path, "next") == pid_of(tmp_path, "opens")


def test_a_failing_job_fails_alone_naming_its_log(tmp_path, script):
    for what, said in (("exit", "exit 3"), ("raise", "exit 1")):
        with pytest.raises(JobScriptFailed, match=said) as failed:
            run_job_script(script, job(tmp_path, what, what), workers=1)
        assert str(tmp_path / f"{what}.log") in str(failed.value)
    assert "ValueError: a bug in the job" in (tmp_path / "raise.log").read_text()
    # the same worker goes on with the next job
    run_job_script(script, job(tmp_path, "next"), workers=1)
    assert pid_of(tmp_path, "next") == pid_of(tmp_path, "exit")


def test_a_dead_worker_fails_its_job_and_is_replaced(tmp_path, script):
    with pytest.raises(JobScriptFailed, match="killed by SIGKILL"):
        run_job_script(script, job(tmp_path, "die", "die"), workers=1)
    run_job_script(script, job(tmp_path, "after"), workers=1)
    dead = pid_of(tmp_path, "die")
    assert pid_of(tmp_path, "after") != dead
    with pytest.raises(ProcessLookupError):
        os.kill(dead, 0)


def test_in_this_process_where_snakemake_runs_one_job(tmp_path, script):
    run_job_script(script, job(tmp_path, "here"), workers=None)
    assert pid_of(tmp_path, "here") == os.getpid()
    with pytest.raises(JobScriptFailed, match="exit 3"):
        run_job_script(script, job(tmp_path, "exit", "exit"), workers=None)


def test_workers_stop_when_their_snakemake_is_killed(tmp_path, script):
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, types; from eegflow.workers import run_job_script\n"
            f"job = types.SimpleNamespace(output=[{str(tmp_path / 'w.pid')!r}],"
            f" log=[{str(tmp_path / 'w.log')!r}], params={{'what': 'work'}},"
            " rule='test', wildcards={})\n"
            f"run_job_script({str(script)!r}, job, workers=1)\n"
            "print('ran', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout.readline() == "ran\n"
    worker = pid_of(tmp_path, "w")
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while time.time() < deadline and running(worker):
        time.sleep(0.1)
    assert not running(worker), f"worker {worker} outlived its killed parent"


def test_the_schedulers_timers_are_cancelled_and_no_others():
    """The timer Snakemake's own scheduler code sets (its method, on a stand-in
    scheduler) is cancelled; another scheduler's timer and any other timer run."""
    from snakemake.scheduling.job_scheduler import JobScheduler

    def timers_of(scheduler):
        return [
            thread
            for thread in threading.enumerate()
            if isinstance(thread, threading.Timer)
            and any(
                cell.cell_contents is scheduler
                for cell in thread.function.__closure__ or ()
            )
        ]

    ours, other = (
        types.SimpleNamespace(_open_jobs=threading.Semaphore(0)) for _ in range(2)
    )
    JobScheduler._schedule_reevalutation(ours, 10)
    JobScheduler._schedule_reevalutation(other, 0.5)
    unrelated_ran = threading.Event()
    threading.Timer(0.5, unrelated_ran.set).start()
    (timer,) = timers_of(ours)
    cancel_scheduler_timers(ours)
    timer.join(timeout=5)
    assert not timer.is_alive()
    assert not ours._open_jobs.acquire(blocking=False)  # never released
    assert other._open_jobs.acquire(timeout=5)
    assert unrelated_ran.wait(timeout=5)


def running(pid):
    """Whether process ``pid`` runs (a zombie nobody reaped yet does not)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def run_with_the_package(code):
    """Run ``code`` in a fresh interpreter that imports eegflow as a worker does."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "workflow" / "scripts")},
    )


def test_a_worker_gets_the_jobs_names_and_values_without_snakemakes_classes(tmp_path):
    from snakemake.io import _IOFile
    from snakemake.iocontainers import (
        InputFiles,
        Log,
        OutputFiles,
        Params,
        ResourceList,
        Snakemake,
        Wildcards,
    )

    from eegflow.workers import job_view, script_job

    def named(kind, **values):
        return kind(fromdict=values)

    inputs = InputFiles(
        toclone=["code.sha256", "a.edf", "a.tsv", "b.tsv"], plainstr=True
    )
    inputs._set_name("code", 0)
    inputs._set_name("raw", 1)
    inputs._set_name("annotations", 2, end=4)
    run_block_locals = {  # what a rule's run: block sees
        "input": inputs,
        "output": named(OutputFiles, fif="a_raw.fif"),
        "params": named(Params, preprocess={"filter": {"h_freq": 30}}, source="a.edf"),
        "wildcards": named(Wildcards, recording="a", index="3"),
        "threads": 1,
        "resources": named(ResourceList, mem_mb=400, tmpdir="/tmp"),
        "log": named(Log, log="a.log"),
        "rule": "preprocess",
        "bench_iteration": None,
        "jobid": 7,
    }
    job = Snakemake(
        *(run_block_locals[name] for name in ("input", "output", "params")),
        *(run_block_locals[name] for name in ("wildcards", "threads", "resources")),
        run_block_locals["log"],
        {"execution": {}},
        "preprocess",
        None,
        str(tmp_path),
    )
    # the rules' run: blocks make it without Snakemake's class (which imports pandas)
    made_here = job_view(script_job(run_block_locals, job.config, str(tmp_path)))
    assert vars(made_here).keys() == vars(job_view(job)).keys()
    for field, value in vars(job_view(job)).items():
        assert getattr(made_here, field) == value
        names = getattr(value, "_names", None)
        assert getattr(getattr(made_here, field), "_names", None) == names
    view = job_view(job)
    for field in ("input", "output", "params", "wildcards", "resources", "log"):
        original, copied = getattr(job, field), getattr(view, field)
        assert list(copied) == list(original)
        assert list(copied.keys()) == list(original.keys())
        for name, value in original.items():
            assert getattr(copied, name) == value and copied.get(name) == value
    assert view.input.annotations == ["a.tsv", "b.tsv"]
    assert view.input["raw"] == job.input["raw"] == "a.edf"
    assert view.input[1:3] == ["a.edf", "a.tsv"]
    with pytest.raises(KeyError):
        view.input["missing"]
    assert view.wildcards.index == "3"  # a name that is a list method's, as Snakemake
    assert view.params.preprocess == {"filter": {"h_freq": 30}}
    assert (view.threads, view.rule, view.config) == (1, "preprocess", job.config)
    assert all(type(path) is str for path in view.input)
    assert not isinstance(view.input[0], _IOFile)
    # a worker unpickles it without importing Snakemake
    pickled = tmp_path / "job.pickle"
    pickled.write_bytes(pickle.dumps(view))
    code = (
        "import pickle, sys\n"
        f"job = pickle.loads(open({str(pickled)!r}, 'rb').read())\n"
        "assert job.input.raw == 'a.edf' and job.log[0] == 'a.log'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'snakemake'))"
    )
    result = run_with_the_package(code)
    assert result.stdout.strip() == "[]", result.stderr


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's malloc_trim, /proc"
)
def test_a_worker_returns_the_memory_its_job_freed():
    # 100 MB in 4 kB pieces from the C library's heap, freed but the last: glibc keeps
    # the freed pages for reuse until they are trimmed
    code = (
        "from eegflow.workers import return_freed_memory\n"
        "def anonymous_kib():\n"
        "    with open('/proc/self/status') as status:\n"
        "        return next(int(line.split()[1]) for line in status\n"
        "                    if line.startswith('RssAnon'))\n"
        "blocks = [bytearray(4096) for _ in range(25_000)]\n"
        "last = blocks[-1]\n"
        "del blocks\n"
        "held = anonymous_kib()\n"
        "return_freed_memory()\n"
        "print(held - anonymous_kib())"
    )
    result = run_with_the_package(code)
    assert int(result.stdout) > 50_000, result.stderr  # KiB given back
