"""Combine the per-recording feature tables into one parquet table."""

import logging

import pyarrow as pa
import pyarrow.parquet as pq

from .fileio import atomic_output

log = logging.getLogger(__name__)


def combine_feature_tables(paths, out_path):
    """Concatenate per-recording feature parquets into ``out_path``.

    Rows keep the order of ``paths`` (the workflow passes them sorted by
    recording id) and each table's window order, so the result does not
    depend on which job finished first. Columns missing from some
    recordings (e.g. a metadata column) are filled with nulls.
    """
    tables = [pq.read_table(path) for path in paths]
    combined = pa.concat_tables(tables, promote_options="default")
    combined = combined.replace_schema_metadata(None)
    with atomic_output(out_path) as tmp:
        pq.write_table(combined, tmp)
    log.info("%d rows from %d recordings -> %s", combined.num_rows, len(paths), out_path)
