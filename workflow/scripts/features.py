"""Job script of rule features (runs inside Snakemake)."""

from eegflow.features import compute_features
from eegflow.jobs import job_logging

with job_logging(snakemake.log[0]):
    compute_features(
        snakemake.input.fif,
        snakemake.input.windows,
        snakemake.output.table,
        snakemake.params.features,
        # speed/memory only: read from config, not params, so it reruns nothing
        batch_size=snakemake.config["execution"]["feature_batch_windows"],
        mem_mb=snakemake.resources.mem_mb,
    )
