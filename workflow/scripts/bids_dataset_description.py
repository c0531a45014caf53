"""Job script of rule bids_dataset_description (runs inside Snakemake)."""

from eegflow.derivatives import write_dataset_files
from eegflow.jobs import job_logging
from eegflow.remote import require_fetched

with job_logging(snakemake.log[0]):
    require_fetched(snakemake.input.sources)
    write_dataset_files(
        snakemake.input,
        snakemake.output,
        snakemake.params.bids_root,
        snakemake.params.subjects,
        snakemake.params.config,
        snakemake.params.ignored,
    )
