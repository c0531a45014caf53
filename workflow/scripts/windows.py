"""Job script of rule windows (runs inside Snakemake)."""

from eegflow.jobs import job_logging
from eegflow.windows import make_windows

with job_logging(snakemake.log[0]):
    make_windows(
        snakemake.input.fif,
        snakemake.output.table,
        snakemake.params.windows,
        snakemake.wildcards.recording,
        snakemake.params.metadata,
        record_path=snakemake.input.record,
        source=snakemake.params.source,
        ica=snakemake.params.ica,
    )
