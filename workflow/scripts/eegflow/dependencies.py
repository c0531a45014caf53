"""Which package modules a job script runs, and the code input of its rule.

Derived from the scripts' own import statements (parsed, not executed), followed
through the package, so a new module is tracked the moment a stage imports it and
editing it reruns exactly the stages that use it. Kept free of heavy imports: the
Snakefile calls it at every start.
"""

import ast
import functools
import hashlib
import os
from pathlib import Path

PACKAGE = "eegflow"


@functools.cache  # each module parsed once per start, not once per rule using it
def _imported_package_modules(path, package_dir):
    """Names of the package's modules that the file at ``path`` imports (anywhere
    in it, function-level imports included)."""
    tree = ast.parse(Path(path).read_text(), filename=str(path))
    in_package = Path(path).parent == package_dir
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
    return {name for name in modules if (package_dir / f"{name}.py").is_file()}


def package_modules(script, package_dir):
    """The package modules ``script`` runs, transitively, as sorted file paths.

    Parameters
    ----------
    script : path-like
        A job script (``workflow/scripts/<rule>.py``).
    package_dir : path-like
        The package's folder (``workflow/scripts/eegflow``).
    """
    package_dir = Path(package_dir)
    found, pending = {"__init__"}, [Path(script)]
    while pending:
        for name in _imported_package_modules(pending.pop(), package_dir) - found:
            found.add(name)
            pending.append(package_dir / f"{name}.py")
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
    stamp.parent.mkdir(parents=True, exist_ok=True)
    partial = stamp.with_name(f".tmp-{os.getpid()}-{stamp.name}")
    partial.write_text("".join(lines))
    os.replace(partial, stamp)  # whole or not at all, also with jobs reading it
    changed = [] if earlier is None else sorted(set(lines) - set(earlier))
    return str(stamp), [line.split("  ", 1)[1].strip() for line in changed]
