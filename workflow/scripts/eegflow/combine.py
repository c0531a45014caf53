"""Combine the per-recording feature tables into one parquet table."""

import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import UserError
from .fileio import atomic_output
from .provenance import same_data, with_stage

log = logging.getLogger(__name__)


def combine_feature_tables(paths, out_path, mismatched_columns="error"):
    """Concatenate per-recording feature parquets into ``out_path``.

    Rows keep the order of ``paths`` (the workflow passes them sorted by
    recording id) and each table's window order, so the result does not
    depend on which job finished first. Sampling rates must agree; columns
    too (see :func:`check_comparable`), unless ``mismatched_columns`` is
    "drop": then only the columns every table has are kept, in the first
    table's order, and the dropped ones are logged (refused when no feature
    column would be left, :func:`check_feature_columns_left`).
    """
    # ParquetFile, not read_table: pyarrow.dataset imports pandas (0.2 s of a run's end)
    tables = [pq.ParquetFile(path).read() for path in paths]
    infos = [json.loads(table.schema.metadata[b"eegflow"]) for table in tables]
    if mismatched_columns == "drop":
        check_feature_columns_left(tables, infos, paths)
        common = set.intersection(*(set(table.column_names) for table in tables))
        dropped = sorted(set().union(*(t.column_names for t in tables)) - common)
        if dropped:
            log.warning(
                "combine.mismatched_columns=drop: %d columns not in every recording "
                "dropped: %s",
                len(dropped),
                ", ".join(dropped[:20]) + (" ..." if len(dropped) > 20 else ""),
            )
        keep = [name for name in tables[0].column_names if name in common]
        tables = [table.select(keep) for table in tables]
    check_comparable(tables, infos, paths)
    check_same_settings(infos, paths)
    combined = pa.concat_tables(tables, promote_options="permissive")
    combined = combined.replace_schema_metadata(
        {"eegflow": json.dumps(combined_metadata(infos, paths, mismatched_columns))}
    )
    with atomic_output(out_path) as tmp:
        pq.write_table(combined, tmp)
    log.info(
        "%d rows from %d recordings -> %s", combined.num_rows, len(paths), out_path
    )


def feature_column_names(table, info):
    """The feature columns of a features table (``info``: its metadata): those named
    after a feature of its config ``features.compute``
    (``<feature>_<channel or pair>[_<suffix>]``)."""
    features = info["provenance"]["config"]["features"]["compute"]
    prefixes = tuple(f"{name}_" for name in features)
    return {name for name in table.column_names if name.startswith(prefixes)}


def check_feature_columns_left(tables, infos, paths):
    """Refuse ``combine.mismatched_columns: drop`` when the columns every table has
    hold no feature: the combined table would have windows and no features.

    Names the first table whose feature columns share none with those before it.
    """
    common = feature_column_names(tables[0], infos[0])
    for index in range(1, len(tables)):
        columns = feature_column_names(tables[index], infos[index])
        if not common & columns:
            before = (
                f"{paths[0]}" if index == 1 else f"{paths[0]} .. {paths[index - 1]}"
            )
            raise UserError(
                f"config combine.mismatched_columns: drop would drop every feature "
                f"column: {paths[index]} shares none with {before} ({sorted(columns)[:3]}"
                f" against {sorted(common)[:3]}: different channels?); choose channels "
                "every recording has with config preprocess.picks (and "
                "preprocess.rename), or leave the recordings that differ out with "
                "config input.exclude"
            )
        common &= columns


def shared_settings(info):
    """The config sections in a table's metadata ``info`` (its provenance) that
    every recording shares: all but ``recording`` (its own bad_channels and
    units_scale)."""
    return {
        section: settings
        for section, settings in info.get("provenance", {}).get("config", {}).items()
        if section != "recording"
    }


def combined_metadata(infos, paths, mismatched_columns):
    """The combined table's metadata: its sampling rate and provenance: the config
    of the recordings' tables (the same for all, :func:`check_same_settings`) plus
    combine's own setting and this job's software; per recording its source files
    (``recordings``), the recordings holding the same data (``same_data``, logged;
    :func:`eegflow.provenance.same_data`) and its own ``bad_channels``/``units_scale``
    (``recording_settings``); and which software made which recordings' tables
    (``table_software``: one entry unless the tables were made by different
    versions, which is also logged). ``infos``: the tables' metadata."""
    provenances = {
        Path(path).stem: info.get("provenance", {}) for path, info in zip(paths, infos)
    }
    provenance = with_stage(
        {"config": shared_settings(infos[0])},
        combine={"mismatched_columns": mismatched_columns},
    )
    provenance["recordings"] = {
        rid: table.get("source_files") for rid, table in provenances.items()
    }
    provenance["same_data"] = same_data(provenance["recordings"])
    if provenance["same_data"]:
        log.warning(
            "recordings holding the same data as another (byte for byte the same "
            "samples file): %s; each copy counts again in the table (and can put one "
            "recording on both sides of a training/test split); leave copies out with "
            "config input.exclude",
            "; ".join(
                f"{rid} = {', '.join(others)}"
                for rid, others in provenance["same_data"].items()
            ),
        )
    provenance["recording_settings"] = {
        rid: table.get("config", {}).get("recording")
        for rid, table in provenances.items()
    }
    provenance["table_software"] = software_groups(provenances)
    if len(provenance["table_software"]) > 1:
        log.warning(
            "the feature tables were made by %d different software versions "
            "(differing: %s); the combined table's provenance lists which made "
            "which (table_software); snakemake --forcerun preprocess remakes them "
            "all with this one",
            len(provenance["table_software"]),
            ", ".join(differing_versions(provenance["table_software"])),
        )
    return {"sfreq": infos[0]["sfreq"], "provenance": provenance}


def software_groups(provenances):
    """``[{"software": versions, "recordings": [ids]}]``: the recordings' tables
    grouped by the software versions that made them, in order of first use."""
    groups = {}
    for rid, provenance in provenances.items():
        software = provenance.get("software")
        key = json.dumps(software, sort_keys=True)
        groups.setdefault(key, {"software": software, "recordings": []})
        groups[key]["recordings"].append(rid)
    return list(groups.values())


def differing_versions(groups):
    """The names of the software (``eegflow_git``, ``mne``, ...) whose version
    differs between the :func:`software_groups` ``groups``."""
    versions = [group["software"] or {} for group in groups]
    names = {name for software in versions for name in software}
    return sorted(
        name for name in names if len({str(v.get(name)) for v in versions}) > 1
    )


def check_same_settings(infos, paths):
    """Refuse to combine tables made with different settings.

    Within one run Snakemake remakes every table an edit affects, but a table
    made before an edit can meet tables made after it: ``--batch`` runs (the
    final batch does not look back at the earlier batches' tables), or a run
    with fewer rerun triggers. Their columns are the same while their values
    mean different things. A recording's own ``bad_channels``/``units_scale``
    (config section ``recording``) differ by design and are not compared.
    ``infos``: the tables' metadata, in the order of ``paths``.
    """
    reference = shared_settings(infos[0])
    differing = []
    for path, info in zip(paths[1:], infos[1:]):
        difference = first_difference(shared_settings(info), reference)
        if difference is not None:
            differing.append((path, difference))
    if differing:
        path, (key, value, expected) = differing[0]
        raise UserError(
            f"{path} was made with other settings than {paths[0]} (config {key}: "
            f"{json.dumps(value)} against {json.dumps(expected)}; {len(differing)} "
            f"of {len(paths)} feature tables differ from the first): tables made "
            "before and after a config edit, e.g. by --batch runs on either side of "
            "it; run snakemake once without --batch (or every batch again), which "
            "remakes the stale ones"
        )


def first_difference(settings, reference, key=""):
    """``(dotted key, value, reference value)`` of the first setting where the
    dicts ``settings`` and ``reference`` differ, or None; a missing key is None."""
    if isinstance(settings, dict) and isinstance(reference, dict):
        for name in sorted(set(settings) | set(reference), key=str):
            difference = first_difference(
                settings.get(name), reference.get(name), f"{key}.{name}".lstrip(".")
            )
            if difference is not None:
                return difference
        return None
    return None if settings == reference else (key, settings, reference)


def check_comparable(tables, infos, paths):
    """Refuse to combine recordings whose features are not comparable.

    Recordings at different sampling rates (windows of different sample
    counts) or with different columns (e.g. different channels) would make a
    table with silent gaps or mixed meanings. ``infos``: the tables' metadata.
    """
    rates = {}
    for path, info in zip(paths, infos):
        rates.setdefault(info["sfreq"], []).append(str(path))
    if len(rates) > 1:
        listing = "; ".join(f"{rate:g} Hz: {', '.join(p)}" for rate, p in rates.items())
        raise UserError(
            f"recordings have different sampling rates ({listing}); set config "
            "preprocess.resample_sfreq to one rate for all"
        )
    reference = set(tables[0].column_names)
    for path, table in zip(paths[1:], tables[1:]):
        columns = set(table.column_names)
        if columns != reference:
            raise UserError(
                f"{path} and {paths[0]} have different columns "
                f"(only in the first: {sorted(columns - reference)[:6]}, only in the "
                f"second: {sorted(reference - columns)[:6]}); if their channels differ, "
                "choose common channels with config preprocess.picks (and "
                "preprocess.rename), or set combine.mismatched_columns: drop"
            )
