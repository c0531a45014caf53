"""Quality control: a table with one row per recording, and pictures.

Built from what the stages recorded: the preprocessing record (rates, durations,
bad channels and why, line noise, amplitudes, spectra before preprocessing) and
the window table (windows per label, windows rejected). Recordings left out with
``input.exclude`` get a row with status "excluded". Figures are small PNGs for
Snakemake's HTML report (``snakemake --report report.html qc``).
"""

import contextlib
import json
import logging
import os
from html import escape

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from .fileio import atomic_output, read_raw_lazily, read_record
from .provenance import same_data
from .windows import window_table_info

log = logging.getLogger(__name__)


def qc_row(recording, source, record, windows):
    """The QC row of one recording from its record and its window table (pandas,
    from :func:`read_window_table`)."""
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
        "bad_channels": "; ".join(
            f"{name}: {', '.join(why)}" for name, why in bad.items()
        ),
        "bad_channel_action": record["bad_channel_action"],
        "bad_channel_criteria_skipped": " ".join(
            record["bad_channel_criteria_skipped"]
        ),
        "line_noise_db_50": record["line_noise_db"]["50"],
        "line_noise_db_60": record["line_noise_db"]["60"],
        "notch_hz": " ".join(f"{f:g}" for f in record["notch_hz"]),
        "untreated": "; ".join(record["untreated"]),
        "warnings": "; ".join(record["warnings"]),
        "windows_warnings": "; ".join(windows.attrs["info"]["warnings"]),
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


def add_same_data_column(rows, sources):
    """Give each QC row ``same_data_as``: the recordings holding the same data
    (:func:`eegflow.provenance.same_data` of ``sources``, ``{id: source_files}``
    of the recordings whose record exists), "" for none."""
    copies = same_data(sources)
    for row in rows:
        row["same_data_as"] = " ".join(copies.get(row["recording"], []))


def ica_columns(components):
    """QC columns of a recording's ICA components table: components fitted, removed,
    the removed ones with their reasons, and what went against the fit."""
    removed = components[components["removed"]]
    return {
        "ica_components": len(components),
        "ica_removed": len(removed),
        "ica_removed_why": "; ".join(
            f"{c}: {why}" for c, why in zip(removed["component"], removed["reason"])
        ),
        "ica_warnings": "; ".join(sorted(set(components["fit_warnings"].dropna()))),
    }


def write_qc_table(
    recordings, records, window_tables, excluded, features, outputs, ica_tables=()
):
    """Write the QC table (parquet and CSV) of a run.

    Parameters
    ----------
    recordings : dict
        ``{recording id: source file}``, in table order.
    records, window_tables : list of path-like
        Each recording's preprocessing record and window table, in that order.
    excluded : list of str
        Ids left out with config ``input.exclude``.
    features : path-like
        The combined feature table, for the ``by_target`` figure.
    outputs : dict
        Paths: ``parquet`` and ``csv`` (the table), ``html`` (the table as a
        page that sorts on a click) and ``by_target`` (features by label).
    ica_tables : list of path-like
        With ICA, each recording's components table (:func:`eegflow.ica.apply_ica`),
        in the same order: the ``ica_*`` columns.
    """
    rows, sources = [], {}
    for (recording, source), record, windows in zip(
        recordings.items(), records, window_tables
    ):
        record = read_record(record)
        rows.append(qc_row(recording, source, record, read_window_table(windows)))
        sources[recording] = record["provenance"]["source_files"]
    add_same_data_column(rows, sources)
    for row, components in zip(rows, ica_tables):
        row.update(ica_columns(pd.read_csv(components, sep="\t")))
    table = _write_rows(rows, excluded, outputs)
    write_qc_html(outputs["parquet"], outputs["html"])
    plot_features_by_target(features, outputs["by_target"])
    flagged = table[(table["status"] == "done") & (table["n_bad_channels"] > 0)]
    log.info(
        "QC of %d recordings (%d excluded); %d with bad channels",
        len(recordings),
        len(excluded),
        len(flagged),
    )


def write_run_qc_table(recordings, failed, excluded, outputs):
    """After a run that failed, or succeeded after a failed one, without the qc
    job: the QC table with a row for each recording, failed or not.

    A recording is "failed" (with the failing rule and its one-line message)
    if one of its jobs failed in this run, "done" if its feature table exists,
    and "not run" otherwise (the run stopped first or did not ask for it); the
    columns its finished stages recorded are filled either way. The table's HTML
    page and figures are not written, and the page is removed, so
    ``snakemake qc`` rebuilds the whole table once every recording is through.

    Parameters
    ----------
    recordings : dict
        ``{recording id: {"source", "record", "windows", "features"}}``: its
        source file and the paths of its record, window table and feature
        table, in table order.
    failed : list of dict
        The failed jobs (:func:`eegflow.failures.failed_jobs`).
    excluded : list of str
        Ids left out with config ``input.exclude``.
    outputs : dict
        Paths: ``parquet``, ``csv`` and ``html``.

    Returns
    -------
    pandas.DataFrame
        The table written.
    """
    failures = {job["recording"]: job for job in failed if job["recording"]}
    rows, sources = [], {}
    for recording, paths in recordings.items():
        if os.path.exists(paths["record"]) and os.path.exists(paths["windows"]):
            record = read_record(paths["record"])
            sources[recording] = record["provenance"]["source_files"]
            row = qc_row(
                recording,
                paths["source"],
                record,
                read_window_table(paths["windows"]),
            )
        else:
            row = {"recording": recording, "source": paths["source"]}
        if recording in failures:
            row.update(
                status="failed",
                failed_rule=failures[recording]["rule"],
                message=failures[recording]["message"],
            )
        elif not os.path.exists(paths["features"]):
            row["status"] = "not run"
        rows.append(row)
    add_same_data_column(rows, sources)
    table = _write_rows(rows, excluded, outputs)
    with contextlib.suppress(FileNotFoundError):
        os.remove(outputs["html"])  # incomplete outputs: the qc job runs next time
    return table


def read_window_table(path):
    """A window table of this workflow (checked) as a pandas data frame, its
    metadata (:func:`eegflow.windows.window_table_info`) in ``attrs["info"]``."""
    table = pq.read_table(path)
    info = window_table_info(table)
    frame = table.to_pandas()
    frame.attrs["info"] = info
    return frame


def _write_rows(rows, excluded, outputs):
    """Write QC rows plus one per excluded recording as parquet and CSV."""
    rows = rows + [
        {"recording": recording, "status": "excluded"} for recording in excluded
    ]
    table = pd.DataFrame(rows)
    columns = ["recording", "status", "source", "failed_rule", "message"]
    table = table[
        [c for c in columns if c in table] + [c for c in table if c not in columns]
    ]
    with atomic_output(outputs["parquet"]) as tmp:
        table.to_parquet(tmp, index=False)
    with atomic_output(outputs["csv"]) as tmp:
        table.to_csv(tmp, index=False)
    return table


# sort a column by clicking its header: the table's onclick, not a <script> (the report's
# landing page embeds the page in a script, which a "</script>" would end), so the table
# sorts on the landing page too
_SORT_ON_CLICK = (
    "const header = event.target.closest('th'); if (!header) return;"
    "const column = header.cellIndex, body = this.tBodies[0];"
    "const key = row => { const text = row.cells[column].innerText;"
    " const n = parseFloat(text); return isNaN(n) ? text : n; };"
    "const ascending = header.dataset.order !== 'asc';"
    "Array.from(body.rows).sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b)"
    " ? -1 : 0) * (ascending ? 1 : -1)).forEach(row => body.appendChild(row));"
    "header.dataset.order = ascending ? 'asc' : 'desc';"
)


def write_qc_html(table_path, out_path):
    """The QC table as a small HTML page whose columns sort on a click.

    The report's landing page (``workflow/report/workflow.rst``) embeds the page
    too: its styles apply to its own table (class ``qc-table``), not to the
    report around it, and it holds no ``<script>``.
    """
    table = pd.read_parquet(table_path)
    html = table.to_html(
        index=False,
        na_rep="",
        float_format=lambda v: f"{v:.4g}",
        classes="qc-table",
        border=0,
    )
    html = html.replace("<table ", f'<table onclick="{escape(_SORT_ON_CLICK)}" ', 1)
    page = (
        "<html><head><meta charset='utf-8'><style>.qc-table{border-collapse:"
        "collapse;font:12px sans-serif}.qc-table td,.qc-table th{border:1px solid"
        " #ccc;padding:2px 6px}.qc-table th{cursor:pointer;background:#eee}"
        "</style></head><body><p class='qc-note'>"
        f"{len(table)} recordings; click a column to sort.</p>{html}"
        "</body></html>"
    )
    with atomic_output(out_path) as tmp:
        tmp.write_text(page, encoding="utf-8")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_recording(preprocessed_path, record_path, windows_path, out_path, recording):
    """One recording's QC figure: spectra before and after preprocessing, a 10 s
    stretch of the preprocessed signal, and its windows over time.

    The spectra are per channel (log scale; before in grey, bad channels in
    red), with the filter edges (dashed) and notch frequencies (dotted)
    marked; the windows strip shows one tick per window, by label for
    annotation windows, rejected ones in red. 720 x 468 pixels, about 20 KB
    (:func:`save_png`).
    """
    from .cleaning import mean_spectra

    plt = _pyplot()
    record = read_record(record_path)
    raw = read_raw_lazily(preprocessed_path)
    sfreq, bad = raw.info["sfreq"], set(record["bad_channels"])
    figure = plt.figure(figsize=(10, 6.5), layout="constrained")
    grid = figure.add_gridspec(2, 2, height_ratios=[3, 1.2])
    spectra, stretch, strip = (
        figure.add_subplot(grid[0, 0]),
        figure.add_subplot(grid[0, 1]),
        figure.add_subplot(grid[1, :]),
    )

    before = record["psd_before"]
    for power in before["power"].values():
        spectra.semilogy(
            before["freqs"],
            np.maximum(power, 1e-30),
            color="0.8",
            lw=0.6,
            antialiased=False,
        )
    freqs, after = mean_spectra(raw)
    for name, power in after.items():
        spectra.semilogy(
            freqs,
            np.maximum(power, 1e-30),
            lw=0.8,
            color="tab:red" if name in bad else None,
            antialiased=False,
        )
    shown = [p for n, p in after.items() if n not in bad] + list(
        before["power"].values()
    )
    positive = np.concatenate(
        [np.asarray(p)[np.asarray(p) > 0] for p in shown] or [[1.0]]
    )
    spectra.set_ylim(positive.min() / 2, positive.max() * 2)  # a dead channel's 0 aside
    settings = record["provenance"]["config"]["preprocess"]["filter"]
    for edge in (settings["l_freq"], settings["h_freq"]):
        if edge:
            spectra.axvline(edge, ls="--", color="k", lw=0.8)
    for freq in record["notch_hz"]:
        spectra.axvline(freq, ls=":", color="tab:purple", lw=0.8)
    spectra.set(
        xlabel="frequency (Hz)",
        ylabel="power (V²/Hz)",
        title="Spectra: before (grey) and after preprocessing",
    )

    length = int(min(10 * sfreq, raw.n_times))
    start = max(0, raw.n_times // 2 - length // 2)
    data = raw.get_data(start=start, stop=start + length) * 1e6
    spacing = 4 * max(np.median(np.std(data, axis=1)), 1e-3)
    times = (start + np.arange(length)) / sfreq
    for index, (name, row) in enumerate(zip(raw.ch_names, data)):
        stretch.plot(
            times,
            row - np.mean(row) - index * spacing,
            lw=0.5,
            color="tab:red" if name in bad else "k",
            antialiased=False,  # dense: crisper, and a third of the bytes
        )
    stretch.set_yticks(
        -spacing * np.arange(len(raw.ch_names)), raw.ch_names, fontsize=7
    )
    stretch.set(
        xlabel="time in the preprocessed recording (s)",
        title=f"10 s of the signal (rows {spacing:.3g} µV apart)",
    )

    windows = pq.read_table(windows_path).to_pandas()
    seconds = record["duration_s_original"]
    unit, per = (
        ("s", 1)
        if seconds < 600
        else ("min", 60)
        if seconds < 3 * 3600
        else ("h", 3600)
    )
    rows = (
        windows["label"]
        if "label" in windows
        else pd.Series(["windows"] * len(windows))
    )
    categories = list(dict.fromkeys(rows))
    positions = rows.map({label: index for index, label in enumerate(categories)})
    colours = np.where(windows["rejected"], "tab:red", "tab:blue")
    strip.scatter(windows["start_s"] / per, positions, marker="|", c=colours, s=80)
    strip.set_yticks(range(len(categories)), categories, fontsize=7)
    strip.set(
        xlabel=f"window start ({unit} from the file's first sample)",
        title=f"{len(windows)} windows ({int(windows['rejected'].sum())} rejected, red)",
    )
    figure.suptitle(
        f"{recording}: {record['duration_s']:.0f} s at {sfreq:g} Hz, "
        f"{len(raw.ch_names)} channels, {len(bad)} bad"
    )
    save_png(figure, out_path)


# The colours the QC figures draw with (text and axes black, "before" spectra grey,
# bad channels and rejected windows red, notches purple, channels the colour cycle)
_FIGURE_COLOURS = ["black", "0.8", "tab:red", "tab:purple", "tab:blue"] + [
    f"C{index}" for index in range(10)
]


def _palette():
    """A palette image of the figures' colours, each also in 3 paler tints (the edges
    of anti-aliased text), 9 greys and white."""
    from matplotlib.colors import to_rgb
    from PIL import Image

    colours = np.array([to_rgb(colour) for colour in _FIGURE_COLOURS])
    tints = [1 - share * (1 - colours) for share in (1.0, 0.7, 0.45, 0.25)]
    greys = np.repeat(np.linspace(0, 1, 9)[:, None], 3, axis=1)
    entries = np.unique(np.round(np.vstack([*tints, greys]) * 255), axis=0)
    palette = Image.new("P", (1, 1))
    palette.putpalette(entries.astype(np.uint8).ravel().tolist())
    return palette


def save_png(figure, out_path):
    """Save a QC figure (and close it) as a 72 dpi PNG of a fixed palette of its colours.

    Each pixel becomes the nearest of :func:`_palette`'s colours, so a bad channel
    stays red: a fifth of matplotlib's RGBA PNG (about 20 KB instead of 130 KB for
    a recording's figure, its dense lines drawn without anti-aliasing), which keeps
    the HTML report of 1,000 recordings, where each figure is embedded, small
    enough to open.
    """
    import io

    from PIL import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    _pyplot().close(figure)
    buffer.seek(0)
    image = Image.open(buffer).convert("RGB")
    with atomic_output(out_path) as tmp:
        image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(
            tmp, format="png", optimize=True
        )


def feature_groups(columns, compute):
    """The feature columns of each configured feature and suffix, in config order.

    Parameters
    ----------
    columns : list of str
        Column names of a feature table.
    compute : dict
        Config ``features.compute``: ``{feature: parameters}``.

    Returns
    -------
    dict
        ``{(feature, suffix): [columns]}`` (suffix "" for a feature without
        one); a column goes to the longest feature name it starts with, so
        ``band_power`` and a feature named ``band_power_ratio`` stay apart.
    """
    from .features import FEATURES

    names = sorted(compute, key=len, reverse=True)
    groups = {
        (name, suffix): []
        for name, params in compute.items()
        for suffix in FEATURES[name].suffixes(**FEATURES[name].parameters(params))
    }
    for column in columns:
        name = next((n for n in names if column.startswith(f"{n}_")), None)
        if name is None:
            continue
        suffixes = [s for (n, s) in groups if n == name]
        suffix = max(
            (s for s in suffixes if s == "" or column.endswith(f"_{s}")), key=len
        )
        groups[(name, suffix)].append(column)
    return {key: group for key, group in groups.items() if group}


def plot_features_by_target(features_path, out_path, columns_per_row=4):
    """Each configured feature by label (or target): one panel per feature and
    suffix (``band_power`` alpha, beta, ...), its per-window mean over channels
    (or channel pairs), rejected windows left out.

    Boxes by label (annotation windows) or target, whiskers at 1.5 IQR and
    outliers not drawn, on a log scale when every value is positive and they
    span more than a factor 100; a histogram without labels or targets.
    """
    plt = _pyplot()
    table = pq.read_table(features_path)
    info = json.loads(table.schema.metadata[b"eegflow"])
    compute = info["provenance"]["config"]["features"]["compute"]
    table = table.to_pandas()
    kept = table[~table["rejected"]] if "rejected" in table else table
    groups = feature_groups(list(table.columns), compute)
    by = "label" if "label" in table else "target" if "target" in table else None
    rows = -(-len(groups) // columns_per_row)
    columns = min(len(groups), columns_per_row)
    figure, axes = plt.subplots(
        max(rows, 1),
        max(columns, 1),
        figsize=(2.6 * max(columns, 1), 0.4 + 2.1 * max(rows, 1)),
        layout="constrained",
        squeeze=False,
    )
    for ax, ((name, suffix), group) in zip(axes.flat, groups.items()):
        values = kept[group].mean(axis=1)
        if by is None:
            ax.hist(values.dropna(), bins=30)
        else:
            by_label = {  # every label, also one whose windows are all rejected
                str(label): values[kept[by] == label].dropna()
                for label in sorted(table[by].dropna().unique())
            }
            ax.boxplot(
                list(by_label.values()), tick_labels=list(by_label), showfliers=False
            )
            ax.set_xlabel(by, fontsize=8)
        finite = values.dropna()
        if len(finite) and finite.min() > 0 and finite.max() > 100 * finite.min():
            ax.set_yscale("log")
        ax.set_title(
            f"{name} {suffix}".strip() + f"\n(mean of {len(group)} columns)",
            fontsize=8,
        )
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(groups) :]:
        ax.set_visible(False)
    rejected = len(table) - len(kept)
    figure.suptitle(
        f"Features by {by or 'value'}: {len(kept)} windows"
        + (f" ({rejected} rejected left out)" if rejected else ""),
        fontsize=9,
    )
    save_png(figure, out_path)
