"""Runtime requests (minutes) of the workflow's jobs, fitted to measured job times.

A job asks for :data:`RUNTIME_SAFETY` times its estimated seconds, at least
:data:`MIN_RUNTIME_MIN` minutes, times its attempt (a retry gets more). The
estimate is a start-up plus the job's work: seconds per MB of its data input
(:data:`SECONDS_PER_INPUT_MB`, one rate per rule), for a features job seconds
per million window values (windows x channels x samples) for reading them and
for each configured feature (:data:`FEATURE_SECONDS_PER_MVALUE`), for an ICA
fit seconds per MB and channel. The rates are fitted to the job times
``benchmarks/runtime_requests.py`` measured (its ``MEASURED``: 64-channel 1 kHz
EDF recordings of 1 minute to 2 hours) and prints beside these requests.
"""

import math

# A job's start-up beyond its work: Snakemake's job process, Python, the imports (s)
JOB_START_S = 10
# A job asks for this many times its estimate (the CPU time measured on a shared
# machine; a node's speed and file system vary) ...
RUNTIME_SAFETY = 1.5
# ... and never less than this (minutes): a short job's start on a busy node. Small,
# as a SLURM bundle of jobs (profiles/slurm: 20 recordings' jobs in one) asks for the
# sum of its jobs' requests
MIN_RUNTIME_MIN = 2

# Seconds per MB of a job's data input (its input files less its code stamp), per rule,
# fitted to the largest measured job of each (beyond JOB_START_S), rounded up.
SECONDS_PER_INPUT_MB = {
    "preprocess": 0.11,  # 2 h, 922 MB of EDF: 105 s on the idle machine
    "windows": 0.005,  # 2 h, 1,844 MB of FIF: 6.3 s of CPU
    "qc_figure": 0.02,  # 2 h: 18.9 s of CPU (20 min: 14.6 s)
    "ica_apply": 0.11,  # reads and writes the FIF as preprocess does
    "combine": 0.05,  # 11 MB of feature tables: 0.7 s (larger ones not measured)
    "qc": 0.1,  # 12 MB of records and tables: 2 s (larger ones not measured)
    # its inputs (FIF, tables, record) written again as BrainVision: 4.4 s for a 120 MB
    # FIF of 50 channels x 300 s at 2 kHz
    "bids_derivatives": 0.05,
}
# An ICA fit: seconds per MB of the preprocessed FIF per channel (the decomposition of
# n channels costs about n times a channel's share; benchmarks/ica.py: 19 channels at
# 250 Hz 0.091, 32 channels 0.094; 64 channels at 1 kHz, 2 min: 0.056 of CPU)
ICA_FIT_SECONDS_PER_MB_CHANNEL = 0.1
# A features job: seconds per million window values (windows x channels x samples) to
# read them from the FIF and write the table (a variance-only job: 0.03) ...
READ_SECONDS_PER_MVALUE = 0.04
# ... and per configured feature: CPU seconds per million window values, alone, on
# 64-channel batches of 2 s windows at 1 kHz and 128 Hz (benchmarks/runtime_requests.py
# --feature-costs), the larger, rounded up; a pairwise feature's per pair partner of a
# channel (times (channels - 1) / 2: the 64-channel cost / 31.5)
FEATURE_SECONDS_PER_MVALUE = {
    "approximate_entropy": 0.42,
    "band_power": 0.1,
    "coherence": 0.21,
    "correlation": 0.04,
    "decorrelation_time": 0.06,
    "detrended_fluctuation": 0.26,
    "higuchi_fd": 0.07,
    "hjorth_activity": 0.01,
    "hjorth_complexity": 0.03,
    "hjorth_mobility": 0.02,
    "hurst_exponent": 0.11,
    "imaginary_coherence": 0.18,
    "katz_fd": 0.02,
    "kurtosis": 0.07,
    "lempel_ziv": 1.5,
    "line_length": 0.01,
    "mean": 0.01,
    "multiscale_entropy": 0.46,
    "peak_frequency": 0.05,
    "peak_to_peak": 0.01,
    "permutation_entropy": 0.11,
    "petrosian_fd": 0.01,
    "phase_locking_value": 0.11,
    "quantiles": 0.03,
    "rms": 0.01,
    "sample_entropy": 0.4,
    "skewness": 0.09,
    "spectral_correlation": 0.01,
    "spectral_edge_frequency": 0.04,
    "spectral_entropy": 0.04,
    "spectral_hjorth": 0.04,
    "spectral_moments": 0.04,
    "spectral_slope": 0.04,
    "std": 0.01,
    "svd_entropy": 0.03,
    "svd_fisher_information": 0.09,
    "teager_kaiser_energy": 0.02,
    "total_power": 0.05,
    "variance": 0.01,
    "wavelet_energy": 0.02,
    "zero_crossings": 0.04,
}
# Features whose cost per value grows with the window's samples (template counting,
# Lempel-Ziv's phrase search: 3-4x from 2,000 to 7,500 samples): their cost above is
# at 2,000 samples, scaled in proportion beyond
LENGTH_DEPENDENT_FEATURES = (
    "approximate_entropy",
    "lempel_ziv",
    "multiscale_entropy",
    "sample_entropy",
)
COST_WINDOW_SAMPLES = 2000


def runtime_request_min(seconds, attempt=1):
    """The runtime (minutes) a job estimated to take ``seconds`` asks for.

    Parameters
    ----------
    seconds : float
        The job's estimated wall time.
    attempt : int
        Snakemake's attempt (1, then 2 on the retry).

    Returns
    -------
    int
        :data:`RUNTIME_SAFETY` x the estimate, at least :data:`MIN_RUNTIME_MIN`,
        times ``attempt``.
    """
    return max(MIN_RUNTIME_MIN, math.ceil(RUNTIME_SAFETY * seconds / 60)) * attempt


def input_job_seconds(seconds_per_mb, input_mb):
    """Estimated seconds of a job whose work grows with its data input (MB)."""
    return JOB_START_S + seconds_per_mb * input_mb


def ica_fit_seconds(input_mb, n_channels):
    """Estimated seconds of an ICA fit on a preprocessed FIF of ``input_mb`` MB with
    ``n_channels`` channels (:data:`ICA_FIT_SECONDS_PER_MB_CHANNEL`)."""
    return JOB_START_S + ICA_FIT_SECONDS_PER_MB_CHANNEL * input_mb * n_channels


def features_seconds(settings, shape):
    """Estimated seconds of a features job.

    Parameters
    ----------
    settings : dict
        Config ``features`` (its ``compute``: the features and their parameters).
    shape : tuple of int
        The recording's windows' (windows, channels, samples), from the window
        table (:func:`eegflow.fileio.window_table_shape`).

    Returns
    -------
    float
        Start-up, reading the windows, and each configured feature at its
        measured cost per million window values (a pairwise feature's times
        the channel's pair partners, (channels - 1) / 2; an entropy's grows
        with windows longer than :data:`COST_WINDOW_SAMPLES`).
    """
    from .features import FEATURES

    n_windows, n_channels, n_samples = shape
    per_mvalue = READ_SECONDS_PER_MVALUE
    for name in settings["compute"]:
        cost = FEATURE_SECONDS_PER_MVALUE[name]
        if FEATURES[name].pairwise:
            cost *= (n_channels - 1) / 2
        if name in LENGTH_DEPENDENT_FEATURES:
            cost *= max(1, n_samples / COST_WINDOW_SAMPLES)
        per_mvalue += cost
    return JOB_START_S + per_mvalue * n_windows * n_channels * n_samples / 1e6
