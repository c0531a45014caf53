"""Provenance carried inside every table: the config sections that shaped it, the
software versions that made it, and the source files it came from (path, size and
SHA-256, computed once, in the preprocess job that reads them).

Read it back with ``json.loads(pyarrow.parquet.read_schema(path).metadata[b"eegflow"])
["provenance"]``.
"""

import functools
import hashlib
import os
import platform
import subprocess
from pathlib import Path

from . import __version__

HASH_CHUNK_BYTES = 1 << 20


def git_commit():
    """``git describe --always --dirty`` of the checkout holding the package, or None
    (not a checkout, or git missing)."""
    try:
        result = subprocess.run(
            [
                "git",
                "-C",
                str(Path(__file__).parent),
                "describe",
                "--always",
                "--dirty",
                "--abbrev=40",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


@functools.cache
def software_versions():
    """Versions of eegflow (and its git commit), Python, MNE, NumPy and SciPy.

    Read from the installed packages' metadata: a job that reads windows without MNE
    does not import it to name its version. Read once per process (about 15 ms, a
    ``git`` process among it): a warm worker runs the code it imported at its start,
    for every job it serves.
    """
    from importlib.metadata import version

    return {
        "eegflow": __version__,
        "eegflow_git": git_commit(),
        "python": platform.python_version(),
        **{name: version(name) for name in ("mne", "numpy", "scipy")},
    }


def file_fingerprints(paths):
    """Per file: ``path``, size in ``bytes`` and ``sha256`` of its content."""
    fingerprints = []
    for path in paths:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(HASH_CHUNK_BYTES):
                digest.update(chunk)
        fingerprints.append(
            {
                "path": str(path),
                "bytes": os.path.getsize(path),
                "sha256": digest.hexdigest(),
            }
        )
    return fingerprints


def same_data(source_files):
    """Recordings that hold the same data as another: their largest source files
    (the samples; a header or marker file may name the copy) have one SHA-256.

    Parameters
    ----------
    source_files : dict
        ``{recording id: [{"path", "bytes", "sha256"}, ...]}`` (:func:`file_fingerprints`).

    Returns
    -------
    dict
        ``{recording id: [the other ids with its data]}`` for each recording that
        shares its data, in the order of ``source_files``.
    """
    groups = {}
    for recording, files in source_files.items():
        if files:
            largest = max(files, key=lambda entry: entry["bytes"])
            groups.setdefault(largest["sha256"], []).append(recording)
    return {
        recording: [other for other in group if other != recording]
        for group in groups.values()
        if len(group) > 1
        for recording in group
    }


def with_stage(provenance, **sections):
    """``provenance`` with these config ``sections`` added and this job's software
    versions (the same environment runs every stage; the latest job's are kept)."""
    provenance = dict(provenance or {})
    provenance["config"] = {**provenance.get("config", {}), **sections}
    provenance["software"] = dict(software_versions())
    return provenance
