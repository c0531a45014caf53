"""Planning cost at corpus scale: `snakemake -n` and a no-op run over many recordings.

    python benchmarks/planning.py [--recordings 1000 5000 20000]

For each size, a folder whose config asks for that many synthetic recordings (nothing is
materialized: the dry run plans every job), timed with peak memory; per recording, so its
growth is visible. Targets (issue 16): 20,000 recordings planned in 60 s and 1 GB.
"""

import argparse
import tempfile
from pathlib import Path

from measure import print_table, run_measured, snakemake


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--recordings", type=int, nargs="+", default=[1000, 5000, 20000]
    )
    args = parser.parse_args()
    rows = []
    for n in args.recordings:
        workdir = Path(tempfile.mkdtemp(prefix="eegflow-planning-"))
        (workdir / "config.yaml").write_text(
            f"input: {{synthetic: {{n_recordings: {n}}}}}\n"
        )
        command = snakemake("--dry-run", "--quiet", "all", "--cores", "2")
        wall, peak = run_measured(command, workdir)
        rows.append(
            {
                "recordings": n,
                "dry_run_s": f"{wall:.1f}",
                "ms_per_recording": f"{1000 * wall / n:.2f}",
                "peak_mib": f"{peak:.0f}",
            }
        )
    print("snakemake -n over synthetic recordings (4 jobs each), 2 cores")
    print_table(rows, ["recordings", "dry_run_s", "ms_per_recording", "peak_mib"])


if __name__ == "__main__":
    main()
