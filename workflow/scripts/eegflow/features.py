"""Per-window features: a registry of named functions over batches of windows.

A feature is a function ``f(batch, **params)`` registered with
:func:`register`. ``batch`` is a :class:`WindowBatch`: ``batch.data`` has shape
(windows, channels, samples) and ``batch.psd`` is the Welch PSD shared by every
spectral feature (computed once per batch, on first use). The function returns
a dict ``{suffix: array of shape (windows, channels)}``; each entry becomes the
column ``<feature>_<channel>`` (suffix ``""``) or ``<feature>_<channel>_<suffix>``.

To add a feature: write a registered function here and add one line under
``features.compute`` in ``config.yaml`` with its name and parameters.
"""

import inspect
import logging
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Callable

import numpy as np

from . import UserError
from .fileio import atomic_output

# scipy.signal (~1.3 s) and pyarrow are imported where used: the Snakefile imports
# this module at every start for the registry, and a no-op run should stay quick.

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Feature:
    """A registered feature function and whether it reads the shared PSD."""

    function: Callable
    uses_psd: bool


FEATURES = {}


def register(name, uses_psd=False):
    """Register ``function`` under ``name`` (the key used in config.yaml)."""

    def decorator(function):
        FEATURES[name] = Feature(function, uses_psd)
        return function

    return decorator


class WindowBatch:
    """A batch of windows with the intermediates features share.

    Parameters
    ----------
    data : ndarray, shape (windows, channels, samples)
    sfreq : float
        Sampling rate in Hz.
    welch : dict
        Config ``features.welch``: ``segment_s`` (Welch segment length in s)
        and ``overlap`` (fraction of a segment, in [0, 1)).
    """

    def __init__(self, data, sfreq, welch):
        self.data = data
        self.sfreq = sfreq
        self.welch = welch

    @cached_property
    def psd(self):
        """(freqs, psd): one Welch PSD per window and channel, Hann, density, V²/Hz."""
        import scipy.signal

        nperseg = int(round(self.welch["segment_s"] * self.sfreq))
        return scipy.signal.welch(
            self.data,
            fs=self.sfreq,
            window="hann",
            nperseg=nperseg,
            noverlap=int(round(self.welch["overlap"] * nperseg)),
            axis=-1,
        )


@register("variance")
def variance(batch):
    """Variance of each window-channel (population variance, ddof=0), V²."""
    return {"": batch.data.var(axis=-1)}


@register("band_power", uses_psd=True)
def band_power(batch, bands):
    """Absolute power in each band from the shared Welch PSD, V².

    ``bands`` maps a name to ``[low, high]`` Hz. Power is the rectangle-rule
    integral ``sum(psd[f]) * df`` over bins with ``low <= f < high``, so
    adjacent bands add up exactly.
    """
    freqs, psd = batch.psd
    df = freqs[1] - freqs[0]
    return {
        name: psd[..., (freqs >= low) & (freqs < high)].sum(axis=-1) * df
        for name, (low, high) in bands.items()
    }


def coarse_grain(x, scale):
    """Costa's coarse-graining: means of consecutive non-overlapping runs of ``scale``.

    Trailing samples that do not fill a run are dropped.
    """
    n = x.shape[-1] // scale
    return x[..., : n * scale].reshape(*x.shape[:-1], n, scale).mean(axis=-1)


def sample_entropy(x, m, tolerance):
    """Sample entropy (Richman & Moorman 2000) along the last axis, vectorised.

    ``SampEn = -ln(A / B)`` where B (A) counts pairs of distinct templates of
    length m (m + 1) within Chebyshev distance ``tolerance``; both use the
    first N - m templates. NaN where A or B is 0 (undefined).

    Parameters
    ----------
    x : ndarray, shape (..., N)
    m : int
        Embedding dimension.
    tolerance : ndarray, shape (...)
        Absolute tolerance r for each series.
    """
    n_templates = x.shape[-1] - m
    tolerance = np.asarray(tolerance)[..., None]
    matches_m = np.zeros(x.shape[:-1], dtype=np.int64)
    matches_m1 = np.zeros(x.shape[:-1], dtype=np.int64)
    # pairs (i, i + lag): sample-wise closeness, then runs of m and m + 1 of it
    for lag in range(1, n_templates):
        close = np.abs(x[..., lag:] - x[..., :-lag]) <= tolerance
        n_pairs = n_templates - lag
        run = close[..., :n_pairs].copy()
        for k in range(1, m):
            run &= close[..., k : k + n_pairs]
        matches_m += run.sum(axis=-1)
        run &= close[..., m : m + n_pairs]
        matches_m1 += run.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sampen = np.log(matches_m) - np.log(matches_m1)
    return np.where((matches_m > 0) & (matches_m1 > 0), sampen, np.nan)


@register("multiscale_entropy")
def multiscale_entropy(batch, m=2, r=0.2, scales=(1, 2)):
    """Multiscale sample entropy (Costa et al. 2002), one column per scale.

    Each window-channel is coarse-grained at every scale; the tolerance is
    ``r`` times the standard deviation (ddof=0) of the original window-channel,
    fixed across scales as in Costa et al. A constant signal gives 0.
    """
    tolerance = r * batch.data.std(axis=-1)
    return {
        f"scale{scale}": sample_entropy(coarse_grain(batch.data, scale), m, tolerance)
        for scale in scales
    }


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
            inspect.signature(FEATURES[name].function).bind(None, **(params or {}))
        except TypeError as error:
            raise UserError(
                f"config features.compute.{name}: bad parameters {params} ({error})"
            ) from None
    entropy = settings["compute"].get("multiscale_entropy") or {}
    key = "config features.compute.multiscale_entropy"
    if not _is_positive_int(entropy.get("m", 2)) or entropy.get("r", 0.2) <= 0:
        raise UserError(f"{key}: m must be a positive integer and r > 0")
    if not all(_is_positive_int(scale) for scale in entropy.get("scales", [1])):
        raise UserError(f"{key}.scales: expected positive integers")
    bands = (settings["compute"].get("band_power") or {}).get("bands", {})
    for band, edges in bands.items():
        key = f"features.compute.band_power.bands.{band}"
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
                f"config features.compute.band_power.bands: {name}={edges} and "
                f"{next_name}={next_edges} overlap; bands are [low, high) ranges "
                "that must not overlap (adjacent is fine: [8, 12], [12, 30])"
            )
    segment_s = settings["welch"]["segment_s"]
    if window_s is not None and segment_s > window_s:
        raise UserError(
            f"config features.welch.segment_s={segment_s} s is longer than a window "
            f"(windows.window_s={window_s} s); lower it"
        )


def _is_positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def short_entropy_series(settings, window_samples):
    """Scales whose coarse-grained windows have fewer than 10**m samples.

    Sample entropy needs roughly N >= 10**m points (Richman & Moorman 2000);
    below that it is often undefined (NaN) for lack of matching templates.
    """
    entropy = settings["compute"].get("multiscale_entropy")
    if entropy is None:
        return []
    m = entropy.get("m", 2)
    scales = entropy.get("scales", [1, 2])
    return [scale for scale in scales if window_samples // scale < 10**m]


def compute_features(windows_path, metadata_path, out_path, settings, batch_size=256):
    """Compute the configured features of one recording's windows to parquet.

    One row per window: the window table's columns, then the feature columns
    in config order (feature, channel, suffix). Windows are read from the
    memory-mapped array ``batch_size`` at a time, bounding memory.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .windows import read_windows

    validate_feature_settings(settings)
    windows, table, sfreq, ch_names = read_windows(windows_path, metadata_path)
    columns = {}
    for start in range(0, len(windows), batch_size):
        data = np.asarray(windows[start : start + batch_size], dtype=np.float64)
        batch = WindowBatch(data, sfreq, settings["welch"])
        for name, params in settings["compute"].items():
            values = FEATURES[name].function(batch, **(params or {}))
            for suffix, array in values.items():
                for channel_index, channel in enumerate(ch_names):
                    column = "_".join(filter(None, (name, channel, suffix)))
                    columns.setdefault(column, []).append(array[:, channel_index])
        log.info("windows %d-%d of %d done", start, start + len(data), len(windows))
    for column, parts in columns.items():
        table = table.append_column(column, pa.array(np.concatenate(parts)))
    with atomic_output(out_path) as tmp:
        pq.write_table(table, tmp)
