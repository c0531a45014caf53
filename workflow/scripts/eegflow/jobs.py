"""What every job script does around its one call: logging and error reporting."""

import contextlib
import errno
import logging
import os
import resource
import sys
import time

from . import UserError


# time.time() when a warm worker (eegflow.workers) was handed the job it runs, and the
# process's CPU seconds then; None and 0 in a job process of its own
JOB_SUBMITTED_AT = None
JOB_CPU_S_AT_START = 0.0


def seconds_since_job_start():
    """Wall seconds from the job's start to now; None where that is unknown.

    In a job process of its own (Linux's /proc): Python's start, Snakemake's preamble and
    the script's imports. In a warm worker: from the job being handed over.
    """
    if JOB_SUBMITTED_AT is not None:
        return time.time() - JOB_SUBMITTED_AT
    try:
        with open("/proc/self/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime
        return time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, AttributeError, ValueError, IndexError):
        return None


def disk_full_message(error, folder="results"):
    """One line for a job that ran out of disk (or quota): the file it was writing
    (or the outputs' folder, where the system names none), the space left there,
    and what to do."""
    import shutil

    where = os.path.abspath(error.filename or folder)
    existing = where
    while not os.path.exists(existing):  # the disk of the nearest folder there
        existing = os.path.dirname(existing)
    free_mb = shutil.disk_usage(existing).free / 1e6
    return (
        f"{where}: {os.strerror(error.errno)} while writing the job's outputs "
        f"({free_mb:,.0f} MB free there): free disk space (or run from a folder on a "
        "larger disk) and run the same command again; finished outputs are kept"
    )


@contextlib.contextmanager
def job_logging(log_path):
    """Log to ``log_path`` (and stderr); turn a :class:`UserError` into exit 1.

    A user error, and a full disk or quota, is printed as one clear line, without a
    traceback; any other exception is logged with its traceback and re-raised.
    Python warnings the job does not note itself (:func:`eegflow.fileio.noted_warnings`) are logged
    too. MNE's numba helpers stay off for the job (``MNE_USE_NUMBA``, unless the
    user set it).
    """
    handlers = [logging.FileHandler(log_path, mode="w"), logging.StreamHandler()]
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)  # a library's Python warning lands in the log too
    # MNE's own numba helpers (one computes raw.times) make a job import numba and load
    # their compiled cache: 0.4 s of a preprocess job's 2.3 s (measured, 5 runs each),
    # more than they save on one recording. Jobs take MNE's NumPy paths unless the user
    # set MNE_USE_NUMBA; eegflow's entropy kernels call numba themselves, unaffected.
    # (MNE 1.13 imports numba for raw.times all the same: eegflow.fileio stops that.)
    os.environ.setdefault("MNE_USE_NUMBA", "false")
    startup_s = seconds_since_job_start()
    if startup_s is not None:
        logging.getLogger("eegflow").info(
            "start-up: %.2f s from the job's start to its work", startup_s
        )
    # Snakemake sets these to the job's threads; logged as evidence of the cap (and
    # whether MNE may compile with numba, see workflow/rules/common.smk)
    logging.getLogger("eegflow").info(
        "thread caps: OMP_NUM_THREADS=%s OPENBLAS_NUM_THREADS=%s MKL_NUM_THREADS=%s; "
        "MNE_USE_NUMBA=%s",
        *(
            os.environ.get(name)
            for name in (
                "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS",
                "MNE_USE_NUMBA",
            )
        ),
    )
    try:
        yield
    except UserError as error:
        logging.getLogger("eegflow").error("%s", error)
        sys.exit(1)
    except OSError as error:
        if error.errno not in (errno.ENOSPC, errno.EDQUOT):
            logging.getLogger("eegflow").exception("job failed")
            raise
        logging.getLogger("eegflow").error("%s", disk_full_message(error))
        sys.exit(1)
    except Exception:
        logging.getLogger("eegflow").exception("job failed")
        raise
    # the kernel's high-water mark and CPU account: exact, unlike a sampled benchmark
    logging.getLogger("eegflow").info("peak RSS of this job: %.1f MiB", peak_rss_mib())
    logging.getLogger("eegflow").info(
        "CPU time of this job: %.2f s", process_cpu_s() - JOB_CPU_S_AT_START
    )


def process_cpu_s():
    """CPU seconds (user and system) of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mib():
    """This process's peak resident memory in MiB: since the last reset of the mark
    (:func:`eegflow.workers.run_in_this_process`, Linux), else since its start."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
