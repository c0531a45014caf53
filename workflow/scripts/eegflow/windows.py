"""Cut a preprocessed recording into fixed-length windows.

Output per recording: an ``.npy`` array of shape (windows, channels, samples)
that :func:`numpy.load` memory-maps, and a parquet table with one row per
window (``recording``, ``window_index``, ``start_sample``, ``start_s`` and the
recording's metadata such as ``target``). The sampling rate and channel names
are stored in the parquet schema metadata (see :func:`read_windows`).
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
        ``drop_last``, ``scaling`` ("none" or "zscore").
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
