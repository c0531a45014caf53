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
    r"""Mean of each window-channel.

    Returns
    -------
    dict
        ``{"": mean}`` in V, shape (windows, channels).

    Notes
    -----
    :math:`\bar x = \frac{1}{N} \sum_n x_n` over the window's N samples.

    References
    ----------
    .. [1] Schiratti J-B, Le Douget J-E, Le Van Quyen M, Essid S, Gramfort A
       (2018). An ensemble learning approach to detect epileptic seizures from long
       intracranial EEG recordings. Proc. IEEE ICASSP, 856-860 (mne-features).
    """
    return {"": batch.data.mean(axis=-1)}


@register("variance")
def variance(batch):
    r"""Variance of each window-channel.

    Returns
    -------
    dict
        ``{"": variance}`` in V², shape (windows, channels).

    Notes
    -----
    Population variance :math:`\frac{1}{N} \sum_n (x_n - \bar x)^2` (ddof=0, numpy's and
    mne-features' convention).

    References
    ----------
    .. [1] Schiratti J-B, Le Douget J-E, Le Van Quyen M, Essid S, Gramfort A
       (2018). An ensemble learning approach to detect epileptic seizures from long
       intracranial EEG recordings. Proc. IEEE ICASSP, 856-860 (mne-features).
    """
    return {"": batch.data.var(axis=-1)}


@register("hjorth_activity")
def hjorth_activity(batch):
    r"""Hjorth activity of each window-channel: its variance.

    Returns
    -------
    dict
        ``{"": activity}`` in V², shape (windows, channels).

    Notes
    -----
    :math:`\mathrm{var}(x)` with ddof=0, equal to ``variance``.

    References
    ----------
    .. [1] Hjorth B (1970). EEG analysis based on time domain properties.
       Electroencephalogr Clin Neurophysiol 29(3):306-310.
    """
    return {"": batch.data.var(axis=-1)}


@register("std")
def std(batch):
    r"""Standard deviation of each window-channel.

    Returns
    -------
    dict
        ``{"": std}`` in V, shape (windows, channels).

    Notes
    -----
    :math:`\sqrt{\frac{1}{N} \sum_n (x_n - \bar x)^2}` (ddof=0).

    References
    ----------
    .. [1] Schiratti J-B, Le Douget J-E, Le Van Quyen M, Essid S, Gramfort A
       (2018). An ensemble learning approach to detect epileptic seizures from long
       intracranial EEG recordings. Proc. IEEE ICASSP, 856-860 (mne-features).
    """
    return {"": batch.data.std(axis=-1)}


@register("skewness", nan_for_constant=True)
def skewness(batch):
    r"""Skewness of each window-channel.

    Returns
    -------
    dict
        ``{"": g1}``, dimensionless, shape (windows, channels); NaN for a constant
        window.

    Notes
    -----
    :math:`g_1 = m_3 / m_2^{3/2}` with the biased central moments
    :math:`m_k = \frac{1}{N} \sum_n (x_n - \bar x)^k`, as ``scipy.stats.skew``.

    References
    ----------
    .. [1] Joanes DN, Gill CA (1998). Comparing measures of sample skewness and
       kurtosis. J R Stat Soc D 47(1):183-189.
    """
    centred = _centred(batch)
    m2 = (centred**2).mean(axis=-1)
    return {"": _ratio((centred**3).mean(axis=-1), m2**1.5)}


@register("kurtosis", nan_for_constant=True)
def kurtosis(batch):
    """Excess kurtosis of each window-channel.

    Returns
    -------
    dict
        ``{"": g2}``, dimensionless, shape (windows, channels); NaN for a constant
        window.

    Notes
    -----
    :math:`g_2 = m_4 / m_2^2 - 3` with biased central moments (0 for a Gaussian), as
    ``scipy.stats.kurtosis``.

    References
    ----------
    .. [1] Joanes DN, Gill CA (1998). Comparing measures of sample skewness and
       kurtosis. J R Stat Soc D 47(1):183-189.
    """
    centred = _centred(batch)
    m2 = (centred**2).mean(axis=-1)
    return {"": _ratio((centred**4).mean(axis=-1), m2**2) - 3}


@register("rms")
def rms(batch):
    r"""Root mean square of each window-channel.

    Returns
    -------
    dict
        ``{"": rms}`` in V, shape (windows, channels).

    Notes
    -----
    :math:`\sqrt{\frac{1}{N} \sum_n x_n^2}` (about the window's zero, not its mean).

    References
    ----------
    .. [1] Schiratti J-B, Le Douget J-E, Le Van Quyen M, Essid S, Gramfort A
       (2018). An ensemble learning approach to detect epileptic seizures from long
       intracranial EEG recordings. Proc. IEEE ICASSP, 856-860 (mne-features).
    """
    return {"": np.sqrt((batch.data**2).mean(axis=-1))}


@register("peak_to_peak")
def peak_to_peak(batch):
    r"""Peak-to-peak amplitude of each window-channel.

    Returns
    -------
    dict
        ``{"": ptp}`` in V, shape (windows, channels).

    Notes
    -----
    :math:`\max_n x_n - \min_n x_n`.

    References
    ----------
    .. [1] Schiratti J-B, Le Douget J-E, Le Van Quyen M, Essid S, Gramfort A
       (2018). An ensemble learning approach to detect epileptic seizures from long
       intracranial EEG recordings. Proc. IEEE ICASSP, 856-860 (mne-features).
    """
    return {"": np.ptp(batch.data, axis=-1)}


def quantile_suffix(q):
    """Column suffix of quantile ``q``: 0.25 -> "q25", 0.025 -> "q2.5"."""
    return f"q{100 * q:g}"


@register("quantiles", suffixes=lambda q, **_: [quantile_suffix(value) for value in q])
def quantiles(batch, q=(0.25, 0.5, 0.75)):
    """Quantiles of each window-channel's samples.

    Parameters
    ----------
    q : sequence of float
        Probabilities in [0, 1]; one column each, suffix ``q25`` for 0.25.

    Returns
    -------
    dict
        ``{"q25": ..., ...}`` in V, each of shape (windows, channels).

    Notes
    -----
    numpy's default (linear interpolation between order statistics, Hyndman and
    Fan's definition 7).

    References
    ----------
    .. [1] Hyndman RJ, Fan Y (1996). Sample quantiles in statistical packages.
       Am Stat 50(4):361-365.
    """
    values = np.quantile(batch.data, q, axis=-1)
    return {quantile_suffix(value): values[i] for i, value in enumerate(q)}


@register("zero_crossings")
def zero_crossings(batch):
    r"""Zero crossings of each window-channel about its mean.

    Returns
    -------
    dict
        ``{"": count}`` (a float count), shape (windows, channels).

    Notes
    -----
    The number of n with :math:`(x_n - \bar x)(x_{n+1} - \bar x) < 0`; samples exactly
    at the mean do not count.

    References
    ----------
    .. [1] Schiratti J-B, Le Douget J-E, Le Van Quyen M, Essid S, Gramfort A
       (2018). An ensemble learning approach to detect epileptic seizures from long
       intracranial EEG recordings. Proc. IEEE ICASSP, 856-860 (mne-features).
    """
    centred = _centred(batch)
    return {"": (centred[..., :-1] * centred[..., 1:] < 0).sum(axis=-1).astype(float)}


@register("line_length")
def line_length(batch):
    r"""Line length of each window-channel.

    Returns
    -------
    dict
        ``{"": line length}`` in V per sample, shape (windows, channels).

    Notes
    -----
    :math:`\frac{1}{N-1} \sum_n |x_{n+1} - x_n|`: the mean absolute step
    (mne-features' convention; Esteller et al. sum the steps instead).

    References
    ----------
    .. [1] Esteller R, Echauz J, Tcheng T, Litt B, Pless B (2001). Line length: an
       efficient feature for seizure onset detection. Proc. IEEE EMBS 2:1707-1710.
    """
    return {"": np.abs(np.diff(batch.data, axis=-1)).mean(axis=-1)}


def _mobility(x):
    return np.sqrt(_ratio(np.diff(x, axis=-1).var(axis=-1), x.var(axis=-1)))


@register("hjorth_mobility", nan_for_constant=True)
def hjorth_mobility(batch):
    r"""Hjorth mobility of each window-channel.

    Returns
    -------
    dict
        ``{"": mobility}`` per sample (multiply by sfreq for Hz-like units), shape
        (windows, channels); NaN for a constant window.

    Notes
    -----
    :math:`\sqrt{\mathrm{var}(x') / \mathrm{var}(x)}` with :math:`x'` the first
    difference (ddof=0).

    References
    ----------
    .. [1] Hjorth B (1970). EEG analysis based on time domain properties.
       Electroencephalogr Clin Neurophysiol 29(3):306-310.
    """
    return {"": _mobility(batch.data)}


@register("hjorth_complexity", nan_for_constant=True)
def hjorth_complexity(batch):
    r"""Hjorth complexity of each window-channel.

    Returns
    -------
    dict
        ``{"": complexity}``, dimensionless (1 for a sine), shape (windows, channels);
        NaN for a constant window.

    Notes
    -----
    :math:`\mathrm{mobility}(x') / \mathrm{mobility}(x)`, :math:`x'` the first
    difference.

    References
    ----------
    .. [1] Hjorth B (1970). EEG analysis based on time domain properties.
       Electroencephalogr Clin Neurophysiol 29(3):306-310.
    """
    return {"": _ratio(_mobility(np.diff(batch.data, axis=-1)), _mobility(batch.data))}


@register("teager_kaiser_energy")
def teager_kaiser_energy(batch):
    r"""Mean Teager-Kaiser energy of each window-channel.

    Returns
    -------
    dict
        ``{"": energy}`` in V², shape (windows, channels).

    Notes
    -----
    :math:`\frac{1}{N-2} \sum_{n=1}^{N-2} x_n^2 - x_{n-1} x_{n+1}`.

    References
    ----------
    .. [1] Kaiser JF (1990). On a simple algorithm to calculate the 'energy' of a
       signal. Proc. IEEE ICASSP, 381-384.
    """
    x = batch.data
    return {"": (x[..., 1:-1] ** 2 - x[..., :-2] * x[..., 2:]).mean(axis=-1)}


@register("decorrelation_time", nan_for_constant=True)
def decorrelation_time(batch):
    r"""Decorrelation time of each window-channel.

    Returns
    -------
    dict
        ``{"": seconds}``, shape (windows, channels); NaN if the autocorrelation
        never reaches 0 within the window.

    Notes
    -----
    The first lag :math:`k` (in s, :math:`k / f_s`) at which the biased
    autocorrelation :math:`\sum_n (x_n - \bar x)(x_{n+k} - \bar x)` is
    :math:`\le 0` (mne-features' convention; computed through the FFT).

    References
    ----------
    .. [1] Teixeira CA, Direito B, Bandarabadi M, et al. (2014). Epileptic seizure
       predictors based on computational intelligence techniques: a comparative
       study with 278 patients. Comput Methods Programs Biomed 114(3):324-336.
    """
    centred = _centred(batch)
    n = centred.shape[-1]
    spectrum = np.fft.rfft(centred, n=2 * n, axis=-1)
    autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2, axis=-1)[..., :n]
    crossed = autocorrelation <= 0
    first = np.argmax(crossed, axis=-1).astype(float)
    first[~crossed.any(axis=-1)] = np.nan
    return {"": first / batch.sfreq}
