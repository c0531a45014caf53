"""Bivariate (connectivity) features: one value per channel pair i < j and window.

Off by default: C channels give C (C - 1) / 2 columns per feature and band. The
spectral ones use the Welch cross-spectra ``batch.csd``, computed with the same
segments as the shared PSD. Bands are ``[low, high)`` Hz; a band value is the
mean over the PSD bins in the band. A constant channel gives NaN.
"""

import numpy as np

from .registry import register
from .spectral import _band_mask


def _pair_spectra(batch):
    """(freqs, csd, psd of the first channel, psd of the second), per pair."""
    freqs, csd = batch.csd
    _, psd = batch.psd
    first, second = batch.pairs
    return freqs, csd, psd[:, first], psd[:, second]


def _band_means(freqs, values, bands):
    return {
        name: values[..., _band_mask(freqs, low, high)].mean(axis=-1)
        for name, (low, high) in bands.items()
    }


@register("coherence", suffixes=lambda bands: list(bands), pairwise=True)
def coherence(batch, bands):
    """Magnitude-squared coherence |S_xy|² / (S_xx S_yy) per bin, averaged over each band."""
    freqs, csd, psd_x, psd_y = _pair_spectra(batch)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _band_means(freqs, np.abs(csd) ** 2 / (psd_x * psd_y), bands)


@register("imaginary_coherence", suffixes=lambda bands: list(bands), pairwise=True)
def imaginary_coherence(batch, bands):
    """Imaginary part of coherency Im(S_xy) / sqrt(S_xx S_yy) (Nolte et al. 2004), signed.

    Averaged over each band's bins; positive when the second channel lags the first.
    Insensitive to zero-lag coupling (volume conduction, a common reference).
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


@register("correlation", pairwise=True)
def correlation(batch):
    """Pearson correlation of the two channels' samples in the window."""
    first, second = batch.pairs
    return {"": _pearson(batch.data[:, first], batch.data[:, second])}


@register("spectral_correlation", pairwise=True)
def spectral_correlation(batch, fmin=None, fmax=None):
    """Pearson correlation of the two channels' Welch PSDs over the bins in [fmin, fmax) Hz."""
    freqs, psd = batch.psd
    psd = psd[..., _band_mask(freqs, fmin, fmax)]
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
    gain *= _band_mask(np.abs(np.fft.fftfreq(n)), low, high)
    return np.fft.ifft(spectrum * gain, axis=-1)


@register(
    "phase_locking_value",
    suffixes=lambda bands: list(bands) if bands else [""],
    pairwise=True,
)
def phase_locking_value(batch, bands=None):
    """Phase-locking value |mean(exp(i (phase_x - phase_y)))| (Lachaux et al. 1999).

    Phases of the analytic signal of the window (``bands: null``, as mne-features)
    or of each band ``[low, high)`` Hz cut out with an ideal FFT band-pass.
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
