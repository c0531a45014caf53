"""Planning cost at corpus scale: `snakemake -n` and a no-op run over many recordings.

    python benchmarks/planning.py [--recordings 1000 5000 20000] [--noop-recordings 2000]

For each size, a folder whose config asks for that many synthetic recordings (nothing is
materialized: the dry run plans every job), timed with peak memory; per recording, so its
growth is visible. Beside it the dry run of a corpus of as many files (``files_s``): empty
``.edf`` files in folders of 20, ``input.source: files`` (a dry run reads no recording), so
a recording has 3 jobs as in a user's corpus, not the synthetic set's 4. Then a no-op run
over ``--noop-recordings`` materialized recordings: every job's outputs are made to exist
and be up to date without running a job (see ``materialize``), and the run after it, which
has nothing to do, is timed. Targets (issue 16): 20,000 recordings planned in 60 s and 1 GB;
a no-op over 2,000 materialized recordings in 10 s.

Beside each size, Snakemake's own floor: the same dry run of a Snakefile of trivial shell
rules chained as this workflow's per-recording jobs (4 a recording, then one combining
job), without input functions, params, resources, logs or benchmarks (``FLOOR_CHAIN``):
what any workflow with this many jobs costs to plan with this Snakemake; and beside the
corpus of files, its 3 jobs a recording as such rules on the same files
(``FLOOR_FILE_RECORDINGS``, ``files_floor``). And the dry run of
the first of the batches of ``--batch-recordings`` (2,000) a corpus is run in, as the
workflow/docs/performance.md ("Thousands of recordings") shows (``--batch combine=1/B``).
"""

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from measure import print_table, run_measured, snakemake

# a placeholder window table: one window of one channel (what a features job's memory
# estimate reads from a table's footer)
WINDOW_TABLE = pa.table({"window_index": [0]}).replace_schema_metadata(
    {"eegflow": '{"ch_names": ["Cz"], "window_samples": 1}'}
)


# Snakemake's floor: this workflow's per-recording job chain as trivial shell rules with
# nothing else, from preprocessed signal to the combined table (each floor below names
# its recordings, IDS, and how a recording's preprocess job gets its input)
FLOOR_CHAIN = """
rule all:
    input: "combined.txt"

rule combine:
    input: expand("features/{r}.txt", r=IDS)
    output: "combined.txt"
    shell: "touch {output}"

rule windows:
    input: "preprocessed/{r}.txt"
    output: "windows/{r}.txt"
    shell: "touch {output}"

rule features:
    input: "preprocessed/{r}.txt", "windows/{r}.txt"
    output: "features/{r}.txt"
    shell: "touch {output}"
"""

# the synthetic set's recordings: a job writes each (4 jobs a recording)
FLOOR_SYNTHETIC_RECORDINGS = """
IDS = [f"r{i}" for i in range(int(config["recordings"]))]

rule recording:
    output: "raw/{r}.txt"
    shell: "touch {output}"

rule preprocess:
    input: "raw/{r}.txt"
    output: "preprocessed/{r}.txt"
    shell: "touch {output}"
"""

# a corpus of files' (``files_workdir``, read from a folder in it): the files are the
# preprocess jobs' inputs (3 jobs a recording)
FLOOR_FILE_RECORDINGS = """
import glob
from pathlib import Path

IDS = sorted(Path(path).stem for path in glob.glob("../data/*/*.edf"))

wildcard_constraints:
    subject=r"sub-\\d+",
    run=r"run-\\d+",

rule preprocess:
    input: "../data/{subject}/{subject}_{run}.edf"
    output: "preprocessed/{subject}_{run}.txt"
    shell: "touch {output}"
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--recordings", type=int, nargs="+", default=[1000, 5000, 20000]
    )
    parser.add_argument("--noop-recordings", type=int, default=2000)
    parser.add_argument("--batch-recordings", type=int, default=2000)
    args = parser.parse_args()
    rows = []
    for n in args.recordings:
        command = snakemake("--dry-run", "--quiet", "all", "--cores", "2")
        batches = -(-n // args.batch_recordings)
        batch = f"combine=1/{batches}"
        with workdir_for(n) as workdir, files_workdir(n) as files:
            wall, peak = run_measured(command, workdir)
            floor_wall, floor_peak = floor_dry_run(
                workdir, FLOOR_SYNTHETIC_RECORDINGS, "--config", f"recordings={n}"
            )
            files_wall, files_peak = run_measured(command, files)
            files_floor_wall, files_floor_peak = floor_dry_run(
                files, FLOOR_FILE_RECORDINGS
            )
            batch_wall, batch_peak = run_measured(
                snakemake("--dry-run", "--batch", batch, "--cores", "2", "--quiet"),
                workdir,
            )
        rows.append(
            {
                "recordings": n,
                "dry_run_s": f"{wall:.1f}",
                "ms_per_recording": f"{1000 * wall / n:.2f}",
                "peak_mib": f"{peak:.0f}",
                "floor_s": f"{floor_wall:.1f}",
                "floor_mib": f"{floor_peak:.0f}",
                "x_floor": f"{wall / floor_wall:.1f}",
                "files_s": f"{files_wall:.1f}",
                "files_mib": f"{files_peak:.0f}",
                "files_floor_s": f"{files_floor_wall:.1f}",
                "files_floor_mib": f"{files_floor_peak:.0f}",
                "one_batch": batch,
                "batch_s": f"{batch_wall:.1f}",
                "batch_mib": f"{batch_peak:.0f}",
            }
        )
    print(
        "snakemake -n over synthetic recordings (4 jobs each), 2 cores; floor: the same"
        " jobs as trivial shell rules; files: as many files (3 jobs each), files_floor:"
        " their jobs as trivial shell rules; one batch: snakemake -n --batch"
    )
    columns = ["recordings", "dry_run_s", "ms_per_recording", "peak_mib", "floor_s"]
    columns += ["floor_mib", "x_floor", "files_s", "files_mib"]
    columns += ["files_floor_s", "files_floor_mib"]
    columns += ["one_batch", "batch_s", "batch_mib"]
    print_table(rows, columns)

    with workdir_for(args.noop_recordings) as workdir:
        touch_s = materialize(workdir)
        noop_s, noop_peak = run_measured(
            snakemake("--quiet", "all", "--cores", "2"), workdir
        )
    print(
        f"\nno-op run over {args.noop_recordings} recordings (materialized in "
        f"{touch_s:.0f} s): {noop_s:.1f} s, {noop_peak:.0f} MiB"
    )


def materialize(workdir):
    """Make every output of ``workdir``'s run exist and be up to date, with Snakemake's
    own records (params, code), without running a job; returns the seconds it took.

    Each output listed by ``snakemake --summary`` is created empty (a window table as a
    one-row table, whose footer a features job's memory estimate reads), then
    ``snakemake --touch --forceall`` gives them increasing times and writes Snakemake's
    metadata. Its pause of 0.1 s per job (``SLEEPING_TIME``, for file systems with
    coarse times) is set to 0 here, or 8,000 jobs would take 13 minutes.
    """
    start = time.perf_counter()
    summary = subprocess.run(
        snakemake("--summary", "--cores", "2", "all"),
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in summary.splitlines()[1:]:
        path = workdir / line.split("\t")[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.name == "windows":
            pq.write_table(WINDOW_TABLE, path)
        else:
            path.touch()
    touch = (
        "import sys; import snakemake.executors.touch as touch; "
        "touch.Executor.SLEEPING_TIME = 0; from snakemake.cli import main; "
        "sys.argv = ['snakemake', *sys.argv[1:]]; main()"
    )
    command = snakemake("--touch", "--forceall", "--quiet", "all", "--cores", "2")
    arguments = command[command.index("--snakefile") :]  # without "python -m snakemake"
    run_measured([sys.executable, "-c", touch, *arguments], workdir)
    return time.perf_counter() - start


def floor_dry_run(workdir, recordings, *arguments):
    """Wall seconds and peak MiB of ``snakemake -n`` with ``arguments`` on the floor's
    Snakefile of ``recordings`` (:data:`FLOOR_SYNTHETIC_RECORDINGS` or
    :data:`FLOOR_FILE_RECORDINGS`, then :data:`FLOOR_CHAIN`), in a folder ``floor``
    in ``workdir``."""
    floor = workdir / "floor"
    floor.mkdir()
    (floor / "Snakefile").write_text(recordings + FLOOR_CHAIN)
    command = [sys.executable, "-m", "snakemake", "--dry-run", "all", "--cores", "2"]
    return run_measured([*command, *arguments, "--quiet"], floor)


@contextlib.contextmanager
def files_workdir(n_recordings):
    """A temporary folder of ``n_recordings`` empty EDF files, 20 a subject folder,
    and a config reading them (``input.source: files``); removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="eegflow-planning-files-") as name:
        workdir = Path(name)
        for index in range(n_recordings):
            subject, run = divmod(index, 20)
            folder = workdir / "data" / f"sub-{subject:04d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"sub-{subject:04d}_run-{run:02d}.edf").touch()
        (workdir / "config.yaml").write_text(
            'input: {source: files, files: ["data/**/*.edf"]}\n'
        )
        yield workdir


@contextlib.contextmanager
def workdir_for(n_recordings):
    """A temporary folder whose config asks for ``n_recordings`` synthetic
    recordings; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="eegflow-planning-") as name:
        workdir = Path(name)
        (workdir / "config.yaml").write_text(
            f"input: {{synthetic: {{n_recordings: {n_recordings}}}}}\n"
        )
        yield workdir


if __name__ == "__main__":
    main()
