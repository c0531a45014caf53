"""Time-domain features of each window-channel (all vectorised over windows and channels).

Undefined values (e.g. the skewness or Hjorth parameters of a constant signal)
are NaN, never an error in the middle of a run.
"""

import numpy as np

from .registry import register


def _centred(batch):
    return batch.data - batch.data.mean(axis=-1, keepdims=True)


def _ratio(numerator, denominator):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


@register("mean")
def mean(batch):
    """Mean, V."""
    return {"": batch.data.mean(axis=-1)}


@register("variance")
def variance(batch):
    """Variance of each window-channel (population variance, ddof=0), V²."""
    return {"": batch.data.var(axis=-1)}


@register("hjorth_activity")
def hjorth_activity(batch):
    """Hjorth activity: the variance (ddof=0), V²."""
    return {"": batch.data.var(axis=-1)}


@register("std")
def std(batch):
    """Standard deviation (ddof=0), V."""
    return {"": batch.data.std(axis=-1)}


@register("skewness")
def skewness(batch):
    """Skewness g1 = m3 / m2**1.5 (biased moments, as scipy.stats.skew); NaN if constant."""
    centred = _centred(batch)
    m2 = (centred**2).mean(axis=-1)
    return {"": _ratio((centred**3).mean(axis=-1), m2**1.5)}


@register("kurtosis")
def kurtosis(batch):
    """Excess kurtosis g2 = m4 / m2**2 - 3 (as scipy.stats.kurtosis); NaN if constant."""
    centred = _centred(batch)
    m2 = (centred**2).mean(axis=-1)
    return {"": _ratio((centred**4).mean(axis=-1), m2**2) - 3}


@register("rms")
def rms(batch):
    """Root mean square, V."""
    return {"": np.sqrt((batch.data**2).mean(axis=-1))}


@register("peak_to_peak")
def peak_to_peak(batch):
    """Maximum minus minimum, V."""
    return {"": np.ptp(batch.data, axis=-1)}


def quantile_suffix(q):
    """Column suffix of quantile ``q``: 0.25 -> "q25", 0.025 -> "q2.5"."""
    return f"q{100 * q:g}"


@register("quantiles", suffixes=lambda q: [quantile_suffix(value) for value in q])
def quantiles(batch, q=(0.25, 0.5, 0.75)):
    """Quantiles (numpy's default linear interpolation), V."""
    values = np.quantile(batch.data, q, axis=-1)
    return {quantile_suffix(value): values[i] for i, value in enumerate(q)}


@register("zero_crossings")
def zero_crossings(batch):
    """Number of sign changes of the window minus its mean (exact zeros do not count)."""
    centred = _centred(batch)
    return {"": (centred[..., :-1] * centred[..., 1:] < 0).sum(axis=-1).astype(float)}


@register("line_length")
def line_length(batch):
    """Mean absolute difference of consecutive samples, V (mne-features' convention)."""
    return {"": np.abs(np.diff(batch.data, axis=-1)).mean(axis=-1)}


def _mobility(x):
    return np.sqrt(_ratio(np.diff(x, axis=-1).var(axis=-1), x.var(axis=-1)))


@register("hjorth_mobility")
def hjorth_mobility(batch):
    """Hjorth mobility sqrt(var(x') / var(x)), x' the first difference (per sample)."""
    return {"": _mobility(batch.data)}


@register("hjorth_complexity")
def hjorth_complexity(batch):
    """Hjorth complexity mobility(x') / mobility(x)."""
    return {"": _ratio(_mobility(np.diff(batch.data, axis=-1)), _mobility(batch.data))}


@register("teager_kaiser_energy")
def teager_kaiser_energy(batch):
    """Mean Teager-Kaiser energy x[n]**2 - x[n-1] * x[n+1] (Kaiser 1990), V²."""
    x = batch.data
    return {"": (x[..., 1:-1] ** 2 - x[..., :-2] * x[..., 2:]).mean(axis=-1)}


@register("decorrelation_time")
def decorrelation_time(batch):
    """Seconds to the first lag where the (biased) autocorrelation is <= 0; NaN if none."""
    centred = _centred(batch)
    n = centred.shape[-1]
    spectrum = np.fft.rfft(centred, n=2 * n, axis=-1)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2, axis=-1)[..., :n]
    crossed = autocorrelation <= 0
    first = np.argmax(crossed, axis=-1).astype(float)
    first[~crossed.any(axis=-1)] = np.nan
    return {"": first / batch.sfreq}
