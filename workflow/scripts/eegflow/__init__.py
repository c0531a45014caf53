"""eegflow: the science behind the EEG feature workflow.

Each stage of the Snakemake workflow is a thin script that calls one public
function of this package, so the tests exercise exactly the code the
workflow runs:

- :mod:`eegflow.recordings`: discover recordings and give them safe ids.
- :mod:`eegflow.synthetic`: the embedded default data set.
- :mod:`eegflow.preprocess`: crop, pick, re-reference, resample, filter and
  anonymise one recording; :mod:`eegflow.cleaning`: its units check, bad
  channels and line noise.
- :mod:`eegflow.windows`: cut fixed-length or annotation windows, flag
  artefact windows (+ optional scaling).
- :mod:`eegflow.features`: the feature registry and per-window features.
- :mod:`eegflow.combine`: one table from the per-recording tables.
- :mod:`eegflow.failures`: which jobs of a failed run failed, and why.
- :mod:`eegflow.provenance`: what made each output (config, versions, sources).
- :class:`eegflow.WindowsDataset` (:mod:`eegflow.dataset`): a finished run's
  windows for training, read with :mod:`eegflow.fifread`.
- :mod:`eegflow.resources`: each job's runtime request, fitted to measured times.
"""

__version__ = "0.4.0"


class UserError(Exception):
    """A problem the user can fix (bad input file or setting).

    Its message names the file and/or the config key and says what to change;
    the job scripts print it without a traceback.
    """


# The stages run once per recording, in order: each is a rule of the same name in
# workflow/rules/<stage>.smk (tests check the Snakefile and the SLURM profile's groups).
RECORDING_STAGES = ("preprocess", "windows", "features")
# Per-recording jobs that run only when configured or asked for: ICA (config ica),
# the QC figure (`snakemake qc`).
OPTIONAL_RECORDING_STAGES = ("ica_fit", "ica_apply", "qc_figure")

# Memory of a job beyond its data: Python, NumPy, SciPy, MNE, pyarrow imported (MB).
JOB_BASE_MB = 400


def __getattr__(name):
    """``eegflow.WindowsDataset``, imported when first used (the job scripts, which
    import this package, never load it)."""
    if name == "WindowsDataset":
        from .dataset import WindowsDataset

        return WindowsDataset
    raise AttributeError(f"module 'eegflow' has no attribute {name!r}")
