"""Memory bounded by design: the per-window estimate covers every feature's measured
peak, and a 50-channel 2 kHz recording with coherence stays within its request."""

import inspect
import re
import tracemalloc

import numpy as np
import pytest

from conftest import run_snakemake, write_config
from eegflow.features import FEATURES, batch_windows, window_memory_bytes
from eegflow.registry import WindowBatch

WELCH = {"segment_s": 1.0, "overlap": 0.5}
BANDS = {"alpha": [8, 12], "beta": [12, 30]}


def configured(name):
    """``name`` with the parameters it needs (bands where required)."""
    required = inspect.signature(FEATURES[name].function).parameters
    return (
        {"bands": BANDS}
        if "bands" in required and required["bands"].default is inspect.Parameter.empty
        else {}
    )


@pytest.mark.parametrize(
    "n_channels, n_samples, sfreq",
    [(4, 256, 128), (16, 256, 128), (16, 1024, 512), (32, 512, 256)],
)
def test_estimate_covers_every_features_measured_peak(n_channels, n_samples, sfreq):
    rng = np.random.default_rng(0)
    n_windows = 8
    data = rng.normal(size=(n_windows, n_channels, n_samples))
    for name in FEATURES:
        params = configured(name)
        settings = {"compute": {name: params}}
        # a first call's one-time allocations (imports, caches) belong to the job's base
        FEATURES[name].function(WindowBatch(data[:1].copy(), sfreq, WELCH), **params)
        batch = WindowBatch(data.copy(), sfreq, WELCH)
        tracemalloc.start()
        FEATURES[name].function(batch, **params)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        estimate = n_windows * window_memory_bytes(settings, n_channels, n_samples)
        # the estimate includes the batch's own copy of the data, made before this
        assert peak + data.nbytes <= estimate, (name, peak / data.nbytes)


def test_batches_shrink_to_fit_the_jobs_memory():
    settings = {"compute": {"coherence": {"bands": BANDS}}}
    shape = (16, 50, 4000)  # 50 channels, 2 s at 2 kHz
    per_window = window_memory_bytes(settings, 50, 4000)
    assert 300e6 < per_window < 400e6  # the issue measured ~300 MiB per window
    assert batch_windows(settings, shape, 256, mem_mb=2400) == 5
    assert batch_windows(settings, shape, 256, mem_mb=500) == 1  # and a warning
    # per-channel features: 1.6 MB of data + 10 copies = 17.6 MB per window
    assert batch_windows({"compute": {"variance": {}}}, shape, 256, mem_mb=2400) == 113
    assert batch_windows({"compute": {"variance": {}}}, (16, 6, 256), 256, 2400) == 256


def test_fifty_channels_at_2khz_with_coherence_stay_within_the_request(tmp_path):
    channels = [f"E{i:02d}" for i in range(50)]
    write_config(
        tmp_path,
        {
            "input": {
                "synthetic": {
                    "n_recordings": 1,
                    "channels": channels,
                    "sfreq": 2000,
                    "duration_s": 32,
                }
            },
            "features": {"compute": {"coherence": {"bands": BANDS}}},
        },
    )
    run_snakemake(tmp_path)
    log = (tmp_path / "results" / "logs" / "features" / "synthetic-00.log").read_text()
    requested = int(
        re.search(r"batches of (\d+) windows within the job's (\d+) MB", log).group(2)
    )
    batch = int(re.search(r"batches of (\d+) windows", log).group(1))
    peak_mib = float(re.search(r"peak RSS of this job: ([0-9.]+) MiB", log).group(1))
    assert 1 < batch < 16  # not all 16 windows at once (that would be ~5.6 GB)
    assert requested <= 2500  # base 400 MB + execution.feature_memory_mb 2000 + table
    assert peak_mib * 2**20 / 1e6 <= requested
