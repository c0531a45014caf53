"""Small file helpers shared by every stage: atomic writes, raw reading, records."""

import contextlib
import json
import logging
import os
import re
import warnings
from pathlib import Path

from . import UserError

log = logging.getLogger(__name__)


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path next to ``path``; rename it to ``path`` on success.

    A crash or kill while writing leaves at most a ``.tmp`` file behind, never
    a truncated file under the final name that could be taken as complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # keep the real suffixes (MNE checks "_raw.fif")
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# Values per channel-and-time buffer of a FIF file written here: MNE's default buffer of
# 1 s makes 32,400 buffers of a 9 h recording at 100 Hz, and writing and reading them
# one by one cost 1.7 s and 0.9 s; buffers of about 10^6 values took 0.1 s and 0.05 s.
# A quarter of that (1 MB as float32) writes as fast, reads windows as fast
# (benchmarks/windows_loading.py), and MNE's copies of a buffer as it writes it (float64,
# float32, bytes) add 9 MiB less to a preprocess job's peak memory (9 h, 3 channels).
FIF_BUFFER_VALUES = 250_000


def save_fif(raw, out_path, fmt="single"):
    """Write ``raw`` to the FIF file ``out_path`` atomically, in buffers of about
    :data:`FIF_BUFFER_VALUES` values (at least 1 s).

    Parameters
    ----------
    raw : mne.io.Raw
    out_path : path-like
        Name ending in ``_raw.fif``.
    fmt : str
        MNE's sample format: "single" (float32, the intermediates) or "double".
    """
    seconds = FIF_BUFFER_VALUES / (len(raw.ch_names) * raw.info["sfreq"])
    with atomic_output(out_path) as tmp:
        raw.save(tmp, fmt=fmt, buffer_size_sec=max(1.0, seconds), verbose="error")


def note(path, message, notes):
    """Log ``message`` as a warning about recording ``path`` and append it to
    ``notes`` (a record's ``warnings``, a QC table column): what a recording's
    settings could not do, or what MNE said about them, is never only in a log."""
    log.warning("%s: %s", path, message)
    notes.append(message)


@contextlib.contextmanager
def noted_warnings(path, subject, notes):
    """Catch the Python warnings of the calls inside; each becomes a :func:`note`
    ``<subject>: <message>`` (the subject names the setting, e.g.
    ``config preprocess.filter``).

    MNE calls inside should run at ``verbose="warning"``: MNE drops its warnings
    (e.g. a filter longer than the signal, "distortion is likely") at "error".
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for warning in caught:
        note(path, f"{subject}: {warning.message}", notes)


# MNE writes FIF text as Latin-1, each character beyond it as an XML character reference
# (write_string's errors="xmlcharrefreplace"), and reads it back as it stands
_CHARACTER_REFERENCE = re.compile(r"&#([0-9]+);")


def fif_text(text):
    """``text`` read from a FIF file as it was written: MNE stores each character beyond
    Latin-1 as an XML character reference (``–`` as ``&#8211;``) and reads it back as
    such. Only references to such characters are decoded, so text that holds ``&``
    or ``&amp;`` itself is kept."""

    def character(match):
        code = int(match.group(1))
        return chr(code) if 255 < code <= 0x10FFFF else match.group(0)

    return _CHARACTER_REFERENCE.sub(character, text)


def decode_fif_annotations(annotations, path):
    """Give ``annotations`` read from ``path`` their descriptions as written
    (:func:`fif_text`) if it is a FIF file, in place; return them."""
    if Path(path).name.lower().endswith((".fif", ".fif.gz")):
        import numpy as np

        annotations.description = np.array(
            [fif_text(text) for text in annotations.description], dtype=str
        )
    return annotations


def check_fif_keeps_annotations(raw, path):
    """Raise :class:`UserError` if a description of ``raw``'s annotations would not
    read back from a FIF file as it is: one holding a character reference
    (``&#8211;``), which :func:`fif_text` would decode."""
    for text in raw.annotations.description:
        if fif_text(text) != text:
            raise UserError(
                f"{path}: the annotation description {text!r} would not read back from "
                "the preprocessed FIF file as it is (MNE writes characters beyond "
                "Latin-1 as '&#<number>;', which are decoded on reading); rename that "
                "annotation in the source"
            )


def edf_record_count(path):
    """The number of data records an EDF or BDF file's header declares (bytes 236-244),
    or None for another file or a header that does not say (-1: not closed)."""
    if not Path(path).name.lower().endswith((".edf", ".bdf")):
        return None
    with open(path, "rb") as handle:
        field = handle.read(244)[236:]
    try:
        count = int(field.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return count if count >= 0 else None


def _times_without_numba(mne):
    """With ``MNE_USE_NUMBA=false`` (:func:`eegflow.jobs.job_logging` sets it for jobs),
    have MNE compute ``raw.times`` with NumPy without importing numba first.

    MNE 1.13 imports numba on the first ``raw.times`` (``raw.save`` asks for it)
    whatever the setting, and then computes with NumPy all the same: 0.29 s of a
    preprocess job's CPU spent importing what it does not use. Versions without that
    lazy hook are left as they are.
    """
    if os.environ.get("MNE_USE_NUMBA", "true").lower() == "true":
        return
    import mne.utils.numerics as numerics

    if getattr(numerics, "_arange_div_impl", False) is None:  # not yet chosen
        numerics._arange_div_impl = getattr(numerics, "_arange_div_fallback", None)


def read_raw_lazily(path, bids_root=None, notes=None):
    """Open a recording with :func:`mne.io.read_raw` without loading its data.

    With ``bids_root``, the file is read with :func:`mne_bids.read_raw_bids`,
    which adds the sidecars' channel types, bad channels and events.tsv
    annotations. Any reader failure becomes a :class:`UserError` naming the file;
    the reader's warnings (e.g. renamed duplicate channels, annotations outside
    the data) are logged and appended to ``notes`` if given (see :func:`note`).
    """
    import mne

    _times_without_numba(mne)

    def read(path):
        if bids_root is None:
            return mne.io.read_raw(path, preload=False, verbose="warning")
        import mne_bids

        bids_path = mne_bids.get_bids_path_from_fname(path)
        bids_path.update(root=bids_root)
        return mne_bids.read_raw_bids(bids_path, verbose="warning")

    path = Path(path)
    if not path.exists():
        raise UserError(
            f"{path}: file not found (it was listed when the workflow started; "
            "was it moved or deleted?)"
        )
    if path.is_file() and path.stat().st_size == 0:
        raise UserError(f"{path}: file is empty (0 bytes); re-export or remove it")
    if edf_record_count(path) == 0:
        raise UserError(
            f"{path}: the EDF/BDF header says the file holds 0 data records: no samples "
            "(an export that wrote only the header?); re-export it, or leave it out "
            "with config input.exclude"
        )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            raw = read(path)
    except Exception as error:  # readers raise many types; all mean "unreadable"
        raise UserError(
            f"{path}: MNE could not read this recording "
            f"({type(error).__name__}: {error}). Check that the file is complete "
            "and in the format its extension says, or remove it from the input."
        ) from error
    decode_fif_annotations(raw.annotations, path)
    if raw.n_times < 2:
        raise UserError(
            f"{path}: the recording holds only {raw.n_times} sample(s), no signal to "
            "preprocess; re-export it, or leave it out with config input.exclude"
        )
    for warning in caught:
        message = str(warning.message)
        if "does not match the file size" in message:
            raise UserError(
                f"{path}: the header's length does not match the file size: the file "
                f"is truncated or was not closed properly (MNE: {message}). "
                "Re-export it, or leave it out with config input.exclude."
            )
        note(path, f"reading it: {message}", [] if notes is None else notes)
    return raw


def load_data(raw, path):
    """Load a lazily opened recording's samples; a reader failure names the file.

    A file whose header opens but whose data are damaged (e.g. a truncated GDF)
    fails here, inside the reader, with exceptions of many types.
    """
    try:
        raw.load_data(verbose="warning")
    except Exception as error:  # readers raise many types; all mean "unreadable data"
        raise UserError(
            f"{path}: MNE opened this recording but could not read its samples "
            f"({type(error).__name__}: {error}); the file is damaged or truncated: "
            "re-export it, or leave it out with config input.exclude"
        ) from error


def write_record(path, record):
    """Write a recording's preprocessing record (a JSON object) atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(record, indent=1))


def read_record(path):
    """The preprocessing record :func:`eegflow.preprocess.preprocess_recording` wrote, as a dict."""
    with open(path) as handle:
        return json.load(handle)


def window_table_shape(path):
    """(windows, channels, samples) of the windows a window table
    (:func:`eegflow.windows.make_windows`) lists, read from its footer only."""
    with open(path, "rb") as handle:  # a missing table: Snakemake's FileNotFoundError
        # imported once a table exists: planning a run (Snakemake's process) never does
        import pyarrow.parquet as pq

        footer = pq.read_metadata(handle)
    info = json.loads(footer.metadata[b"eegflow"])
    return footer.num_rows, len(info["ch_names"]), info["window_samples"]
