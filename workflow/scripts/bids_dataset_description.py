"""Job script of rule bids_dataset_description (runs inside Snakemake)."""

from eegflow.derivatives import write_dataset_files
from eegflow.jobs import job_logging

with job_logging(snakemake.log[0]):
    write_dataset_files(
        snakemake.output,
        snakemake.params.bids_root,
        snakemake.params.subjects,
        snakemake.params.config,
        local_copies=snakemake.input.sources,
    )
