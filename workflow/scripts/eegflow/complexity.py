"""Complexity features: multiscale sample entropy (Costa et al. 2002)."""

import numpy as np

from .registry import register


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


@register(
    "multiscale_entropy", suffixes=lambda m, r, scales: [f"scale{s}" for s in scales]
)
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
