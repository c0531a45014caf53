"""Per-window features of one recording: settings checks and the feature table.

The features themselves live in :mod:`eegflow.time_domain`,
:mod:`eegflow.spectral` and :mod:`eegflow.complexity`, registered in
:data:`eegflow.registry.FEATURES` (see :mod:`eegflow.registry` for the contract).

To add a feature: write a function decorated with ``@register("name")`` in one
of those modules (a numpydoc docstring with the formula and a reference; the
workflow/docs/extending.md has the checklist) and add one line under
``features.compute`` in ``config.yaml`` with its name and parameters.
"""

import json
import logging
import re

import numpy as np

from . import (  # noqa: F401 (registration)
    JOB_BASE_MB,
    UserError,
    complexity,
    connectivity,
    spectral,
    time_domain,
)
from .fileio import atomic_output, note
from .provenance import with_stage
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
            raise UserError(
                f"config {key}={edges}: expected [low, high] Hz with low < high"
            )
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
            raise UserError(
                f"{key}.{name}={parameters[name]!r}: expected a positive integer"
            )
    for name in POSITIVE_NUMBERS:
        value = parameters.get(name)
        if name in parameters and not (isinstance(value, (int, float)) and value > 0):
            raise UserError(f"{key}.{name}={value!r}: expected a number > 0")
    scales = parameters.get("scales", [1])
    if not isinstance(scales, (list, tuple)) or not all(
        _is_positive_int(x) for x in scales
    ):
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
    """The feature columns, known before computing:
    [(feature, suffix, index, channels, column)].

    ``index`` is the channel's (or, for pairwise features, the pair's) position
    in the feature's output; ``channels`` the channel names it depends on.
    Order: features in config order, then their suffixes, then channels or
    pairs i < j.
    """
    pairs = [
        (ch_names[i], ch_names[j])
        for i in range(len(ch_names))
        for j in range(i + 1, len(ch_names))
    ]
    singles = [(name,) for name in ch_names]
    columns = []
    for name, params in settings["compute"].items():
        feature = FEATURES[name]
        for suffix in feature.suffixes(**feature.parameters(params)):
            for index, channels in enumerate(pairs if feature.pairwise else singles):
                label = "-".join(channels)
                column = "_".join(filter(None, (name, label, suffix)))
                columns.append((name, suffix, index, channels, column))
    return columns


# Peak temporaries of one window's features, in copies of the window's data, from
# tracemalloc measurements of every registered feature (tests/test_feature_memory.py
# checks each stays below): per-channel features need up to 10; pairwise features
# (cross-spectra, analytic signals of both channels of every pair) 4.5 per channel.
TEMPORARIES_PER_CHANNEL_FEATURE = 10
TEMPORARIES_PER_PAIRWISE_CHANNEL = 4.5


def window_memory_bytes(settings, n_channels, n_samples):
    """Peak memory (bytes) one window adds to a feature batch: its float64 data,
    plus the largest temporaries of the configured features (reading the batch
    from the FIF writes it into its array; a z-score makes one copy, fewer than any
    feature's temporaries).

    Pairwise features grow with the channel pairs, i.e. with the square of the
    channel count: 50 channels x 4,000 samples need about 350 MB per window.
    """
    data = n_channels * n_samples * 8
    copies = TEMPORARIES_PER_CHANNEL_FEATURE
    if any(FEATURES[name].pairwise for name in settings["compute"]) and n_channels > 1:
        copies = max(copies, TEMPORARIES_PER_PAIRWISE_CHANNEL * (n_channels - 1))
    return data * (1 + copies)


def table_memory_bytes(settings, n_windows, n_channels):
    """Memory (bytes) of the feature columns of a recording, held until written
    (the NumPy columns and their Arrow copy)."""
    ch_names = [str(index) for index in range(n_channels)]
    return n_windows * len(feature_columns(settings, ch_names)) * 8 * 2


def feature_job_mem_mb(settings, shape, max_batch_windows, budget_mb):
    """The memory (MB) a features job asks for: a fixed base, its feature table,
    and batches of windows up to ``budget_mb`` (config
    ``execution.feature_memory_mb``), at least one window, at most the whole
    recording or ``max_batch_windows``.

    ``shape`` is the recording's windows' (windows, channels, samples).
    """
    n_windows, n_channels, n_samples = shape
    per_window = window_memory_bytes(settings, n_channels, n_samples)
    batch = min(n_windows, max_batch_windows) * per_window
    batches = min(max(batch, per_window), max(budget_mb * 1e6, per_window))
    table = table_memory_bytes(settings, n_windows, n_channels)
    return int(JOB_BASE_MB + (batches + table) / 1e6) + 1


def batch_windows(settings, shape, max_batch_windows, mem_mb):
    """Windows per batch that fit in a job of ``mem_mb`` MB (at least 1, at most
    ``max_batch_windows``), from :func:`window_memory_bytes`."""
    n_windows, n_channels, n_samples = shape
    per_window = window_memory_bytes(settings, n_channels, n_samples)
    table = table_memory_bytes(settings, n_windows, n_channels)
    available = mem_mb * 1e6 - JOB_BASE_MB * 1e6 - table
    fitting = int(available // per_window)
    if fitting < 1:
        log.warning(
            "one window's features need about %.0f MB (estimated, %d channels x %d "
            "samples), more than the %.0f MB this job of %d MB has beside its base and "
            "feature table; computing one window at a time. Raise "
            "execution.feature_memory_mb, or give the job more memory with "
            "--set-resources features:mem_mb=<MB>",
            per_window / 1e6,
            n_channels,
            n_samples,
            max(available, 0) / 1e6,
            mem_mb,
        )
    size = max(1, min(fitting, max_batch_windows))
    log.info(
        "memory: about %.1f MB per window (estimated), feature table %.1f MB; batches "
        "of %d windows within the job's %d MB",
        per_window / 1e6,
        table / 1e6,
        size,
        mem_mb,
    )
    return size


def compute_features(
    signal_path, table_path, out_path, settings, batch_size=256, mem_mb=None
):
    """Compute the configured features of one recording's windows to parquet.

    One row per window: the window table's columns (less ``fif_sample``, the
    window's place in the FIF), then the feature columns
    of :func:`feature_columns`; columns of channels marked bad in
    preprocessing (``bad_channels.action: mark``) are NaN, pairwise ones
    where either channel is bad. Windows are read from ``signal_path`` (the FIF
    the window table ``table_path`` was cut from) at most ``batch_size`` at a
    time; with ``mem_mb`` (the job's memory), fewer
    where the features of that many windows would not fit (see
    :func:`batch_windows`): pairwise features on many channels at a high rate
    need hundreds of MB per window.
    """
    import pyarrow.parquet as pq

    from .arrow import numpy_array
    from .windows import marked_bad_channels, read_windows, window_table_info

    validate_feature_settings(settings)
    windows, table, sfreq, ch_names = read_windows(signal_path, table_path)
    if mem_mb is not None:
        batch_size = batch_windows(settings, windows.shape, batch_size, mem_mb)
    planned = feature_columns(settings, ch_names)
    producing = {name: settings["compute"][name] for name, *_ in planned}
    info = window_table_info(table)
    notes = info.setdefault("warnings", [])  # the window table's, then the features'
    for name in sorted(settings["compute"].keys() - producing.keys()):
        note(
            table_path,
            f"config features.compute.{name}: no columns (a pairwise feature needs 2 "
            f"channels or more; this recording has {len(ch_names)})",
            notes,
        )
    values = {column: np.empty(len(windows)) for *_, column in planned}
    undefined = sorted(name for name in producing if FEATURES[name].nan_for_constant)
    constant = np.zeros(len(ch_names), dtype=np.int64)  # constant windows per channel
    for start in range(0, len(windows), batch_size):
        data = windows[start : start + batch_size]
        batch = WindowBatch(data, sfreq, settings["welch"])
        stop = start + len(data)
        windows.release(start, stop)  # the batch is in data: its file pages may go
        computed = {
            name: FEATURES[name].function(batch, **(params or {}))
            for name, params in producing.items()
        }
        for name, suffix, channel_index, _, column in planned:
            values[column][start:stop] = computed[name][suffix][:, channel_index]
        if undefined:
            constant += batch.constant.sum(axis=0)
        log.info("windows %d-%d of %d done", start, stop, len(windows))
    if constant.any():
        log.warning(
            "%s: windows whose samples are all equal, per channel %s: %s are NaN there "
            "(undefined for a constant)",
            table_path,
            {ch: int(n) for ch, n in zip(ch_names, constant) if n},
            ", ".join(undefined),
        )
    bad = set(marked_bad_channels(info))
    for *_, channels, column in planned:
        if bad & set(channels):  # a bad channel marked in preprocessing
            values[column][:] = np.nan
    if bad:
        log.info("features of bad channels %s set to NaN", sorted(bad))
    info["provenance"] = with_stage(info.get("provenance"), features=settings)
    table = table.drop_columns(["fif_sample"])  # a place in the FIF, not a feature
    table = table.replace_schema_metadata({"eegflow": json.dumps(info)})
    for column, array in values.items():
        table = table.append_column(column, numpy_array(array))
    with atomic_output(out_path) as tmp:
        pq.write_table(table, tmp)
