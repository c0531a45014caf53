"""Cut a preprocessed recording into windows: fixed-length over the whole
recording, or inside annotations and labelled (config ``windows.annotations``).

Output per recording: a parquet table with one row per window
(``recording``, ``window_index``, ``start_sample``, ``start_s``, ``fif_sample``,
``rejected``, ``reject_reason``, the recording's metadata such as ``target``,
and for annotation windows ``label`` (the annotation's description) and
``target`` (its mapped value)). The windows' samples are not copied: like
braindecode's lazy windows, they are read from the FIF they were cut from
(the preprocessed or ICA-cleaned recording) when used, at ``fif_sample``
(:func:`read_windows`), which keeps a corpus's intermediates at the size of
its preprocessed signal. The sampling rate, the channel names, the window
length, the scaling and, for annotation windows, the per-label counts of
annotations and windows are stored in the parquet schema metadata
(:func:`window_table_info`).
"""

import json
import logging
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import UserError
from .arrow import numpy_array, python_array, string_array
from .fifread import fif_reader
from .fileio import atomic_output, note, read_record
from .provenance import with_stage

log = logging.getLogger(__name__)

# Samples (float64 bytes) of the windows read from the FIF at once to judge them: the
# windows job's memory stays within a few blocks whatever the recording's length.
WINDOW_BLOCK_BYTES = 16e6
# scale_channelwise: a window-channel spread within this many float steps of its mean is
# no variation at all (a constant channel's mean rounds within a step or two)
RESOLVED_SPREAD_ULPS = 8


def window_length_samples(settings, sfreq):
    """Window and stride lengths in samples for config ``windows`` at ``sfreq``."""
    window = int(round(settings["window_s"] * sfreq))
    stride_s = settings["stride_s"] or settings["window_s"]
    stride = int(round(stride_s * sfreq))
    return window, stride


def window_starts(n_times, window, stride, drop_last):
    """First sample of each window.

    Windows start every ``stride`` samples while they fit. If the last one does
    not reach the end and ``drop_last`` is False, one more window is added that
    ends on the last sample (as braindecode's ``drop_last_window=False``).
    """
    starts = np.arange(0, n_times - window + 1, stride)
    if not drop_last and starts.size and starts[-1] + window < n_times:
        starts = np.append(starts, n_times - window)
    return starts


def annotation_windows(signal, settings, window, stride):
    """Windows inside the annotations named in ``settings["annotations"]["mapping"]``.

    Each mapped annotation spans from ``onset + start_offset_s`` to ``onset +
    duration + stop_offset_s`` (braindecode's ``trial_start_offset_samples`` and
    ``trial_stop_offset_samples``, in seconds) and holds windows every
    ``stride`` samples while they fit inside that span. An event (an annotation
    lasting at most one sample: formats store events as 0 or 1 sample long)
    with ``stop_offset_s`` 0 gives one window from ``onset + start_offset_s``.
    Windows reaching outside the data are dropped. With ``crop_wake_mins``,
    only windows lying from that long before the start of the first to that
    long after the end of the last non-wake annotation are kept (braindecode's
    ``crop_wake_mins``, which measures from the last one's onset instead).

    Returns
    -------
    starts : ndarray of int
        First sample of each window (from the data's first sample), sorted.
    descriptions : ndarray of str
        The annotation description (label) of each window.
    counts : dict
        Per mapped label: ``annotations`` found, how many were ``too_short``
        to hold a window, ``outside_data`` windows dropped, ``cropped_wake``
        windows dropped by ``crop_wake_mins``, ``windows`` made, and the
        shortest and longest annotation (``min_s``, ``max_s``).
    """
    labels = settings["annotations"]
    sfreq = signal.sfreq
    annotations = signal.annotations
    onsets = np.round(annotations.onset * sfreq).astype(np.int64) - signal.first_samp
    durations = np.round(annotations.duration * sfreq).astype(np.int64)
    start_offset = int(round(labels["start_offset_s"] * sfreq))
    stop_offset = int(round(labels["stop_offset_s"] * sfreq))
    counts = {
        label: {
            "annotations": 0,
            "too_short": 0,
            "outside_data": 0,
            "cropped_wake": 0,
            "windows": 0,
            "min_s": None,
            "max_s": None,
        }
        for label in labels["mapping"]
    }
    starts, descriptions = [], []
    for onset, duration, description in zip(onsets, durations, annotations.description):
        if description not in labels["mapping"]:
            continue
        count = counts[description]
        count["annotations"] += 1
        seconds = float(duration / sfreq)
        count["min_s"] = min(
            seconds, count["min_s"] if count["min_s"] is not None else seconds
        )
        count["max_s"] = max(seconds, count["max_s"] or 0.0)
        first = onset + start_offset
        if duration <= 1 and stop_offset == 0:  # an event
            inside = np.array([first])
        else:
            inside = np.arange(
                first, onset + duration + stop_offset - window + 1, stride
            )
        if not len(inside):
            count["too_short"] += 1
        starts.extend(inside)
        descriptions.extend([description] * len(inside))
    starts, descriptions = (
        np.array(starts, dtype=np.int64),
        np.array(descriptions, dtype=object),
    )
    fits = (starts >= 0) & (starts + window <= signal.n_times)
    for description in descriptions[~fits]:
        counts[description]["outside_data"] += 1
    starts, descriptions = starts[fits], descriptions[fits]
    if labels["crop_wake_mins"] is not None:
        sleep = [
            (onset, onset + duration)
            for onset, duration, description in zip(
                onsets, durations, annotations.description
            )
            if description in labels["mapping"] and description not in labels["wake"]
        ]
        if sleep:
            margin = labels["crop_wake_mins"] * 60 * sfreq
            first, last = (
                min(s for s, _ in sleep) - margin,
                max(e for _, e in sleep) + margin,
            )
            kept = (starts >= first) & (starts + window <= last)
            log.info("crop_wake_mins: %d of %d windows kept", kept.sum(), len(kept))
            for description in descriptions[~kept]:
                counts[description]["cropped_wake"] += 1
            starts, descriptions = starts[kept], descriptions[kept]
    for description in descriptions:
        counts[description]["windows"] += 1
    order = np.argsort(starts, kind="stable")
    return starts[order], descriptions[order], counts


def check_label_counts(counts, settings, source, recording, descriptions, notes):
    """Log each mapped label's annotations and windows; refuse a label left without any.

    A label with no window in a recording is an error naming ``source`` (the
    recording's file), the label, its annotations' durations and the settings
    to change, unless config ``windows.annotations.missing_label`` is "warn"
    (for data sets where some recordings legitimately lack a label). That, and a
    label some of whose annotations gave no window, are notes in ``notes`` (the
    window table's warnings; :func:`eegflow.fileio.note`).
    ``descriptions`` are the recording's annotation descriptions, named when
    a label has none.
    """
    labels = settings["annotations"]
    offsets = (
        f"windows.annotations.start_offset_s={labels['start_offset_s']}, "
        f"stop_offset_s={labels['stop_offset_s']}"
    )
    present = sorted(set(descriptions))
    missing, hints = [], {}
    for label, count in counts.items():
        log.info(
            "%s: label %r: %d annotations, %d windows (%s)",
            recording,
            label,
            count["annotations"],
            count["windows"],
            count,
        )
        lost = count["too_short"] + count["outside_data"]
        if count["windows"] and lost:
            note(
                source,
                f"label {label!r}: {count['too_short']} of {count['annotations']} "
                "annotations are too short for a window, "
                f"{count['outside_data']} windows reach outside the data ({offsets})",
                notes,
            )
        if count["windows"]:
            continue
        if not count["annotations"]:
            missing.append(f"label {label!r}: no annotation")
            hints["none"] = (
                f"The recording's annotations are {present[:12] or 'none'}"
                f"{' ...' if len(present) > 12 else ''}: pair an annotations file with "
                "config input.annotations, or fix the mapping."
            )
        elif count["too_short"] == count["annotations"]:
            missing.append(
                f"label {label!r}: {count['annotations']} annotations lasting "
                f"{count['min_s']:g} to {count['max_s']:g} s, each shorter than a window"
            )
            hints["short"] = (
                f"A window is windows.window_s={settings['window_s']} s with {offsets}: "
                "lower window_s, or set the offsets (stop_offset_s = window_s minus the "
                "annotation duration takes the seconds after each cue)."
            )
        else:
            missing.append(
                f"label {label!r}: {count['annotations']} annotations whose windows reach "
                f"outside the data ({count['outside_data']}) or were cut by "
                f"windows.annotations.crop_wake_mins ({count['cropped_wake']})"
            )
            hints["outside"] = f"Check preprocess.crop and {offsets}."
    if not missing:
        return
    message = (
        f"{source}: config windows.annotations.mapping gives no window in recording "
        f"'{recording}' for {'; '.join(missing)}. {' '.join(hints.values())}"
    )
    if labels["missing_label"] == "warn":
        note(source, f"{message} (windows.annotations.missing_label: warn)", notes)
    else:
        raise UserError(
            f"{message} If some recordings legitimately lack a label, set "
            "windows.annotations.missing_label: warn"
        )


def peak_to_peak(signal, starts, window, channels):
    """(windows, channels) peak-to-peak amplitude of the windows of ``window``
    samples at ``starts``, on ``channels`` (indices), read from ``signal`` (a
    :class:`eegflow.fifread.FifWindowReader`) a stretch of at most
    :data:`WINDOW_BLOCK_BYTES` at a time, each window seen in the stretch where it
    can be (:func:`window_runs`): a 9 h recording's job holds one block."""
    per_block = max(1, int(WINDOW_BLOCK_BYTES // (len(signal.ch_names) * window * 8)))
    ptp = np.empty((len(starts), len(channels)))
    for block in range(0, len(starts), per_block):
        block_starts = starts[block : block + per_block]
        for first, last, windows in window_runs(signal, block_starts, window):
            for column, channel in enumerate(channels):
                ptp[block + first : block + last, column] = np.ptp(
                    windows[channel], axis=-1
                )
            del windows  # before the next stretch is read: one at a time
        # the file pages the block read: not kept to the end of the job
        signal.release_windows(block_starts, window)
    return ptp


def auto_ptp_threshold(ptp):
    """Per channel: median + 5 x 1.4826 x MAD of the windows' peak-to-peak values,
    and at least twice the median.

    A robust outlier rule over the recording's own windows (like a 5-sigma
    z-score, unmoved by the artefacts it looks for). The floor keeps a signal
    whose range hardly varies (MAD near 0, e.g. a calibration sine) from
    flagging windows for differences of a few samples: an artefact at least
    doubles a window's range.
    """
    median = np.median(ptp, axis=0)
    spread = 5 * 1.4826 * np.median(np.abs(ptp - median), axis=0)
    return median + np.maximum(spread, median)


def rejected_windows(signal, starts, window, settings, good):
    """Flag windows: peak-to-peak above a threshold or flat on a good channel, or
    overlapping an annotation whose description starts with "BAD" (MNE's rule).

    Parameters
    ----------
    settings : dict
        Config ``windows.reject``: ``ptp_uv`` (µV, "auto" or None), ``flat_uv``
        (µV or None) and ``bad_annotations`` (bool).
    good : list of int
        The channels judged (:func:`judged_channels`: bad channels marked in
        preprocessing and channels of other types are not).

    Returns
    -------
    reasons : list of str
        Per window, "" when kept, else its reasons joined by "; ", e.g.
        "amplitude above 100 µV: O1, Oz; annotation BAD_movement".
    """
    names = [signal.ch_names[index] for index in good]
    reasons = [[] for _ in starts]
    if (settings["ptp_uv"] is not None or settings["flat_uv"] is not None) and good:
        ptp = peak_to_peak(signal, starts, window, good) * 1e6  # µV
        if settings["ptp_uv"] == "auto":
            threshold = auto_ptp_threshold(ptp)
            label = "amplitude above the recording's robust threshold"
        elif settings["ptp_uv"] is not None:
            threshold = np.full(len(good), float(settings["ptp_uv"]))
            label = f"amplitude above {settings['ptp_uv']:g} µV"
        for index, row in enumerate(ptp):
            if settings["ptp_uv"] is not None and (row > threshold).any():
                channels = ", ".join(n for n, hit in zip(names, row > threshold) if hit)
                reasons[index].append(f"{label}: {channels}")
            if settings["flat_uv"] is not None and (row < settings["flat_uv"]).any():
                channels = ", ".join(
                    n for n, hit in zip(names, row < settings["flat_uv"]) if hit
                )
                reasons[index].append(
                    f"flat below {settings['flat_uv']:g} µV: {channels}"
                )
    if settings["bad_annotations"]:
        sfreq = signal.sfreq
        for onset, duration, description in zip(
            signal.annotations.onset,
            signal.annotations.duration,
            signal.annotations.description,
        ):
            if not description.lower().startswith("bad"):
                continue
            first = int(np.round(onset * sfreq)) - signal.first_samp
            last = first + max(int(np.round(duration * sfreq)), 1)
            for index in np.flatnonzero((starts < last) & (starts + window > first)):
                reasons[index].append(f"annotation {description}")
    return ["; ".join(dict.fromkeys(why)) for why in reasons]


def judged_channels(signal, marked_bad, settings, source, notes):
    """Indices of the channels whose amplitudes judge windows: the good ones (not
    in ``marked_bad``) of config ``windows.reject.channel_types``.

    An EOG, ECG or EMG channel is left out by default: its blinks and beats are
    no artefact of the EEG (and ICA may have removed them from the EEG). When
    amplitude criteria are set and no channel is left to judge, that is noted in
    ``notes`` (:func:`eegflow.fileio.note`), naming ``source``.
    """
    types = signal.ch_types
    judged = [
        index
        for index, name in enumerate(signal.ch_names)
        if name not in marked_bad and types[index] in settings["channel_types"]
    ]
    if not judged and (
        settings["ptp_uv"] is not None or settings["flat_uv"] is not None
    ):
        note(
            source,
            "config windows.reject.ptp_uv/flat_uv judge no channel: no good channel is "
            f"of windows.reject.channel_types {settings['channel_types']} (this "
            f"recording's types: {sorted(set(types))}); add its types to judge them",
            notes,
        )
    return judged


def scale_channelwise(windows, copy=True):
    """Z-score each channel of each window (braindecode's channel-wise scale).

    The standard deviation is NumPy's (``ddof=0``), its squares summed by ``vecdot``
    without a squared copy. A channel whose spread is at most
    :data:`RESOLVED_SPREAD_ULPS` float steps of its mean holds no variation the dtype
    resolves (in float32, a millionth of its offset) and becomes all zeros, not NaN:
    a constant channel whose mean rounds (one stuck at 0.1 V) would otherwise become
    its rounding residue divided by that residue's own spread, all +-1.

    Parameters
    ----------
    windows : ndarray, shape (..., samples)
        Float windows.
    copy : bool
        False: scale ``windows`` in place and return it (no second array of the
        windows' size: for windows just read, which nothing else holds), where they
        are a writeable float array; otherwise a scaled copy.
    """
    mean = windows.mean(axis=-1, keepdims=True)
    in_place = not copy and windows.flags.writeable and windows.dtype.kind == "f"
    centered = np.subtract(windows, mean, out=windows if in_place else None)
    std = np.sqrt(np.vecdot(centered, centered) / windows.shape[-1])
    resolution = RESOLVED_SPREAD_ULPS * np.finfo(centered.dtype).eps
    resolved = std > resolution * np.abs(mean[..., 0])
    centered /= np.where(resolved, std, np.inf)[..., None]  # unresolved: 0
    return centered


def make_windows(
    preprocessed_path,
    table_path,
    settings,
    recording,
    metadata,
    record_path=None,
    source=None,
    ica=None,
):
    """Write the window table of one recording.

    Parameters
    ----------
    preprocessed_path : path-like
        Preprocessed FIF from the preprocess stage (or the ICA-cleaned one): the
        signal the windows are read from (:func:`read_windows`).
    table_path : path-like
        Output: the ``.parquet`` window table.
    settings : dict
        Config ``windows``: ``window_s``, ``stride_s`` (None = window_s),
        ``drop_last``, ``scaling`` ("none" or "zscore") and ``annotations``
        (``mapping``, offsets, ``crop_wake_mins``, ``wake``, ``missing_label``;
        see :func:`annotation_windows` and :func:`check_label_counts`) and
        ``reject`` (see :func:`rejected_windows` and :func:`judged_channels`;
        ``action`` "flag" keeps every
        window with ``rejected`` and ``reject_reason`` columns, "drop" leaves
        rejected windows out).
    recording : str
        Recording id, stored in every row.
    metadata : dict
        Per-recording columns (e.g. ``target``) repeated in every row.
    record_path : path-like or None
        The preprocessing record (:func:`eegflow.preprocess.preprocess_recording`):
        window positions count from the source file's first sample, and bad
        channels it marked are left out of window rejection and listed in the
        table's metadata (their features become NaN). Without it positions
        count from the FIF's ``first_samp``.
    source : str or None
        The recording's own file, named in messages (default: the FIF).
    ica : dict or None
        Config ``ica`` when ICA removed components from the input, recorded in
        the table's provenance.
    """
    source = source or str(preprocessed_path)
    signal = fif_reader(preprocessed_path)
    sfreq = signal.sfreq
    record = {} if record_path is None else read_record(record_path)
    start_offset_s = record.get("start_offset_s", signal.first_samp / sfreq)
    marked_bad = marked_bad_channels(record)
    window, stride = window_length_samples(settings, sfreq)
    if window > signal.n_times:
        raise UserError(
            f"{source}: recording '{recording}' is "
            f"{signal.n_times / sfreq:.3f} s long after preprocessing, shorter than one "
            f"window (config windows.window_s={settings['window_s']}); lower "
            "windows.window_s or preprocess.crop.tmin, or remove this recording"
        )
    mapping = settings["annotations"]["mapping"]
    label_counts = None
    notes = []  # the table's warnings: labels that lost annotations
    if mapping:
        starts, descriptions, label_counts = annotation_windows(
            signal, settings, window, stride
        )
        check_label_counts(
            label_counts,
            settings,
            source,
            recording,
            signal.annotations.description,
            notes,
        )
        if not len(starts):
            found = sorted(set(signal.annotations.description))
            raise UserError(
                f"{source}: recording '{recording}' has no window inside an "
                f"annotation named in config windows.annotations.mapping "
                f"({sorted(mapping)}); its annotations are {found[:12] or 'none'} "
                "(pair an annotations file with config input.annotations, fix the "
                "mapping, or exclude the recording)"
            )
    else:
        starts = window_starts(signal.n_times, window, stride, settings["drop_last"])
        descriptions = None
    judged = judged_channels(signal, marked_bad, settings["reject"], source, notes)
    reasons = rejected_windows(signal, starts, window, settings["reject"], judged)
    rejected = np.array([bool(reason) for reason in reasons], dtype=bool)
    log.info(
        "%s: %d of %d windows rejected (%s; amplitudes judged on %s)",
        recording,
        rejected.sum(),
        len(starts),
        settings["reject"],
        [signal.ch_names[index] for index in judged],
    )
    if settings["reject"]["action"] == "drop" and rejected.any():
        kept = ~rejected
        starts, rejected = starts[kept], rejected[kept]
        reasons = [reason for reason, keep in zip(reasons, kept) if keep]
        if descriptions is not None:
            descriptions = descriptions[kept]
    start_s = start_offset_s + starts / sfreq  # from the source file's first sample
    columns = {  # built from buffers: pa.array would import pandas (eegflow.arrow)
        "recording": string_array([recording] * len(starts)),
        "window_index": numpy_array(np.arange(len(starts), dtype=np.int64)),
        "start_sample": numpy_array(np.round(start_s * sfreq).astype(np.int64)),
        "start_s": numpy_array(np.asarray(start_s, dtype=np.float64)),
        "fif_sample": numpy_array(np.asarray(starts, dtype=np.int64)),
    }
    columns["rejected"] = numpy_array(rejected)
    columns["reject_reason"] = string_array(reasons)
    for name, value in metadata.items():
        columns[name] = python_array([value] * len(starts))
    if mapping:  # the window's own label replaces a recording-level target
        columns["label"] = string_array(descriptions.tolist())
        columns["target"] = python_array([mapping[d] for d in descriptions])
    schema_metadata = {
        # the FIF the windows are read from, relative to the table's folder
        "signal": os.path.relpath(preprocessed_path, Path(table_path).parent),
        "sfreq": sfreq,
        "ch_names": signal.ch_names,
        "window_samples": window,
        "scaling": settings["scaling"],
        "bad_channels": record.get("bad_channels", {}),  # {name: reasons}
        "bad_channel_action": record.get("bad_channel_action"),
        "reject_channels": [signal.ch_names[index] for index in judged],
        "label_counts": label_counts,
        "warnings": notes,
        "provenance": with_stage(
            record.get("provenance"), windows=settings, **({"ica": ica} if ica else {})
        ),
    }
    table = pa.table(columns).replace_schema_metadata(
        {"eegflow": json.dumps(schema_metadata)}
    )
    with atomic_output(table_path) as tmp:
        pq.write_table(table, tmp)
    log.info("%s: %d windows of %d samples", recording, len(starts), window)


def integer_column(table, name):
    """Column ``name`` of ``table`` (integers without missing values) as read-only
    int64 NumPy values, taken from its Arrow buffers: pyarrow's ``to_numpy`` imports
    pandas, 0.3 s of a process that only reads windows."""
    column = table.column(name).cast(pa.int64())
    if column.null_count:
        raise ValueError(f"column {name} has missing values")
    parts = [
        np.frombuffer(chunk.buffers()[1], np.int64, len(chunk), chunk.offset * 8)
        for chunk in column.chunks
        if len(chunk)
    ]
    values = (
        parts[0] if len(parts) == 1 else np.concatenate([np.empty(0, np.int64), *parts])
    )
    values.flags.writeable = False  # (a single chunk's are the table's own memory)
    return values


def window_table_info(table):
    """The window table's metadata: signal (the FIF its windows are read from,
    relative to the table's folder), sfreq, ch_names, window_samples, scaling,
    bad_channels ({name: reasons}), bad_channel_action, reject_channels (the
    channels windows.reject's amplitudes judged), label_counts, warnings
    (what the windows stage noted, e.g. annotations lost to a label), provenance
    (:mod:`eegflow.provenance`). ``table`` is the table or its schema."""
    return json.loads(getattr(table, "schema", table).metadata[b"eegflow"])


def marked_bad_channels(info):
    """The bad channels kept as they were (action "mark"), whose features are NaN;
    ``info`` is a preprocessing record or a window table's metadata."""
    if info.get("bad_channel_action") != "mark":
        return []
    return list(info.get("bad_channels", {}))


class Windows:
    """A recording's windows, read from the FIF they were cut from when indexed.

    ``windows[i:j]`` (or an integer array of window indices) returns a float64
    array (windows, channels, samples), ``windows[i]`` one window, and further
    indices select within them (``windows[:, 0]``: the first channel of each);
    z-scored per window and channel where the table says ``scaling: zscore``.
    Each call cuts its windows out of the FIF's data buffers
    (:class:`eegflow.fifread.FifWindowReader`: the values of MNE's ``get_data``);
    ``shape`` and ``len`` are those of the whole array.

    Parameters
    ----------
    signal_path : path-like
        The FIF the windows were cut from.
    table : pyarrow.Table
        Its window table (:func:`make_windows`); ``info`` keeps its metadata
        (:func:`window_table_info`).
    """

    def __init__(self, signal_path, table):
        self.info = info = window_table_info(table)
        self.reader = reader = fif_reader(signal_path)
        self.starts = integer_column(table, "fif_sample")
        self.window = info["window_samples"]
        if (
            reader.ch_names != info["ch_names"]
            or reader.sfreq != info["sfreq"]
            or self.starts.max(initial=0) + self.window > reader.n_times
        ):
            raise UserError(
                f"{signal_path}: its channels, sampling rate or length differ from "
                "those its window table was made from; the table is stale: delete "
                "it and run again"
            )
        self.scaling = info["scaling"]
        self.shape = (len(self.starts), len(info["ch_names"]), self.window)

    def __len__(self):
        return self.shape[0]

    def release(self, first, last):
        """Drop windows ``first`` to ``last`` (indices), read, from this process's
        resident memory (:meth:`eegflow.fifread.FifWindowReader.release`): for a
        sweep over the recording, a batch at a time."""
        self.reader.release_windows(self.starts[first:last], self.window)

    def __getitem__(self, index):
        windows, within = (
            (index[0], index[1:]) if isinstance(index, tuple) else (index, ())
        )
        starts = self.starts[windows]
        data = self.reader.read_windows(np.atleast_1d(starts), self.window)
        if self.scaling == "zscore":
            data = scale_channelwise(data, copy=False)  # (read just now)
        return data[(slice(None), *within)] if np.ndim(starts) else data[0][within]


def window_runs(signal, starts, window):
    """The windows of ``window`` samples at ``starts`` (FIF samples) from ``signal``
    (a :class:`eegflow.fifread.FifWindowReader`), a run of consecutive ones at a time.

    Each run is one stretch of the file read at once (float64); a run ends where its
    stretch would grow beyond the length of all the windows asked for laid end to
    end, so no more is read at once than the windows hold (sparse windows are read
    one stretch each).

    Yields
    ------
    first, last : int
        The run's windows, ``starts[first:last]``.
    windows : ndarray, shape (channels, last - first, window)
        Their samples: a read-only view of the stretch where the run's starts are
        evenly spaced (fixed-length windows, overlapping or not), else a copy.
    """
    limit = window * len(starts)
    first = 0
    while first < len(starts):
        low, high, last = starts[first], starts[first] + window, first + 1
        while (
            last < len(starts)
            and starts[last] >= low
            and max(high, starts[last] + window) - low <= limit
        ):
            high = max(high, starts[last] + window)
            last += 1
        stretch = signal.read(int(low), int(high))
        yield first, last, windows_in(stretch, starts[first:last] - low, window)
        del stretch  # before the next one is read: one at a time
        first = last


def windows_in(stretch, offsets, window):
    """The windows of ``window`` samples at ``offsets`` of ``stretch`` (channels,
    samples): (channels, windows, window), a read-only view where the offsets are
    evenly spaced, else a copy. Every window must lie in the stretch (0 <= offset,
    offset + window <= its length), as :func:`window_runs` reads them."""
    steps = np.diff(offsets)
    if len(steps) and not (steps[0] > 0 and (steps == steps[0]).all()):
        return stretch[:, offsets[:, None] + np.arange(window)]
    step = int(steps[0]) if len(steps) else 1
    channel_bytes, sample_bytes = stretch.strides
    return np.lib.stride_tricks.as_strided(
        stretch[:, offsets[0] :],
        shape=(stretch.shape[0], len(offsets), window),
        strides=(channel_bytes, step * sample_bytes, sample_bytes),
        writeable=False,
    )


def read_windows(signal_path, table_path):
    """Open a recording's windows: (:class:`Windows`, window table, sfreq, ch_names).

    ``signal_path`` is the FIF the windows were cut from (the preprocessed one,
    or the ICA-cleaned one with config ``ica.enabled``), ``table_path`` its
    window table. ``windows[i:j]`` reads windows i to j as a NumPy array.
    """
    table = pq.ParquetFile(table_path).read()  # not read_table: no pyarrow.dataset
    windows = Windows(signal_path, table)
    return windows, table, windows.info["sfreq"], windows.info["ch_names"]
