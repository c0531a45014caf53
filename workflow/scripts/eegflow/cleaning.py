"""Dirty EEG, per recording: implausible units, bad channels, line noise.

Used by :mod:`eegflow.preprocess`. Bad channels are found, recorded with the
reason, and then marked (kept, their features NaN) or interpolated; a
recording fails only when no good channel is left.
"""

import logging

import numpy as np

from . import UserError
from .numerics import median_last_axis, welch_psd

log = logging.getLogger(__name__)

# the channel types of EEG, scalp and intracranial (what picks: null keeps)
EEG_FAMILY = ("eeg", "seeg", "ecog", "dbs")
# PREP's criteria as pyprep's NoisyChannels implements them (Bigdely-Shamlo et al.
# 2015): criterion -> (the method that applies it, the attribute listing its channels)
PREP_CRITERIA = {
    "deviation": ("find_bad_by_deviation", "bad_by_deviation"),
    "correlation": ("find_bad_by_correlation", "bad_by_correlation"),
    "hf_noise": ("find_bad_by_hfnoise", "bad_by_hf_noise"),
}
# seconds per segment when looking for flat stretches
FLAT_SEGMENT_S = 1.0
# 2 s segments sampled evenly for whole-recording statistics (10 minutes)
SAMPLED_SEGMENTS = 300
# bytes of sampled segments (float64) held at once: channels are taken in blocks this size
SAMPLED_BLOCK_BYTES = 64e6


def line_noise_frequencies(settings, sfreq):
    """The notch frequencies of config ``preprocess.notch`` at ``sfreq``.

    ``line_freq`` (e.g. 50) expands to its harmonics below Nyquist; ``freqs``
    are taken as given (those at or above Nyquist are refused by the caller).
    """
    if settings["line_freq"]:
        harmonics = np.arange(1, int(sfreq / 2 // settings["line_freq"]) + 1)
        freqs = [float(settings["line_freq"] * k) for k in harmonics]
        return [f for f in freqs if f < sfreq / 2]
    return [float(f) for f in settings["freqs"]]


def robust_spread(data, median=None):
    """Per row: 1.4826 x the median absolute deviation (the std of Gaussian data).

    ``median``: the rows' medians when the caller has them already (else computed).
    """
    median = median_last_axis(data) if median is None else median
    return 1.4826 * median_last_axis(np.abs(data - median[..., None]))


def _segment_starts(raw, segment_s, max_segments):
    """(first samples, length) of the segments :func:`sample_segments` takes."""
    length = max(1, min(int(round(segment_s * raw.info["sfreq"])), raw.n_times))
    available = raw.n_times // length
    starts = np.linspace(0, (available - 1) * length, min(available, max_segments))
    return np.unique(starts.astype(int)), length


def sampled_channels(raw, channels, segment_s=2.0, max_segments=SAMPLED_SEGMENTS):
    """Yield ``(names, segments)`` for blocks of ``channels``: the segments of
    :func:`sample_segments` of each, shape (block channels, segments, samples).

    A block holds at most :data:`SAMPLED_BLOCK_BYTES` (one channel at least), so
    memory stays small however many channels. A loaded recording's samples are
    indexed in one step per block; a lazy one is read one segment of the
    block's channels at a time.
    """
    starts, length = _segment_starts(raw, segment_s, max_segments)
    channels = list(channels)
    per_block = max(1, int(SAMPLED_BLOCK_BYTES // (len(starts) * length * 8)))
    offsets = starts[:, None] + np.arange(length)
    for first in range(0, len(channels), per_block):
        names = channels[first : first + per_block]
        picks = np.array([raw.ch_names.index(name) for name in names])
        if raw.preload:  # no copy beyond the segments themselves
            segments = raw._data[picks[:, None, None], offsets[None]]
        else:
            segments = np.stack(
                [raw.get_data(picks=picks, start=s, stop=s + length) for s in starts],
                axis=1,
            )
        yield names, segments


def sample_segments(raw, channel, segment_s=2.0, max_segments=SAMPLED_SEGMENTS):
    """Segments of ``segment_s`` seconds of one channel, spread evenly over the recording.

    Statistics that describe a whole recording (spectra, amplitudes) do not
    need every sample: up to ``max_segments`` segments (10 minutes of 2 s
    segments by default) keep their cost fixed however long the recording is.
    :func:`sampled_channels` gives the same segments of many channels at once.

    Returns
    -------
    ndarray, shape (segments, samples)
    """
    ((_, segments),) = sampled_channels(raw, [channel], segment_s, max_segments)
    return segments[0]


def mean_spectra(raw):
    """Per channel, the power spectrum (V²/Hz) of 2 s Hann segments averaged over the
    segments of :func:`sample_segments`: (freqs, {channel: power})."""
    spectra = {}
    for names, segments in sampled_channels(raw, raw.ch_names):
        # one Hann segment each: scipy.signal.periodogram's, without importing it
        freqs, power = welch_psd(
            segments, raw.info["sfreq"], segments.shape[-1], noverlap=0
        )
        spectra.update(zip(names, power.mean(axis=1)))
    return freqs, spectra


def line_noise_db(freqs, spectra, mains=(50, 60)):
    """How much mains interference a recording carries, per mains frequency.

    For each of 50 and 60 Hz: per channel of ``spectra`` (see
    :func:`mean_spectra`), the power at each harmonic below the highest
    frequency less 3 Hz against the median of the bins 1 to 3 Hz away, in dB,
    for the strongest harmonic; the median over channels. About 0 dB without
    line noise; 10 dB and more is a clear peak. None where there is no
    harmonic, or no channel.

    Returns
    -------
    dict
        ``{"50": dB or None, "60": dB or None}``.
    """
    result = {str(base): None for base in mains}
    if not spectra:
        return result
    power = np.array(list(spectra.values()))
    for base in mains:
        harmonics = np.arange(base, freqs[-1] - 3, base)
        if not len(harmonics):
            continue
        per_harmonic = []
        for freq in harmonics:
            distance = np.abs(freqs - freq)
            peak = power[:, np.argmin(distance)]
            neighbours = np.median(power[:, (distance >= 1) & (distance <= 3)], axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                per_harmonic.append(
                    np.where(neighbours > 0, 10 * np.log10(peak / neighbours), 0)
                )
        result[str(base)] = float(np.median(np.max(per_harmonic, axis=0)))
    return result


def amplitude_statistics_uv(raw, channels=None):
    """Per channel (all, or ``channels``): the median and the robust spread
    (1.4826 x MAD) in µV, of the segments of :func:`sample_segments`."""
    statistics = {}
    names = raw.ch_names if channels is None else channels
    for block, segments in sampled_channels(raw, names):
        values = segments.reshape(len(block), -1) * 1e6
        medians = median_last_axis(values)
        spreads = robust_spread(values, medians)
        for name, median, spread in zip(block, medians, spreads):
            statistics[name] = {"median": float(median), "spread": float(spread)}
    return statistics


def check_units(raw, settings, good, path):
    """Refuse EEG whose amplitudes cannot be in volts (e.g. microvolts stored as volts).

    The median over good EEG-family channels of each channel's robust spread
    (of the segments of :func:`sample_segments`) must lie within config
    ``preprocess.units`` ``min_uv`` .. ``max_uv``.
    """
    eeg = [
        name
        for name, kind in zip(raw.ch_names, raw.get_channel_types())
        if name in good and kind in EEG_FAMILY
    ]
    if not eeg:
        return
    statistics = amplitude_statistics_uv(raw, eeg)
    spreads_uv = np.array([statistics[name]["spread"] for name in eeg])
    median_uv = float(np.median(spreads_uv))
    if settings["min_uv"] <= median_uv <= settings["max_uv"]:
        return
    examples = ", ".join(f"{n}: {s:.3g} µV" for n, s in list(zip(eeg, spreads_uv))[:4])
    factor = "1e-6" if median_uv > settings["max_uv"] else "1e6"
    hint = (
        "the values look like microvolts stored as volts"
        if median_uv > settings["max_uv"]
        else "the values look like volts stored as microvolts"
    ) + (
        f": set preprocess.units.scale: {factor} (all recordings), or a units_scale "
        f"column of {factor} for this one in the recordings table"
    )
    raise UserError(
        f"{path}: implausible EEG amplitudes: a typical spread of {median_uv:.3g} µV over "
        f"channels {eeg[:4]}{' ...' if len(eeg) > 4 else ''} ({examples}), outside "
        f"config preprocess.units.min_uv={settings['min_uv']} .. max_uv="
        f"{settings['max_uv']} µV; {hint}, or widen the bounds if the data are right"
    )


def _flat_stretch_s(row, sfreq):
    """Seconds of the longest stretch where a channel is stuck at one value.

    Counted in whole 1 s segments that are constant and equal to the previous
    one (a square wave, constant between its edges, is not stuck).
    """
    segment = max(1, int(round(FLAT_SEGMENT_S * sfreq)))
    n_segments = len(row) // segment
    if not n_segments:
        return 0.0
    segments = row[: n_segments * segment].reshape(n_segments, segment)
    constant = np.ptp(segments, axis=1) == 0
    longest = run = 0
    for index in range(n_segments):
        if not constant[index]:
            run = 0
        elif run and segments[index, 0] == segments[index - 1, 0]:
            run += 1
        else:
            run = 1
        longest = max(longest, run)
    return longest * segment / sfreq


def detect_bad_channels(raw, settings, given, path, random_state=0):
    """Find the bad channels of a loaded recording, each with its reasons.

    Parameters
    ----------
    raw : mne.io.Raw
        Loaded, picked data.
    settings : dict
        Config ``preprocess.bad_channels``: ``detect`` (any of "nan", "flat",
        "deviation", "correlation", "hf_noise"), ``flat_s``, ``channel_types``
        (the types PREP's criteria judge together; nan and flat judge every
        channel).
    given : dict
        ``{channel: reason}`` known beforehand (BIDS ``channels.tsv``, the
        recordings table); names the recording lacks are ignored.
    path : str
        The recording's file, for messages.
    random_state : int
        Seed for pyprep (its correlation criterion is deterministic; kept fixed).

    Returns
    -------
    bad : dict
        ``{channel: [reasons]}`` in channel order.
    skipped : list of str
        PREP criteria asked for but not applied (they need 3 or more good
        channels), also logged.
    judged : list of str
        The channels PREP's criteria judged (none when none was applied).
    """
    detect = set(settings["detect"])
    reasons = {name: [] for name in raw.ch_names}
    for name, reason in given.items():
        if name in reasons:
            reasons[name].append(reason)
    sfreq = raw.info["sfreq"]
    data = raw._data  # loaded: each channel judged as a view, without a copy
    for name, row in zip(raw.ch_names, data):
        if not np.isfinite(row).all():
            if "nan" not in detect:  # NaN would spread into features unseen
                raise UserError(
                    f"{path}: channel {name} holds NaN or infinite values; add nan to "
                    "config preprocess.bad_channels.detect (to mark or interpolate it) "
                    "or leave it out with preprocess.picks"
                )
            reasons[name].append("nan")
        elif "flat" in detect and np.ptp(row) == 0:
            reasons[name].append("flat")
        elif "flat" in detect:
            stretch = _flat_stretch_s(row, sfreq)
            if stretch >= settings["flat_s"]:
                reasons[name].append(f"flat for {stretch:g} s")
    prep = [criterion for criterion in PREP_CRITERIA if criterion in detect]
    candidates = [
        name
        for name, kind in zip(raw.ch_names, raw.get_channel_types())
        if not reasons[name] and kind in settings["channel_types"]
    ]
    skipped = []
    if prep and len(candidates) >= 3:
        for name, criteria in _prep_bad_channels(
            raw, candidates, prep, random_state
        ).items():
            reasons[name].extend(criteria)
    elif prep:
        skipped = prep
        log.warning(
            "%s: PREP criteria %s need 3 or more good channels; %d here (of "
            "preprocess.bad_channels.channel_types %s): skipped",
            path,
            prep,
            len(candidates),
            settings["channel_types"],
        )
    bad = {name: why for name, why in reasons.items() if why}
    if len(bad) == len(raw.ch_names):
        raise UserError(
            f"{path}: every channel is bad ({bad}); no good channel is left. Check the "
            "recording, or relax config preprocess.bad_channels.detect"
        )
    for name, why in bad.items():
        log.warning("%s: bad channel %s (%s)", path, name, ", ".join(why))
    return bad, skipped, candidates if prep and not skipped else []


def _prep_bad_channels(raw, candidates, criteria, random_state):
    """{channel: [criteria]} flagged by pyprep's NoisyChannels among ``candidates``."""
    import mne
    from pyprep import NoisyChannels

    subset = raw.copy().pick(candidates)
    subset.set_channel_types(dict.fromkeys(candidates, "eeg"), on_unit_change="ignore")
    with mne.utils.use_log_level("error"):
        noisy = NoisyChannels(subset, random_state=random_state, ransac=False)
        found = {}
        for criterion in criteria:
            method, attribute = PREP_CRITERIA[criterion]
            getattr(noisy, method)()
            for name in getattr(noisy, attribute):
                found.setdefault(name, []).append(criterion)
    return found


def mark_bad_channels(raw, bad):
    """Mark the bad channels in ``info["bads"]`` (so that the average reference
    leaves them out) and set their non-finite samples to 0, so that filters and
    references stay finite."""
    raw.info["bads"] = list(bad)
    if bad:
        picks = [raw.ch_names.index(name) for name in bad]
        data = raw._data  # loaded: edit in place, no copy of the recording
        data[picks] = np.nan_to_num(data[picks], nan=0.0, posinf=0.0, neginf=0.0)


def require_positions(info, names, path, needed_by, alternative=""):
    """A :class:`UserError` naming ``path`` if a channel of ``names`` has no position.

    ``needed_by`` says what needs them (a setting), ``alternative`` what else to do.
    """
    positions = {ch["ch_name"]: ch["loc"][:3] for ch in info["chs"]}
    missing = [
        name
        for name in names
        if not np.isfinite(positions[name]).all() or not np.any(positions[name])
    ]
    if missing:
        raise UserError(
            f"{path}: {needed_by} needs channel positions, and channels "
            f"{missing[:8]}{' ...' if len(missing) > 8 else ''} have none; set "
            "preprocess.montage (e.g. colin27_1020, after renaming channels to its "
            f"names with preprocess.rename){alternative}"
        )


def interpolation_refusal(raw, bad, settings, path):
    """Why the bad channels should not be interpolated, or "" when they can be.

    Spherical splines rebuild a channel from the good ones around it; with many
    channels bad, or a bad channel whose surroundings are bad too, they
    extrapolate from distant channels (12 of 19 bad: frontal channels rebuilt
    from posterior ones, 6 times too large). So the bad channels of type EEG may
    be at most config ``preprocess.bad_channels.max_interpolated_fraction`` of
    the EEG channels, and at least half of each one's neighbours must be good:
    its neighbours in the Delaunay triangulation of the channel positions
    (MNE's :func:`mne.channels.find_ch_adjacency`; in a 10-20 montage, the 3 to
    8 electrodes around it). Needs positions when a channel is bad (a
    :class:`UserError` naming ``path`` otherwise).
    """
    import mne

    if not bad:
        return ""
    require_positions(
        raw.info,
        raw.ch_names,
        path,
        "config preprocess.bad_channels.action=interpolate",
        ", or use action: mark",
    )
    eeg = [
        name
        for name, kind in zip(raw.ch_names, raw.get_channel_types())
        if kind == "eeg"
    ]
    bad_eeg = [name for name in bad if name in eeg]
    if not bad_eeg:
        return ""
    limit = settings["max_interpolated_fraction"]
    if len(bad_eeg) > limit * len(eeg):
        return (
            f"{len(bad_eeg)} of {len(eeg)} EEG channels are bad, more than "
            f"preprocess.bad_channels.max_interpolated_fraction={limit:g} of them"
        )
    if len(eeg) < 3:  # no triangulation: the fraction alone decides
        return ""
    with mne.utils.use_log_level("error"):
        adjacency, names = mne.channels.find_ch_adjacency(raw.info, "eeg")
    adjacency = adjacency.toarray()
    surrounded_by_bad = []
    for name in bad_eeg:
        row = names.index(name)
        neighbours = [names[i] for i in np.flatnonzero(adjacency[row]) if i != row]
        good = [neighbour for neighbour in neighbours if neighbour not in bad]
        if 2 * len(good) < len(neighbours):
            surrounded_by_bad.append(f"{name} ({len(good)} of {len(neighbours)})")
    if surrounded_by_bad:
        return (
            "fewer than half of the neighbours of bad channels "
            f"{', '.join(surrounded_by_bad)} are good"
        )
    return ""


def interpolate_bad_channels(raw, bad, path):
    """Spherical-spline interpolation of the bad channels (MNE ``interpolate_bads``),
    once :func:`interpolation_refusal` (which checks their positions: config
    ``preprocess.montage``, or from the file/BIDS) has found nothing against it.
    """
    if not bad:
        return
    raw.interpolate_bads(reset_bads=True, mode="accurate", verbose="warning")
    log.info("%s: interpolated bad channels %s", path, list(bad))


# A mains peak this many dB above the bins 1-3 Hz away (:func:`line_noise_db`) is a
# clear one: 10 times the neighbouring power; recordings without mains measure 0 ± 3 dB.
LINE_NOISE_CLEAR_DB = 10.0
# A channel is noisy when the robust z-score of its robust spread over the channels
# exceeds PREP's deviation threshold (5, pyprep's default) and the spread is at least
# twice the median: with few, alike channels (a median absolute deviation near 0) the
# z-score alone would call a channel 1 % louder than the others noisy.
NOISY_CHANNEL_Z = 5.0
NOISY_CHANNEL_RATIO = 2.0


def low_pass_stopband_hz(h_freq, sfreq):
    """Where a low-pass at ``h_freq`` reaches its stopband: ``h_freq`` plus MNE's
    default ("auto") transition band, 25 % of ``h_freq``, at least 2 Hz, at most
    up to Nyquist."""
    return h_freq + min(max(0.25 * h_freq, 2.0), sfreq / 2 - h_freq)


def untreated_line_noise(mains_db, settings, sfreq, notch_hz):
    """The mains interference a recording carries that its preprocessing leaves in.

    A mains frequency whose peak (:func:`line_noise_db`) reaches
    :data:`LINE_NOISE_CLEAR_DB` is left in when one of its harmonics below the
    input's Nyquist frequency less 3 Hz is neither notched (``notch_hz``, or a
    ``notch_filter`` step's ``freqs``, within 1 Hz) nor removed: above the output's
    Nyquist frequency, or at or above the stopband of the low-pass
    (``filter.h_freq``, or a ``filter`` step's, see :func:`low_pass_stopband_hz`).

    Parameters
    ----------
    mains_db : dict
        :func:`line_noise_db` of the recording before preprocessing.
    settings : dict
        Config ``preprocess``.
    sfreq : float
        The recording's sampling rate before resampling.
    notch_hz : list of float
        The frequencies notched by config ``preprocess.notch``.

    Returns
    -------
    list of str
        One message per mains frequency left in, naming the setting to turn on.
    """
    notched = list(notch_hz)
    output_sfreq = settings["resample_sfreq"] or sfreq
    low_passes = [settings["filter"]["h_freq"]]
    for step in settings["steps"]:
        ((method, keywords),) = step.items()
        keywords = keywords or {}
        if method == "notch_filter" and keywords.get("freqs") is None:
            return []  # spectrum_fit: MNE finds and removes the lines itself
        if method == "notch_filter":
            notched.extend(np.atleast_1d(keywords["freqs"]).tolist())
        elif method == "filter":
            low_passes.append(keywords.get("h_freq"))
    kept_below = min(
        [output_sfreq / 2]
        + [low_pass_stopband_hz(h, output_sfreq) for h in low_passes if h is not None]
    )
    messages = []
    for base, peak_db in mains_db.items():
        if peak_db is None or peak_db < LINE_NOISE_CLEAR_DB:
            continue
        left = [
            float(harmonic)
            for harmonic in np.arange(int(base), sfreq / 2 - 3, int(base))
            if harmonic < kept_below
            and not any(abs(harmonic - freq) <= 1 for freq in notched)
        ]
        if left:
            messages.append(
                f"line noise at {base} Hz ({peak_db:.1f} dB above the neighbouring "
                f"frequencies) is left in: {left} Hz are neither notched nor "
                f"low-passed; set config preprocess.notch.line_freq: {base}"
            )
    return messages


def noisy_channels(statistics):
    """The noisy channels among ``statistics`` (:func:`amplitude_statistics_uv` of
    the channels to compare): ``{name: (spread, median spread)}`` in µV, by
    :data:`NOISY_CHANNEL_Z` and :data:`NOISY_CHANNEL_RATIO`; none with fewer than 3
    channels (PREP's minimum)."""
    if len(statistics) < 3:
        return {}
    spreads = np.array([values["spread"] for values in statistics.values()])
    median = float(np.median(spreads))
    scale = float(robust_spread(spreads))
    noisy = {}
    for name, spread in zip(statistics, spreads):
        if spread >= NOISY_CHANNEL_RATIO * median and (
            scale == 0 or (spread - median) / scale > NOISY_CHANNEL_Z
        ):
            noisy[name] = (float(spread), median)
    return noisy
