"""What changed since the last successful run, in one short line per setting.

Snakemake explains a rerun caused by edited ``params`` by printing every job's whole
config section before and after (about 900 characters a job); the default profile
keeps those reasons quiet and the workflow says instead, once at its start, which
settings changed since the last run that succeeded. Kept free of heavy imports: the
Snakefile calls it at every start.
"""

import json
from pathlib import Path

from .fileio import atomic_output

# config sections that shape no output (workflow/docs/configuration.md, "What gets rerun when")
NOT_RESULTS = ("execution",)


def setting_changes(before, after, prefix=""):
    """The settings whose value differs between two configs.

    Parameters
    ----------
    before, after : dict
        Two (validated) configs; nested dicts are compared key by key.
    prefix : str
        Dotted path of ``before`` and ``after`` inside the whole config.

    Returns
    -------
    list of (str, object, object)
        ``(dotted key, value before, value after)`` for each differing leaf, a
        key missing on one side given as ``None`` there, in key order.
    """
    changes = []
    for key in sorted(set(before) | set(after), key=str):
        old, new = before.get(key), after.get(key)
        name = f"{prefix}{key}"
        if isinstance(old, dict) and isinstance(new, dict):
            changes.extend(setting_changes(old, new, f"{name}."))
        elif old != new:
            changes.append((name, old, new))
    return changes


def results_config(config):
    """The part of ``config`` that shapes results (all but :data:`NOT_RESULTS`)."""
    return {key: value for key, value in config.items() if key not in NOT_RESULTS}


def describe_changes(config, last_run_path, limit=120):
    """One line per setting changed since the run that wrote ``last_run_path``.

    Parameters
    ----------
    config : dict
        This run's validated config.
    last_run_path : path-like
        The file :func:`write_last_run_config` wrote after the last successful run;
        none yet (a first run) gives no lines.
    limit : int
        Values are shortened to this many characters each.

    Returns
    -------
    list of str
        E.g. ``"config preprocess.filter.h_freq: 30 -> 25"``.
    """
    try:
        before = json.loads(Path(last_run_path).read_text())
    except (FileNotFoundError, ValueError):
        return []
    # through JSON, as the file was written: tuples and lists compare equal
    after = json.loads(json.dumps(results_config(config), default=str))

    def short(value):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= limit else text[: limit - 3] + "..."

    return [
        f"config {key}: {short(old)} -> {short(new)}"
        for key, old, new in setting_changes(before, after)
    ]


def write_last_run_config(config, path):
    """Write the results-shaping part of ``config`` to ``path`` (atomically)."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(results_config(config), indent=1, default=str))
