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

Readers are cached per process (:func:`fif_reader`) and never pickled: a
dataset handed to worker processes carries paths, and each worker maps the
files it reads itself.
"""

import bisect
import logging
import mmap
import os
import resource
from collections import OrderedDict
from pathlib import Path

import numpy as np

from . import UserError

log = logging.getLogger(__name__)

# FIF tag types of data buffers this reader maps (mne.io.constants.FIFF.FIFFT_SHORT,
# _INT, _FLOAT, _DOUBLE, _DAU_PACK16; as MNE's _fiff/tag.py); others (complex) are
# read through MNE.
BUFFER_DTYPES = {2: ">i2", 3: ">i4", 4: ">f4", 5: ">f8", 16: ">i2"}
TAG_HEADER_BYTES = 16  # kind, type, size, next: the buffer's data follow
# Files mapped at once per process: each map holds a file descriptor, so half of the
# process's limit on open files (at most 4,096); past it the oldest maps are closed.
MAX_OPEN_FILES = max(16, min(4096, resource.getrlimit(resource.RLIMIT_NOFILE)[0] // 2))


class FifWindowReader:
    """Windows (every channel, consecutive samples) of one FIF recording.

    Parameters
    ----------
    path : path-like
        The recording's FIF (its first part if split: MNE follows the parts).
    raw : mne.io.Raw or None
        ``path`` already opened by :func:`mne.io.read_raw_fif` without preloading
        (by default it is opened here).

    Attributes
    ----------
    ch_names : list of str
    sfreq : float
    n_times : int
        Samples of the recording; window positions count from its first sample
        (``raw.first_samp``), as ``raw.get_data(start, stop)``.
    fallback : str or None
        Why windows are read through MNE's ``get_data`` instead (pending
        projections or compensation, a compressed or complex-valued file), or None.
    """

    def __init__(self, path, raw=None):
        import mne

        self.path = str(path)
        if raw is None:
            raw = mne.io.read_raw_fif(self.path, preload=False, verbose="error")
        self.ch_names = list(raw.ch_names)
        self.sfreq = float(raw.info["sfreq"])
        self.n_times = int(raw.n_times)
        self.cals = np.asarray(raw._cals, dtype=np.float64).ravel()
        self.calibrated = bool((self.cals != 1).any())  # else a product changes nothing
        self.cal_columns = {
            np.dtype(dtype): self.cals[:, None].astype(dtype)
            for dtype in (np.float32, np.float64)
        }
        self.fallback = fallback_reason(raw)
        self.raw = raw if self.fallback else None
        if self.fallback:
            log.warning(
                "%s: windows read through MNE's get_data (slower): %s",
                self.path,
                self.fallback,
            )
            return
        # per buffer: first sample (from the recording's first), samples, file, byte
        # offset of its data, dtype (None: a skip, read as zeros as MNE does)
        self.files = [str(name) for name in raw._filenames]
        self.buffer_starts, self.buffer_stops, self.buffers = [], [], []
        offset = 0
        for index, extras in enumerate(raw._raw_extras):
            bounds = extras["bounds"] - raw._first_samps[index] + offset
            for ent, first, stop in zip(extras["ent"], bounds[:-1], bounds[1:]):
                self.buffer_starts.append(int(first))
                self.buffer_stops.append(int(stop))
                self.buffers.append(
                    (index, None, None)
                    if ent is None
                    else (index, ent.pos + TAG_HEADER_BYTES, BUFFER_DTYPES[ent.type])
                )
            offset += int(raw._raw_lengths[index])
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

    def read_windows(self, starts, window, dtype=np.float64):
        """The windows of ``window`` samples at ``starts``: (windows, channels, window)."""
        out = np.empty((len(starts), len(self.ch_names), window), dtype)
        for row, start in enumerate(starts):
            self.read(int(start), int(start) + window, out=out[row])
        return out


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
        oldest.maps, oldest.views = None, [None] * len(oldest.buffers)
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
