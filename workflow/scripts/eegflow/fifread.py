"""Read windows of a FIF recording straight from its data buffers.

A FIF file stores its samples as a sequence of data buffers (tags), each a
contiguous block of samples x channels in the file's byte order (big-endian).
MNE's ``get_data`` re-reads and converts whole buffers on every call; for one
window at a time that costs far more than the copy itself (about 1,200 windows
of 19 x 1,000 samples per second). :class:`FifWindowReader` asks MNE once where
each buffer lies (:func:`mne.io.read_raw_fif` without preloading, whose
``_raw_extras`` list the buffers and ``_cals`` the calibration), maps the files
into memory and cuts each window out of the buffer(s) it spans, times the
calibration: the numbers ``raw.get_data`` returns, without MNE per window.

The job that writes a FIF also writes its layout (:func:`write_layout`): where each
buffer lies, the channels, their types and calibrations, the annotations, as a small
JSON file beside it (``<name>.layout.json``). A reader opened from it needs no MNE at
all (importing MNE's readers costs 0.3-0.4 s of a process: more than a windows or
features job's work); without a layout, or with one that no longer matches the file's
size, MNE opens the file as before.

Readers are cached per process (:func:`fif_reader`) and never pickled: a
dataset handed to worker processes carries paths, and each worker maps the
files it reads itself.
"""

import bisect
import json
import logging
import mmap
import os
import resource
from collections import OrderedDict
from pathlib import Path

import numpy as np

from . import UserError
from .fileio import atomic_output

log = logging.getLogger(__name__)

# FIF tag types of data buffers this reader maps (mne.io.constants.FIFF.FIFFT_SHORT,
# _INT, _FLOAT, _DOUBLE, _DAU_PACK16; as MNE's _fiff/tag.py); others (complex) are
# read through MNE.
BUFFER_DTYPES = {2: ">i2", 3: ">i4", 4: ">f4", 5: ">f8", 16: ">i2"}
TAG_HEADER_BYTES = 16  # kind, type, size, next: the buffer's data follow
# Files mapped at once per process: each map holds a file descriptor, so half of the
# process's limit on open files (at most 4,096); past it the oldest maps are closed.
MAX_OPEN_FILES = max(16, min(4096, resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 2))
# madvise's advice to drop mapped pages from the process (FifWindowReader.release)
DONT_NEED = getattr(mmap, "MADV_DONTNEED", None)


class FifWindowReader:
    """Windows (every channel, consecutive samples) of one FIF recording.

    Parameters
    ----------
    path : path-like
        The recording's FIF (its first part if split: MNE follows the parts).
    raw : mne.io.Raw or None
        ``path`` already opened by :func:`mne.io.read_raw_fif` without preloading.
        By default the layout beside the file (:func:`write_layout`) is read when it
        matches the file, else the file is opened with MNE.

    Attributes
    ----------
    ch_names : list of str
    ch_types : list of str
        MNE's channel types (``raw.get_channel_types()``).
    sfreq : float
    n_times : int
        Samples of the recording; window positions count from its first sample
        (``raw.first_samp``), as ``raw.get_data(start, stop)``.
    first_samp : int
    annotations : Annotations
        Onsets (s, as ``raw.annotations.onset``), durations and descriptions.
    fallback : str or None
        Why windows are read through MNE's ``get_data`` instead (pending
        projections or compensation, a compressed or complex-valued file), or None.
    """

    def __init__(self, path, raw=None):
        self.path = str(path)
        layout = read_layout(self.path) if raw is None else None
        if layout is None:
            raw = raw if raw is not None else _open_with_mne(self.path)
            layout = file_layout(raw)
        self.ch_names = layout["ch_names"]
        self.ch_types = layout["ch_types"]
        self.sfreq = float(layout["sfreq"])
        self.n_times = int(layout["n_times"])
        self.first_samp = int(layout["first_samp"])
        self.annotations = Annotations(**layout["annotations"])
        self.cals = np.asarray(layout["cals"], dtype=np.float64)
        self.calibrated = bool((self.cals != 1).any())  # else a product changes nothing
        self.cal_columns = {
            np.dtype(dtype): self.cals[:, None].astype(dtype)
            for dtype in (np.float32, np.float64)
        }
        self.fallback = layout["fallback"]
        self.raw = raw if self.fallback else None
        if self.fallback:
            log.warning(
                "%s: windows read through MNE's get_data (slower): %s",
                self.path,
                self.fallback,
            )
            return
        folder = Path(self.path).parent
        self.files = [str(folder / entry["name"]) for entry in layout["files"]]
        # per buffer: first sample (from the recording's first), samples, file, byte
        # offset of its data, dtype (None: a skip, read as zeros as MNE does)
        self.buffer_starts = [first for _, _, _, first, _ in layout["buffers"]]
        self.buffer_stops = [stop for *_, stop in layout["buffers"]]
        self.buffers = [
            (part, pos, dtype) for part, pos, dtype, *_ in layout["buffers"]
        ]
        self.maps = None  # the files mapped (map_files), when first read
        self.views = [None] * len(self.buffers)  # lazily: arrays over the maps

    def __getstate__(self):
        raise TypeError(
            "a FifWindowReader holds file maps and is not pickled: pickle the path "
            "and open it with eegflow.fifread.fif_reader in the process that reads"
        )

    def buffer(self, index):
        """Buffer ``index`` as a (samples, channels) array in the file's byte order."""
        view = self.views[index]
        if view is None:
            part, offset, dtype = self.buffers[index]
            shape = (
                self.buffer_stops[index] - self.buffer_starts[index],
                len(self.ch_names),
            )
            if dtype is None:
                view = np.zeros(shape, np.float32)
            else:
                if self.maps is None:
                    self.maps = map_files(self)
                mapped = self.maps[part]
                if offset + np.dtype(dtype).itemsize * shape[0] * shape[1] > len(
                    mapped
                ):
                    raise UserError(
                        f"{self.files[part]}: shorter than its header says (truncated "
                        "or still being written); remake it (run snakemake again)"
                    )
                view = np.ndarray(shape, dtype, buffer=mapped, offset=offset)
            self.views[index] = view
        return view

    def read(self, start, stop, out=None, dtype=np.float64):
        """Samples ``start`` to ``stop`` of every channel: (channels, stop - start),
        calibrated as ``raw.get_data(start=start, stop=stop)``.

        With ``dtype`` float64 the values are those of ``get_data`` to the bit
        (the stored value times the calibration, in float64); with float32 the
        product is taken in float32 (within a rounding or two of it). ``out``: an
        array of that shape and dtype (float32 or float64) to fill.
        """
        if not 0 <= start < stop <= self.n_times:
            raise IndexError(
                f"{self.path}: samples {start} to {stop} lie outside its "
                f"{self.n_times} samples"
            )
        if out is None:
            out = np.empty((len(self.ch_names), stop - start), dtype)
        if self.fallback:
            if self.raw is None:
                self.raw = _open_with_mne(self.path)
            out[:] = self.raw.get_data(start=start, stop=stop)
            return out
        index = bisect.bisect_right(self.buffer_starts, start) - 1
        done = start
        while done < stop:
            first = self.buffer_starts[index]
            until = min(stop, self.buffer_stops[index])
            block = self.buffer(index)[done - first : until - first]
            # cast and transpose in one pass, then calibrate in place: in float64 the
            # products MNE's get_data computes (the stored value times the cal)
            out[:, done - start : until - start] = block.T
            done, index = until, index + 1
        if self.calibrated:
            out *= self.cal_columns[out.dtype]
        return out

    def release(self, start, stop):
        """Drop samples ``start`` to ``stop`` from this process's resident memory.

        The pages of the file read for them stay in the operating system's cache
        (read again from there if asked for). For a sweep over a recording (judging
        its windows, computing their features): the mapped pages it read would
        otherwise all stay resident in the process, a 9 h recording's 39 MB FIF in a
        windows job. Where the system cannot (no ``madvise``), nothing is dropped.
        """
        if self.fallback or self.maps is None or DONT_NEED is None:
            return  # (read through MNE, or nothing mapped yet)
        index = max(bisect.bisect_right(self.buffer_starts, start) - 1, 0)
        while index < len(self.buffers) and self.buffer_starts[index] < stop:
            part, offset, dtype = self.buffers[index]
            if dtype is not None:
                first = offset - offset % mmap.PAGESIZE  # madvise starts on a page
                size = np.dtype(dtype).itemsize * len(self.ch_names)
                size *= self.buffer_stops[index] - self.buffer_starts[index]
                self.maps[part].madvise(DONT_NEED, first, offset + size - first)
            index += 1

    def release_windows(self, starts, window):
        """:meth:`release` of the windows of ``window`` samples at ``starts`` (in any
        order): the samples from the first start to the end of the last window."""
        if len(starts):
            self.release(int(np.min(starts)), int(np.max(starts)) + window)

    def read_windows(self, starts, window, dtype=np.float64):
        """The windows of ``window`` samples at ``starts``: (windows, channels, window)."""
        out = np.empty((len(starts), len(self.ch_names), window), dtype)
        for row, start in enumerate(starts):
            self.read(int(start), int(start) + window, out=out[row])
        return out


class Annotations:
    """A recording's annotations as MNE reads them from its FIF: ``onset`` (s,
    counting the file's ``first_samp``), ``duration`` (s) and ``description``
    (arrays of equal length)."""

    def __init__(self, onset, duration, description):
        self.onset = np.asarray(onset, dtype=np.float64)
        self.duration = np.asarray(duration, dtype=np.float64)
        # Python strings, as MNE's own (decoded) descriptions print in messages
        self.description = np.array([str(text) for text in description], dtype=object)

    def __len__(self):
        return len(self.onset)


def _open_with_mne(path):
    """``path`` opened lazily by MNE (:func:`eegflow.fileio.read_raw_lazily`:
    annotations decoded as read everywhere in the workflow)."""
    from .fileio import read_raw_lazily

    return read_raw_lazily(path)


def layout_path(fif_path):
    """Where the layout of ``fif_path`` lies: ``x_raw.fif`` -> ``x_raw.layout.json``."""
    fif_path = Path(fif_path)
    return fif_path.with_name(fif_path.name.removesuffix(".fif") + ".layout.json")


def file_layout(raw):
    """What a reader needs of ``raw`` (a FIF opened lazily by MNE), as JSON values:
    its files (names relative to the first one's folder, sizes), channels, types,
    calibrations, sampling rate, samples, first sample, annotations, why it must be
    read through MNE (``fallback``) and where each data buffer lies."""
    fallback = fallback_reason(raw)
    buffers = []
    offset = 0
    for index, extras in enumerate(raw._raw_extras):
        bounds = extras["bounds"] - raw._first_samps[index] + offset
        for ent, first, stop in zip(extras["ent"], bounds[:-1], bounds[1:]):
            stored = ent is not None and not fallback
            buffers.append(
                [
                    index,
                    ent.pos + TAG_HEADER_BYTES if stored else None,
                    BUFFER_DTYPES[ent.type] if stored else None,
                    int(first),
                    int(stop),
                ]
            )
        offset += int(raw._raw_lengths[index])
    folder = Path(raw._filenames[0]).parent
    return {
        "files": [
            {"name": os.path.relpath(name, folder), "size": os.path.getsize(name)}
            for name in raw._filenames
        ],
        "ch_names": list(raw.ch_names),
        "ch_types": raw.get_channel_types(),
        "cals": np.asarray(raw._cals, dtype=np.float64).ravel().tolist(),
        "sfreq": float(raw.info["sfreq"]),
        "n_times": int(raw.n_times),
        "first_samp": int(raw.first_samp),
        "annotations": {
            "onset": raw.annotations.onset.tolist(),
            "duration": raw.annotations.duration.tolist(),
            "description": list(raw.annotations.description),
        },
        "fallback": fallback,
        "buffers": buffers,
    }


def write_layout(fif_path):
    """Write the layout of the FIF ``fif_path`` beside it (:func:`layout_path`),
    from MNE's own reading of the file, atomically; returns the layout's path.

    The job that writes a FIF calls this, already having MNE loaded; readers in
    later jobs (windows, features) and in training processes then open the file
    without importing MNE.
    """
    path = layout_path(fif_path)
    layout = file_layout(_open_with_mne(fif_path))
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(layout))
    return path


def read_layout(fif_path):
    """The layout written beside ``fif_path`` (:func:`write_layout`), or None when
    there is none or its files' sizes are no longer those of the files (a file
    replaced since: MNE reads it instead)."""
    path = layout_path(fif_path)
    try:
        layout = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    folder = Path(fif_path).parent
    for entry in layout["files"]:
        try:
            size = os.path.getsize(folder / entry["name"])
        except FileNotFoundError:
            size = None
        if size != entry["size"]:
            log.info("%s: does not match %s (ignored)", path, entry["name"])
            return None
    return layout


def fallback_reason(raw):
    """Why the buffers of ``raw`` (read lazily) cannot be cut as stored, or None."""
    if raw._projector is not None:
        return "projections are pending (applied while reading)"
    if raw._comp is not None:
        return "a compensation grade change is pending (applied while reading)"
    if any(str(name).endswith(".gz") for name in raw._filenames):
        return "the file is compressed (.gz)"
    types = {
        ent.type
        for extras in raw._raw_extras
        for ent in extras["ent"]
        if ent is not None
    }
    unknown = types - BUFFER_DTYPES.keys()
    if unknown:
        return f"data buffers of FIF type {sorted(unknown)} (complex values)"
    return None


_mapped = OrderedDict()  # readers with files mapped, least recently mapped first
_readers = {}  # (path, size, modification time) -> FifWindowReader


def close_readers():
    """Forget every reader of this process and unmap its files (their pages stay in
    the operating system's cache, no longer in this process's resident memory).

    For a process that serves independent jobs (a warm worker, :mod:`eegflow.workers`):
    a job's maps end with it, not with the process (else a worker's resident memory
    grows by each recording's FIF that its jobs read).
    """
    for reader in _mapped:
        _unmap(reader)
    _mapped.clear()
    _readers.clear()


def _unmap(reader):
    """Drop the reader's maps and the arrays over them (a map closes once no array
    over it is left); the reader maps its files again when next read."""
    reader.maps, reader.views = None, [None] * len(reader.buffers)


def map_files(reader):
    """Read-only memory maps of the reader's files, kept per process for the
    readers that mapped last (at most about :data:`MAX_OPEN_FILES` files; an older
    reader's maps close once the arrays over them are gone)."""
    maps = []
    for name in reader.files:
        with open(name, "rb") as handle:
            maps.append(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))
    while _mapped and sum(len(r.files) for r in _mapped) + len(maps) > MAX_OPEN_FILES:
        oldest, _ = _mapped.popitem(last=False)
        _unmap(oldest)
    _mapped[reader] = None
    return maps


def fif_reader(path):
    """The :class:`FifWindowReader` of ``path``, opened once per process (again if
    the file was replaced: a different size or modification time)."""
    status = os.stat(path)
    key = (str(Path(path)), status.st_size, status.st_mtime_ns)
    reader = _readers.get(key)
    if reader is None:
        reader = _readers[key] = FifWindowReader(path)
    return reader
