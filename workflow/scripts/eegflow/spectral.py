"""Spectral features, all from the one Welch PSD per window shared through ``batch.psd``,
and the wavelet energy per level (PyWavelets' discrete wavelet transform).

Power is integrated with the rectangle rule ``sum(psd[f]) * df`` over bins with
``low <= f < high``, so adjacent bands add up exactly.
"""

import numpy as np

from . import UserError
from .numerics import band_mask, shannon_entropy_bits
from .registry import register

BAND_POWER_KINDS = ("absolute", "relative", "log10")


@register("band_power", suffixes=lambda bands, **_: list(bands))
def band_power(batch, bands, kind="absolute"):
    r"""Power in each frequency band of each window-channel.

    Parameters
    ----------
    bands : dict
        ``{name: [low, high]}`` in Hz, one column each (suffix: the name).
    kind : {"absolute", "relative", "log10"}
        Absolute power in V², relative to the power of the whole PSD (NaN for a
        constant window-channel), or log10 of the absolute power.

    Returns
    -------
    dict
        ``{band name: power}``, each of shape (windows, channels).

    Notes
    -----
    :math:`P_{[a, b)} = \sum_{a \le f_k < b} S(f_k) \, \Delta f` from the shared Welch
    PSD :math:`S` (rectangle rule, so adjacent bands add up exactly).

    References
    ----------
    .. [1] Welch PD (1967). The use of fast Fourier transform for the estimation of power
       spectra. IEEE Trans Audio Electroacoust 15(2):70-73.
    """
    freqs, psd = batch.psd
    df = freqs[1] - freqs[0]
    powers = {
        name: psd[..., band_mask(freqs, low, high)].sum(axis=-1) * df
        for name, (low, high) in bands.items()
    }
    if kind == "relative":  # a share of nothing: NaN on a constant, as 0 / 0
        total = np.where(batch.constant, np.nan, psd.sum(axis=-1) * df)
        with np.errstate(divide="ignore", invalid="ignore"):
            return {name: power / total for name, power in powers.items()}
    if kind == "log10":
        with np.errstate(divide="ignore"):
            return {name: np.log10(power) for name, power in powers.items()}
    return powers


@register("total_power")
def total_power(batch, fmin=None, fmax=None):
    r"""Power of each window-channel between two frequencies.

    Parameters
    ----------
    fmin, fmax : float or None
        Hz; None = from the first / to the last PSD bin.

    Returns
    -------
    dict
        ``{"": power}`` in V², shape (windows, channels).

    Notes
    -----
    :math:`\sum_{f_{min} \le f_k < f_{max}} S(f_k) \, \Delta f` over the shared Welch PSD.

    References
    ----------
    .. [1] Welch PD (1967). The use of fast Fourier transform for the estimation of power
       spectra. IEEE Trans Audio Electroacoust 15(2):70-73.
    """
    freqs, psd = batch.psd
    return {
        "": psd[..., band_mask(freqs, fmin, fmax)].sum(axis=-1) * (freqs[1] - freqs[0])
    }


@register("spectral_entropy", nan_for_constant=True)
def spectral_entropy(batch, normalize=False):
    r"""Spectral entropy of each window-channel.

    Parameters
    ----------
    normalize : bool
        Divide by :math:`\log_2 K` (K bins), giving a value in [0, 1].

    Returns
    -------
    dict
        ``{"": entropy}`` in bits, shape (windows, channels); NaN for a constant
        window.

    Notes
    -----
    :math:`H = -\sum_k p_k \log_2 p_k` with :math:`p_k = S(f_k) / \sum_j S(f_j)` over
    all bins of the Welch PSD (:math:`0 \log 0 = 0`).

    References
    ----------
    .. [1] Inouye T, Shinosaki K, Sakamoto H, et al. (1991). Quantification of EEG
       irregularity by use of the entropy of the power spectrum.
       Electroencephalogr Clin Neurophysiol 79(3):204-210.
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
    suffixes=lambda edges, **_: [edge_suffix(edge) for edge in edges],
    nan_for_constant=True,
)
def spectral_edge_frequency(batch, edges=(0.5, 0.95)):
    r"""Spectral edge frequencies of each window-channel.

    Parameters
    ----------
    edges : sequence of float
        Fractions of the total power in (0, 1]; one column each (``sef95`` for 0.95).

    Returns
    -------
    dict
        ``{"sef95": Hz, ...}``, each of shape (windows, channels).

    Notes
    -----
    The lowest bin frequency :math:`f_k` with
    :math:`\sum_{j \le k} S(f_j) \ge \mathrm{edge} \sum_j S(f_j)`.

    References
    ----------
    .. [1] Rampil IJ (1998). A primer for EEG signal processing in anesthesia.
       Anesthesiology 89(4):980-1002.
    """
    freqs, psd = batch.psd
    cumulative = np.cumsum(psd, axis=-1)
    total = cumulative[..., -1:]
    return {
        edge_suffix(edge): freqs[np.argmax(cumulative >= edge * total, axis=-1)]
        for edge in edges
    }


@register(
    "peak_frequency", suffixes=lambda bands, **_: list(bands), nan_for_constant=True
)
def peak_frequency(batch, bands):
    r"""Peak frequency in each band of each window-channel.

    Parameters
    ----------
    bands : dict
        ``{name: [low, high]}`` in Hz, one column each.

    Returns
    -------
    dict
        ``{band name: Hz}``, each of shape (windows, channels).

    Notes
    -----
    :math:`\arg\max_{a \le f_k < b} S(f_k)`: the frequency of the highest Welch bin,
    so its resolution is the bin width :math:`1 / \mathrm{segment\_s}`.

    References
    ----------
    .. [1] Welch PD (1967). The use of fast Fourier transform for the estimation of power
       spectra. IEEE Trans Audio Electroacoust 15(2):70-73.
    """
    freqs, psd = batch.psd
    peaks = {}
    for name, (low, high) in bands.items():
        mask = band_mask(freqs, low, high)
        peaks[name] = freqs[mask][np.argmax(psd[..., mask], axis=-1)]
    return peaks


@register(
    "spectral_slope", suffixes=lambda **_: ["slope", "intercept"], nan_for_constant=True
)
def spectral_slope(batch, fmin=1.0, fmax=None):
    r"""Slope and intercept of the log-log power spectrum of each window-channel.

    Parameters
    ----------
    fmin, fmax : float or None
        Hz; the fit uses bins with fmin <= f < fmax (None = to the last bin) and
        f > 0.

    Returns
    -------
    dict
        ``{"slope": ..., "intercept": ...}``, each of shape (windows, channels); the
        1/f exponent of the aperiodic spectrum is ``-slope``. NaN if the PSD has a
        zero in the range (e.g. a constant window).

    Notes
    -----
    Least squares of :math:`\log_{10} S(f) = \mathrm{intercept} + \mathrm{slope}
    \log_{10} f` (mne-features' ``spect_slope`` convention).

    References
    ----------
    .. [1] Demanuele C, James CJ, Sonuga-Barke EJ (2007). Distinguishing low
       frequency oscillations within the 1/f spectral behaviour of electromagnetic
       brain signals. Behav Brain Funct 3:62.
    """
    freqs, psd = batch.psd
    mask = band_mask(freqs, fmin, fmax) & (freqs > 0)
    x = np.log10(freqs[mask])
    x_centred = x - x.mean()
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero PSD gives NaN
        y = np.log10(psd[..., mask])
        slope = (y * x_centred).sum(axis=-1) / (x_centred**2).sum()
        intercept = y.mean(axis=-1) - slope * x.mean()
    return {"slope": slope, "intercept": intercept}


@register(
    "spectral_hjorth",
    suffixes=lambda **_: ["mobility", "complexity"],
    nan_for_constant=True,
)
def spectral_hjorth(batch):
    r"""Hjorth mobility and complexity of each window-channel from its power spectrum.

    Returns
    -------
    dict
        ``{"mobility": Hz, "complexity": dimensionless}``, each of shape (windows,
        channels); NaN for a constant window.

    Notes
    -----
    With the spectral moments :math:`m_k = \sum_j f_j^k S(f_j)`:
    mobility :math:`= \sqrt{m_2 / m_0}`, complexity
    :math:`= \sqrt{m_4 / m_2} / \mathrm{mobility}` (mne-features' ``hjorth_*_spect``).

    References
    ----------
    .. [1] Hjorth B (1970). EEG analysis based on time domain properties.
       Electroencephalogr Clin Neurophysiol 29(3):306-310.
    """
    freqs, psd = batch.psd
    m0, m2, m4 = ((freqs**k * psd).sum(axis=-1) for k in (0, 2, 4))
    with np.errstate(divide="ignore", invalid="ignore"):
        mobility = np.sqrt(m2 / m0)
        complexity = np.sqrt(m4 / m2) / mobility
    return {"mobility": mobility, "complexity": complexity}


@register(
    "spectral_moments",
    suffixes=lambda orders, **_: [f"m{k}" for k in orders],
    nan_for_constant=True,
)
def spectral_moments(batch, orders=(1, 2), normalize=True):
    r"""Moments of the power spectrum of each window-channel about 0 Hz.

    Parameters
    ----------
    orders : sequence of int
        The orders k, one column each (suffix ``mk``).
    normalize : bool
        Divide by the total power (default): ``m1`` is then the spectral centroid
        (mean frequency). False gives the raw moments in V² Hz**k (m0 = total power).

    Returns
    -------
    dict
        ``{"m1": ..., ...}`` in Hz**k, each of shape (windows, channels); NaN for a
        constant window when normalised.

    Notes
    -----
    :math:`\sum_j f_j^k S(f_j) / \sum_j S(f_j)`, or :math:`\sum_j f_j^k S(f_j) \Delta f`.

    References
    ----------
    .. [1] Gudmundsson S, Runarsson TP, Sigurdsson S, Eiriksdottir G, Johnsen K
       (2007). Reliability of quantitative EEG features. Clin Neurophysiol
       118(10):2162-2171.
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
    suffixes=lambda levels, **_: [f"d{j}" for j in range(1, levels + 1)],
)
def wavelet_energy(batch, wavelet="db4", levels=5):
    r"""Energy of the discrete wavelet detail coefficients of each window-channel.

    Parameters
    ----------
    wavelet : str
        A PyWavelets wavelet name (default ``db4``).
    levels : int
        Decomposition levels; column ``dj`` is level j, ``d1`` the finest (about
        sfreq/4 to sfreq/2 Hz, level j about sfreq/2**(j+1) to sfreq/2**j).

    Returns
    -------
    dict
        ``{"d1": ..., ...}`` in V², each of shape (windows, channels).

    Notes
    -----
    :math:`E_j = \sum_n d_{j,n}^2` from ``pywt.wavedec`` (symmetric padding). A window
    too short for ``levels`` levels of ``wavelet`` is an error naming the setting.

    References
    ----------
    .. [1] Mallat SG (1989). A theory for multiresolution signal decomposition: the
       wavelet representation. IEEE Trans Pattern Anal Mach Intell 11(7):674-693.
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
