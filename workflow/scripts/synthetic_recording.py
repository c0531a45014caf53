"""Job script of rule synthetic_recording (runs inside Snakemake)."""

from eegflow.jobs import job_logging
from eegflow.synthetic import write_synthetic_recording

with job_logging(snakemake.log[0]):
    write_synthetic_recording(
        int(snakemake.wildcards.index), snakemake.params.synthetic, snakemake.output.fif
    )
