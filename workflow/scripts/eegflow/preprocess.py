"""Preprocess one recording: crop, pick channels, resample, filter (MNE)."""

import logging

import numpy as np

from . import UserError
from .fileio import atomic_output, read_raw_lazily

log = logging.getLogger(__name__)


def check_filter_below_nyquist(filter_settings, sfreq, source):
    """Raise :class:`UserError` if a filter edge is not below Nyquist.

    ``source`` names where ``sfreq`` comes from (a file or a config key).
    """
    nyquist = sfreq / 2
    for key in ("l_freq", "h_freq"):
        value = filter_settings[key]
        if value is not None and value >= nyquist:
            raise UserError(
                f"config preprocess.filter.{key}={value} Hz is not below the "
                f"Nyquist frequency {nyquist:g} Hz of {source} (sfreq {sfreq:g} Hz); "
                f"lower {key}, or set preprocess.resample_sfreq above {2 * value:g}"
            )


def _pick(raw, picks, path):
    """Pick channels by name or type; unknown names are a UserError."""
    if picks is None:
        return raw.pick("data")
    channel_types = set(raw.get_channel_types())
    missing = [p for p in picks if p not in raw.ch_names and p not in channel_types]
    if missing:
        raise UserError(
            f"{path}: config preprocess.picks asks for {missing}, which this "
            f"recording lacks (it has {raw.ch_names}); fix the names or remove them"
        )
    return raw.pick(picks)


def _check_signal(raw, path):
    """Refuse NaN/infinite values and flat channels, naming the channels."""
    not_finite, flat = [], []
    for index, channel in enumerate(raw.ch_names):  # one channel copied at a time
        row = raw.get_data(picks=[index])[0]
        if not np.isfinite(row).all():
            not_finite.append(channel)
        elif np.ptp(row) == 0:
            flat.append(channel)
    if not_finite:
        raise UserError(
            f"{path}: channels {not_finite} contain NaN or infinite values; "
            "leave them out with config preprocess.picks or repair the file"
        )
    if flat:
        raise UserError(
            f"{path}: channels {flat} are flat (constant) after cropping; leave them "
            "out with config preprocess.picks (or the recording with input.exclude)"
        )


def preprocess_recording(raw_path, out_path, settings, n_jobs=1):
    """Crop, pick, resample and filter ``raw_path``; save it as FIF to ``out_path``.

    Parameters
    ----------
    raw_path : path-like
        Any recording :func:`mne.io.read_raw` opens. Read lazily: only the
        cropped, picked part is loaded, so peak memory is about one recording.
    out_path : path-like
        Output FIF file (name ending in ``_raw.fif``), written atomically.
    settings : dict
        Config ``preprocess``: ``crop`` (tmin, tmax in s), ``picks`` (channel
        names/types or None for all data channels), ``resample_sfreq`` (Hz or
        None) and ``filter`` (l_freq, h_freq in Hz or None, method).
    n_jobs : int
        Cores for MNE's resampling and filtering (the job's ``threads``).
    """
    raw = read_raw_lazily(raw_path)
    duration = raw.times[-1] + 1 / raw.info["sfreq"]
    tmin, tmax = settings["crop"]["tmin"], settings["crop"]["tmax"]
    if tmin >= duration:
        raise UserError(
            f"{raw_path}: config preprocess.crop.tmin={tmin} s is beyond the end of "
            f"this recording ({duration:.3f} s long); lower tmin"
        )
    if tmax is not None and tmax > raw.times[-1]:
        log.warning(
            "%s: preprocess.crop.tmax=%s s is past the end (%.3f s); keeping to the end",
            raw_path,
            tmax,
            duration,
        )
        tmax = None
    target_sfreq = settings["resample_sfreq"] or raw.info["sfreq"]
    check_filter_below_nyquist(settings["filter"], target_sfreq, raw_path)

    if tmax is None:
        raw.crop(tmin=tmin)  # to the last sample
    else:
        raw.crop(tmin=tmin, tmax=tmax, include_tmax=False)
    _pick(raw, settings["picks"], raw_path)
    raw.load_data(verbose="error")
    _check_signal(raw, raw_path)
    if settings["resample_sfreq"] and settings["resample_sfreq"] != raw.info["sfreq"]:
        raw.resample(settings["resample_sfreq"], n_jobs=n_jobs, verbose="error")
    filt = settings["filter"]
    if filt["l_freq"] is not None or filt["h_freq"] is not None:
        raw.filter(
            filt["l_freq"],
            filt["h_freq"],
            method=filt["method"],
            n_jobs=n_jobs,
            verbose="error",
        )
    log.info(
        "%s: %d channels, %d samples at %g Hz after preprocessing",
        raw_path,
        len(raw.ch_names),
        raw.n_times,
        raw.info["sfreq"],
    )
    with atomic_output(out_path) as tmp:
        raw.save(tmp, fmt="double", verbose="error")
