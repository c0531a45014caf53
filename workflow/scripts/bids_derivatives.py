"""Job script of rule bids_derivatives (runs inside Snakemake)."""

from eegflow.derivatives import write_recording_derivatives
from eegflow.jobs import job_logging

with job_logging(snakemake.log[0]):
    write_recording_derivatives(
        snakemake.input, snakemake.output, snakemake.params.source
    )
