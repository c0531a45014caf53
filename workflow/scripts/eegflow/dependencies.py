"""Which package modules a job script runs, and the code input of its rule.

Derived from the scripts' own import statements (parsed, not executed), followed
through the package, so a new module is tracked the moment a stage imports it and
editing it reruns exactly the stages that use it. Kept free of heavy imports: the
Snakefile calls it at every start.
"""

import ast
import functools
import hashlib
import json
from pathlib import Path

from .fileio import atomic_output

PACKAGE = "eegflow"


# parsed import lists kept between runs (see _imported_package_modules): at most this many
IMPORT_CACHE_ENTRIES = 1000


@functools.cache  # read once per start
def _import_cache(cache_path):
    """{content key: imported names} kept at ``cache_path`` ({} if none or unreadable)."""
    try:
        return json.loads(Path(cache_path).read_text())
    except (OSError, ValueError):
        return {}


def _keep_import_cache(cache_path, cache):
    """Write ``cache`` (its newest entries) to ``cache_path``, whole or not at all."""
    entries = list(cache.items())[-IMPORT_CACHE_ENTRIES:]
    try:
        with atomic_output(cache_path) as partial:
            partial.write_text(json.dumps(dict(entries)))
    except OSError:  # a read-only folder: parsed again next time
        pass


def _imported_names(source, path, in_package):
    """The names a module's ``source`` imports from the package (anywhere in it,
    function-level imports included): modules, or names ``from . import``-ed."""
    tree = ast.parse(source, filename=str(path))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == PACKAGE:
                    modules.add(parts[1] if len(parts) > 1 else "__init__")
        elif isinstance(node, ast.ImportFrom):
            absolute = node.level == 0 and (node.module or "").split(".")[0] == PACKAGE
            relative = node.level == 1 and in_package
            if not (absolute or relative):
                continue
            parts = (node.module or "").split(".")
            if absolute:
                parts = parts[1:]
            if parts and parts[0]:
                modules.add(parts[0])
            else:  # "from . import a, b" / "from eegflow import a": modules or names
                modules.add("__init__")
                modules.update(alias.name for alias in node.names)
    return sorted(modules)


@functools.cache  # each module read once per start, not once per rule using it
def _imported_package_modules(path, package_dir, cache_path=None):
    """Names of the package's modules that the file at ``path`` imports.

    Parsing every module takes about 0.1 s of each Snakemake start (and each SLURM
    job's); with ``cache_path``, what a parse found is kept there under the file's
    SHA-256 (its content, never its time: an edited module is always parsed again).
    """
    source = Path(path).read_bytes()
    in_package = Path(path).parent == package_dir
    key = f"{hashlib.sha256(source).hexdigest()}-{int(in_package)}"
    cache = {} if cache_path is None else _import_cache(cache_path)
    names = cache.get(key)
    if names is None:
        names = cache[key] = _imported_names(source, path, in_package)
    return {name for name in names if (package_dir / f"{name}.py").is_file()}


def package_modules(script, package_dir, cache_path=None):
    """The package modules ``script`` runs, transitively, as sorted file paths.

    Parameters
    ----------
    script : path-like
        A job script (``workflow/scripts/<rule>.py``).
    package_dir : path-like
        The package's folder (``workflow/scripts/eegflow``).
    cache_path : path-like or None
        A JSON file keeping what parsing each module's source found, between
        runs; None parses every module.
    """
    package_dir = Path(package_dir)
    cache_path = None if cache_path is None else str(cache_path)
    cached = None if cache_path is None else len(_import_cache(cache_path))
    found, pending = {"__init__"}, [Path(script)]
    while pending:
        imported = _imported_package_modules(pending.pop(), package_dir, cache_path)
        for name in imported - found:
            found.add(name)
            pending.append(package_dir / f"{name}.py")
    if cache_path is not None and len(_import_cache(cache_path)) != cached:
        _keep_import_cache(cache_path, _import_cache(cache_path))  # once, if parsed
    return sorted(str(package_dir / f"{name}.py") for name in found)


def write_code_stamp(stamp, files):
    """Write the SHA-256 of each of ``files`` to ``stamp`` (``sha256sum``'s format,
    named by folder and file, wherever the run starts from), unless it holds
    exactly that already.

    The stamp stands for the files as one input of a rule: its time changes only
    when their content does, so editing a module (or importing a new one)
    reruns the rule's jobs, while a checkout or copy that leaves the content as
    it was reruns nothing; and planning checks one input per job instead of one
    per module.

    Returns
    -------
    stamp : str
        The stamp's path.
    changed : list of str
        The files (``folder/name``) new or edited since an earlier stamp, for the
        run to say why the rule's jobs rerun; empty when there was no stamp.
    """
    lines = [
        f"{hashlib.sha256(Path(path).read_bytes()).hexdigest()}  "
        f"{Path(path).parent.name}/{Path(path).name}\n"
        for path in files
    ]
    stamp = Path(stamp)
    earlier = stamp.read_text().splitlines(keepends=True) if stamp.is_file() else None
    if earlier == lines:
        return str(stamp), []
    with atomic_output(
        stamp
    ) as partial:  # whole or not at all, also with jobs reading it
        partial.write_text("".join(lines))
    changed = [] if earlier is None else sorted(set(lines) - set(earlier))
    return str(stamp), [line.split("  ", 1)[1].strip() for line in changed]
