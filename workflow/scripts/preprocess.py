"""Job script of rule preprocess (runs inside Snakemake)."""

from eegflow.jobs import job_logging
from eegflow.preprocess import preprocess_recording
from eegflow.remote import local_root, require_fetched

with job_logging(snakemake.log[0]):
    require_fetched(snakemake.input)
    preprocess_recording(
        snakemake.input.raw,
        snakemake.output.fif,
        snakemake.params.preprocess,
        annotations_path=next(iter(snakemake.input.annotations), None),
        bids_root=local_root(snakemake.params.bids_root, snakemake.input.raw),
        n_jobs=snakemake.threads,
        record_path=snakemake.output.record,
        source=snakemake.params.source,
        **snakemake.params.recording,
    )
