"""Per-window features of one recording: settings checks and the feature table.

The features themselves live in :mod:`eegflow.time_domain`,
:mod:`eegflow.spectral` and :mod:`eegflow.complexity`, registered in
:data:`eegflow.registry.FEATURES` (see :mod:`eegflow.registry` for the contract).

To add a feature: write a function decorated with ``@register("name")`` in one
of those modules and add one line under ``features.compute`` in ``config.yaml``
with its name and parameters.
"""

import logging
import re

import numpy as np

from . import (  # noqa: F401 (registration)
    UserError,
    complexity,
    connectivity,
    spectral,
    time_domain,
)
from .fileio import atomic_output
from .registry import FEATURES, WindowBatch

log = logging.getLogger(__name__)


def validate_feature_settings(settings, window_s=None, sfreq=None):
    """Raise :class:`UserError` for a bad config ``features`` section.

    Checks feature names against the registry, parameters against each
    function's signature, bands (low < high <= Nyquist when ``sfreq`` is known)
    and that a Welch segment fits in a window (when ``window_s`` is known).
    """
    for name, params in settings["compute"].items():
        if name not in FEATURES:
            raise UserError(
                f"config features.compute.{name}: unknown feature; "
                f"known features: {', '.join(sorted(FEATURES))}"
            )
        try:
            FEATURES[name].parameters(params)
        except TypeError as error:
            raise UserError(
                f"config features.compute.{name}: bad parameters {params} ({error})"
            ) from None
    for name in settings["compute"]:
        _check_numbers(name, configured_parameters(settings, name))
    power = configured_parameters(settings, "band_power")
    if power and power["kind"] not in spectral.BAND_POWER_KINDS:
        raise UserError(
            f"config features.compute.band_power.kind={power['kind']!r}: expected one of "
            f"{', '.join(spectral.BAND_POWER_KINDS)}"
        )
    for feature in settings["compute"]:
        bands = configured_parameters(settings, feature).get("bands")
        if bands:
            _check_bands(feature, bands, sfreq)
    segment_s = settings["welch"]["segment_s"]
    if window_s is not None and segment_s > window_s:
        raise UserError(
            f"config features.welch.segment_s={segment_s} s is longer than a window "
            f"(windows.window_s={window_s} s); lower it"
        )


def configured_parameters(settings, name):
    """Parameters of feature ``name`` with its defaults filled in; None if not configured."""
    if name not in settings["compute"]:
        return None
    return FEATURES[name].parameters(settings["compute"][name])


def _check_bands(feature, bands, sfreq):
    """Band names, edges (low < high <= Nyquist when known) and no overlaps."""
    for band, edges in bands.items():
        key = f"features.compute.{feature}.bands.{band}"
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", str(band)):
            raise UserError(f"config {key}: band names are letters and digits only")
        if len(edges) != 2 or not 0 <= edges[0] < edges[1]:
            raise UserError(f"config {key}={edges}: expected [low, high] Hz with low < high")
        if sfreq is not None and edges[1] > sfreq / 2:
            raise UserError(
                f"config {key}={edges}: high edge above the Nyquist frequency "
                f"{sfreq / 2:g} Hz"
            )
    ordered = sorted(bands.items(), key=lambda item: item[1])
    for (name, edges), (next_name, next_edges) in zip(ordered, ordered[1:]):
        if next_edges[0] < edges[1]:
            raise UserError(
                f"config features.compute.{feature}.bands: {name}={edges} and "
                f"{next_name}={next_edges} overlap; bands are [low, high) ranges "
                "that must not overlap (adjacent is fine: [8, 12], [12, 30])"
            )


# parameters that mean the same in every feature that has them
POSITIVE_INTEGERS = ("m", "order", "delay", "kmax", "levels", "min_length")
POSITIVE_NUMBERS = ("r",)


def _check_numbers(feature, parameters):
    """Embedding sizes, lags and counts are positive integers; tolerances positive."""
    key = f"config features.compute.{feature}"
    for name in POSITIVE_INTEGERS:
        if name in parameters and not _is_positive_int(parameters[name]):
            raise UserError(f"{key}.{name}={parameters[name]!r}: expected a positive integer")
    for name in POSITIVE_NUMBERS:
        value = parameters.get(name)
        if name in parameters and not (isinstance(value, (int, float)) and value > 0):
            raise UserError(f"{key}.{name}={value!r}: expected a number > 0")
    scales = parameters.get("scales", [1])
    if not isinstance(scales, (list, tuple)) or not all(_is_positive_int(x) for x in scales):
        raise UserError(f"{key}.scales={scales}: expected positive integers")


def _is_positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def short_entropy_series(settings, window_samples):
    """Scales whose coarse-grained windows have fewer than 10**m samples.

    Sample entropy needs roughly N >= 10**m points (Richman & Moorman 2000);
    below that it is often undefined (NaN) for lack of matching templates.
    """
    entropy = configured_parameters(settings, "multiscale_entropy")
    if entropy is None:
        return []
    return [s for s in entropy["scales"] if window_samples // s < 10 ** entropy["m"]]


def feature_columns(settings, ch_names):
    """The feature columns, known before computing: [(feature, suffix, index, column)].

    ``index`` is the channel's (or, for pairwise features, the pair's) position
    in the feature's output. Order: features in config order, then their
    suffixes, then channels or pairs i < j.
    """
    pairs = [
        f"{ch_names[i]}-{ch_names[j]}"
        for i in range(len(ch_names))
        for j in range(i + 1, len(ch_names))
    ]
    columns = []
    for name, params in settings["compute"].items():
        feature = FEATURES[name]
        labels = pairs if feature.pairwise else ch_names
        for suffix in feature.suffixes(**feature.parameters(params)):
            for index, label in enumerate(labels):
                column = "_".join(filter(None, (name, label, suffix)))
                columns.append((name, suffix, index, column))
    return columns


def compute_features(windows_path, metadata_path, out_path, settings, batch_size=256):
    """Compute the configured features of one recording's windows to parquet.

    One row per window: the window table's columns, then the feature columns
    of :func:`feature_columns`. Windows are read from the memory-mapped array
    ``batch_size`` at a time, bounding memory.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .windows import read_windows

    validate_feature_settings(settings)
    windows, table, sfreq, ch_names = read_windows(windows_path, metadata_path)
    planned = feature_columns(settings, ch_names)
    producing = {name: settings["compute"][name] for name, *_ in planned}
    for name in settings["compute"].keys() - producing.keys():
        log.warning("%s: no columns (a pairwise feature needs 2 channels or more)", name)
    values = {column: np.empty(len(windows)) for *_, column in planned}
    for start in range(0, len(windows), batch_size):
        data = np.asarray(windows[start : start + batch_size], dtype=np.float64)
        batch = WindowBatch(data, sfreq, settings["welch"])
        stop = start + len(data)
        computed = {
            name: FEATURES[name].function(batch, **(params or {}))
            for name, params in producing.items()
        }
        for name, suffix, channel_index, column in planned:
            values[column][start:stop] = computed[name][suffix][:, channel_index]
        log.info("windows %d-%d of %d done", start, stop, len(windows))
    for column, array in values.items():
        table = table.append_column(column, pa.array(array))
    with atomic_output(out_path) as tmp:
        pq.write_table(table, tmp)
