"""Job script of rule ica_apply (runs inside Snakemake)."""

from eegflow.ica import apply_ica
from eegflow.jobs import job_logging

with job_logging(snakemake.log[0]):
    apply_ica(
        snakemake.input.fif,
        snakemake.input.ica,
        snakemake.input.labels,
        snakemake.params.exclude,
        snakemake.output,
        snakemake.params.source,
    )
