"""Job script of rule qc (runs inside Snakemake)."""

from eegflow.jobs import job_logging
from eegflow.qc import write_qc_table

with job_logging(snakemake.log[0]):
    write_qc_table(
        snakemake.params.recordings,
        snakemake.input.records,
        snakemake.input.windows,
        snakemake.params.excluded,
        snakemake.input.features,
        snakemake.output,
        ica_tables=snakemake.input.ica,
    )
