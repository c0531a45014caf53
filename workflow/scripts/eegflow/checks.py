"""Config checks run when the workflow starts, before any job.

The JSON schema (workflow/schemas/config.schema.yaml) checks types, ranges
and unknown keys; these check what a schema cannot: relations between keys
and against what is known of the recordings without opening them.
"""

import importlib.util
import os

from . import UserError
from .features import short_entropy_series, validate_feature_settings
from .preprocess import check_filter_below_nyquist, check_steps, notch_reaches_nyquist


def check_config(config):
    """Raise :class:`UserError` naming the key for an inconsistent config.

    Returns a list of warnings: settings that run but give doubtful results.
    """
    preprocess = config["preprocess"]
    windows = config["windows"]
    synthetic = config["input"]["synthetic"]
    is_synthetic = config["input"]["source"] == "synthetic"

    l_freq, h_freq = preprocess["filter"]["l_freq"], preprocess["filter"]["h_freq"]
    if l_freq is not None and h_freq is not None and l_freq >= h_freq:
        raise UserError(
            f"config preprocess.filter: l_freq={l_freq} Hz must be below "
            f"h_freq={h_freq} Hz (set l_freq: null for a low-pass filter)"
        )
    check_steps(preprocess["steps"])
    if config["ica"]["enabled"] and preprocess["reference"] != "average":
        raise UserError(
            "config ica.enabled: true needs preprocess.reference: average (ICLabel "
            "labels components of average-referenced EEG, and the components are "
            f"removed from the data they were fitted on); it is {preprocess['reference']}"
        )
    if (
        config["ica"]["enabled"]
        and config["ica"]["method"] == "fastica"
        and importlib.util.find_spec("sklearn") is None
    ):
        raise UserError(
            "config ica.method: fastica needs scikit-learn, which is not installed "
            "(envs/requirements.txt installs it): pip install scikit-learn, or use "
            "method: picard (the default)"
        )
    if config["input"]["bids"]["derivatives"] and config["input"]["source"] != "bids":
        raise UserError(
            "config input.bids.derivatives: true needs input.source: bids (BIDS names "
            f"come from a BIDS data set; the source is {config['input']['source']})"
        )
    tmin, tmax = preprocess["crop"]["tmin"], preprocess["crop"]["tmax"]
    if tmax is not None and tmax <= tmin:
        raise UserError(
            f"config preprocess.crop: tmax={tmax} s must be above tmin={tmin} s"
        )

    sfreq = preprocess["resample_sfreq"] or (
        synthetic["sfreq"] if is_synthetic else None
    )
    if sfreq is not None:
        source = (
            "config preprocess.resample_sfreq"
            if preprocess["resample_sfreq"]
            else "the synthetic data set (input.synthetic.sfreq)"
        )
        check_filter_below_nyquist(preprocess["filter"], sfreq, source)
        too_high = notch_reaches_nyquist(preprocess["notch"]["freqs"], sfreq)
        if too_high:
            raise UserError(
                f"config preprocess.notch.freqs {too_high} Hz are not below the Nyquist "
                f"frequency {sfreq / 2:g} Hz of {source} by their notch band (MNE's "
                "f/400 + 0.5 Hz each side); remove them"
            )

    if is_synthetic:
        end = min(tmax, synthetic["duration_s"]) if tmax else synthetic["duration_s"]
        if end - tmin < windows["window_s"]:
            raise UserError(
                f"config windows.window_s={windows['window_s']} s is longer than the "
                f"synthetic recordings after cropping ({max(end - tmin, 0):g} s, from "
                "input.synthetic.duration_s and preprocess.crop); lower window_s"
            )
    labels = windows["annotations"]
    if labels["crop_wake_mins"] is not None and not labels["wake"]:
        raise UserError(
            "config windows.annotations.crop_wake_mins needs windows.annotations.wake: "
            "the descriptions that count as wake, e.g. ['Sleep stage W']"
        )
    unmapped = [d for d in labels["wake"] if d not in labels["mapping"]]
    if unmapped:
        raise UserError(
            f"config windows.annotations.wake: {unmapped} are not in "
            "windows.annotations.mapping"
        )
    validate_feature_settings(config["features"], windows["window_s"], sfreq)
    if sfreq is None:
        return []
    window_samples = int(round(windows["window_s"] * sfreq))
    short = short_entropy_series(config["features"], window_samples)
    if not short:
        return []
    return [
        f"config features.compute.multiscale_entropy.scales: at scales {short} a "
        f"{window_samples}-sample window coarse-grains to fewer than 10**m samples; "
        "sample entropy there is often undefined (NaN). Use longer windows or "
        "fewer scales."
    ]


def check_metadata_columns(recordings, config):
    """Raise :class:`UserError` for a metadata column (of config ``input.table``, or
    a BIDS data set's participants.tsv) named like a feature column: feature columns
    are ``<feature>_<channel>...`` (:func:`eegflow.features.feature_columns`), and a
    table with two columns of one name cannot be read or combined.

    ``recordings`` is :func:`eegflow.recordings.discover_recordings`' result.
    """
    features = config["features"]["compute"]
    for rid, entry in recordings.items():
        for column in entry["metadata"]:
            clash = [name for name in features if column.startswith(f"{name}_")]
            if not clash:
                continue
            table = (
                config["input"]["table"]
                if config["input"]["source"] == "table"
                else os.path.join(
                    str(config["input"]["bids"]["root"]), "participants.tsv"
                )
            )
            raise UserError(
                f"{table}: column {column!r} (recording '{rid}') is named like the "
                f"feature columns of config features.compute.{clash[0]} "
                f"({clash[0]}_<channel>...), which would give the feature table two "
                "columns of one name; rename the column"
            )
