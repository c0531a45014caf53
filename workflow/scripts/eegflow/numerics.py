"""Small numerical helpers shared by the feature modules."""

import numpy as np


def band_mask(freqs, low, high):
    """Boolean mask of the frequencies in ``[low, high)``; None = no limit."""
    low = -np.inf if low is None else low
    high = np.inf if high is None else high
    return (freqs >= low) & (freqs < high)


def median_last_axis(x):
    """``np.median(x, axis=-1)``, the same values, in a third of the time.

    NumPy's median partitions around both middle values (and looks for NaN on the
    way); here one partition finds the upper middle value and the largest value
    below it is the lower one. A row holding NaN has a NaN median, as NumPy's.
    """
    half = x.shape[-1] // 2
    partitioned = np.partition(x, half, axis=-1)
    median = partitioned[..., half]
    if x.shape[-1] % 2 == 0:
        median = (partitioned[..., :half].max(axis=-1) + median) / 2
    return np.where(np.isnan(x).any(axis=-1), np.nan, median)


def shannon_entropy_bits(p):
    """Shannon entropy in bits along the last axis (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0).sum(axis=-1)


def welch_psd(data, fs, nperseg, noverlap):
    """Welch's PSD along the last axis: ``scipy.signal.welch(data, fs, window="hann",
    nperseg=nperseg, noverlap=noverlap, axis=-1)`` (each segment's mean removed,
    one-sided density in V²/Hz, the mean over segments) computed with NumPy alone.

    A features job spends 0.37 s of CPU importing ``scipy.signal`` (and through it
    ``scipy.stats``), more than its Welch PSDs take; this is the same computation
    (tests/test_features.py compares it with SciPy's). Settings SciPy adjusts or
    refuses (a segment longer than the data, an overlap of a whole segment) are SciPy's.

    Returns
    -------
    freqs : ndarray, shape (nperseg // 2 + 1,)
    psd : ndarray, shape data.shape[:-1] + (nperseg // 2 + 1,)
    """
    if not 0 <= noverlap < nperseg <= data.shape[-1]:
        import scipy.signal

        return scipy.signal.welch(
            data, fs, window="hann", nperseg=nperseg, noverlap=noverlap, axis=-1
        )
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(nperseg) / nperseg)  # periodic
    segments = np.lib.stride_tricks.sliding_window_view(data, nperseg, axis=-1)
    segments = segments[..., :: nperseg - noverlap, :]
    segments = segments - segments.mean(axis=-1, keepdims=True)
    spectrum = np.fft.rfft(segments * window, axis=-1)
    psd = (spectrum.real**2 + spectrum.imag**2) / (fs * (window**2).sum())
    psd[..., 1 : None if nperseg % 2 else -1] *= 2  # one-sided: all but 0 and Nyquist
    return np.fft.rfftfreq(nperseg, 1 / fs), psd.mean(axis=-2)
