"""The real snakemake on a tiny copy of the default config: outputs and reruns."""

import json
import shutil
import subprocess

import mne
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import (
    DURATION_S,
    N_RECORDINGS,
    ROOT,
    WINDOW_S,
    documented_block,
    documented_classifier_scores,
    edit,
    planned_jobs,
    run_snakemake,
    snakemake_command,
    tiny_copy_of_default_config,
    write_config,
)
from eegflow import OPTIONAL_RECORDING_STAGES, RECORDING_STAGES


ALL_AFTER_PREPROCESS = {
    "preprocess": 4,
    "windows": 4,
    "features": 4,
    "combine": 1,
    "all": 1,
}


def test_combined_table(finished_run):
    table = pd.read_parquet(finished_run / "results" / "features.parquet")
    assert len(table) == N_RECORDINGS * DURATION_S // WINDOW_S
    assert not table.isna().any().any()
    assert list(table.columns[:7]) == [
        "recording",
        "window_index",
        "start_sample",
        "start_s",
        "rejected",
        "reject_reason",
        "target",
    ]
    assert not table["rejected"].any() and set(table["reject_reason"]) == {""}
    channels = ["O1", "Oz", "O2", "Cz", "Pz", "POz"]
    expected_features = (
        [f"variance_{c}" for c in channels]
        + [f"multiscale_entropy_{c}_scale{s}" for s in (1, 2) for c in channels]
        + [f"band_power_{c}_{b}" for b in ("alpha", "beta") for c in channels]
    )
    assert list(table.columns[7:]) == expected_features
    assert table["recording"].is_monotonic_increasing
    alpha = table.filter(like="_alpha").mean(axis=1)
    assert alpha[table["target"] == 1].min() > alpha[table["target"] == 0].max()
    for stage in RECORDING_STAGES:
        assert (
            len(list((finished_run / "results" / "benchmarks" / stage).glob("*.tsv")))
            == 4
        )
        logs = list((finished_run / "results" / "logs" / stage).glob("*.log"))
        assert len(logs) == 4
        # BLAS/OpenMP pools are capped to the job's threads (1); MNE does not load
        # numba's compiler for a recording's times
        assert (
            "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1; "
            "MNE_USE_NUMBA=false" in logs[0].read_text()
        )


def test_nothing_to_do_when_everything_is_there(finished_run):
    assert planned_jobs(finished_run) == {}
    result = run_snakemake(finished_run)
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("h_freq: 30", "h_freq: 25", ALL_AFTER_PREPROCESS),
        ("tmin: 0,", "tmin: 1,", ALL_AFTER_PREPROCESS),
        (
            "window_s: 2",
            "window_s: 3",
            {"windows": 4, "features": 4, "combine": 1, "all": 1},
        ),
        (
            "scaling: none",
            "scaling: zscore",
            {"windows": 4, "features": 4, "combine": 1, "all": 1},
        ),
        ("r: 0.2,", "r: 0.25,", {"features": 4, "combine": 1, "all": 1}),
        ("beta: [12, 30]", "beta: [13, 30]", {"features": 4, "combine": 1, "all": 1}),
        ("seed: 42", "seed: 7", {"synthetic_recording": 4, **ALL_AFTER_PREPROCESS}),
        (
            "n_recordings: 4",
            "n_recordings: 5",
            {
                "synthetic_recording": 1,
                "preprocess": 1,
                "windows": 1,
                "features": 1,
                "combine": 1,
                "all": 1,
            },
        ),
        ("feature_batch_windows: 256", "feature_batch_windows: 3", {}),
        ("# EEG feature workflow settings.", "# My lab's settings.", {}),
    ],
)
def test_an_edit_reruns_exactly_what_it_shapes(finished_run, old, new, expected):
    config = finished_run / "config.yaml"
    edit(config, old, new)
    try:
        assert planned_jobs(finished_run) == expected
    finally:
        edit(config, new, old)
    assert planned_jobs(finished_run) == {}


def test_results_do_not_depend_on_cores_run_batches_or_batch_size(
    finished_run, tmp_path
):
    """One core, the run in two ``--batch`` halves (README, corpus scale), small
    feature batches: the same tables, and nothing left to do for a plain run."""
    config = tiny_copy_of_default_config(tmp_path)
    edit(config, "feature_batch_windows: 256", "feature_batch_windows: 4")
    first = run_snakemake(tmp_path, "--cores", "1", "--batch", "combine=1/2")
    assert not (tmp_path / "results" / "features.parquet").exists()
    assert len(list((tmp_path / "results" / "features").iterdir())) == N_RECORDINGS // 2
    assert "Considering only batch 1/2" in first.stdout + first.stderr
    run_snakemake(tmp_path, "--cores", "1", "--batch", "combine=2/2")
    assert planned_jobs(tmp_path) == {}
    ours = pd.read_parquet(tmp_path / "results" / "features.parquet")
    theirs = pd.read_parquet(finished_run / "results" / "features.parquet")
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    windows = "results/windows/synthetic-01.parquet"
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / windows), pd.read_parquet(finished_run / windows)
    )


def test_edits_between_batches_are_refused_then_remade_by_one_run(tmp_path):
    """README, "Thousands of recordings": the final batch does not look back at the
    earlier batches' tables; combine refuses to mix their settings, and the plain
    run after the loop remakes the stale tables, a changed data file's included."""
    config = tiny_copy_of_default_config(tmp_path)
    run_snakemake(tmp_path, "--batch", "combine=1/2")
    edit(config, "alpha: [8, 12]", "alpha: [7, 12]")
    data = tmp_path / "resources" / "synthetic"  # batch 1's recording 00 replaced
    shutil.copy(data / "synthetic-01_raw.fif", data / "synthetic-00_raw.fif")
    refused = run_snakemake(tmp_path, "--batch", "combine=2/2", check=False)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0
    assert (
        "results/features/synthetic-02.parquet was made with other settings than "
        "results/features/synthetic-00.parquet (config "
        "features.compute.band_power.bands.alpha: [7, 12] against [8, 12]; 2 of 4 "
        "feature tables differ from the first)"
    ) in output
    assert not (tmp_path / "results" / "features.parquet").exists()
    # the final batch left both of batch 1's tables (old alpha) and recording 00
    # (a new file) stale: the plain run remakes them
    assert planned_jobs(tmp_path) == {
        "preprocess": 1,
        "windows": 1,
        "features": 2,
        "combine": 1,
        "all": 1,
    }
    run_snakemake(tmp_path)
    metadata = pq.read_schema(tmp_path / "results" / "features.parquet").metadata
    features = json.loads(metadata[b"eegflow"])["provenance"]["config"]["features"]
    assert features["compute"]["band_power"]["bands"]["alpha"] == [7, 12]
    combined = pd.read_parquet(tmp_path / "results" / "features.parquet")
    values = [c for c in combined.columns if c.startswith(("variance", "band_power"))]
    assert len(values) == 18
    by_recording = combined.set_index(["recording", "window_index"])[values]
    np.testing.assert_array_equal(  # recording 00 now holds 01's samples
        by_recording.loc["synthetic-00"], by_recording.loc["synthetic-01"]
    )


def test_windows_read_as_the_readme_shows_are_the_fifs_samples(
    finished_run, monkeypatch
):
    monkeypatch.chdir(finished_run)
    shown = {}
    exec(documented_block("python", "**Reading windows.**"), shown)
    table, batch = shown["table"].to_pandas(), shown["batch"]
    data = mne.io.read_raw_fif(
        "results/preprocessed/synthetic-00_raw.fif", verbose="error"
    ).get_data()
    window = shown["windows"].shape[2]
    assert len(batch) == min(64, len(table)) > 3
    for index in (0, 3, len(batch) - 1):
        first = table["fif_sample"][index]
        np.testing.assert_array_equal(batch[index], data[:, first : first + window])
    assert len(shown["labels"]) == len(table)


def test_summary_table_plots_and_report(finished_run):
    run_snakemake(finished_run, "summary")
    table = pd.read_parquet(finished_run / "results" / "benchmarks.parquet")
    assert list(table.columns) == [
        "rule",
        "recording",
        "wall_s",
        "cpu_s",
        "max_rss_mib",
        "sampled_max_rss_mib",
        "input_mib",
    ]
    counts = table["rule"].value_counts().to_dict()
    counts.pop("qc", None)  # when a QC test ran first
    counts.pop("qc_figure", None)
    assert counts == {
        "synthetic_recording": 4,
        "preprocess": 4,
        "windows": 4,
        "features": 4,
        "combine": 1,
    }
    assert (table["wall_s"] > 0).all() and (table["max_rss_mib"] > 0).all()
    # the exact peak each job logged, not Snakemake's sampled value
    log = finished_run / "results" / "logs" / "features" / "synthetic-01.log"
    logged = float(log.read_text().split("peak RSS of this job: ")[-1].split(" MiB")[0])
    row = table[(table["rule"] == "features") & (table["recording"] == "synthetic-01")]
    assert row["max_rss_mib"].item() == logged
    assert (table.loc[table["rule"] != "synthetic_recording", "input_mib"] > 0).all()
    for plot in ("time_vs_memory.png", "scaling.png"):
        assert (finished_run / "results" / "plots" / plot).read_bytes()[
            :4
        ] == b"\x89PNG"
    run_snakemake(finished_run, "--report", "report.html", "summary")
    assert "time_vs_memory.png" in (finished_run / "report.html").read_text()


def test_stages_are_named_once():
    """Every per-recording stage is a rule file included by the Snakefile and grouped
    per recording by the SLURM profile (with the synthetic data it may start from and
    the per-recording jobs built when asked for)."""
    import yaml

    snakefile = (ROOT / "Snakefile").read_text()
    for stage in RECORDING_STAGES:
        assert (ROOT / "workflow" / "rules" / f"{stage}.smk").read_text().count(
            f"rule {stage}:"
        ) == 1
        assert f'include: "workflow/rules/{stage}.smk"' in snakefile
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["groups"] == [
        f"{rule}=recording"
        for rule in (
            "synthetic_recording",
            *RECORDING_STAGES,
            *OPTIONAL_RECORDING_STAGES,
            "bids_derivatives",
        )
    ]


def test_qc_table_figures_and_report(finished_run):
    run_snakemake(finished_run, "qc")
    qc = pd.read_parquet(finished_run / "results" / "qc.parquet")
    assert qc["recording"].tolist() == [
        f"synthetic-{i:02d}" for i in range(N_RECORDINGS)
    ]
    assert (qc["status"] == "done").all() and (qc["n_bad_channels"] == 0).all()
    assert (qc["windows"] == DURATION_S // WINDOW_S).all()
    assert (qc["line_noise_db_50"].abs() < 3).all()  # the synthetic data have no mains
    assert (qc["untreated"] == "").all()  # nor noisy channels: no dirt is said
    figures = sorted((finished_run / "results" / "qc").glob("*.png"))
    assert [f.stem for f in figures] == qc["recording"].tolist()
    assert all(
        f.read_bytes()[:4] == b"\x89PNG" and f.stat().st_size < 200_000 for f in figures
    )
    assert planned_jobs(finished_run) == {}  # qc is built only when asked for
    run_snakemake(finished_run, "--report", "report.html", "qc")
    report = (finished_run / "report.html").read_text()
    for figure in figures:
        assert f"results/qc/{figure.name}" in report
    assert "results/qc.html" in report and "features_by_target.png" in report


def test_a_rerun_says_what_changed_in_one_line(finished_run):
    """An edit is named once, in one short line, not as Snakemake's params diff of
    every job (about 900 characters each)."""
    config = finished_run / "config.yaml"
    edit(config, "h_freq: 30", "h_freq: 25")
    try:
        result = run_snakemake(finished_run, "--dry-run")
    finally:
        edit(config, "h_freq: 25", "h_freq: 30")
    output = result.stdout + result.stderr
    changed = [line for line in output.splitlines() if "Changed since" in line]
    assert changed == [
        "Changed since the last successful run: config preprocess.filter.h_freq: 30 -> 25"
    ]
    assert "before: {" not in output and "'l_freq'" not in output


def test_the_documented_command_clears_outputs_of_earlier_recordings(tmp_path):
    write_config(
        tmp_path, {"input": {"synthetic": {"n_recordings": 2, "duration_s": 8}}}
    )
    run_snakemake(tmp_path)
    write_config(
        tmp_path, {"input": {"synthetic": {"n_recordings": 1, "duration_s": 8}}}
    )
    run_snakemake(tmp_path)
    stale = sorted(
        str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*synthetic-01*")
    )
    assert "results/features/synthetic-01.parquet" in stale
    command = documented_block(
        "bash", "**Clearing outputs of earlier configurations.**"
    )
    snakemake = " ".join(snakemake_command())  # the tests' snakemake for the user's
    subprocess.run(
        command.replace("snakemake ", f"{snakemake} ", 1),
        shell=True,
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    left = sorted(
        str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*synthetic-01*")
    )
    # Snakemake tracks no benchmark file: those stay, harmless (summary reads the run's)
    assert [path for path in left if not path.startswith("results/benchmarks/")] == [
        "resources/synthetic/synthetic-01_raw.fif"  # an input, not an output of the run
    ]
    assert (tmp_path / "results" / "features" / "synthetic-00.parquet").exists()
    assert planned_jobs(tmp_path) == {}


def test_readme_classifier_finds_the_alpha_recordings(finished_run):
    """The README's scikit-learn block on the default data set's kind of recordings
    (alpha in every second one): it finds them, fold by fold."""
    scores = documented_classifier_scores(finished_run)
    assert len(scores) == N_RECORDINGS and min(scores) > 0.9, scores
