"""What every job script does around its one call: logging and error reporting."""

import contextlib
import errno
import logging
import os
import resource
import sys
import time

from . import UserError


def seconds_since_process_start():
    """Wall seconds since this process started, from Linux's /proc; None elsewhere.

    In a job script: Python's start, Snakemake's preamble and the script's imports,
    everything before the job's own work.
    """
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
    startup_s = seconds_since_process_start()
    if startup_s is not None:
        logging.getLogger("eegflow").info(
            "start-up: %.2f s from process start to the job's work", startup_s
        )
    # Snakemake sets these to the job's threads; logged as evidence of the cap
    logging.getLogger("eegflow").info(
        "thread caps: OMP_NUM_THREADS=%s OPENBLAS_NUM_THREADS=%s MKL_NUM_THREADS=%s",
        *(
            os.environ.get(name)
            for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
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
    # the kernel's high-water mark: exact, unlike a sampled benchmark
    logging.getLogger("eegflow").info(
        "peak RSS of this job: %.1f MiB",
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )


class _PandasRefused:
    """An import hook refusing pandas (see :func:`arrow_without_pandas`)."""

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError(f"{name}: not imported in this job (it uses no pandas)")
        return None


def arrow_without_pandas():
    """Keep pyarrow from importing pandas in this job process.

    pyarrow imports pandas on its first ``pa.array`` (to check whether it was given
    a DataFrame): 0.26 s of a windows or features job whose tables need no pandas,
    as long as the work itself. Called at the top of those jobs' scripts only, never
    in a library function (a user's process keeps its pandas); a job that did reach
    for pandas would fail with an ImportError naming it, not silently.
    """
    if not any(isinstance(finder, _PandasRefused) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PandasRefused())
