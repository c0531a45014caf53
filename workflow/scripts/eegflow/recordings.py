"""Find the recordings named in ``config.yaml`` and give each a safe, unique id.

Kept free of MNE/NumPy imports: the Snakefile calls it at every start.
"""

import glob
import re
from pathlib import Path

from . import UserError

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
)

_UNSAFE_ID_CHARACTERS = re.compile(r"[^A-Za-z0-9_.-]+")


def recording_id(path):
    """Return a filesystem- and shell-safe id for a recording file.

    The id is the file name without its recording extension; characters other
    than letters, digits, ``_``, ``.`` and ``-`` become ``-``, and leading dots
    or dashes are removed, so an id can never climb out of a results folder.
    """
    name = Path(path).name
    for extension in SUPPORTED_EXTENSIONS:
        if name.lower().endswith(extension):
            name = name[: -len(extension)]
            break
    safe = _UNSAFE_ID_CHARACTERS.sub("-", name).lstrip(".-")
    if not safe:
        raise UserError(
            f"{path}: cannot derive a recording id from this file name; rename it"
        )
    return safe


def synthetic_recordings(synthetic):
    """Recordings of the embedded synthetic data set (config ``input.synthetic``).

    Every second recording (odd index) carries the alpha rhythm and target 1.
    """
    width = max(2, len(str(synthetic["n_recordings"] - 1)))
    return {
        f"synthetic-{index:0{width}d}": {
            "path": f"{SYNTHETIC_DIR}/synthetic-{index:0{width}d}_raw.fif",
            "metadata": {"target": index % 2},
        }
        for index in range(synthetic["n_recordings"])
    }


def file_recordings(patterns):
    """Recordings matching the glob patterns of config ``input.files``."""
    if not patterns:
        raise UserError(
            "config input.files is empty while input.source is 'files'; "
            "list glob patterns such as 'data/**/*.edf'"
        )
    paths = sorted(
        {path for pattern in patterns for path in glob.glob(pattern, recursive=True)}
    )
    if not paths:
        raise UserError(
            f"config input.files: no file matches {patterns} "
            f"(relative to {Path.cwd()})"
        )
    recordings = {}
    for path in paths:
        if Path(path).is_dir() and not path.lower().endswith(SUPPORTED_EXTENSIONS):
            continue  # a folder matched by "**/*" (.mff and .ds recordings are folders)
        if not path.lower().endswith(SUPPORTED_EXTENSIONS):
            raise UserError(
                f"{path}: unsupported file type (config input.files matched it). "
                f"Supported: {', '.join(SUPPORTED_EXTENSIONS)}; narrow the pattern "
                "to the recordings' main files (e.g. *.vhdr, not *.eeg)"
            )
        rid = recording_id(path)
        if rid in recordings:
            raise UserError(
                f"recording id '{rid}' is shared by {recordings[rid]['path']} and "
                f"{path}; ids come from file names, so rename one of them or "
                "narrow config input.files"
            )
        recordings[rid] = {"path": path, "metadata": {}}
    return recordings


def discover_recordings(input_config):
    """Map recording id -> {"path", "metadata"} from config ``input``.

    Ids listed in ``input.exclude`` are left out; an id there that names no
    recording is an error (most likely a typo).
    """
    if input_config["source"] == "synthetic":
        recordings = synthetic_recordings(input_config["synthetic"])
    else:
        recordings = file_recordings(input_config["files"])
    unknown = sorted(set(input_config["exclude"]) - set(recordings))
    if unknown:
        raise UserError(
            f"config input.exclude: {unknown} name no recording; known ids are "
            f"{', '.join(sorted(recordings)[:10])}{' ...' if len(recordings) > 10 else ''}"
        )
    kept = {rid: r for rid, r in recordings.items() if rid not in input_config["exclude"]}
    if not kept:
        raise UserError("config input.exclude leaves out every recording")
    return kept
