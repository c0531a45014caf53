"""The quality-control table: one row per recording, to sort before opening a plot.

Built from what the stages recorded: the preprocessing record (rates, durations,
bad channels and why, line noise, amplitudes) and the window table (windows per
label, windows rejected). Recordings left out with ``input.exclude`` get a row
with status "excluded".
"""

import logging

import pandas as pd
import pyarrow.parquet as pq

from .fileio import atomic_output, read_record
from .windows import window_table_info

log = logging.getLogger(__name__)


def qc_row(recording, source, record, windows):
    """The QC row of one recording from its record and its window table (pandas)."""
    bad = record["bad_channels"]
    row = {
        "recording": recording,
        "status": "done",
        "source": source,
        "duration_s_original": record["duration_s_original"],
        "duration_s": record["duration_s"],
        "sfreq_original": record["sfreq_original"],
        "sfreq": record["sfreq"],
        "n_channels": len(record["channels"]),
        "channels": " ".join(record["channels"]),
        "n_bad_channels": len(bad),
        "bad_channels": "; ".join(f"{name}: {', '.join(why)}" for name, why in bad.items()),
        "bad_channel_action": record["bad_channel_action"],
        "line_noise_db_50": record["line_noise_db"]["50"],
        "line_noise_db_60": record["line_noise_db"]["60"],
        "notch_hz": " ".join(f"{f:g}" for f in record["notch_hz"]),
        "windows": len(windows),
        "windows_rejected": int(windows["rejected"].sum()),
    }
    if "label" in windows:
        for label, count in windows["label"].value_counts(sort=False).items():
            row[f"windows_{label}"] = int(count)
    for channel, statistics in record["amplitude_uv"].items():
        row[f"amplitude_median_uv_{channel}"] = statistics["median"]
        row[f"amplitude_spread_uv_{channel}"] = statistics["spread"]
    return row


def write_qc_table(recordings, records, window_tables, excluded, outputs):
    """Write the QC table (parquet and CSV) of a run.

    Parameters
    ----------
    recordings : dict
        ``{recording id: source file}``, in table order.
    records, window_tables : list of path-like
        Each recording's preprocessing record and window table, in that order.
    excluded : list of str
        Ids left out with config ``input.exclude``.
    outputs : dict
        ``parquet`` and ``csv`` paths.
    """
    rows = []
    for (recording, source), record, windows in zip(recordings.items(), records,
                                                    window_tables):
        table = pq.read_table(windows)
        window_table_info(table)  # a window table of this workflow
        rows.append(qc_row(recording, source, read_record(record), table.to_pandas()))
    rows += [{"recording": recording, "status": "excluded"} for recording in excluded]
    table = pd.DataFrame(rows)
    with atomic_output(outputs["parquet"]) as tmp:
        table.to_parquet(tmp, index=False)
    with atomic_output(outputs["csv"]) as tmp:
        table.to_csv(tmp, index=False)
    flagged = table[(table["status"] == "done") & (table["n_bad_channels"] > 0)]
    log.info("QC of %d recordings (%d excluded); %d with bad channels", len(recordings),
             len(excluded), len(flagged))
