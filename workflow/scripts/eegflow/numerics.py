"""Small numerical helpers shared by the feature modules."""

import numpy as np


def band_mask(freqs, low, high):
    """Boolean mask of the frequencies in ``[low, high)``; None = no limit."""
    low = -np.inf if low is None else low
    high = np.inf if high is None else high
    return (freqs >= low) & (freqs < high)


def shannon_entropy_bits(p):
    """Shannon entropy in bits along the last axis (0 log 0 = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log2(np.where(p > 0, p, 1)), 0).sum(axis=-1)
