"""Cut a preprocessed recording into windows: fixed-length over the whole
recording, or inside annotations and labelled (config ``windows.annotations``).

Output per recording: an ``.npy`` array of shape (windows, channels, samples)
that :func:`numpy.load` memory-maps, and a parquet table with one row per
window (``recording``, ``window_index``, ``start_sample``, ``start_s``, the
recording's metadata such as ``target``, and for annotation windows ``label``
(the annotation's description) and ``target`` (its mapped value)). The
sampling rate and channel names are stored in the parquet schema metadata (see
:func:`read_windows`).
"""

import json
import logging

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import UserError
from .fileio import atomic_output, read_raw_lazily

log = logging.getLogger(__name__)

WINDOWS_PER_BLOCK = 256


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


def annotation_windows(raw, settings, window, stride):
    """Windows inside the annotations named in ``settings["annotations"]["mapping"]``.

    An annotation of at least one window's duration holds windows every
    ``stride`` samples while they fit inside it; a zero-duration annotation (an
    event) gives one window starting at its onset; a shorter one gives none.
    Windows reaching outside the data are dropped. With ``crop_wake_mins``,
    only windows lying from that long before the start of the first to that
    long after the end of the last non-wake annotation are kept (braindecode's
    ``crop_wake_mins``, which measures from the last one's onset instead).
    Returns (starts, descriptions), sorted by start.
    """
    labels = settings["annotations"]
    sfreq = raw.info["sfreq"]
    annotations = raw.annotations
    onsets = np.round(annotations.onset * sfreq).astype(np.int64) - raw.first_samp
    durations = np.round(annotations.duration * sfreq).astype(np.int64)
    starts, descriptions = [], []
    for onset, duration, description in zip(onsets, durations, annotations.description):
        if description not in labels["mapping"]:
            continue
        if duration == 0:
            inside = np.array([onset])
        else:
            inside = onset + np.arange(0, duration - window + 1, stride)
        starts.extend(inside)
        descriptions.extend([description] * len(inside))
    starts, descriptions = np.array(starts, dtype=np.int64), np.array(descriptions, dtype=object)
    fits = (starts >= 0) & (starts + window <= raw.n_times)
    if (~fits).any():
        log.info("%d annotation windows reach outside the data: dropped", (~fits).sum())
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
            first, last = min(s for s, _ in sleep) - margin, max(e for _, e in sleep) + margin
            kept = (starts >= first) & (starts + window <= last)
            log.info("crop_wake_mins: %d of %d windows kept", kept.sum(), len(kept))
            starts, descriptions = starts[kept], descriptions[kept]
    order = np.argsort(starts, kind="stable")
    return starts[order], descriptions[order]


def scale_channelwise(windows):
    """Z-score each channel of each window (braindecode's channel-wise scale).

    A constant channel (std 0) becomes all zeros instead of NaN.
    """
    mean = windows.mean(axis=-1, keepdims=True)
    std = windows.std(axis=-1, keepdims=True)
    return (windows - mean) / np.where(std > 0, std, 1.0)


def make_windows(
    preprocessed_path, windows_path, metadata_path, settings, recording, metadata
):
    """Write the windows array and the window table of one recording.

    Parameters
    ----------
    preprocessed_path : path-like
        Preprocessed FIF from the preprocess stage.
    windows_path, metadata_path : path-like
        Outputs: ``.npy`` windows array and ``.parquet`` window table.
    settings : dict
        Config ``windows``: ``window_s``, ``stride_s`` (None = window_s),
        ``drop_last``, ``scaling`` ("none" or "zscore") and ``annotations``
        (``mapping``, ``crop_wake_mins``, ``wake``; see :func:`annotation_windows`).
    recording : str
        Recording id, stored in every row.
    metadata : dict
        Per-recording columns (e.g. ``target``) repeated in every row.
    """
    raw = read_raw_lazily(preprocessed_path)
    sfreq = raw.info["sfreq"]
    window, stride = window_length_samples(settings, sfreq)
    if window > raw.n_times:
        raise UserError(
            f"{preprocessed_path}: recording '{recording}' is "
            f"{raw.n_times / sfreq:.3f} s long after cropping, shorter than one "
            f"window (config windows.window_s={settings['window_s']}); lower "
            "windows.window_s or preprocess.crop.tmin, or remove this recording"
        )
    mapping = settings["annotations"]["mapping"]
    if mapping:
        starts, descriptions = annotation_windows(raw, settings, window, stride)
        if not len(starts):
            found = sorted(set(raw.annotations.description))
            raise UserError(
                f"{preprocessed_path}: recording '{recording}' has no window inside an "
                f"annotation named in config windows.annotations.mapping "
                f"({sorted(mapping)}); its annotations are {found[:12] or 'none'} "
                "(pair an annotations file with config input.annotations, fix the "
                "mapping, or exclude the recording)"
            )
    else:
        starts = window_starts(raw.n_times, window, stride, settings["drop_last"])
    data = raw.get_data()
    views = np.lib.stride_tricks.sliding_window_view(data, window, axis=1)
    with atomic_output(windows_path) as tmp:
        out = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.float64, shape=(len(starts), len(data), window)
        )
        # fill in blocks so that at most one block is copied beside the data
        for block in range(0, len(starts), WINDOWS_PER_BLOCK):
            chunk = views[:, starts[block : block + WINDOWS_PER_BLOCK]]
            chunk = chunk.transpose(1, 0, 2)  # (windows, channels, samples)
            if settings["scaling"] == "zscore":
                chunk = scale_channelwise(chunk)
            out[block : block + len(chunk)] = chunk
        out.flush()
        del out

    first_samp = raw.first_samp  # samples before the crop, kept by MNE
    columns = {
        "recording": pa.array([recording] * len(starts), pa.string()),
        "window_index": pa.array(np.arange(len(starts)), pa.int64()),
        "start_sample": pa.array(first_samp + starts, pa.int64()),
        "start_s": pa.array((first_samp + starts) / sfreq, pa.float64()),
    }
    for name, value in metadata.items():
        columns[name] = pa.array([value] * len(starts))
    if mapping:  # the window's own label replaces a recording-level target
        columns["label"] = pa.array(descriptions.tolist(), pa.string())
        columns["target"] = pa.array([mapping[d] for d in descriptions])
    table = pa.table(columns).replace_schema_metadata(
        {"eegflow": json.dumps({"sfreq": sfreq, "ch_names": raw.ch_names})}
    )
    with atomic_output(metadata_path) as tmp:
        pq.write_table(table, tmp)
    log.info("%s: %d windows of %d samples", recording, len(starts), window)


def read_windows(windows_path, metadata_path):
    """Open a recording's windows: (memory-mapped array, table, sfreq, ch_names)."""
    table = pq.read_table(metadata_path)
    info = json.loads(table.schema.metadata[b"eegflow"])
    windows = np.load(windows_path, mmap_mode="r")
    return windows, table, info["sfreq"], info["ch_names"]
