"""Complexity and fractal features: entropies of the signal's patterns, fractal dimensions.

Entropies are in bits (log2) except sample entropy (natural log, as its definition).
"""

import sys

import numpy as np

from .numerics import shannon_entropy_bits
from .registry import register


def coarse_grain(x, scale):
    """Costa's coarse-graining: means of consecutive non-overlapping runs of ``scale``.

    Trailing samples that do not fill a run are dropped.
    """
    n = x.shape[-1] // scale
    return x[..., : n * scale].reshape(*x.shape[:-1], n, scale).mean(axis=-1)


def sample_entropy(x, m, tolerance):
    """Sample entropy (Richman & Moorman 2000) along the last axis.

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

    Returns
    -------
    ndarray, shape (...)
        SampEn in nats.
    """
    series, tolerances = _series_and_tolerances(x, tolerance)
    counts = count_template_pairs(series, tolerances, m).reshape(*x.shape[:-1], 2)
    matches_m, matches_m1 = counts[..., 0], counts[..., 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        sampen = np.log(matches_m) - np.log(matches_m1)
    return np.where((matches_m > 0) & (matches_m1 > 0), sampen, np.nan)


# Template counting: below this many template comparisons (series x N^2) in one call,
# NumPy comparing every pair is quicker than loading numba and its compiled kernel
# (about 0.5-1 s per process); above it the compiled sorted scan is 2.5-25x quicker.
# Once loaded (a warm worker keeps it for its later jobs), the kernel counts every call.
COMPILED_FROM_COMPARISONS = 5e7


def _comparisons(n_series, n_times):
    """Template comparisons of counting ``n_series`` series of ``n_times`` samples."""
    return n_series * n_times**2


def _compiled(series):
    return (
        _comparisons(*series.shape) >= COMPILED_FROM_COMPARISONS
        or f"{__package__}.template_matching" in sys.modules
    )


def _all_pairs_runs(series, tolerances, m, n_templates):
    """Yield ``(lag, run_m, run_m1)`` for every lag between the first ``n_templates``.

    ``run_m[s, i]``: templates i and i + lag of length m match (within tolerance in
    Chebyshev distance); ``run_m1[s, i]``: so do they over length m + 1, for the pairs
    where both templates of length m + 1 fit in the series.
    """
    n = series.shape[-1]
    tolerances = tolerances[:, None]
    for lag in range(1, n_templates):
        close = np.abs(series[:, lag:] - series[:, :-lag]) <= tolerances
        n_pairs = n_templates - lag
        run_m = close[:, :n_pairs].copy()
        for k in range(1, m):
            run_m &= close[:, k : k + n_pairs]
        n_longer = min(n_pairs, n - m - lag)
        yield lag, run_m, run_m[:, :n_longer] & close[:, m : m + n_longer]


def count_template_pairs(series, tolerances, m):
    """Matching pairs of distinct templates among the first N - m, for sample entropy.

    Parameters and result as :func:`.template_matching.count_template_pairs`: the
    compiled kernel counts large calls, NumPy comparing every pair the others (the
    same comparisons, identical counts).
    """
    if _compiled(series):
        from . import template_matching  # numba: loaded only when it pays

        return template_matching.count_template_pairs(series, tolerances, m)
    counts = np.zeros((series.shape[0], 2), dtype=np.int64)
    for _, run_m, run_m1 in _all_pairs_runs(series, tolerances, m, series.shape[1] - m):
        counts[:, 0] += run_m.sum(axis=-1)
        counts[:, 1] += run_m1.sum(axis=-1)
    return counts


def count_template_matches(series, tolerances, m):
    """Per template, the other templates it matches, for approximate entropy.

    Parameters and result as :func:`.template_matching.count_template_matches`,
    compiled or NumPy as :func:`count_template_pairs`.
    """
    if _compiled(series):
        from . import template_matching  # numba: loaded only when it pays

        return template_matching.count_template_matches(series, tolerances, m)
    n_templates = series.shape[1] - m + 1
    counts = np.zeros((series.shape[0], 2, n_templates), dtype=np.int64)
    for lag, run_m, run_m1 in _all_pairs_runs(series, tolerances, m, n_templates):
        for length, run in enumerate((run_m, run_m1)):
            # the pair (i, i + lag) counts for both templates
            counts[:, length, : run.shape[1]] += run
            counts[:, length, lag : lag + run.shape[1]] += run
    return counts


def _series_and_tolerances(x, tolerance):
    """``x`` as contiguous float64 rows and ``tolerance`` broadcast to one per row."""
    # writable arrays only: numba compiles a read-only one (a broadcast, a memory-mapped
    # file) as another type, so it would compile or load the kernel twice
    series = np.ascontiguousarray(x, dtype=np.float64).reshape(-1, x.shape[-1])
    if not series.flags.writeable:
        series = series.copy()
    tolerances = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), x.shape[:-1])
    return series, np.array(tolerances, dtype=np.float64).reshape(-1)


@register("sample_entropy")
def sample_entropy_of_windows(batch, m=2, r=0.2):
    r"""Sample entropy of each window-channel.

    Parameters
    ----------
    m : int
        Template length (embedding dimension).
    r : float
        Tolerance as a fraction of the window-channel's standard deviation (ddof=0).

    Returns
    -------
    dict
        ``{"": SampEn}`` in nats, shape (windows, channels); NaN when undefined (no
        match of length m + 1), 0 for a constant window.

    Notes
    -----
    :math:`\mathrm{SampEn} = -\ln(A / B)`, B (A) the number of pairs of distinct
    templates of length m (m + 1) within Chebyshev distance :math:`r \sigma`, both
    over the first N - m templates. Equal to ``multiscale_entropy`` at scale 1.

    References
    ----------
    .. [1] Richman JS, Moorman JR (2000). Physiological time-series analysis using
       approximate entropy and sample entropy. Am J Physiol Heart Circ Physiol
       278(6):H2039-H2049.
    """
    return {"": sample_entropy(batch.data, m, r * batch.data.std(axis=-1))}


@register(
    "multiscale_entropy",
    suffixes=lambda scales, **_: [f"scale{s}" for s in scales],
)
def multiscale_entropy(batch, m=2, r=0.2, scales=(1, 2)):
    r"""Multiscale sample entropy of each window-channel, one column per scale.

    Parameters
    ----------
    m : int
        Template length.
    r : float
        Tolerance as a fraction of the window-channel's standard deviation (ddof=0).
    scales : sequence of int
        Coarse-graining scales; suffix ``scale<s>``.

    Returns
    -------
    dict
        ``{"scale1": ..., ...}`` in nats, each of shape (windows, channels).

    Notes
    -----
    At scale s the window is coarse-grained into means of non-overlapping runs of
    s samples, :math:`y_j = \frac{1}{s} \sum_{i=(j-1)s+1}^{js} x_i`, and its sample
    entropy taken with the tolerance :math:`r \sigma` of the original window,
    fixed across scales as in Costa et al.

    References
    ----------
    .. [1] Costa M, Goldberger AL, Peng C-K (2002). Multiscale entropy analysis of
       complex physiologic time series. Phys Rev Lett 89(6):068102.
    """
    n_series, n_times = batch.data.size // batch.data.shape[-1], batch.data.shape[-1]
    comparisons = sum(_comparisons(n_series, n_times // scale) for scale in scales)
    if comparisons >= COMPILED_FROM_COMPARISONS:  # the scales together repay numba
        from . import template_matching  # noqa: F401 - loaded, it counts every scale
    tolerance = r * batch.data.std(axis=-1)
    return {
        f"scale{scale}": sample_entropy(coarse_grain(batch.data, scale), m, tolerance)
        for scale in scales
    }


@register("approximate_entropy")
def approximate_entropy(batch, m=2, r=0.2):
    r"""Approximate entropy of each window-channel.

    Parameters
    ----------
    m : int
        Template length.
    r : float
        Tolerance as a fraction of the window-channel's standard deviation (ddof=0).

    Returns
    -------
    dict
        ``{"": ApEn}`` in nats, shape (windows, channels).

    Notes
    -----
    :math:`\mathrm{ApEn} = \Phi_m - \Phi_{m+1}`, :math:`\Phi_k = \frac{1}{N-k+1}
    \sum_i \ln C_i^k`, :math:`C_i^k` the fraction of the N - k + 1 templates of length
    k within Chebyshev distance :math:`r \sigma` of template i, itself included.

    References
    ----------
    .. [1] Pincus SM (1991). Approximate entropy as a measure of system complexity.
       Proc Natl Acad Sci USA 88(6):2297-2301.
    """
    x = batch.data
    n = x.shape[-1]
    series, tolerances = _series_and_tolerances(x, r * x.std(axis=-1))
    others = count_template_matches(series, tolerances, m).reshape(*x.shape[:-1], 2, -1)
    # each template matches itself: C_i^k = (others + 1) / (number of templates)
    phi_m = np.log((others[..., 0, :] + 1.0) / (n - m + 1)).mean(axis=-1)
    phi_m1 = np.log((others[..., 1, : n - m] + 1.0) / (n - m)).mean(axis=-1)
    return {"": phi_m - phi_m1}


def embed(x, order, delay):
    """Delay embedding along the last axis: shape (..., N - (order - 1) * delay, order)."""
    span = (order - 1) * delay + 1
    return np.lib.stride_tricks.sliding_window_view(x, span, axis=-1)[..., ::delay]


@register("permutation_entropy")
def permutation_entropy(batch, order=3, delay=1, normalize=False):
    r"""Permutation entropy of each window-channel.

    Parameters
    ----------
    order : int
        Samples per ordinal pattern.
    delay : int
        Samples between a pattern's samples.
    normalize : bool
        Divide by :math:`\log_2(\mathrm{order}!)`, giving [0, 1].

    Returns
    -------
    dict
        ``{"": PE}`` in bits, shape (windows, channels).

    Notes
    -----
    :math:`-\sum_\pi p(\pi) \log_2 p(\pi)` over the relative frequencies of the
    ordinal patterns (argsort orders) of the delay-embedded window.

    References
    ----------
    .. [1] Bandt C, Pompe B (2002). Permutation entropy: a natural complexity
       measure for time series. Phys Rev Lett 88(17):174102.
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


@register("svd_entropy", nan_for_constant=True)
def svd_entropy(batch, order=3, delay=1, normalize=False):
    r"""Singular value decomposition entropy of each window-channel.

    Parameters
    ----------
    order : int
        Embedding dimension.
    delay : int
        Embedding delay in samples.
    normalize : bool
        Divide by :math:`\log_2(\mathrm{order})`, giving [0, 1].

    Returns
    -------
    dict
        ``{"": entropy}`` in bits, shape (windows, channels); NaN for a constant
        window.

    Notes
    -----
    :math:`-\sum_i \bar s_i \log_2 \bar s_i` with :math:`\bar s_i = s_i / \sum_j s_j`, the
    normalised singular values of the delay-embedding matrix (antropy's convention).

    References
    ----------
    .. [1] Roberts SJ, Penny W, Rezek I (1999). Temporal and spatial complexity
       measures for electroencephalogram based brain-computer interfacing. Med Biol
       Eng Comput 37(1):93-98.
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
    r"""Petrosian fractal dimension of each window-channel.

    Returns
    -------
    dict
        ``{"": PFD}``, dimensionless, shape (windows, channels).

    Notes
    -----
    :math:`\log_{10} N / (\log_{10} N + \log_{10}(N / (N + 0.4 N_\Delta)))`, N the
    samples and :math:`N_\Delta` the sign changes (sign bit) of the first difference.

    References
    ----------
    .. [1] Petrosian A (1995). Kolmogorov complexity of finite sequences and
       recognition of different preictal EEG patterns. Proc. IEEE CBMS, 212-217.
    """
    n = batch.data.shape[-1]
    changes = np.diff(np.signbit(np.diff(batch.data, axis=-1)), axis=-1).sum(axis=-1)
    return {"": np.log10(n) / (np.log10(n) + np.log10(n / (n + 0.4 * changes)))}


@register("katz_fd", nan_for_constant=True)
def katz_fd(batch):
    r"""Katz fractal dimension of each window-channel.

    Returns
    -------
    dict
        ``{"": KFD}``, dimensionless, shape (windows, channels); NaN for a constant
        window.

    Notes
    -----
    :math:`\log_{10}(L / a) / \log_{10}(d / a)`: L the curve length
    :math:`\sum_n |x_{n+1} - x_n|`, a its mean step, d the largest distance
    :math:`|x_n - x_0|` from the first sample.

    References
    ----------
    .. [1] Katz MJ (1988). Fractals and the analysis of waveforms. Comput Biol Med
       18(3):145-156.
    """
    x = batch.data
    steps = np.abs(np.diff(x, axis=-1))
    length, mean_step = steps.sum(axis=-1), steps.mean(axis=-1)
    extent = np.abs(x - x[..., :1]).max(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log10(length / mean_step) / np.log10(extent / mean_step)
    return {"": np.where(mean_step > 0, value, np.nan)}


@register("higuchi_fd", nan_for_constant=True)
def higuchi_fd(batch, kmax=10):
    r"""Higuchi fractal dimension of each window-channel.

    Parameters
    ----------
    kmax : int
        The largest interval k.

    Returns
    -------
    dict
        ``{"": HFD}``, dimensionless, shape (windows, channels); NaN for a constant
        window.

    Notes
    -----
    :math:`L_m(k) = \frac{N-1}{M k} \frac{1}{k} \sum_{i=1}^{M} |x_{m+ik} - x_{m+(i-1)k}|`
    with :math:`M = \lfloor (N-1-m)/k \rfloor` (0-based m); :math:`L(k)` the mean over
    m = 0 .. k-1; the dimension is the least-squares slope of :math:`\ln L(k)`
    against :math:`\ln(1/k)` for k = 1 .. kmax.

    References
    ----------
    .. [1] Higuchi T (1988). Approach to an irregular time series on the basis of
       the fractal theory. Physica D 31(2):277-283.
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


@register("svd_fisher_information", nan_for_constant=True)
def svd_fisher_information(batch, order=10, delay=2):
    r"""Fisher information of the singular values of each window-channel's embedding.

    Parameters
    ----------
    order : int
        Embedding dimension (default 10, as mne-features).
    delay : int
        Embedding delay in samples (default 2, as mne-features).

    Returns
    -------
    dict
        ``{"": FI}``, dimensionless, shape (windows, channels); NaN for a constant
        window.

    Notes
    -----
    :math:`\sum_i (\bar s_{i+1} - \bar s_i)^2 / \bar s_i` over the normalised singular
    values :math:`\bar s` of the delay-embedding matrix (zero ones contribute nothing).

    References
    ----------
    .. [1] Roberts SJ, Penny W, Rezek I (1999). Temporal and spatial complexity
       measures for electroencephalogram based brain-computer interfacing. Med Biol
       Eng Comput 37(1):93-98.
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


@register("detrended_fluctuation", nan_for_constant=True)
def detrended_fluctuation(batch, min_length=4, max_fraction=0.1, factor=1.2):
    r"""Detrended fluctuation analysis exponent of each window-channel.

    Parameters
    ----------
    min_length : int
        The shortest segment, in samples.
    max_fraction : float
        The longest segment as a fraction of the window.
    factor : float
        Growth factor of the segment lengths (antropy's choice, 1.2).

    Returns
    -------
    dict
        ``{"": alpha}``, dimensionless, shape (windows, channels); NaN for a
        constant window.

    Notes
    -----
    The profile :math:`y_k = \sum_{i \le k} (x_i - \bar x)` is cut into
    non-overlapping segments of n samples, each detrended by a least-squares line;
    :math:`F(n)` is the root mean squared residual over all segments and
    :math:`\alpha` the slope of :math:`\ln F(n)` against :math:`\ln n` (lengths with
    F(n) = 0 left out).

    References
    ----------
    .. [1] Peng C-K, Havlin S, Stanley HE, Goldberger AL (1995). Quantification of
       scaling exponents and crossover phenomena in nonstationary heartbeat time
       series. Chaos 5(1):82-87.
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


@register("hurst_exponent", nan_for_constant=True)
def hurst_exponent(batch, min_length=8):
    r"""Hurst exponent of each window-channel by rescaled-range analysis.

    Parameters
    ----------
    min_length : int
        The shortest segment in samples; lengths double up to half the window.

    Returns
    -------
    dict
        ``{"": H}``, dimensionless, shape (windows, channels); NaN for a constant
        window.

    Notes
    -----
    Per segment of n samples, :math:`R/S` is the range of the cumulative sum of its
    mean-removed samples over their standard deviation (ddof=0); H is the slope of
    :math:`\ln \overline{R/S}(n)` against :math:`\ln n` (segments with S = 0 left
    out). Uncorrected: it overestimates H for short segments (about 0.55-0.6 for
    white noise at n <= 128).

    References
    ----------
    .. [1] Hurst HE (1951). Long-term storage capacity of reservoirs. Trans Am Soc
       Civ Eng 116(1):770-799.
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
    r"""Lempel-Ziv complexity of each window-channel binarised at its median.

    Parameters
    ----------
    normalize : bool
        Divide the word count by :math:`N / \log_2 N` (about 1 for white noise).

    Returns
    -------
    dict
        ``{"": LZC}``, shape (windows, channels).

    Notes
    -----
    The window becomes the string :math:`b_n = [x_n > \mathrm{median}(x)]`; the
    complexity is the number of words of its exhaustive parsing (each word the
    shortest substring not copyable from the text before its last character).

    References
    ----------
    .. [1] Lempel A, Ziv J (1976). On the complexity of finite sequences. IEEE
       Trans Inf Theory 22(1):75-81.
    """
    x = batch.data
    binary = x > np.median(x, axis=-1, keepdims=True)
    flat = binary.reshape(-1, x.shape[-1])
    strings = (np.where(row, "1", "0").tobytes().decode("utf-32-le") for row in flat)
    counts = np.array([lempel_ziv_count(string) for string in strings], dtype=float)
    counts = counts.reshape(x.shape[:-1])
    n = x.shape[-1]
    return {"": counts / (n / np.log2(n)) if normalize else counts}
