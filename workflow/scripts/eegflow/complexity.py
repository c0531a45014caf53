"""Complexity and fractal features: entropies of the signal's patterns, fractal dimensions.

Entropies are in bits (log2) except sample entropy (natural log, as its definition).
"""

import numpy as np

from .registry import register


def coarse_grain(x, scale):
    """Costa's coarse-graining: means of consecutive non-overlapping runs of ``scale``.

    Trailing samples that do not fill a run are dropped.
    """
    n = x.shape[-1] // scale
    return x[..., : n * scale].reshape(*x.shape[:-1], n, scale).mean(axis=-1)


def matching_templates(x, tolerance, length, n_templates):
    """Yield ``(lag, close, run)`` for every lag between the first ``n_templates`` templates.

    ``close[..., i]`` is ``|x[i + lag] - x[i]| <= tolerance``; ``run[..., i]`` (a
    writable copy) says whether templates i and i + lag of ``length`` samples are
    within ``tolerance`` in Chebyshev distance, for i < n_templates - lag.
    """
    for lag in range(1, n_templates):
        close = np.abs(x[..., lag:] - x[..., :-lag]) <= tolerance
        n_pairs = n_templates - lag
        run = close[..., :n_pairs].copy()
        for k in range(1, length):
            run &= close[..., k : k + n_pairs]
        yield lag, close, run


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
    for _, close, run in matching_templates(x, tolerance, m, n_templates):
        matches_m += run.sum(axis=-1)
        run &= close[..., m : m + run.shape[-1]]  # one sample longer: length m + 1
        matches_m1 += run.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sampen = np.log(matches_m) - np.log(matches_m1)
    return np.where((matches_m > 0) & (matches_m1 > 0), sampen, np.nan)


@register("sample_entropy")
def sample_entropy_of_windows(batch, m=2, r=0.2):
    """Sample entropy (Richman & Moorman 2000) of each window-channel, tolerance r x std.

    The same as ``multiscale_entropy`` at scale 1; NaN when undefined, 0 for a constant.
    """
    return {"": sample_entropy(batch.data, m, r * batch.data.std(axis=-1))}


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


@register("approximate_entropy")
def approximate_entropy(batch, m=2, r=0.2):
    """Approximate entropy (Pincus 1991): Phi_m - Phi_{m+1}, natural log.

    Phi_k = mean over templates of ln(C_i), C_i the fraction of the N - k + 1
    templates of length k within Chebyshev distance ``r`` x std (ddof=0) of
    template i, itself included.
    """
    x = batch.data
    tolerance = (r * x.std(axis=-1))[..., None]
    n = x.shape[-1]

    def phi(length):
        n_templates = n - length + 1
        counts = np.ones(x.shape[:-1] + (n_templates,))  # each template matches itself
        for lag, _, run in matching_templates(x, tolerance, length, n_templates):
            counts[..., : run.shape[-1]] += run  # pair (i, i + lag) counts for both
            counts[..., lag:] += run
        return np.log(counts / n_templates).mean(axis=-1)

    return {"": phi(m) - phi(m + 1)}


def embed(x, order, delay):
    """Delay embedding along the last axis: shape (..., N - (order - 1) * delay, order)."""
    span = (order - 1) * delay + 1
    return np.lib.stride_tricks.sliding_window_view(x, span, axis=-1)[..., ::delay]


def shannon_entropy_bits(p):
    """Shannon entropy in bits along the last axis (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0).sum(axis=-1)


@register("permutation_entropy")
def permutation_entropy(batch, order=3, delay=1, normalize=False):
    """Permutation entropy (Bandt & Pompe 2002) of the ordinal patterns of ``order`` samples.

    ``normalize`` divides by log2(order!), giving [0, 1].
    """
    patterns = embed(batch.data, order, delay).argsort(axis=-1, kind="quicksort")
    codes = (patterns * order ** np.arange(order)).sum(
        axis=-1
    )  # one integer per pattern
    n_codes = order**order
    series = np.arange(codes[..., 0].size).reshape(codes.shape[:-1])[..., None]
    counts = np.bincount(
        (series * n_codes + codes).ravel(), minlength=series.size * n_codes
    )
    counts = counts.reshape(*codes.shape[:-1], n_codes)
    entropy = shannon_entropy_bits(counts / codes.shape[-1])
    if normalize:
        entropy = entropy / np.log2(float(np.prod(np.arange(1, order + 1))))
    return {"": entropy}


@register("svd_entropy")
def svd_entropy(batch, order=3, delay=1, normalize=False):
    """Entropy (bits) of the normalised singular values of the delay-embedding matrix.

    ``normalize`` divides by log2(order). NaN for a constant window.
    """
    singular = np.linalg.svd(embed(batch.data, order, delay), compute_uv=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = shannon_entropy_bits(singular / singular.sum(axis=-1, keepdims=True))
    entropy[singular.sum(axis=-1) == 0] = np.nan
    if normalize:
        entropy = entropy / np.log2(order)
    return {"": entropy}


@register("petrosian_fd")
def petrosian_fd(batch):
    """Petrosian fractal dimension from the sign changes of the first difference.

    log10 N / (log10 N + log10(N / (N + 0.4 n))), n = sign changes (sign bit) of diff(x).
    """
    n = batch.data.shape[-1]
    changes = np.diff(np.signbit(np.diff(batch.data, axis=-1)), axis=-1).sum(axis=-1)
    return {"": np.log10(n) / (np.log10(n) + np.log10(n / (n + 0.4 * changes)))}


@register("katz_fd")
def katz_fd(batch):
    """Katz fractal dimension log10(L / a) / log10(d / a) (Katz 1988).

    L: total curve length (sum of |diff|), a: its mean step, d: the largest
    distance from the first sample. NaN for a constant window.
    """
    x = batch.data
    steps = np.abs(np.diff(x, axis=-1))
    length, mean_step = steps.sum(axis=-1), steps.mean(axis=-1)
    extent = np.abs(x - x[..., :1]).max(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log10(length / mean_step) / np.log10(extent / mean_step)
    return {"": np.where(mean_step > 0, value, np.nan)}


@register("higuchi_fd")
def higuchi_fd(batch, kmax=10):
    """Higuchi fractal dimension (Higuchi 1988) with k = 1 .. ``kmax``.

    L_m(k) = sum_{i=1}^{M} |x[m + i k] - x[m + (i - 1) k]| (N - 1) / (M k) / k with
    M = floor((N - 1 - m) / k) (0-based m), L(k) the mean over m = 0 .. k-1, and
    the dimension the least-squares slope of log L(k) against log(1 / k). NaN for
    a constant window.
    """
    x = batch.data
    n = x.shape[-1]
    log_lengths = []
    for k in range(1, kmax + 1):
        lengths = []
        for m in range(k):
            steps = np.abs(np.diff(x[..., m::k], axis=-1))
            n_steps = steps.shape[-1]
            lengths.append(steps.sum(axis=-1) * (n - 1) / (n_steps * k) / k)
        with np.errstate(divide="ignore"):
            log_lengths.append(np.log(np.mean(lengths, axis=0)))
    log_inverse_k = np.log(1 / np.arange(1, kmax + 1))
    return {"": _least_squares_slope(log_inverse_k, np.stack(log_lengths, axis=-1))}


@register("svd_fisher_information")
def svd_fisher_information(batch, order=10, delay=2):
    """Fisher information of the normalised singular values s of the delay embedding.

    sum_i (s[i+1] - s[i])**2 / s[i] (Roberts et al. 1999); defaults as mne-features
    (order 10, delay 2). NaN for a constant window.
    """
    singular = np.linalg.svd(embed(batch.data, order, delay), compute_uv=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        normalised = singular / singular.sum(axis=-1, keepdims=True)
        terms = np.diff(normalised, axis=-1) ** 2 / normalised[..., :-1]
    # trailing zero singular values (a rank-deficient embedding) contribute nothing
    terms = np.where(normalised[..., :-1] > 0, terms, 0)
    return {"": np.where(singular.sum(axis=-1) > 0, terms.sum(axis=-1), np.nan)}


def _least_squares_slope(x, y, weights=None):
    """Slope of y against x along the last axis (weights 0/1 leave points out)."""
    weights = np.ones_like(y) if weights is None else weights.astype(float)
    count = weights.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_mean = (weights * x).sum(axis=-1, keepdims=True) / count
        y_mean = (weights * np.where(weights > 0, y, 0)).sum(
            axis=-1, keepdims=True
        ) / count
        dx = (x - x_mean) * weights
        slope = (dx * np.where(weights > 0, y - y_mean, 0)).sum(axis=-1) / (dx**2).sum(
            axis=-1
        )
    return np.where(count[..., 0] >= 2, slope, np.nan)


def geometric_lengths(minimum, maximum, factor):
    """Integers minimum, floor(minimum * factor**i), ... up to maximum, without repeats."""
    lengths = [minimum]
    i = 1
    while minimum * factor**i <= maximum:
        length = int(np.floor(minimum * factor**i))
        if length > lengths[-1]:
            lengths.append(length)
        i += 1
    return np.array(lengths)


@register("detrended_fluctuation")
def detrended_fluctuation(batch, min_length=4, max_fraction=0.1, factor=1.2):
    """Detrended fluctuation analysis exponent alpha (Peng et al. 1995).

    The profile (cumulative sum of the mean-removed window) is cut into
    non-overlapping segments of n samples, each detrended by a least-squares
    line; F(n) is the root of the mean squared residual over all segments, and
    alpha the slope of log F(n) against log n, for n from ``min_length`` up to
    ``max_fraction`` of the window growing by ``factor`` (antropy's choice).
    Lengths with F(n) = 0 are left out; NaN for a constant window.
    """
    x = batch.data
    n_samples = x.shape[-1]
    profile = np.cumsum(x - x.mean(axis=-1, keepdims=True), axis=-1)
    lengths = geometric_lengths(min_length, max_fraction * n_samples, factor)
    fluctuations = []
    for n in lengths:
        segments = profile[..., : n_samples // n * n].reshape(*x.shape[:-1], -1, n)
        t = np.arange(n) - (n - 1) / 2
        centred = segments - segments.mean(axis=-1, keepdims=True)
        slope = (centred * t).sum(axis=-1, keepdims=True) / (t**2).sum()
        residual = centred - slope * t
        fluctuations.append(np.sqrt((residual**2).mean(axis=-1).mean(axis=-1)))
    fluctuations = np.stack(fluctuations, axis=-1)
    positive = fluctuations > 0
    with np.errstate(divide="ignore"):
        log_f = np.log(np.where(positive, fluctuations, 1))
    return {"": _least_squares_slope(np.log(lengths), log_f, positive)}


@register("hurst_exponent")
def hurst_exponent(batch, min_length=8):
    """Hurst exponent by rescaled-range analysis (Hurst 1951, uncorrected).

    For n = ``min_length``, 2 ``min_length``, ... up to half the window, the
    window is cut into non-overlapping segments of n samples; R/S of a segment
    is the range of its mean-removed cumulative sum over its standard deviation
    (ddof=0). H is the slope of log(mean R/S) against log n (segments with
    S = 0 left out; NaN for a constant window). Uncorrected R/S overestimates
    H for short segments (about 0.55-0.6 for white noise at n <= 128).
    """
    x = batch.data
    n_samples = x.shape[-1]
    lengths = min_length * 2 ** np.arange(int(np.log2(n_samples / 2 / min_length)) + 1)
    log_rs = []
    for n in lengths:
        segments = x[..., : n_samples // n * n].reshape(*x.shape[:-1], -1, n)
        deviations = segments - segments.mean(axis=-1, keepdims=True)
        walk = np.cumsum(deviations, axis=-1)
        spread = walk.max(axis=-1) - walk.min(axis=-1)
        std = segments.std(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            rs = np.where(std > 0, spread / std, 0).sum(axis=-1) / (std > 0).sum(
                axis=-1
            )
            log_rs.append(np.log(rs))
    log_rs = np.stack(log_rs, axis=-1)
    return {"": _least_squares_slope(np.log(lengths), log_rs, np.isfinite(log_rs))}


def lempel_ziv_count(symbols):
    """Number of words in the Lempel-Ziv (1976) exhaustive parsing of a string.

    Each word is the shortest substring starting where the previous ended that
    cannot be copied from the text before its last character; an incomplete
    last word counts.
    """
    count, start, n = 0, 0, len(symbols)
    while start < n:
        length = 1
        while (
            start + length <= n
            and symbols[start : start + length] in symbols[: start + length - 1]
        ):
            length += 1
        count += 1
        start += length
    return count


@register("lempel_ziv")
def lempel_ziv(batch, normalize=True):
    """Lempel-Ziv complexity (1976) of the window binarised at its median (x > median).

    ``normalize`` divides the word count by N / log2(N), about 1 for white noise.
    """
    x = batch.data
    binary = x > np.median(x, axis=-1, keepdims=True)
    flat = binary.reshape(-1, x.shape[-1])
    strings = (np.where(row, "1", "0").tobytes().decode("utf-32-le") for row in flat)
    counts = np.array([lempel_ziv_count(string) for string in strings], dtype=float)
    counts = counts.reshape(x.shape[:-1])
    n = x.shape[-1]
    return {"": counts / (n / np.log2(n)) if normalize else counts}
