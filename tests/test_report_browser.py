"""The HTML report as a user sees it: opened in headless Chromium (Debian's package,
installed by tests/chromium/install.sh; skipped with the reason where it cannot be).

The report is a single page app; the tests open it with a small script appended that
does what a user's clicks do (Results > Quality control > Recordings, then a
recording's eye icon), or that measures where the landing page put things, and read
the page Chromium rendered.
"""

import json
import re
import subprocess

import pytest

from conftest import N_RECORDINGS, ROOT, run_snakemake

CHROMIUM_FLAGS = [  # headless, as root, on a machine whose network is closed
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--virtual-time-budget=5000",
    "--window-size=1400,900",
]


@pytest.fixture(scope="module")
def chromium():
    result = subprocess.run(
        ["bash", str(ROOT / "tests" / "chromium" / "install.sh")],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"Chromium unavailable: {result.stderr.strip()[-300:]}")
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def report(finished_run):
    """The report of the tiny run's quality control, as a user makes it."""
    run_snakemake(finished_run, "qc")
    run_snakemake(finished_run, "--report", "report.html", "qc")
    return finished_run / "report.html"


def opened(chromium, report, script, out_dir, mode):
    """Open ``report`` with ``script`` (JavaScript, run after the page's own) appended;
    ``mode`` is "--dump-dom" (returns the rendered page) or "--screenshot" (returns
    the path of a PNG of the window)."""
    head, tail = report.read_text().rsplit("</body>", 1)  # the page's own end
    page = out_dir / "report_opened.html"
    page.write_text(head + f"<script>{script}</script></body>" + tail)
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={out_dir / 'profile'}"]
    if mode == "--screenshot":
        shot = out_dir / "report.png"
        subprocess.run(
            [*command, f"--screenshot={shot}", page.as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
        return shot
    return subprocess.run(
        [*command, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def showing(figure):
    """A script doing a user's clicks, one after the other (React applies each view in
    turn): Results > Quality control > Recordings, then ``figure``'s eye icon."""
    return (
        "setTimeout(() => app.setView({navbarMode: 'subcategory', "
        "category: 'Quality control', subcategory: 'Recordings'}), 300); "
        "setTimeout(() => app.setView({content: 'img', "
        f"contentPath: results['{figure}'].data_uri, resultPath: '{figure}'}}), 800);"
    )


# Where the landing page put things, without a click (tops in pixels from the window's
# top), then the QC table's rows after two clicks on its first header, then the figures
# shown after a click on the gallery's first; as JSON in the page.
MEASURE_LANDING = """setTimeout(() => {
  const top = element => element ? Math.round(element.getBoundingClientRect().top) : null;
  const landing = document.getElementById("eegflow-landing");
  const table = landing.querySelector(".qc-table");
  const images = Array.from(landing.querySelectorAll(".eegflow-gallery img"));
  const rows = () => Array.from(table.tBodies[0].rows).map(row => row.cells[0].innerText);
  const seen = {
    window_height: window.innerHeight,
    headers: Array.from(table.tHead.rows[0].cells).map(cell => cell.innerText),
    rows: rows(),
    table_top: top(table),
    gallery_top: top(images[0]),
    gallery_loaded: images.map(image => image.src.startsWith("data:image/png")),
    gallery_names: Array.from(landing.querySelectorAll(".eegflow-gallery a")).map(a => a.innerText),
    rulegraph_top: top(document.getElementById("rulegraph")),
    landing_bottom: Math.round(landing.getBoundingClientRect().bottom),
  };
  table.tHead.rows[0].cells[0].click();
  table.tHead.rows[0].cells[0].click();
  seen.rows_sorted_twice = rows();
  landing.querySelector(".eegflow-gallery a").click();
  setTimeout(() => {
    seen.landing_after_click = document.getElementById("eegflow-landing") !== null;
    seen.shown_after_click = Array.from(document.images)
      .map(image => (image.src.match(/filename=([^;]+[.]png);/) || [])[1]).filter(Boolean);
    const out = document.createElement("pre");
    out.id = "measured";
    out.textContent = JSON.stringify(seen);
    document.body.appendChild(out);
  }, 500);
}, 1500);"""


def test_report_opens_on_the_qc_table_and_gallery(chromium, report, tmp_path):
    dom = opened(chromium, report, MEASURE_LANDING, tmp_path, "--dump-dom")
    seen = json.loads(re.search(r'<pre id="measured">(.*?)</pre>', dom).group(1))
    recordings = [f"synthetic-{i:02d}" for i in range(N_RECORDINGS)]
    # the QC table on the first screen: its columns and a row per recording
    assert {"recording", "status", "n_bad_channels", "windows_rejected"} <= set(
        seen["headers"]
    )
    assert seen["rows"] == recordings
    assert 0 <= seen["table_top"] < seen["window_height"] / 2
    # then the gallery, each recording's figure shown, its first row on that screen
    assert seen["gallery_names"] == recordings and all(seen["gallery_loaded"])
    assert seen["table_top"] < seen["gallery_top"] < seen["window_height"]
    # the workflow diagram after them, and the table sorts on a click there too
    assert seen["rulegraph_top"] >= seen["landing_bottom"]
    assert seen["rows_sorted_twice"] == recordings[::-1]
    # a click on a figure of the gallery shows it alone, at full size
    assert not seen["landing_after_click"]
    assert seen["shown_after_click"] == [f"{recordings[0]}.png"]


def test_each_recordings_figure_is_in_the_report(chromium, report, tmp_path):
    recordings = [f"synthetic-{i:02d}" for i in range(N_RECORDINGS)]
    for recording in recordings:
        dom = opened(
            chromium,
            report,
            showing(f"results/qc/{recording}.png"),
            tmp_path,
            "--dump-dom",
        )
        # the recordings listed in the rendered menu, and this one's figure shown
        assert all(f">{name}<" in dom for name in recordings)
        assert (
            f'<img src="data:image/png;charset=utf8;filename={recording}.png;base64,'
            in dom
        )
    shot = opened(
        chromium,
        report,
        showing("results/qc/synthetic-01.png"),
        tmp_path,
        "--screenshot",
    )
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000


def test_features_by_label_has_a_panel_per_configured_feature_and_suffix():
    from eegflow.features import feature_columns
    from eegflow.qc import feature_groups

    compute = {  # suffixes, pairs, and channel names with underscores
        "variance": {},
        "band_power": {"bands": {"alpha": [8, 12], "beta": [12, 30]}},
        "quantiles": {},
        "coherence": {"bands": {"alpha": [8, 12]}},
        "wavelet_energy": {},
    }
    columns = feature_columns({"compute": compute}, ["Fp1", "EEG_O1", "O2"])
    panels = {}  # as the registry names the columns
    for feature, suffix, _, _, column in columns:
        panels.setdefault((feature, suffix), []).append(column)
    table_columns = ["recording", "start_s", "target", *(c[-1] for c in columns)]
    assert feature_groups(table_columns, compute) == panels
    assert len(panels) == 1 + 2 + 3 + 1 + 5


@pytest.mark.parametrize("by", ["label", "target", None])
def test_features_by_label_is_drawn_when_every_window_is_rejected(tmp_path, by):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    from eegflow.qc import plot_features_by_target

    columns = {"rejected": [True] * 4, "variance_Fz": [1.0, 2.0, 3.0, 4.0]}
    if by:
        columns[by] = [0, 0, 1, 1]
    compute = {"features": {"compute": {"variance": {}}}}
    table = pa.table(columns).replace_schema_metadata(
        {"eegflow": json.dumps({"provenance": {"config": compute}})}
    )
    pq.write_table(table, tmp_path / "features.parquet")
    plot_features_by_target(tmp_path / "features.parquet", tmp_path / "by.png")
    assert Image.open(tmp_path / "by.png").mode == "P"  # the palette PNG
