"""Job script of rule qc_figure (runs inside Snakemake)."""

from eegflow.jobs import job_logging
from eegflow.qc import plot_recording

with job_logging(snakemake.log[0]):
    plot_recording(
        snakemake.input.fif,
        snakemake.input.record,
        snakemake.input.windows,
        snakemake.output.png,
        snakemake.wildcards.recording,
    )
