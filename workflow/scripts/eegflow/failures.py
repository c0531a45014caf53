"""Which jobs of a run failed, and why: the table printed at the end of a failed run.

Snakemake's own summary of a ``--keep-going`` run is "Exiting because a job
execution failed"; this reads each job's log instead (every job logs its one-line
error, see :mod:`eegflow.jobs`) and says, per failed job, the rule, the
recording, the message and the log path. Kept free of heavy imports: the
Snakefile calls it.
"""

import csv
import os
import re

# what eegflow.jobs writes for an error: "<date> <time> ERROR <logger>: <message>"
_ERROR_LINE = re.compile(r"^\S+ \S+ ERROR [\w.]+: (.*)$")
KILLED = (
    "no error in its log: the job was killed (memory or time limit?) or failed "
    "before it started logging"
)
# the last line eegflow.jobs writes for a job that ran to its end
_FINISHED = "peak RSS of this job"
FAILED_BY_SNAKEMAKE = (
    "the job itself finished; Snakemake failed it afterwards (an output missing, or "
    "older than an input: see Snakemake's message above)"
)


def error_message(log_path):
    """The error a job logged: its last ERROR line; for a crash, the exception line;
    else whether it was killed or finished (and Snakemake failed it)."""
    try:
        with open(log_path, encoding="utf-8", errors="replace") as handle:
            lines = [line.rstrip("\n") for line in handle if line.strip()]
    except OSError:
        return KILLED
    errors = [match.group(1) for line in lines if (match := _ERROR_LINE.match(line))]
    if not errors:
        return FAILED_BY_SNAKEMAKE if lines and _FINISHED in lines[-1] else KILLED
    if errors[-1] == "job failed":  # an unexpected exception: its traceback follows
        return f"job failed: {lines[-1].strip()}"
    return errors[-1]


def failed_jobs(jobs, since):
    """The jobs of this run that failed.

    Parameters
    ----------
    jobs : iterable of dict
        Every job the run may have tried: ``rule``, ``recording`` (or ""),
        ``log`` (its log file) and ``outputs`` (its output files).
    since : float
        When the run started (seconds since the epoch): a job failed in this
        run if it wrote its log since then and an output is missing.

    Returns
    -------
    list of dict
        ``rule``, ``recording``, ``message`` and ``log`` per failed job.
    """
    failed = []
    for job in jobs:
        try:
            tried = os.path.getmtime(job["log"]) >= since
        except OSError:
            continue  # never started: an earlier stage of its recording failed
        if tried and not all(os.path.exists(path) for path in job["outputs"]):
            failed.append(
                {
                    "rule": job["rule"],
                    "recording": job["recording"],
                    "message": error_message(job["log"]),
                    "log": job["log"],
                }
            )
    return failed


def write_failure_table(failed, path):
    """Write the failed jobs as a TSV table (rule, recording, message, log)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(
            handle, ["rule", "recording", "message", "log"], delimiter="\t"
        )
        writer.writeheader()
        writer.writerows(failed)


def format_failure_table(failed, path):
    """The failed jobs as lines for the terminal, ending with where the table is."""
    lines = [f"{len(failed)} job(s) failed:"]
    lines += [
        f"  {job['rule']:<12} {job['recording'] or '-':<24} {job['message']}  "
        f"(log: {job['log']})"
        for job in failed
    ]
    lines.append(f"This table is in {path}.")
    return "\n".join(lines)
