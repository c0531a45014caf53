"""Find the recordings named in ``config.yaml`` and give each a safe, unique id.

Each recording is ``{"path", "metadata", "annotations", "bids_root", "bids_path",
"index", "preprocess", "id_made_from", "id_from_column", "remote_files"}``: its main
file, the columns it adds to every window's row, the annotations file paired with it
(or None), for a BIDS data set the root (read with mne-bids) and its path in BIDS
without datatype suffix and extension (``sub-01/ses-1/eeg/sub-01_ses-1_task-rest``),
for a synthetic recording its index (the ``{index}`` of its rule's output), its own
preprocessing (a recordings table's ``bad_channels`` and ``units_scale`` columns),
what its id was made from (file name or ``recording`` column; ids that differ from
it are logged), and for a recording on S3 or HTTP(S) every object its job fetches,
main file first (None for a local one; see :mod:`eegflow.remote`).
Kept free of MNE/NumPy imports (mne-bids only for a BIDS source): the Snakefile
calls it at every start.
"""

import csv
import functools
import glob
import logging
import os
import posixpath
import re
from pathlib import Path

from . import UserError
from .remote import bids_recording_urls, is_remote

log = logging.getLogger(__name__)

SYNTHETIC_DIR = "resources/synthetic"

# File types opened by mne.io.read_raw (a test checks each is still supported).
SUPPORTED_EXTENSIONS = (
    ".edf",
    ".bdf",
    ".gdf",
    ".fif",
    ".fif.gz",
    ".vhdr",
    ".ahdr",
    ".set",
    ".cnt",
    ".mff",
    ".nxe",
    ".nedf",
    ".lay",
    ".data",
    ".cdt",
    ".mefd",
    ".ns3",
    ".ds",
)

# MNE's naming convention for raw FIF files; stripped from ids so that outputs are
# not named "<id>_raw_raw.fif"
_FIF_RAW_SUFFIX = re.compile(r"[_-]raw$", re.IGNORECASE)

_UNSAFE_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]+")


def file_stem(path):
    """A recording file's name without its recording extension, nor a FIF file's
    ``_raw``/``-raw`` (MNE's naming convention)."""
    name = Path(path).name
    for extension in SUPPORTED_EXTENSIONS:
        if name.lower().endswith(extension):
            name = name[: -len(extension)]
            if extension.startswith(".fif"):
                name = _FIF_RAW_SUFFIX.sub("", name) or name
            break
    return name


def recording_id(path):
    """Return a filesystem- and shell-safe id for a recording file.

    The id is the :func:`file_stem`; characters other than letters, digits,
    ``_``, ``.`` and ``-`` become ``-``, and leading dots or dashes are removed,
    so an id can never climb out of a results folder.
    """
    safe = _UNSAFE_ID_CHARACTERS.sub("-", file_stem(path)).lstrip(".-")
    if not safe:
        raise UserError(
            f"{path}: cannot derive a recording id from this file name; rename it"
        )
    return safe


_SPLIT_MARK = re.compile(r"-[0-9]")  # where a FIF split's number follows its stem
_BRAINVISION_FILE_KEY = re.compile(
    r"^\s*(DataFile|MarkerFile)\s*=\s*(.+?)\s*$", re.I | re.M
)


@functools.cache
def fif_split_names(folder):
    """{stem: names} of the files in ``folder`` that could continue a FIF file
    ``<stem>.fif`` (``<stem>-<digit>...fif``, MNE's split files), from one listing
    of the folder per process: a glob per recording would list a folder of N
    recordings N times at every start."""
    splits = {}
    if not os.path.isdir(folder):  # a missing recording fails in its own job
        return splits
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.endswith(".fif"):
                for mark in _SPLIT_MARK.finditer(entry.name):
                    splits.setdefault(entry.name[: mark.start()], []).append(entry.name)
    return splits


def recording_files(path):
    """Every file a recording consists of: its main file and the files it names.

    A BrainVision header (``.vhdr``/``.ahdr``) adds the data and marker files
    named in it (``DataFile=``, ``MarkerFile=``), an EEGLAB ``.set`` its
    ``.fdt`` data file, a FIF file its split continuation files
    (``<name>-1.fif``, ...), and a folder recording (EGI ``.mff``, CTF ``.ds``)
    every file inside it. Only files that exist are listed: a missing one makes
    that recording's job fail with the reader's message naming it, instead of
    stopping the whole workflow before it starts. Reads at most a header's
    text, so it stays cheap at every start.

    Parameters
    ----------
    path : str
        The recording's main file (or folder).

    Returns
    -------
    list of str
        ``path`` first, then its companion files in a stable order.
    """
    main = Path(path)
    lower = main.name.lower()
    companions = []
    if main.is_dir():
        companions = sorted(p for p in main.rglob("*") if p.is_file())
    elif lower.endswith((".vhdr", ".ahdr")) and main.is_file():
        text = main.read_text(encoding="latin-1", errors="replace")
        named = [value for _, value in _BRAINVISION_FILE_KEY.findall(text)]
        companions = [main.parent / name for name in named]
    elif lower.endswith(".set"):
        companions = [main.with_suffix(suffix) for suffix in (".fdt", ".FDT")]
    elif lower.endswith(".fif"):
        splits = fif_split_names(str(main.parent)).get(main.stem, [])
        companions = sorted(main.parent / name for name in splits)
    files = [str(path)] if not main.is_dir() else []
    for companion in companions:
        if companion.is_file() and str(companion) not in files:
            files.append(str(companion))
    return files


def _entry(
    path,
    metadata,
    annotations=None,
    bids_root=None,
    bids_path=None,
    index=None,
    overrides=None,
    remote_files=None,
):
    return {
        "path": str(path),
        "metadata": metadata,
        "annotations": annotations,
        "bids_root": bids_root,
        "bids_path": bids_path,
        "index": index,
        "preprocess": overrides or {"bad_channels": [], "units_scale": None},
        "remote_files": remote_files,
    }


def _preprocess_overrides(row, where):
    """A table row's per-recording preprocessing: ``bad_channels`` (names separated
    by "," or ";") and ``units_scale`` (a number), popped from its metadata."""
    bad = row.pop("bad_channels", None)
    scale = row.pop("units_scale", None)
    if scale is not None and not (isinstance(scale, (int, float)) and scale > 0):
        raise UserError(
            f"{where}: units_scale={scale!r}: expected a number > 0, e.g. 1e-6"
        )
    return {
        "bad_channels": [
            n.strip() for n in re.split(r"[,;]", str(bad or "")) if n.strip()
        ],
        "units_scale": scale,
    }


def synthetic_recordings(synthetic):
    """Recordings of the embedded synthetic data set (config ``input.synthetic``).

    Every second recording (odd index) carries the alpha rhythm and target 1.
    """
    width = max(2, len(str(synthetic["n_recordings"] - 1)))
    return {
        f"synthetic-{index:0{width}d}": _entry(
            f"{SYNTHETIC_DIR}/synthetic-{index:0{width}d}_raw.fif",
            {"target": index % 2},
            index=f"{index:0{width}d}",
        )
        for index in range(synthetic["n_recordings"])
    }


def file_recordings(patterns, remote=None):
    """Recordings matching the glob patterns of config ``input.files``; a pattern
    that is an S3 or HTTP(S) URL matches objects through ``remote``
    (:class:`eegflow.remote.RemoteStorage`)."""
    if not patterns:
        raise UserError(
            "config input.files is empty while input.source is 'files'; "
            "list glob patterns such as 'data/**/*.edf'"
        )
    paths = sorted(
        {
            path
            for pattern in patterns
            for path in (
                _remote(remote, pattern).glob(pattern)
                if is_remote(pattern)
                else glob.glob(pattern, recursive=True)
            )
        }
    )
    if not paths:
        raise UserError(
            f"config input.files: no file matches {patterns} (relative to {Path.cwd()})"
        )
    recordings = {}
    for path in paths:
        if Path(path).is_dir() and not path.lower().endswith(SUPPORTED_EXTENSIONS):
            continue  # a folder matched by "**/*" (.mff and .ds recordings are folders)
        _check_extension(path, "config input.files matched it")
        files = remote.recording_urls(path) if is_remote(path) else None
        entry = _entry(path, {}, remote_files=files)
        _add(recordings, recording_id(path), entry, "config input.files")
    return recordings


def _remote(remote, url):
    """``remote``, or the error of a URL met where remote storage is not set up."""
    if remote is None:
        raise UserError(
            f"{url}: a remote URL, but remote storage is not available here; run it "
            "through the workflow (snakemake), which reads it with its storage plugins"
        )
    return remote


def _check_extension(path, why):
    if not str(path).lower().endswith(SUPPORTED_EXTENSIONS):
        raise UserError(
            f"{path}: unsupported file type ({why}). "
            f"Supported: {', '.join(SUPPORTED_EXTENSIONS)}; name the recordings' "
            "main files (e.g. *.vhdr, not *.eeg)"
        )


def _add(recordings, rid, entry, where, named=None, by_column=False):
    """Add ``entry`` as recording ``rid``, the id made of ``named`` (default: its
    file's :func:`file_stem`), a recordings table's ``recording`` value if
    ``by_column``; ``where`` names the source (config key or table) in messages."""
    entry["id_made_from"] = file_stem(entry["path"]) if named is None else str(named)
    entry["id_from_column"] = by_column
    if rid in recordings:
        first = recordings[rid]
        if by_column or first["id_from_column"]:
            fix = (
                f"ids come from the 'recording' column of {where} (here "
                f"{first['id_made_from']!r} and {entry['id_made_from']!r}, keeping "
                "letters, digits, _ . -), so give each row its own value there"
            )
        else:
            fix = f"ids come from file names, so rename one of them or narrow {where}"
        raise UserError(
            f"recording id '{rid}' is shared by {first['path']} and {entry['path']}; "
            f"{fix}"
        )
    recordings[rid] = entry


# columns of the window table that metadata must not replace ("target" may be given)
RESERVED_COLUMNS = {
    "recording",
    "window_index",
    "start_sample",
    "start_s",
    "fif_sample",
    "rejected",
    "reject_reason",
    "label",
}
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")
_MISSING = ("", "n/a", "nan")


def _number(value):
    """int or float for a number written plainly (no leading zeros: "01" is an id)."""
    if _INTEGER.fullmatch(value):
        return int(value)
    integer_part = value.lstrip("-").split(".")[0].split("e")[0].split("E")[0]
    if len(integer_part) > 1 and integer_part.startswith("0"):
        raise ValueError(value)
    return float(value)


def read_metadata_table(path):
    """Rows of a CSV (``,``) or TSV (``.tsv``: tab) file as dicts.

    A column whose values are all numbers (or empty) holds numbers; any other
    column holds strings, so a column never mixes types across recordings.
    Empty cells and ``n/a`` are None.
    """
    delimiter = "\t" if str(path).lower().endswith(".tsv") else ","
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle, delimiter=delimiter))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise UserError(f"{path}: cannot read this table ({error})") from None
    columns = rows[0].keys() if rows else []
    for column in columns:
        values = [(row[column] or "").strip() for row in rows]
        present = [value for value in values if value.lower() not in _MISSING]
        try:
            converted = {value: _number(value) for value in present}
        except ValueError:
            converted = {value: value for value in present}
        for row, value in zip(rows, values):
            row[column] = converted.get(value)
    return rows


def table_recordings(table_path, remote=None):
    """Recordings listed in a CSV/TSV table (config ``input.table``).

    Columns: ``path`` (required; relative to the table's folder unless
    absolute), optional ``recording`` (the id; default from the file name),
    optional ``annotations`` (a file of annotations for that recording),
    optional ``bad_channels`` (names known to be bad, separated by "," or ";")
    and ``units_scale`` (multiplies that recording's data, e.g. 1e-6); every
    other column (subject, session, target, ...) becomes a column of the
    recording's rows in the feature table. A ``path`` or ``annotations`` that is an
    S3 or HTTP(S) URL is checked and read through ``remote``
    (:class:`eegflow.remote.RemoteStorage`).
    """
    if not table_path:
        raise UserError("config input.table is empty while input.source is 'table'")
    if not Path(table_path).is_file():
        raise UserError(f"config input.table={table_path}: no such file")
    rows = read_metadata_table(table_path)
    if not rows or "path" not in rows[0]:
        raise UserError(
            f"{table_path}: needs a 'path' column and one row per recording"
        )
    folder = Path(table_path).parent
    recordings = {}
    for line, row in enumerate(rows, start=2):
        if row["path"] is None:
            raise UserError(f"{table_path} line {line}: empty path")
        where = f"{table_path} line {line}"
        path = _table_file(folder, row.pop("path"), where, remote, "")
        _check_extension(path, f"listed in {where}")
        annotations = row.pop("annotations", None)
        if annotations is not None:
            annotations = str(
                _table_file(folder, annotations, where, remote, "annotations file ")
            )
        overrides = _preprocess_overrides(row, where)
        named = row.pop("recording", None)
        rid = recording_id(path) if named is None else recording_id(f"{named}")
        files = remote.recording_urls(path) if is_remote(path) else None
        _add(
            recordings,
            rid,
            _entry(path, row, annotations, overrides=overrides, remote_files=files),
            table_path,
            named=named,
            by_column=named is not None,
        )
    return recordings


def _table_file(folder, name, where, remote, what):
    """A table's file ``name`` (a URL, or a path relative to the table's folder)
    that exists; an error naming it as ``what`` otherwise."""
    name = str(name)
    if is_remote(name):
        if not _remote(remote, name).exists(name):
            raise UserError(f"{where}: {what}{name} does not exist")
        return name
    path = folder / name
    if not path.exists():
        raise UserError(f"{where}: {what}{path} does not exist")
    return path


BIDS_ENTITIES = {
    "subjects": "subject",
    "sessions": "session",
    "tasks": "task",
    "runs": "run",
}
BIDS_EXTENSIONS = [".edf", ".bdf", ".vhdr", ".set", ".fif"]


def bids_recordings(bids, remote=None):
    """Recordings of a BIDS data set (config ``input.bids``), via mne-bids.

    Selection by subjects/sessions/tasks/runs (empty = all); metadata columns
    subject, session, task, run, plus the subject's row of participants.tsv.
    A root that is an S3 URL is read from one listing through ``remote``
    (:class:`eegflow.remote.RemoteStorage`).
    """
    root = bids["root"]
    selection = {key: bids[key] or None for key in BIDS_ENTITIES}
    if is_remote(root):
        root = root.rstrip("/")
        listing = _remote(remote, root).listing(root)
        folders = remote.folders(root)
        if not listing:
            raise UserError(f"config input.bids.root={root}: no object there")
        found = _listed_bids_recordings(root, listing, bids["datatype"], selection)
        participants_file = f"{root}/participants.tsv"
        if participants_file in listing:
            participants_file = remote.local_copy(participants_file)
    else:
        if not root or not Path(root).is_dir():
            raise UserError(f"config input.bids.root={root}: not a folder")
        found = _local_bids_recordings(root, bids["datatype"], selection)
        participants_file = Path(root) / "participants.tsv"
    if not found:
        raise UserError(
            f"config input.bids: no {bids['datatype']} recording in {root} matches "
            f"{ {key: value for key, value in selection.items() if value} }"
        )
    participants = {}
    if Path(participants_file).is_file():
        for row in read_metadata_table(participants_file):
            participant = str(row.pop("participant_id", "")).removeprefix("sub-")
            participants[participant] = row
    recordings = {}
    for path, relative, entities in sorted(found):
        metadata = {
            name: value for name, value in entities.items() if value is not None
        }
        metadata.update(participants.get(entities["subject"], {}))
        name = relative.rsplit("/", 1)[-1].rsplit(".", 1)[0]
        name = name.removesuffix(f"_{bids['datatype']}")
        entry = _entry(
            path,
            metadata,
            bids_root=str(root),
            bids_path=posixpath.join(posixpath.dirname(relative), name),
            remote_files=(
                bids_recording_urls(path, root, folders) if is_remote(root) else None
            ),
        )
        rid = recording_id(name)
        _add(recordings, rid, entry, "config input.bids", named=name)
    # an entity some recordings lack (a session) is an empty cell, not a missing
    # column: every recording's table has the same columns
    present = [
        name
        for name in BIDS_ENTITIES.values()
        if any(name in entry["metadata"] for entry in recordings.values())
    ]
    for entry in recordings.values():
        entry["metadata"] = {**dict.fromkeys(present), **entry["metadata"]}
    return recordings


def _local_bids_recordings(root, datatype, selection):
    """[(path, path relative to root, entities)] of the recordings of a local BIDS
    data set that match ``selection``, found by mne-bids."""
    import mne_bids

    paths = mne_bids.find_matching_paths(
        root,
        **selection,
        datatypes=datatype,
        suffixes=datatype,
        extensions=BIDS_EXTENSIONS,
    )
    return [
        (
            str(bids_path.fpath),
            Path(bids_path.fpath).relative_to(root).as_posix(),
            {name: getattr(bids_path, name) for name in BIDS_ENTITIES.values()},
        )
        for bids_path in paths
    ]


def _listed_bids_recordings(root, listing, datatype, selection):
    """As :func:`_local_bids_recordings`, from the URLs of a remote data set's
    objects: ``sub-<label>/[ses-<label>/]<datatype>/<entities>_<datatype><extension>``
    with each selected entity among the selected values."""
    import mne_bids

    suffixes = tuple(f"_{datatype}{extension}" for extension in BIDS_EXTENSIONS)
    found = []
    for url in listing:
        relative = url[len(root) + 1 :]
        parts = relative.split("/")
        if not (
            len(parts) in (3, 4)
            and parts[0].startswith("sub-")
            and parts[-2] == datatype
            and parts[-1].startswith(f"{parts[0]}_")
            and parts[-1].endswith(suffixes)
        ):
            continue
        entities = mne_bids.get_entities_from_fname(parts[-1], on_error="ignore")
        entities = {name: entities[name] for name in BIDS_ENTITIES.values()}
        if all(
            values is None or entities[BIDS_ENTITIES[key]] in map(str, values)
            for key, values in selection.items()
        ):
            found.append((url, relative, entities))
    return found


def pair_annotations(recordings, settings):
    """Give each recording the annotations file whose name has the same key.

    ``settings`` is config ``input.annotations``: ``files`` (glob patterns) and
    ``key`` (a regular expression searched in file names; its first group, or
    the whole match, must be equal for a recording and its annotations file,
    e.g. ``"^(SC4\\d{3})"`` pairs SC4001E0-PSG.edf with SC4001EC-Hypnogram.edf).
    A recording without a match keeps no annotations file (the windows stage
    says so if it needs one); two files with one key are an error.
    """
    if not settings["files"]:
        return recordings
    try:
        pattern = re.compile(settings["key"])
    except re.error as error:
        raise UserError(
            f"config input.annotations.key={settings['key']!r}: not a regular "
            f"expression ({error})"
        ) from None

    def key_of(path):
        match = pattern.search(Path(path).name)
        if match is None:
            return None
        return match.group(1) if pattern.groups else match.group(0)

    by_key = {}
    for glob_pattern in settings["files"]:
        for path in sorted(glob.glob(glob_pattern, recursive=True)):
            key = key_of(path)
            if key is None:
                raise UserError(
                    f"{path}: config input.annotations.key={settings['key']!r} does not "
                    "match this annotations file's name"
                )
            if by_key.get(key, path) != path:
                raise UserError(
                    f"{by_key[key]} and {path} share the key {key!r} of config "
                    "input.annotations.key; one annotations file per recording"
                )
            by_key[key] = path
    if not by_key:
        raise UserError(
            f"config input.annotations.files: no file matches {settings['files']}"
        )
    for entry in recordings.values():
        key = key_of(entry["path"])
        if key in by_key:
            entry["annotations"] = by_key[key]
    return recordings


def discover_recordings(input_config, remote=None):
    """Map recording id -> {"path", "metadata", "annotations", "bids_root", ...} from
    config ``input`` (see the module's docstring).

    Ids listed in ``input.exclude`` are left out; an id there that names no
    recording is an error (most likely a typo). S3 and HTTP(S) URLs are read
    through ``remote`` (:class:`eegflow.remote.RemoteStorage`; the workflow gives
    one).
    """
    source = input_config["source"]
    if source == "synthetic":
        recordings = synthetic_recordings(input_config["synthetic"])
    elif source == "files":
        recordings = file_recordings(input_config["files"], remote)
    elif source == "table":
        recordings = table_recordings(input_config["table"], remote)
    else:
        recordings = bids_recordings(input_config["bids"], remote)
    recordings = pair_annotations(recordings, input_config["annotations"])
    for rid, entry in recordings.items():
        clashes = sorted(RESERVED_COLUMNS & set(entry["metadata"]))
        if clashes:
            raise UserError(
                f"recording '{rid}' ({entry['path']}): metadata columns {clashes} would "
                "replace the window table's own columns; rename them in your table"
            )
    rewritten = {
        entry["id_made_from"]: rid
        for rid, entry in recordings.items()
        if entry.get("id_made_from", rid) != rid
    }
    if rewritten:
        examples = [f"{name!r} -> '{rid}'" for name, rid in rewritten.items()]
        log.warning(
            "%d recording ids differ from the names they come from (an id keeps "
            "letters, digits, _ . - and drops a leading . or -): %s%s",
            len(rewritten),
            ", ".join(examples[:5]),
            " ..." if len(examples) > 5 else "",
        )
    unknown = sorted(set(input_config["exclude"]) - set(recordings))
    if unknown:
        raise UserError(
            f"config input.exclude: {unknown} name no recording; known ids are "
            f"{', '.join(sorted(recordings)[:10])}{' ...' if len(recordings) > 10 else ''}"
        )
    kept = {
        rid: r for rid, r in recordings.items() if rid not in input_config["exclude"]
    }
    if not kept:
        raise UserError("config input.exclude leaves out every recording")
    return kept
