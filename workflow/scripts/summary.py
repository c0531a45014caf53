"""Job script of rule summary (runs inside Snakemake)."""

from eegflow.benchmarks import summarise_benchmarks
from eegflow.jobs import job_logging

with job_logging(snakemake.log[0]):
    summarise_benchmarks(
        snakemake.params.jobs, snakemake.params.job_inputs, snakemake.output
    )
