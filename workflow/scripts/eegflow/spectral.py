"""Spectral features, all from the one Welch PSD per window shared through ``batch.psd``,
and the wavelet energy per level (PyWavelets' discrete wavelet transform).

Power is integrated with the rectangle rule ``sum(psd[f]) * df`` over bins with
``low <= f < high``, so adjacent bands add up exactly.
"""

import numpy as np

from . import UserError
from .complexity import shannon_entropy_bits
from .registry import register

BAND_POWER_KINDS = ("absolute", "relative", "log10")


def _band_mask(freqs, low, high):
    low = -np.inf if low is None else low
    high = np.inf if high is None else high
    return (freqs >= low) & (freqs < high)


@register("band_power", suffixes=lambda bands, kind: list(bands))
def band_power(batch, bands, kind="absolute"):
    """Power in each band, V² (``kind``: absolute; relative to the total; log10 of absolute).

    ``bands`` maps a name to ``[low, high]`` Hz.
    """
    freqs, psd = batch.psd
    df = freqs[1] - freqs[0]
    powers = {
        name: psd[..., _band_mask(freqs, low, high)].sum(axis=-1) * df
        for name, (low, high) in bands.items()
    }
    if kind == "relative":
        total = psd.sum(axis=-1) * df
        with np.errstate(divide="ignore", invalid="ignore"):
            return {name: power / total for name, power in powers.items()}
    if kind == "log10":
        with np.errstate(divide="ignore"):
            return {name: np.log10(power) for name, power in powers.items()}
    return powers


@register("total_power")
def total_power(batch, fmin=None, fmax=None):
    """Power between ``fmin`` and ``fmax`` Hz (None = the whole PSD), V²."""
    freqs, psd = batch.psd
    return {
        "": psd[..., _band_mask(freqs, fmin, fmax)].sum(axis=-1) * (freqs[1] - freqs[0])
    }


@register("spectral_entropy")
def spectral_entropy(batch, normalize=False):
    """Shannon entropy (bits) of the PSD normalised to sum 1, over all bins.

    ``normalize`` divides by log2(number of bins), giving a value in [0, 1].
    """
    _, psd = batch.psd
    with np.errstate(divide="ignore", invalid="ignore"):
        p = psd / psd.sum(axis=-1, keepdims=True)
        entropy = shannon_entropy_bits(p)
    entropy[~np.isfinite(p).all(axis=-1)] = np.nan
    if normalize:
        entropy = entropy / np.log2(psd.shape[-1])
    return {"": entropy}


def edge_suffix(edge):
    """Column suffix of spectral edge ``edge``: 0.95 -> "sef95"."""
    return f"sef{100 * edge:g}"


@register(
    "spectral_edge_frequency",
    suffixes=lambda edges: [edge_suffix(edge) for edge in edges],
)
def spectral_edge_frequency(batch, edges=(0.5, 0.95)):
    """Lowest bin frequency at which the cumulative power reaches ``edge`` of the total, Hz."""
    freqs, psd = batch.psd
    cumulative = np.cumsum(psd, axis=-1)
    total = cumulative[..., -1:]
    return {
        edge_suffix(edge): freqs[np.argmax(cumulative >= edge * total, axis=-1)]
        for edge in edges
    }


@register("peak_frequency", suffixes=lambda bands: list(bands))
def peak_frequency(batch, bands):
    """Frequency of the highest PSD bin within each band ``[low, high)``, Hz."""
    freqs, psd = batch.psd
    peaks = {}
    for name, (low, high) in bands.items():
        mask = _band_mask(freqs, low, high)
        peaks[name] = freqs[mask][np.argmax(psd[..., mask], axis=-1)]
    return peaks


@register("spectral_slope", suffixes=lambda fmin, fmax: ["slope", "intercept"])
def spectral_slope(batch, fmin=1.0, fmax=None):
    """Least-squares line log10(psd) = intercept + slope * log10(f) over [fmin, fmax) Hz.

    The 1/f exponent of the aperiodic spectrum is ``-slope``. NaN if the PSD has
    a zero in the range (e.g. a constant window).
    """
    freqs, psd = batch.psd
    mask = _band_mask(freqs, fmin, fmax) & (freqs > 0)
    x = np.log10(freqs[mask])
    x_centred = x - x.mean()
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero PSD gives NaN
        y = np.log10(psd[..., mask])
        slope = (y * x_centred).sum(axis=-1) / (x_centred**2).sum()
        intercept = y.mean(axis=-1) - slope * x.mean()
    return {"slope": slope, "intercept": intercept}


@register("spectral_hjorth", suffixes=lambda: ["mobility", "complexity"])
def spectral_hjorth(batch):
    """Hjorth parameters from the PSD's moments m_k = sum(f**k psd) (Hjorth 1970).

    mobility = sqrt(m2 / m0), in Hz; complexity = sqrt(m4 / m2) / mobility.
    NaN for a constant window.
    """
    freqs, psd = batch.psd
    m0, m2, m4 = ((freqs**k * psd).sum(axis=-1) for k in (0, 2, 4))
    with np.errstate(divide="ignore", invalid="ignore"):
        mobility = np.sqrt(m2 / m0)
        complexity = np.sqrt(m4 / m2) / mobility
    return {"mobility": mobility, "complexity": complexity}


@register(
    "spectral_moments", suffixes=lambda orders, normalize: [f"m{k}" for k in orders]
)
def spectral_moments(batch, orders=(1, 2), normalize=True):
    """Moments of the PSD about 0 Hz: sum(f**k psd) / sum(psd), in Hz**k, one column per k.

    With ``normalize`` (default) m1 is the spectral centroid (mean frequency);
    ``normalize: false`` gives the raw moments sum(f**k psd) df (V² Hz**k; m0 is
    the total power). NaN for a constant window when normalised.
    """
    freqs, psd = batch.psd
    total = psd.sum(axis=-1)
    moments = {}
    for k in orders:
        moment = (freqs**k * psd).sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            moments[f"m{k}"] = (
                moment / total if normalize else moment * (freqs[1] - freqs[0])
            )
    return moments


@register(
    "wavelet_energy",
    suffixes=lambda wavelet, levels: [f"d{j}" for j in range(1, levels + 1)],
)
def wavelet_energy(batch, wavelet="db4", levels=5):
    """Energy (sum of squares, V²) of the discrete wavelet detail coefficients per level.

    ``pywt.wavedec`` (symmetric padding) to ``levels`` levels; column dj is level j,
    d1 the finest, covering about sfreq/2**(j+1) .. sfreq/2**j Hz. A window too
    short for ``levels`` levels of ``wavelet`` is an error naming the setting.
    """
    import pywt

    n_samples = batch.data.shape[-1]
    possible = pywt.dwt_max_level(n_samples, pywt.Wavelet(wavelet).dec_len)
    if levels > possible:
        raise UserError(
            f"config features.compute.wavelet_energy.levels={levels}: a window of "
            f"{n_samples} samples allows at most {possible} levels of {wavelet}; "
            "lower levels or lengthen windows.window_s"
        )
    coefficients = pywt.wavedec(batch.data, wavelet, level=levels, axis=-1)
    details = coefficients[:0:-1]  # cD1 (finest) .. cDlevels
    return {
        f"d{j}": (detail**2).sum(axis=-1) for j, detail in enumerate(details, start=1)
    }
