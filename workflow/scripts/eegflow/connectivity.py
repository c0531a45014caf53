"""Bivariate (connectivity) features: one value per channel pair i < j and window.

Off by default: C channels give C (C - 1) / 2 columns per feature and band. The
spectral ones use the Welch cross-spectra ``batch.csd``, computed with the same
segments as the shared PSD. Bands are ``[low, high)`` Hz; a band value is the
mean over the PSD bins in the band. A constant channel gives NaN.
"""

import numpy as np

from .numerics import band_mask
from .registry import register


def _pair_spectra(batch):
    """(freqs, csd, psd of the first channel, psd of the second), per pair."""
    freqs, csd = batch.csd
    _, psd = batch.psd
    first, second = batch.pairs
    return freqs, csd, psd[:, first], psd[:, second]


def _band_means(freqs, values, bands):
    return {
        name: values[..., band_mask(freqs, low, high)].mean(axis=-1)
        for name, (low, high) in bands.items()
    }


@register(
    "coherence",
    suffixes=lambda bands, **_: list(bands),
    pairwise=True,
    nan_for_constant=True,
)
def coherence(batch, bands):
    """Magnitude-squared coherence of each channel pair, per band.

    Parameters
    ----------
    bands : dict
        ``{name: [low, high]}`` in Hz; a band's value is the mean over its Welch
        bins, one column per band and pair.

    Returns
    -------
    dict
        ``{band name: coherence}`` in [0, 1], each of shape (windows, pairs).

    Notes
    -----
    :math:`C_{xy}(f) = |S_{xy}(f)|^2 / (S_{xx}(f) S_{yy}(f))` from Welch (cross-)spectra
    of the same segments (as ``scipy.signal.coherence``), averaged over the band.

    References
    ----------
    .. [1] Nunez PL, Srinivasan R, Westdorp AF, et al. (1997). EEG coherency I:
       statistics, reference electrode, volume conduction, Laplacians, cortical
       imaging, and interpretation at multiple scales. Electroencephalogr Clin
       Neurophysiol 103(5):499-515.
    """
    freqs, csd, psd_x, psd_y = _pair_spectra(batch)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _band_means(freqs, np.abs(csd) ** 2 / (psd_x * psd_y), bands)


@register(
    "imaginary_coherence",
    suffixes=lambda bands, **_: list(bands),
    pairwise=True,
    nan_for_constant=True,
)
def imaginary_coherence(batch, bands):
    r"""Imaginary part of coherency of each channel pair, per band.

    Parameters
    ----------
    bands : dict
        ``{name: [low, high]}`` in Hz; a band's value is the mean over its Welch
        bins, one column per band and pair.

    Returns
    -------
    dict
        ``{band name: value}`` in [-1, 1], signed (positive when the second channel
        lags the first), each of shape (windows, pairs).

    Notes
    -----
    :math:`\mathrm{Im}\, S_{xy}(f) / \sqrt{S_{xx}(f) S_{yy}(f)}`, averaged over the
    band: insensitive to zero-lag coupling (volume conduction, a common reference).

    References
    ----------
    .. [1] Nolte G, Bai O, Wheaton L, Mari Z, Vorbach S, Hallett M (2004).
       Identifying true brain interaction from EEG data using the imaginary part of
       coherency. Clin Neurophysiol 115(10):2292-2307.
    """
    freqs, csd, psd_x, psd_y = _pair_spectra(batch)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _band_means(freqs, csd.imag / np.sqrt(psd_x * psd_y), bands)


def _pearson(x, y):
    """Pearson correlation of x and y along the last axis."""
    x = x - x.mean(axis=-1, keepdims=True)
    y = y - y.mean(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (x * y).sum(axis=-1) / np.sqrt((x**2).sum(axis=-1) * (y**2).sum(axis=-1))


@register("correlation", pairwise=True, nan_for_constant=True)
def correlation(batch):
    r"""Pearson correlation of the two channels' samples, per pair and window.

    Returns
    -------
    dict
        ``{"": r}`` in [-1, 1], shape (windows, pairs); NaN with a constant channel.

    Notes
    -----
    :math:`r = \sum_n (x_n - \bar x)(y_n - \bar y) / \sqrt{\sum_n (x_n - \bar x)^2
    \sum_n (y_n - \bar y)^2}`.

    References
    ----------
    .. [1] Pearson K (1895). Notes on regression and inheritance in the case of two
       parents. Proc R Soc Lond 58:240-242.
    """
    first, second = batch.pairs
    return {"": _pearson(batch.data[:, first], batch.data[:, second])}


@register("spectral_correlation", pairwise=True, nan_for_constant=True)
def spectral_correlation(batch, fmin=None, fmax=None):
    """Pearson correlation of the two channels' power spectra, per pair and window.

    Parameters
    ----------
    fmin, fmax : float or None
        Hz; the bins with fmin <= f < fmax (None = no limit).

    Returns
    -------
    dict
        ``{"": r}`` in [-1, 1], shape (windows, pairs).

    Notes
    -----
    :math:`r` of :math:`S_{xx}(f_k)` and :math:`S_{yy}(f_k)` over the bins, as the
    correlation coefficients of mne-features' ``spect_corr``.

    References
    ----------
    .. [1] Schiratti J-B, Le Douget J-E, Le Van Quyen M, Essid S, Gramfort A
       (2018). An ensemble learning approach to detect epileptic seizures from long
       intracranial EEG recordings. Proc. IEEE ICASSP, 856-860 (mne-features).
    """
    freqs, psd = batch.psd
    psd = psd[..., band_mask(freqs, fmin, fmax)]
    first, second = batch.pairs
    return {"": _pearson(psd[:, first], psd[:, second])}


def analytic_signal(x, low=None, high=None):
    """Analytic signal along the last axis, keeping only frequencies in [low, high) Hz
    (an ideal band-pass in the FFT); with neither, equal to :func:`scipy.signal.hilbert`.

    ``low`` and ``high`` are in cycles per sample here (Hz / sfreq).
    """
    n = x.shape[-1]
    spectrum = np.fft.fft(x, axis=-1)
    gain = np.zeros(n)
    gain[0] = 1
    gain[1 : (n + 1) // 2] = 2
    if n % 2 == 0:
        gain[n // 2] = 1
    gain *= band_mask(np.abs(np.fft.fftfreq(n)), low, high)
    return np.fft.ifft(spectrum * gain, axis=-1)


@register(
    "phase_locking_value",
    suffixes=lambda bands, **_: list(bands) if bands else [""],
    pairwise=True,
    nan_for_constant=True,
)
def phase_locking_value(batch, bands=None):
    r"""Phase-locking value of each channel pair, for the whole window or per band.

    Parameters
    ----------
    bands : dict or None
        None (default, as mne-features): phases of the window's analytic signal;
        ``{name: [low, high]}`` in Hz: of each band cut out with an ideal FFT
        band-pass, one column per band.

    Returns
    -------
    dict
        ``{"": plv}`` or ``{band name: plv}`` in [0, 1], each of shape (windows,
        pairs).

    Notes
    -----
    :math:`\mathrm{PLV} = \left| \frac{1}{N} \sum_n e^{i(\phi_x(n) - \phi_y(n))} \right|`,
    :math:`\phi` the phase of the analytic signal (``scipy.signal.hilbert``).

    References
    ----------
    .. [1] Lachaux J-P, Rodriguez E, Martinerie J, Varela FJ (1999). Measuring
       phase synchrony in brain signals. Hum Brain Mapp 8(4):194-208.
    """
    first, second = batch.pairs
    values = {}
    for name, (low, high) in (bands or {"": (None, None)}).items():
        scale = 1 / batch.sfreq
        analytic = analytic_signal(
            batch.data,
            None if low is None else low * scale,
            None if high is None else high * scale,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            phasors = analytic / np.abs(analytic)
        values[name] = np.abs(
            (phasors[:, first] * phasors[:, second].conj()).mean(axis=-1)
        )
    return values
