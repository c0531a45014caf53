"""EEGDash's feature extraction against this workflow's features stage, same windows.

    python3 benchmarks/eegdash_comparison.py --eegdash-python .venv-braindecode/bin/python
        [--recordings 4] [--scales 1 2 16]

EEGDash is not a dependency (it brings braindecode and torch). Install it beside the
project, e.g. ``.venv-braindecode/bin/pip install eegdash==0.9.1`` (see
workflow/docs/performance.md for that environment).

Data: the embedded synthetic data set (6 channels at 128 Hz, 240 s each), ``--recordings``
of it, preprocessed by the workflow, cut into 2 s windows: 120 a recording (480 for 4,
EEGDash's seed recipe). The recipe: variance, multiscale entropy (m 2, r 0.2) and alpha and
beta band power from a Welch PSD. For each ``--scales`` N, both compute the sample entropy
at scales 1..N of every window and channel: equal work. The workflow's
``multiscale_entropy`` with ``scales: [1..N]`` is Costa's (sample entropy of the window
coarse-grained into means of N-sample runs). EEGDash 0.9.1's ``complexity_multiscale_entropy``
(``l_max=N``) fails beyond ``l_max`` 1 on any window (it sizes its counts as
``(n - m + 1) // l`` but takes ``ceil((n - m + 1) / l)`` of them), and its "scales" are
strides of the embedding, not coarse-graining; so for N > 1 EEGDash computes Costa's scales
with its own sample-entropy kernel (``complexity_entropy_preprocessor`` +
``complexity_sample_entropy``, its KDTree counts) on each coarse-grained window, in a
univariate feature of its feature tree: the same N sample entropies a window and channel.

Timed, on one core, from the same preprocessed FIFs: EEGDash's ``extract_features`` on
braindecode's windows of them (``create_fixed_length_windows``, lazily read, as its
tutorials do), in a process of its own after its imports; the workflow's features jobs
(``snakemake --cores 1 --forcerun features``): the sum of the jobs' wall times
(Snakemake's benchmark files, each job's process start and imports included) and the run's
wall time. Prints seconds and the ratios EEGDash / workflow.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from measure import print_table, run_measured, snakemake
from scaling import job_benchmarks

WINDOW_S = 2.0
BANDS = {"alpha": [8, 12], "beta": [12, 30]}


def workflow_config(n_recordings, scales):
    """The recipe as this workflow's config."""
    return {
        "input": {"synthetic": {"n_recordings": n_recordings}},
        "windows": {"window_s": WINDOW_S},
        "features": {
            "compute": {
                "variance": {},
                "multiscale_entropy": {
                    "m": 2,
                    "r": 0.2,
                    "scales": list(range(1, scales + 1)),
                },
                "band_power": {"bands": BANDS},
            }
        },
    }


def eegdash_measure(fifs, scales):
    """EEGDash's extract_features over braindecode's windows of ``fifs``: {seconds,
    windows}. Runs in the EEGDash environment."""
    import mne
    from braindecode.datasets import BaseConcatDataset, RawDataset
    from braindecode.preprocessing import create_fixed_length_windows
    from eegdash.features import (
        FeatureExtractor,
        complexity_multiscale_entropy,
        extract_features,
        signal_variance,
        spectral_bands_power,
        spectral_preprocessor,
    )
    from functools import partial

    import numpy as np
    from eegdash.features import (
        complexity_entropy_preprocessor,
        complexity_sample_entropy,
        univariate_feature,
    )

    @univariate_feature
    def costa_multiscale_entropy(x, /, m=2, r=0.2, scales=1):
        """Mean over scales 1..``scales`` of the sample entropy of ``x`` coarse-grained,
        each by EEGDash's own kernel."""
        entropies = np.empty((*x.shape[:-1], scales))
        for scale in range(1, scales + 1):
            runs = x.shape[-1] // scale
            coarse = x[..., : runs * scale].reshape(*x.shape[:-1], runs, scale)
            entropies[..., scale - 1] = complexity_sample_entropy(
                *complexity_entropy_preprocessor(coarse.mean(axis=-1), m=m, r=r)
            )
        return entropies.mean(axis=-1)

    datasets = [
        RawDataset(mne.io.read_raw_fif(fif, verbose="error"), target_name=None)
        for fif in fifs
    ]
    sfreq = datasets[0].raw.info["sfreq"]
    size = int(WINDOW_S * sfreq)
    windows = create_fixed_length_windows(
        BaseConcatDataset(datasets),
        window_size_samples=size,
        window_stride_samples=size,
        drop_last_window=True,
        preload=False,
    )
    features = FeatureExtractor(
        {
            "variance": signal_variance,
            "mse": (
                partial(complexity_multiscale_entropy, m=2, r=0.2, l_max=1)
                if scales == 1
                else partial(costa_multiscale_entropy, m=2, r=0.2, scales=scales)
            ),
            "spectral": FeatureExtractor(
                {"bands": partial(spectral_bands_power, bands=BANDS)},
                preprocessor=partial(
                    spectral_preprocessor, f_min=1, f_max=40, nperseg=int(sfreq)
                ),
            ),
        }
    )
    started = time.perf_counter()
    table = extract_features(windows, features, batch_size=512, n_jobs=1)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "windows": len(table.to_dataframe())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eegdash-python", required=False)
    parser.add_argument("--recordings", type=int, default=4)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 2, 16])
    parser.add_argument("--eegdash-run", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.eegdash_run:  # in the EEGDash environment
        scales, *fifs = args.eegdash_run
        print(json.dumps(eegdash_measure(fifs, int(scales))))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="eegflow-eegdash-") as workdir:
        workdir = Path(workdir)
        for scales in args.scales:
            config = workflow_config(args.recordings, scales)
            (workdir / "config.yaml").write_text(yaml.safe_dump(config))
            run_measured(snakemake("--cores", "1", "-q"), workdir)  # up to the table
            for stale in (workdir / "results" / "benchmarks" / "features").glob("*"):
                stale.unlink()
            run_s, _ = run_measured(
                snakemake("--cores", "1", "-q", "--forcerun", "features"), workdir
            )
            jobs_s = sum(
                s for rule, s, _ in job_benchmarks(workdir) if rule == "features"
            )
            fifs = sorted(
                str(p) for p in (workdir / "results" / "preprocessed").glob("*.fif")
            )
            row = {"scales": f"1-{scales}", "windows": args.recordings * 120}
            row["workflow_jobs_s"] = round(jobs_s, 2)
            row["workflow_run_s"] = round(run_s, 2)
            if args.eegdash_python:
                output = subprocess.run(
                    [
                        args.eegdash_python,
                        __file__,
                        "--eegdash-run",
                        str(scales),
                        *fifs,
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
                measured = json.loads(output.strip().splitlines()[-1])
                assert measured["windows"] == row["windows"], measured  # same windows
                row["eegdash_s"] = round(measured["seconds"], 2)
                row["x_jobs"] = round(measured["seconds"] / jobs_s, 1)
                row["x_run"] = round(measured["seconds"] / run_s, 1)
            rows.append(row)
    print(
        f"{args.recordings} synthetic recordings x 240 s, 6 channels at 128 Hz, "
        f"{WINDOW_S:g} s windows; one core; x = EEGDash s / workflow s:"
    )
    columns = ["scales", "windows", "workflow_jobs_s", "workflow_run_s", "eegdash_s"]
    columns += ["x_jobs", "x_run"]
    print_table([{c: row.get(c, "") for c in columns} for row in rows], columns)


if __name__ == "__main__":
    sys.exit(main())
