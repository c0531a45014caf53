"""The HTML report as a user sees it: opened in headless Chromium (Debian's package,
installed by tests/chromium/install.sh; skipped with the reason where it cannot be).

The report is a single page app; the test opens it with a small script appended that
does what a user's clicks do (Results > Quality control > Recordings, then a
recording's eye icon), and reads the page Chromium rendered.
"""

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


def opened(chromium, report, figure, out_dir, mode):
    """Open ``report`` showing ``figure`` as a user's clicks would; ``mode`` is
    "--dump-dom" (returns the rendered page) or "--screenshot" (returns its path)."""
    navigate = (  # one click after the other: React applies each view in turn
        "<script>setTimeout(() => app.setView({navbarMode: 'subcategory', "
        "category: 'Quality control', subcategory: 'Recordings'}), 300); "
        "setTimeout(() => app.setView({content: 'img', "
        f"contentPath: results['{figure}'].data_uri, resultPath: '{figure}'}}), 800);"
        "</script>"
    )
    head, tail = report.read_text().rsplit("</body>", 1)  # the page's own end
    page = out_dir / "report_clicked.html"
    page.write_text(head + navigate + "</body>" + tail)
    command = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={out_dir / 'profile'}"]
    if mode == "--screenshot":
        shot = out_dir / f"{figure.split('/')[-1]}"
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


def test_each_recordings_figure_is_in_the_report(chromium, finished_run, tmp_path):
    run_snakemake(finished_run, "qc")
    run_snakemake(finished_run, "--report", "report.html", "qc")
    report = finished_run / "report.html"
    recordings = [f"synthetic-{i:02d}" for i in range(N_RECORDINGS)]
    for recording in recordings:
        dom = opened(
            chromium, report, f"results/qc/{recording}.png", tmp_path, "--dump-dom"
        )
        # the recordings listed in the rendered menu, and this one's figure shown
        assert all(f">{name}<" in dom for name in recordings)
        assert (
            f'<img src="data:image/png;charset=utf8;filename={recording}.png;base64,'
            in dom
        )
    shot = opened(
        chromium, report, "results/qc/synthetic-01.png", tmp_path, "--screenshot"
    )
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000
