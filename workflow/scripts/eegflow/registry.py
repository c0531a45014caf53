"""The feature registry and the batch of windows every feature function receives.

A feature is a function ``f(batch, **params)`` registered with :func:`register`.
``batch`` is a :class:`WindowBatch`, whose ``psd`` is computed on first use and
then shared by every spectral feature of the batch; the function returns ``{suffix: array of
shape (windows, channels)}``. Each feature declares its suffixes up front
(``suffixes(**params)``, default ``[""]``), so the output columns are known
before anything is computed: ``<feature>_<channel>`` for suffix ``""``, else
``<feature>_<channel>_<suffix>``. A feature registered with ``pairwise=True``
returns arrays of shape (windows, pairs) instead, over the channel pairs i < j
of :attr:`WindowBatch.pairs`, and its columns say ``<channel i>-<channel j>``.
A feature registered with ``nan_for_constant=True`` is NaN on every window-channel
whose samples are all equal (a pair: either channel), whatever its formula gives there.
"""

import inspect
from dataclasses import dataclass
from functools import cached_property, wraps
from typing import Callable

import numpy as np

from .numerics import welch_psd

# scipy.signal (~1.3 s to import) is imported where used: the Snakefile imports the
# registry at every start, and a no-op run should stay quick.


@dataclass(frozen=True)
class Feature:
    """A registered feature: its function and its declared column suffixes."""

    function: Callable
    suffixes: Callable
    pairwise: bool = False
    nan_for_constant: bool = False

    def parameters(self, params):
        """``params`` completed with the function's defaults (TypeError if bad)."""
        bound = inspect.signature(self.function).bind(None, **(params or {}))
        bound.apply_defaults()
        return {k: v for k, v in list(bound.arguments.items())[1:]}


FEATURES = {}


def register(
    name, suffixes=lambda **params: [""], pairwise=False, nan_for_constant=False
):
    """Register a feature function under ``name`` (the key used in config.yaml).

    ``suffixes(**params)`` returns the column suffixes the function will return
    for the given (default-completed) parameters; it names the parameters it
    uses and takes the others as ``**_`` (``lambda bands, **_: list(bands)``),
    so adding a parameter to the feature leaves it working. ``pairwise`` says
    the function returns one value per channel pair instead of per channel.
    ``nan_for_constant`` says the feature is undefined on a constant window-channel:
    its formula gives 0/0 on some constants (it divides by the signal's spread,
    normalises its spectrum or, for the SVD features, its singular values) and on
    others a value of their rounding (a skewness of +-1, a coherence of 26 where
    the mean of 0.1 rounds) or of their level. The function, as registered and as
    returned, gives NaN there (:attr:`WindowBatch.constant`), for every constant.
    """

    def decorator(function):
        computed = (
            _nan_where_constant(function, pairwise) if nan_for_constant else function
        )
        FEATURES[name] = Feature(computed, suffixes, pairwise, nan_for_constant)
        return computed

    return decorator


def _nan_where_constant(function, pairwise):
    """``function`` with its values NaN on the batch's constant window-channels
    (on a pair where either channel is constant)."""

    @wraps(function)
    def computed(batch, **params):
        values = function(batch, **params)
        constant = batch.constant
        if pairwise:
            first, second = batch.pairs
            constant = constant[:, first] | constant[:, second]
        if not constant.any():
            return values
        return {
            suffix: np.where(constant, np.nan, array)
            for suffix, array in values.items()
        }

    return computed


class WindowBatch:
    """A batch of windows with the intermediates features share.

    Parameters
    ----------
    data : ndarray, shape (windows, channels, samples)
    sfreq : float
        Sampling rate in Hz.
    welch : dict
        Config ``features.welch``: ``segment_s`` (Welch segment length in s)
        and ``overlap`` (fraction of a segment, in [0, 1)).
    """

    def __init__(self, data, sfreq, welch):
        self.data = data
        self.sfreq = sfreq
        self.welch = welch

    @property
    def _welch_arguments(self):
        nperseg = int(round(self.welch["segment_s"] * self.sfreq))
        return dict(
            fs=self.sfreq,
            window="hann",
            nperseg=nperseg,
            noverlap=int(round(self.welch["overlap"] * nperseg)),
            axis=-1,
        )

    @cached_property
    def psd(self):
        """(freqs, psd): one Welch PSD per window and channel, Hann, density, V²/Hz
        (SciPy's, computed by :func:`eegflow.numerics.welch_psd` without importing it)."""
        arguments = self._welch_arguments
        return welch_psd(
            self.data, self.sfreq, arguments["nperseg"], arguments["noverlap"]
        )

    @cached_property
    def constant(self):
        """(windows, channels) bool: window-channels whose samples are all equal,
        on which the features registered with ``nan_for_constant`` are NaN."""
        return self.data.max(axis=-1) == self.data.min(axis=-1)

    @cached_property
    def pairs(self):
        """(first, second): channel indices of the pairs i < j, in row-major order."""
        return np.triu_indices(self.data.shape[1], k=1)

    @cached_property
    def csd(self):
        """(freqs, csd): Welch cross-spectral density per window and channel pair,
        conj(X_i) X_j as :func:`scipy.signal.csd`, same segments as :attr:`psd`."""
        import scipy.signal

        first, second = self.pairs
        return scipy.signal.csd(
            self.data[:, first], self.data[:, second], **self._welch_arguments
        )
