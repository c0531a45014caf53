"""Combine the per-recording feature tables into one parquet table."""

import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from . import UserError
from .fileio import atomic_output
from .provenance import with_stage

log = logging.getLogger(__name__)


def combine_feature_tables(paths, out_path, mismatched_columns="error"):
    """Concatenate per-recording feature parquets into ``out_path``.

    Rows keep the order of ``paths`` (the workflow passes them sorted by
    recording id) and each table's window order, so the result does not
    depend on which job finished first. Sampling rates must agree; columns
    too (see :func:`check_comparable`), unless ``mismatched_columns`` is
    "drop": then only the columns every table has are kept, in the first
    table's order, and the dropped ones are logged.
    """
    tables = [pq.read_table(path) for path in paths]
    if mismatched_columns == "drop":
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
    check_comparable(tables, paths)
    combined = pa.concat_tables(tables, promote_options="permissive")
    combined = combined.replace_schema_metadata(
        {"eegflow": json.dumps(combined_metadata(tables, paths, mismatched_columns))}
    )
    with atomic_output(out_path) as tmp:
        pq.write_table(combined, tmp)
    log.info(
        "%d rows from %d recordings -> %s", combined.num_rows, len(paths), out_path
    )


def combined_metadata(tables, paths, mismatched_columns):
    """The combined table's metadata: its sampling rate and provenance, the config
    and software of the recordings' tables (the same for all) plus combine's own
    setting, and every recording's source files."""
    first = json.loads(tables[0].schema.metadata[b"eegflow"])
    provenance = {
        key: value
        for key, value in first.get("provenance", {}).items()
        if key != "source_files"
    }
    provenance = with_stage(
        provenance, combine={"mismatched_columns": mismatched_columns}
    )
    provenance["recordings"] = {
        Path(path).stem: json.loads(table.schema.metadata[b"eegflow"])
        .get("provenance", {})
        .get("source_files")
        for path, table in zip(paths, tables)
    }
    return {"sfreq": first["sfreq"], "provenance": provenance}


def check_comparable(tables, paths):
    """Refuse to combine recordings whose features are not comparable.

    Recordings at different sampling rates (windows of different sample
    counts) or with different columns (e.g. different channels) would make a
    table with silent gaps or mixed meanings.
    """
    rates = {}
    for path, table in zip(paths, tables):
        sfreq = json.loads(table.schema.metadata[b"eegflow"])["sfreq"]
        rates.setdefault(sfreq, []).append(str(path))
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
