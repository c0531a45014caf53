"""MNE's zero-phase FIR filters, applied in one pass, short ones by direct convolution.

A preprocess job notches and band-passes: ``raw.notch_filter`` then ``raw.filter``,
two passes over every channel. :class:`OnePassFilters` designs the same filters with
MNE and applies their product once, equal to the two passes (see the class). A product
of at most :data:`SHORT_FILTER_TAPS` taps is convolved with each channel by
:func:`numpy.convolve` (``raw.filter`` convolves in a Python loop over FFT blocks, most
of its cost for a short filter), the signal extended at both ends as MNE extends it
(``pad="reflect_limited"``: odd reflection of ``len(h) - 1`` samples); a longer one by
MNE's own overlap-add. The results equal MNE's within rounding
(tests/test_filtering.py), and the measurement info's ``highpass``/``lowpass`` are
updated as MNE updates them. IIR filters, and recordings MNE filters in separate
stretches (annotations ``edge``, ``bad_acq_skip``), are MNE's own calls.

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
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# MNE's notch_filter stops each frequency f over f +- f/400 (its notch_widths f/200) with
# a 0.5 Hz transition on each side (trans_bandwidth 1 Hz)
NOTCH_HALF_WIDTH_PER_HZ = 1 / 400
NOTCH_HALF_TRANSITION_HZ = 0.5

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


class OnePassFilters:
    """MNE's zero-phase FIR notch and band-pass filters of a loaded recording, applied
    to its samples in one pass.

    ``raw.notch_filter`` then ``raw.filter`` filter every data channel twice. Each is a
    linear, symmetric (zero-phase) FIR filter, and MNE extends the signal at both ends
    by odd reflection about its end samples for at least the filter's length
    (``pad="reflect_limited"``); filtering such an extension with a symmetric filter
    gives the odd reflection of the filtered signal, so filtering twice equals filtering
    once with the two filters convolved into one, end samples included, wherever the
    recording is at least as long as that product (tests/test_filtering.py: equal to
    MNE's two calls within rounding). The product is applied as MNE applies a filter
    (its overlap-add FFT, the same call ``raw.filter`` makes), or by
    :func:`convolve_zero_phase` when short: a 50 Hz notch and a 0.5-40 Hz band-pass at
    256 Hz (1,691 taps each), 19 channels x 20 minutes, took 0.32 s in two passes and
    0.10 s in one.

    Filters are designed by MNE (:func:`mne.filter.create_filter`, as its own calls
    design them; its warnings raised) as :meth:`notch` and :meth:`band` are called and
    applied by :meth:`apply`. IIR filters, and recordings MNE filters in separate
    stretches (annotations ``edge``, ``bad_acq_skip``), are MNE's own calls, in order.
    """

    def __init__(self, raw, n_jobs=1):
        self.raw = raw
        self.n_jobs = n_jobs
        self.whole = not _filtered_in_stretches(raw)
        self.pending = None  # the product of the filters designed, not yet applied

    def notch(self, freqs):
        """``raw.notch_filter(freqs)`` with MNE's defaults (stop bands of f/200 Hz,
        1 Hz transitions, automatic length)."""
        import mne

        if not self.whole:
            self.apply()
            self.raw.notch_filter(freqs, n_jobs=self.n_jobs, verbose="warning")
            return
        # the band-stop filter mne.filter.notch_filter designs, in its arithmetic
        widths = np.asarray(freqs, float) / 200
        half_transition = NOTCH_HALF_TRANSITION_HZ
        self._add(
            mne.filter.create_filter(
                self.raw._data,
                self.raw.info["sfreq"],
                [f + w / 2 + half_transition for f, w in zip(freqs, widths)],
                [f - w / 2 - half_transition for f, w in zip(freqs, widths)],
                l_trans_bandwidth=half_transition,
                h_trans_bandwidth=half_transition,
                verbose="warning",
            )
        )

    def band(self, l_freq, h_freq, method="fir"):
        """``raw.filter(l_freq, h_freq, method=method)`` with MNE's defaults
        (zero-phase, firwin, Hamming, automatic length and transition bands); the
        measurement info's ``highpass``/``lowpass`` are updated as MNE updates them."""
        import mne
        from mne.filter import _filt_check_picks, _filt_update_info

        if method != "fir" or not self.whole:
            self.apply()
            self.raw.filter(
                l_freq, h_freq, method=method, n_jobs=self.n_jobs, verbose="warning"
            )
            return
        update_info = _filt_check_picks(self.raw.info, None, l_freq, h_freq)[0]
        self._add(
            mne.filter.create_filter(  # the samples serve MNE's length checks only
                self.raw._data,
                self.raw.info["sfreq"],
                l_freq,
                h_freq,
                verbose="warning",
            )
        )
        _filt_update_info(self.raw.info, update_info, l_freq, h_freq)

    def _add(self, h):
        """Convolve ``h`` into the pending product; first apply the pending filters
        if the product would be longer than the recording (their padding would no
        longer cover it)."""
        if self.pending is not None:
            if len(self.pending) + len(h) - 1 > self.raw.n_times:
                self.apply()
            else:
                h = np.convolve(self.pending, h)
        self.pending = h

    def apply(self):
        """Filter the samples with the filters designed so far, in place."""
        from mne.filter import _filt_check_picks, _overlap_add_filter

        h, self.pending = self.pending, None
        if h is None:
            return
        # the channels raw.filter and raw.notch_filter filter: every data channel
        picks = _filt_check_picks(self.raw.info, None, None, None)[1]
        if len(h) <= SHORT_FILTER_TAPS:
            convolve_zero_phase(self.raw._data, h, picks)
        else:  # as mne.filter.filter_data applies it
            _overlap_add_filter(
                self.raw._data, h, None, "zero", picks, self.n_jobs, copy=False
            )


def filter_raw(raw, l_freq, h_freq, method="fir", n_jobs=1):
    """``raw.filter(l_freq, h_freq, method=method, n_jobs=n_jobs)`` with MNE's defaults,
    in place, through :class:`OnePassFilters` (a short FIR filter convolved directly).
    MNE's warnings (e.g. a filter longer than the signal) are raised alike."""
    filters = OnePassFilters(raw, n_jobs)
    filters.band(l_freq, h_freq, method)
    filters.apply()


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
