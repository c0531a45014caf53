"""MNE's short zero-phase FIR filters, convolved with many channels at once.

``raw.filter`` and ``raw.notch_filter`` design a filter (:func:`mne.filter.create_filter`)
and convolve each channel with it in a Python loop over FFT blocks; for short filters the
loop is most of the cost (a 30 Hz low-pass at 100 Hz, 45 taps: 1.28 CPU s for 3 channels x
9 h against 0.36 s here). Here the same coefficients, for the same channels, are convolved
with blocks of channels by SciPy's overlap-add convolution, the signal extended at both
ends as MNE extends it (``pad="reflect_limited"``: odd reflection of ``len(h) - 1``
samples); the result equals MNE's within rounding (tests/test_filtering.py), and the
measurement info's ``highpass``/``lowpass`` are updated as MNE updates them. Longer filters
(:data:`SHORT_FILTER_TAPS`), IIR filters, and recordings MNE filters in separate stretches
(annotations ``edge``, ``bad_acq_skip``) are MNE's own calls.
"""

import warnings

import numpy as np

# annotations between whose stretches raw.filter and raw.notch_filter filter separately
SKIPPED_BY_MNE = ("EDGE", "BAD_ACQ_SKIP")
# bytes of padded float64 samples convolved at once (one channel at least)
FILTER_BLOCK_BYTES = 32e6
# Filters up to this many taps are convolved here: measured (19 channels x 20 min at 256
# Hz, CPU s) MNE 0.84 against 0.33 at 45 taps, 0.24 against 0.12 at 113; from about 400
# taps MNE's FFT blocks are as fast (0.16 against 0.12-0.18) and MNE's own call is kept.
SHORT_FILTER_TAPS = 256


def _filtered_in_stretches(raw):
    """Whether MNE would filter ``raw`` in stretches between annotations."""
    return any(
        description.upper().startswith(SKIPPED_BY_MNE)
        for description in raw.annotations.description
    )


def convolve_zero_phase(data, h):
    """Convolve each row of ``data`` (channels, samples) in place with the odd-length,
    zero-phase FIR filter ``h``, as MNE's overlap-add filter does (same padding, same
    alignment), a block of :data:`FILTER_BLOCK_BYTES` at a time."""
    import scipy.signal

    n_times = data.shape[1]
    n_edge = max(min(len(h), n_times) - 1, 0)
    shift = (len(h) - 1) // 2 + n_edge  # the filter's delay and the padding
    per_block = max(1, int(FILTER_BLOCK_BYTES // ((n_times + 2 * n_edge) * 8)))
    for first in range(0, len(data), per_block):
        block = data[first : first + per_block]
        padded = np.pad(
            block, ((0, 0), (n_edge, n_edge)), "reflect", reflect_type="odd"
        )
        full = scipy.signal.oaconvolve(padded, h[np.newaxis], mode="full", axes=-1)
        block[:] = full[:, shift : shift + n_times]


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
    data = raw._data[picks]  # a copy, written back filtered
    convolve_zero_phase(data, h)
    raw._data[picks] = data
    return True


def filter_raw(raw, l_freq, h_freq, method="fir", n_jobs=1):
    """``raw.filter(l_freq, h_freq, method=method, n_jobs=n_jobs)`` with MNE's defaults
    (zero-phase, firwin, Hamming, automatic length and transition bands), in place.

    FIR filters over the whole recording are convolved by :func:`convolve_zero_phase`;
    anything else (IIR, stretches between ``edge`` annotations) is MNE's own call.
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


def notch_raw(raw, freqs, n_jobs=1):
    """``raw.notch_filter(freqs, n_jobs=n_jobs)`` with MNE's defaults (FIR band-stops
    ``freqs / 200`` Hz wide with 1 Hz transition bands), in place; stretches between
    ``edge`` annotations are left to MNE's own call."""
    from mne.filter import _filt_check_picks

    half_transition = 1.0 / 2.0  # MNE's trans_bandwidth, on either side
    widths = [freq / 200.0 for freq in freqs]  # MNE's notch_widths
    _, picks = _filt_check_picks(raw.info, None, None, None)
    if _filtered_in_stretches(raw) or not _apply_if_short(
        raw,  # band-stops (l_freq above h_freq), as MNE computes them
        picks,
        l_freq=[f + w / 2.0 + half_transition for f, w in zip(freqs, widths)],
        h_freq=[f - w / 2.0 - half_transition for f, w in zip(freqs, widths)],
        l_trans_bandwidth=half_transition,
        h_trans_bandwidth=half_transition,
    ):
        raw.notch_filter(freqs, n_jobs=n_jobs, verbose="warning")
