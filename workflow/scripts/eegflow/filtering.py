"""MNE's short zero-phase FIR filters, applied by direct convolution.

``raw.filter`` designs a filter (:func:`mne.filter.create_filter`)
and convolve each channel with it in a Python loop over FFT blocks; for short filters the
loop is most of the cost. Here the same coefficients, for the same channels, are convolved
with each channel by :func:`numpy.convolve`, the signal extended at both ends as MNE
extends it (``pad="reflect_limited"``: odd reflection of ``len(h) - 1`` samples); the
result equals MNE's within rounding (tests/test_filtering.py), and the measurement info's
``highpass``/``lowpass`` are updated as MNE updates them. Longer filters
(:data:`SHORT_FILTER_TAPS`), IIR filters, and recordings MNE filters in separate stretches
(annotations ``edge``, ``bad_acq_skip``) are MNE's own calls, and so are notch filters
(their 1 Hz transition bands make them 3.3 s long: 330 taps at 100 Hz).

MNE designs every FIR filter with ``scipy.signal``, whose import (with ``scipy.stats``
through it) costs a preprocess job 0.4-0.6 s, more than filtering a 20-minute recording.
:func:`cached_filter_designs` keeps MNE's designs on disk, so that the jobs after the
first that filter alike skip the import; the coefficients are MNE's own, bit for bit.
"""

import contextlib
import hashlib
import inspect
import json
import logging
import os
import warnings
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# annotations between whose stretches raw.filter filters separately
SKIPPED_BY_MNE = ("EDGE", "BAD_ACQ_SKIP")
# Filters up to this many taps are convolved here. Measured (CPU s, one core): a 30 Hz
# low-pass at 100 Hz (45 taps) on 3 channels x 9 h, MNE 1.31 against 0.21 here (and 75 MB
# of extra peak memory against 184); low-passes on 19 channels x 20 min at 256 Hz, MNE
# against here: 57 taps 0.31 / 0.09, 113 taps 0.20 / 0.12, 169 taps 0.16 / 0.15, 283 taps
# 0.16 / 0.22: beyond about 150 taps MNE's FFT blocks are faster.
SHORT_FILTER_TAPS = 150


def _filtered_in_stretches(raw):
    """Whether MNE would filter ``raw`` in stretches between annotations."""
    return any(
        description.upper().startswith(SKIPPED_BY_MNE)
        for description in raw.annotations.description
    )


# Channels are convolved a block of this many output samples at a time: the memory of a
# block or two beside the data, not of two copies of a channel (52 MB for 9 h at 100 Hz).
CONVOLUTION_BLOCK_SAMPLES = 1 << 18


def convolve_zero_phase(data, h, picks):
    """Convolve the rows ``picks`` of ``data`` (channels, samples) in place with the
    odd-length, zero-phase FIR filter ``h``, as MNE's overlap-add filter does (same
    padding, same alignment), by direct convolution (:func:`numpy.convolve`), one
    channel and :data:`CONVOLUTION_BLOCK_SAMPLES` output samples at a time."""
    n_times = data.shape[1]
    n_edge = max(min(len(h), n_times) - 1, 0)
    for pick in picks:
        x = data[pick]
        # MNE's padding (its _smart_pad): odd reflection of n_edge samples at each end
        left = 2 * x[0] - x[n_edge:0:-1]
        right = 2 * x[-1] - x[-2 : -n_edge - 2 : -1]
        if n_times < len(h):  # a filter longer than the signal: one piece
            padded = np.concatenate([left, x, right])
            shift = (len(h) - 1) // 2 + n_edge  # the filter's delay and the padding
            x[:] = np.convolve(padded, h)[shift : shift + n_times]
        else:
            _convolve_in_blocks(x, h, left, right, CONVOLUTION_BLOCK_SAMPLES)


def _convolve_in_blocks(x, h, left, right, block):
    """Output samples ``a:b`` of the zero-phase convolution of ``x`` (padded with
    ``left`` and ``right``, at least ``len(h) // 2`` samples each) read the input from
    ``a - len(h) // 2`` to ``b + len(h) // 2``: each block is convolved ("valid") and
    written in place, the input samples the next block reads before its start kept."""
    half = len(h) // 2
    n_times = len(x)
    before = left[len(left) - half :]  # the input just before the block, as it was
    for start in range(0, n_times, block):
        stop = min(start + block, n_times)
        after = x[start : stop + half]
        piece = np.concatenate(
            [before, after, right[: stop + half - start - len(after)]]
        )
        before = x[stop - half : stop].copy()
        x[start:stop] = np.convolve(piece, h, mode="valid")


def _apply_if_short(raw, picks, **design):
    """Design MNE's filter (:func:`mne.filter.create_filter` with ``design``) for the
    loaded ``raw``; if it has at most :data:`SHORT_FILTER_TAPS` taps, apply it to the
    channels ``picks`` in place, raise MNE's warnings about it, and return True; else
    leave ``raw`` as it is and return False (MNE's own call, as fast, warns itself)."""
    import mne

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = mne.filter.create_filter(  # the samples serve MNE's length checks only
            raw._data, raw.info["sfreq"], verbose="warning", **design
        )
    if len(h) > SHORT_FILTER_TAPS:
        return False
    for warning in caught:
        warnings.warn(warning.message, stacklevel=2)
    convolve_zero_phase(raw._data, h, picks)
    return True


def filter_raw(raw, l_freq, h_freq, method="fir", n_jobs=1):
    """``raw.filter(l_freq, h_freq, method=method, n_jobs=n_jobs)`` with MNE's defaults
    (zero-phase, firwin, Hamming, automatic length and transition bands), in place.

    FIR filters of at most :data:`SHORT_FILTER_TAPS` taps over the whole recording are
    convolved by :func:`convolve_zero_phase`; anything else (longer filters, IIR,
    stretches between ``edge`` annotations) is MNE's own call.
    MNE's warnings (e.g. a filter longer than the signal) are raised alike.
    """
    from mne.filter import _filt_check_picks, _filt_update_info

    update_info, picks = _filt_check_picks(raw.info, None, l_freq, h_freq)
    if (
        method == "fir"
        and not _filtered_in_stretches(raw)
        and _apply_if_short(raw, picks, l_freq=l_freq, h_freq=h_freq)
    ):
        _filt_update_info(raw.info, update_info, l_freq, h_freq)
    else:
        raw.filter(l_freq, h_freq, method=method, n_jobs=n_jobs, verbose="warning")


def filter_design_cache():
    """The folder of cached filter designs: ``$EEGFLOW_CACHE_DIR/filters``, else
    ``$XDG_CACHE_HOME/eegflow/filters`` (``~/.cache/eegflow/filters``)."""
    root = os.environ.get("EEGFLOW_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "eegflow"
    )
    return Path(root, "filters")


def _design_key(arguments):
    """A file name for one design: a hash of MNE's and SciPy's versions and every
    argument of :func:`mne.filter.create_filter` but the data."""
    import mne
    import scipy

    text = json.dumps(
        [mne.__version__, scipy.__version__, arguments], sort_keys=True, default=str
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32] + ".npy"


@contextlib.contextmanager
def cached_filter_designs():
    """Inside, MNE's FIR filter designs (:func:`mne.filter.create_filter`, which
    ``raw.filter``, ``raw.notch_filter`` and :func:`filter_raw` call) are read from
    :func:`filter_design_cache` when designed before with the same arguments, by the
    same MNE and SciPy, else designed by MNE and stored there.

    A design depends on the signal only through MNE's warning about a filter longer
    than the signal: such calls, IIR designs and any cache file that does not read
    are MNE's own call. A cache that cannot be written costs only the speed.
    """
    import mne.filter

    design = mne.filter.create_filter
    signature = inspect.signature(design)

    def cached_design(*args, **kwargs):
        arguments = signature.bind(*args, **kwargs)
        arguments.apply_defaults()
        arguments = dict(arguments.arguments)
        data = arguments.pop("data")
        arguments.pop("verbose", None)
        if arguments["method"] != "fir":
            return design(*args, **kwargs)
        path = filter_design_cache() / _design_key(arguments)
        try:
            h = np.load(path)
        except (OSError, ValueError):
            h = None
        if h is not None and (data is None or len(h) <= np.shape(data)[-1]):
            return h
        h = design(*args, **kwargs)
        try:
            from .fileio import atomic_output

            with atomic_output(path) as tmp, open(tmp, "wb") as handle:
                np.save(handle, h)
        except OSError as error:
            log.info("filter design not cached (%s): %s", path, error)
        return h

    mne.filter.create_filter = cached_design
    try:
        yield
    finally:
        mne.filter.create_filter = design
