"""Job script of rule ica_fit (runs inside Snakemake)."""

from eegflow.ica import fit_ica
from eegflow.jobs import job_logging

with job_logging(snakemake.log[0]):
    fit_ica(
        snakemake.input.fif,
        snakemake.output.ica,
        snakemake.output.labels,
        snakemake.params.ica,
        snakemake.params.source,
    )
