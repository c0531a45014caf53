"""A finished run's windows as a training data set (PyTorch-style, map-style).

:class:`WindowsDataset` lists exactly the recordings of the run's combined table
(``results/features.parquet``: its provenance names them), checks that each one's
window table was made with the settings that table records, and reads each
window's samples from the FIF it was cut from (the preprocessed recording, or
the ICA-cleaned one) with :class:`eegflow.fifread.FifWindowReader`. No torch
import: ``ds[i]`` returns NumPy arrays, which PyTorch's ``DataLoader`` turns
into tensors.
"""

import json
import logging
import os
from pathlib import Path

import numpy as np

from . import UserError
from .combine import first_difference, shared_settings

log = logging.getLogger(__name__)

# Config sections added after the windows stage: the combined table records them,
# a window table cannot.
LATER_STAGES = ("features", "combine")
# Metadata columns that are positions in a file, not descriptions of a window.
POSITION_COLUMNS = ("fif_sample",)


def read_schema_info(path):
    """The ``eegflow`` metadata of the parquet table at ``path`` (its footer only)."""
    import pyarrow.parquet as pq

    metadata = pq.read_schema(path).metadata or {}
    if b"eegflow" not in metadata:
        raise UserError(
            f"{path}: not a table eegflow wrote (no eegflow metadata); point "
            "results= at the results folder of a finished run"
        )
    return json.loads(metadata[b"eegflow"])


def window_signal_path(table_path, info, recording):
    """The FIF the windows of a window table are read from.

    The table's metadata names it (``signal``, relative to the table's folder);
    tables written before it did are read from the ICA-cleaned recording
    (``<results>/ica/<id>_raw.fif``) when their provenance records config ``ica``
    (the windows stage records it only when ICA removed components), else from
    the preprocessed one (``<results>/preprocessed/<id>_raw.fif``).
    """
    folder = Path(table_path).parent
    if "signal" in info:
        return folder / info["signal"]
    stage = "ica" if "ica" in info.get("provenance", {}).get("config", {}) else None
    return folder.parent / (stage or "preprocessed") / f"{recording}_raw.fif"


def check_window_table(table_path, info, combined_path, combined_config):
    """Refuse a window table made with other settings than the combined table
    records (config sections up to the windows stage, ``ica`` included)."""
    made = shared_settings(info)
    expected = {
        section: settings
        for section, settings in combined_config.items()
        if section not in LATER_STAGES
    }
    difference = first_difference(made, expected)
    if difference is not None:
        key, value, wanted = difference
        raise UserError(
            f"{table_path} was made with other settings than {combined_path} "
            f"records (config {key}: {json.dumps(value)} against "
            f"{json.dumps(wanted)}): the results are stale or mixed; run snakemake "
            "again to bring them up to date"
        )


def run_catalogue(results):
    """The recordings of a finished run and their windows.

    Returns
    -------
    recordings : list of dict
        Per recording of the combined table, in its order: ``recording`` (id),
        ``table`` and ``signal`` (paths), ``info`` (the window table's metadata).
    tables : list of pyarrow.Table
        Their window tables.
    """
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    results = Path(results)
    combined_path = results / "features.parquet"
    if not combined_path.is_file():
        raise UserError(
            f"{combined_path}: not found: results={results} holds no finished run "
            "(run snakemake there first, or point results= at the run's results folder)"
        )
    provenance = read_schema_info(combined_path).get("provenance", {})
    ids = list(provenance.get("recordings") or {})
    if not ids:
        raise UserError(f"{combined_path}: its metadata lists no recordings")
    counts = pc.value_counts(
        pq.read_table(
            combined_path, columns=["recording"], read_dictionary=["recording"]
        ).column("recording")
    ).to_pylist()
    rows = {entry["values"]: entry["counts"] for entry in counts}
    missing = [
        str(results / "windows" / f"{rid}.parquet")
        for rid in ids
        if not (results / "windows" / f"{rid}.parquet").is_file()
    ]
    if missing:
        raise UserError(
            f"{len(missing)} of the {len(ids)} window tables of {combined_path} are "
            f"missing ({', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}); "
            "run snakemake again to remake them"
        )
    recordings, tables = [], []
    for rid in ids:
        table_path = results / "windows" / f"{rid}.parquet"
        table = pq.read_table(table_path)
        info = json.loads(table.schema.metadata[b"eegflow"])
        check_window_table(
            table_path, info, combined_path, provenance.get("config", {})
        )
        if table.num_rows != rows.get(rid, 0):
            raise UserError(
                f"{table_path} lists {table.num_rows} windows where {combined_path} "
                f"has {rows.get(rid, 0)} rows of recording '{rid}': the results are "
                "stale; run snakemake again to bring them up to date"
            )
        signal = window_signal_path(table_path, info, rid)
        if not signal.is_file():
            raise UserError(
                f"{signal}: not found, the signal of window table {table_path}; run "
                "snakemake again to remake it"
            )
        recordings.append(
            {"recording": rid, "table": table_path, "signal": signal, "info": info}
        )
        tables.append(compact(table))
    check_same_layout(recordings)
    return recordings, tables


def check_same_layout(recordings):
    """Refuse recordings whose windows differ in channels, rate, length or scaling:
    their windows could not be stacked into one batch."""
    first = recordings[0]
    for entry in recordings[1:]:
        for key in ("ch_names", "sfreq", "window_samples", "scaling"):
            if entry["info"][key] != first["info"][key]:
                raise UserError(
                    f"{entry['table']} and {first['table']} differ in {key} "
                    f"({entry['info'][key]} against {first['info'][key]}): windows of "
                    "one data set must stack; choose common channels with config "
                    "preprocess.picks"
                )


def compact(table):
    """``table`` with its text columns dictionary-encoded (a recording's rows repeat
    its id and metadata) and ``window_index`` as int32: a run's window tables in
    memory at once stay small."""
    import pyarrow as pa

    for index, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            encoded = table.column(index).dictionary_encode()
            table = table.set_column(index, field.name, encoded)
    index = table.schema.get_field_index("window_index")
    return table.set_column(index, "window_index", table.column(index).cast(pa.int32()))


def windows_metadata(tables):
    """One pandas DataFrame of the window tables' rows, compact: text columns as
    categoricals, counts as int32; without the positions in the FIF."""
    import pyarrow as pa

    table = pa.concat_tables(tables, promote_options="permissive")
    table = table.drop_columns([c for c in POSITION_COLUMNS if c in table.column_names])
    return table.to_pandas(strings_to_categorical=True)


def window_targets(metadata):
    """Each window's target: int64 for integer targets every window has, float32
    (NaN where none) for other numbers, object for text (NaN where none)."""
    if "target" not in metadata:
        return np.full(len(metadata), np.nan, np.float32)
    target = metadata["target"]
    if target.dtype.kind in "iu":
        return target.to_numpy(np.int64)
    if target.dtype.kind in "fb":
        return target.to_numpy(np.float32)
    return target.astype(object).where(target.notna(), np.nan).to_numpy(object)


class WindowsDataset:
    """The windows of a finished run, for training.

    Parameters
    ----------
    results : path-like
        The run's results folder: its combined table ``features.parquet`` names
        the recordings; their window tables (``windows/<id>.parquet``) and the FIF
        each names (preprocessed, or ICA-cleaned) must be there and made with the
        settings the combined table records, else a :class:`eegflow.UserError`
        says which file is missing or stale.
    drop_rejected : bool
        Leave out the windows flagged as artefacts (``rejected``).

    Attributes
    ----------
    ch_names : list of str
    sfreq : float
    window_samples : int
    scaling : str
        ``"zscore"`` (each window's channels z-scored when read) or ``"none"``.

    Notes
    -----
    ``ds[i]`` is ``(x, y)``: ``x`` float32 (channels, samples) in volts, or
    z-scored per channel with config ``windows.scaling: zscore``; ``y`` the
    window's ``target`` (:func:`window_targets`). Windows are cut from the FIFs'
    data buffers (:class:`eegflow.fifread.FifWindowReader`), opened lazily in the
    process that reads them: a pickled data set (a DataLoader's workers, fork or
    spawn) carries paths and a few numbers per window, no open file.
    """

    def __init__(self, results="results", drop_rejected=False):
        recordings, tables = run_catalogue(results)
        metadata = windows_metadata(tables)
        # absolute: a process started elsewhere (a spawned worker) finds them too
        self.results = os.path.abspath(results)
        self.recordings = [
            {
                "recording": entry["recording"],
                "signal": os.path.abspath(entry["signal"]),
            }
            for entry in recordings
        ]
        info = recordings[0]["info"]
        self.ch_names, self.sfreq = list(info["ch_names"]), float(info["sfreq"])
        self.window_samples, self.scaling = int(info["window_samples"]), info["scaling"]
        from .windows import integer_column

        starts = [integer_column(table, "fif_sample") for table in tables]
        # per recording, the end of its last window: its FIF must be that long
        self.last_stops = [int(s.max(initial=0)) + self.window_samples for s in starts]
        codes = np.repeat(
            np.arange(len(tables), dtype=np.int32), [len(s) for s in starts]
        )
        starts = np.concatenate(starts)
        self._rows = np.arange(len(metadata), dtype=np.int64)
        self._codes, self._starts = codes, starts
        self._targets = window_targets(metadata)
        self._metadata = metadata
        self._readers = {}
        if drop_rejected:
            kept = ~metadata["rejected"].to_numpy(bool)
            log.info("%d rejected windows left out", (~kept).sum())
            self._select(np.flatnonzero(kept))

    # -- selection --------------------------------------------------------------

    def _select(self, positions):
        """Keep the windows at ``positions`` (of this data set), in that order."""
        positions = np.asarray(positions, dtype=np.int64)
        self._rows = self._rows[positions]
        self._codes = self._codes[positions]
        self._starts = self._starts[positions]
        self._targets = self._targets[positions]
        if self._metadata is not None:
            self._metadata = self._metadata.iloc[positions].reset_index(drop=True)

    def _copy(self, positions):
        copy = object.__new__(type(self))
        copy.__dict__.update(self.__getstate__())
        copy._readers = self._readers  # the same files, opened once per process
        copy._metadata = self._metadata
        copy._select(positions)
        return copy

    def subset(self, selection):
        """A data set of some of these windows.

        Parameters
        ----------
        selection : str or array-like
            A :meth:`pandas.DataFrame.query` on :attr:`metadata` (e.g.
            ``"subject == '01' and not rejected"``), a boolean mask of ``len(ds)``
            or window positions.
        """
        if isinstance(selection, str):
            mask = self.metadata.eval(selection)
            positions = np.flatnonzero(np.asarray(mask, dtype=bool))
        else:
            selection = np.asarray(selection)
            if selection.dtype == bool:
                if len(selection) != len(self):
                    raise ValueError(
                        f"a mask of {len(selection)} values for {len(self)} windows"
                    )
                positions = np.flatnonzero(selection)
            else:
                positions = selection.astype(np.int64)
        return self._copy(positions)

    def split(self, by="subject", test_size=0.2, seed=0):
        """Two data sets (train, test) with no value of column ``by`` on both sides.

        Parameters
        ----------
        by : str
            A :attr:`metadata` column: ``"subject"`` (BIDS, or a table's column)
            or ``"recording"``.
        test_size : float
            The share of the groups (values of ``by``) put into the test set,
            rounded up to at least one group; at least one stays for training.
        seed : int
            Seed of the shuffle of the groups.
        """
        if not 0 < test_size < 1:
            raise ValueError(f"test_size={test_size}: give a share between 0 and 1")
        metadata = self.metadata
        if by not in metadata:
            raise UserError(
                f"split(by={by!r}): no such column; the windows' columns are "
                f"{list(metadata.columns)} (by='recording' always works)"
            )
        groups = metadata[by]
        if groups.isna().any():
            raise UserError(
                f"split(by={by!r}): {int(groups.isna().sum())} windows have no {by}; "
                "split by='recording', or give every recording one"
            )
        names = np.array(sorted(groups.unique().tolist(), key=str), dtype=object)
        if len(names) < 2:
            raise UserError(
                f"split(by={by!r}): all windows share one {by} ({names[0]!r}); "
                "split by a column with two values or more"
            )
        n_test = min(len(names) - 1, max(1, int(np.ceil(test_size * len(names)))))
        test_names = np.random.default_rng(seed).permutation(names)[:n_test]
        in_test = groups.isin(list(test_names)).to_numpy(bool)
        return self._copy(np.flatnonzero(~in_test)), self._copy(np.flatnonzero(in_test))

    # -- description ------------------------------------------------------------

    @property
    def metadata(self):
        """One row per window (pandas DataFrame): ``recording``, ``window_index``,
        ``start_sample``, ``start_s``, ``rejected``, ``reject_reason``, ``target``
        and ``label`` where there are, and the recording's columns (``subject``,
        ``session``, ``task``, ``run``, the table's or ``participants.tsv``'s);
        read again from the window tables after unpickling."""
        if self._metadata is None:
            _, tables = run_catalogue(self.results)
            self._metadata = (
                windows_metadata(tables).iloc[self._rows].reset_index(drop=True)
            )
        return self._metadata

    def __len__(self):
        return len(self._codes)

    def __repr__(self):
        return (
            f"<WindowsDataset of {len(self)} windows, {len(self.recordings)} "
            f"recordings, {len(self.ch_names)} channels x {self.window_samples} "
            f"samples at {self.sfreq:g} Hz, scaling {self.scaling}>"
        )

    # -- reading ----------------------------------------------------------------

    def __getstate__(self):
        """What a pickle carries: paths and per-window numbers, no open file nor
        the metadata frame (read again when asked for)."""
        state = dict(self.__dict__)
        state["_readers"], state["_metadata"] = {}, None
        return state

    def reader(self, code):
        """The window reader of recording ``code``, opened once per process."""
        reader = self._readers.get(code)
        if reader is None:
            from .fifread import fif_reader

            signal = self.recordings[code]["signal"]
            reader = fif_reader(signal)
            if (
                reader.ch_names != self.ch_names
                or reader.sfreq != self.sfreq
                or reader.n_times < self.last_stops[code]
            ):
                raise UserError(
                    f"{signal}: its channels, sampling rate or length differ from "
                    "those its window table was made from; the results are stale: "
                    "run snakemake again"
                )
            self._readers[code] = reader
        return reader

    def __getitem__(self, index):
        n_windows = len(self._codes)  # (not len(self): a call less per window)
        if not -n_windows <= index < n_windows:
            raise IndexError(f"window {index} of a data set of {n_windows}")
        start = int(self._starts[index])
        code = int(self._codes[index])
        reader = self._readers.get(code) or self.reader(code)
        x = reader.read(start, start + self.window_samples, dtype=np.float32)
        if self.scaling == "zscore":
            x = scale(x)
        return x, self._targets[index]

    def get_batch(self, indices):
        """Windows ``indices`` at once: ``(x, y)``, x float32 (windows, channels,
        samples), y their targets."""
        indices = np.asarray(indices, dtype=np.int64)
        x = np.empty(
            (len(indices), len(self.ch_names), self.window_samples), np.float32
        )
        rows = zip(self._codes[indices].tolist(), self._starts[indices].tolist())
        for row, (code, start) in enumerate(rows):
            reader = self._readers.get(code) or self.reader(code)
            reader.read(start, start + self.window_samples, out=x[row])
        if self.scaling == "zscore":
            x = scale(x)
        return x, self._targets[indices]

    def to_braindecode(self):
        """These windows as braindecode's ``BaseConcatDataset`` (one lazy
        ``EEGWindowsDataset`` per recording, over MNE's reading of its FIF;
        ``targets_from="metadata"``; z-scored with ``windows.scaling: zscore``),
        grouped by recording in the order of their first window here, each
        recording's windows in this data set's order.

        Needs braindecode (and torch): ``pip install braindecode``.
        """
        try:
            from braindecode.datasets import BaseConcatDataset
            from braindecode.datasets.base import EEGWindowsDataset
        except ImportError as error:
            raise ImportError(
                "WindowsDataset.to_braindecode needs braindecode (and torch), which "
                f"eegflow does not install: pip install braindecode ({error})"
            ) from error
        import mne
        import pandas as pd

        metadata = self.metadata
        datasets = []
        for code in dict.fromkeys(self._codes.tolist()):
            mine = np.flatnonzero(self._codes == code)
            starts = self._starts[mine]
            rows = metadata.iloc[mine]
            windows = pd.DataFrame(
                {
                    "i_window_in_trial": rows["window_index"].to_numpy(np.int64),
                    "i_start_in_trial": starts,
                    "i_stop_in_trial": starts + self.window_samples,
                    "target": self._targets[mine],
                }
            )
            description = rows.iloc[0][
                [c for c in rows.columns if rows[c].nunique(dropna=False) == 1]
            ]
            raw = mne.io.read_raw_fif(
                self.recordings[code]["signal"], preload=False, verbose="error"
            )
            datasets.append(
                EEGWindowsDataset(
                    raw,
                    metadata=windows,
                    description=description,
                    transform=scale if self.scaling == "zscore" else None,
                    targets_from="metadata",
                )
            )
        return BaseConcatDataset(datasets)


def scale(x):
    """Z-score each channel of a window or of each window of a batch, in place
    (``x`` was read just now: here, or by braindecode's windows of
    :meth:`WindowsDataset.to_braindecode`, which copy it into float32 before their
    transform), as float32; see :func:`eegflow.windows.scale_channelwise`."""
    from .windows import scale_channelwise

    return scale_channelwise(x, copy=False).astype(np.float32, copy=False)
