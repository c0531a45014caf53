"""Job script of rule combine (runs inside Snakemake)."""

from eegflow.combine import combine_feature_tables
from eegflow.jobs import job_logging

with job_logging(snakemake.log[0]):
    combine_feature_tables(
        snakemake.input.tables,
        snakemake.output.table,
        snakemake.params.combine["mismatched_columns"],
    )
