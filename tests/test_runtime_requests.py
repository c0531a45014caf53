"""Runtime requests: never below the measured job times, within 3x of them above the
minimum, from the constants of eegflow.resources; the SLURM profile adds none."""

import math
import sys

import numpy as np
import pytest
import yaml

from conftest import ROOT
from eegflow.features import FEATURES
from eegflow.resources import (
    FEATURE_SECONDS_PER_MVALUE,
    JOB_START_S,
    MIN_RUNTIME_MIN,
    features_seconds,
    runtime_request_min,
)

sys.path.insert(0, str(ROOT / "benchmarks"))

from runtime_requests import (  # noqa: E402
    DEFAULT_FEATURES,
    MEASURED,
    estimated_seconds,
    reference_s,
)


@pytest.mark.parametrize(
    "point", MEASURED, ids=lambda p: f"{p['rule']}-{p['minutes']}min"
)
def test_requests_cover_the_measured_time_within_3x(point):
    # the time with a core of its own (reference_s): never more than asked for, and
    # at most 3x less (in whole minutes, as SLURM takes it), unless it is the minimum
    requested_min = runtime_request_min(estimated_seconds(point))
    assert 60 * requested_min >= reference_s(point)
    assert requested_min <= max(math.ceil(3 * reference_s(point) / 60), MIN_RUNTIME_MIN)


def test_a_2_hour_64_channel_recording_asks_for_minutes_not_days():
    # 922 MB of EDF, 1,843 MB of preprocessed FIF, 3,600 windows of 2 s at 1 kHz: the
    # requests were 102 min (preprocess) and 3,696 min (features) for 2 min of work
    requests = {
        point["rule"]: runtime_request_min(estimated_seconds(point))
        for point in MEASURED
        if point["minutes"] == 120
    }
    assert requests["preprocess"] <= 10
    assert requests["features"] <= 30
    assert (
        runtime_request_min(features_seconds(DEFAULT_FEATURES, (3600, 64, 2000)))
        == (requests["features"])
    )
    assert runtime_request_min(
        features_seconds(DEFAULT_FEATURES, (3600, 64, 2000)), 2
    ) == (2 * requests["features"])  # a retry asks for twice as long


def test_every_feature_has_a_measured_cost_and_entropies_cost_more():
    assert set(FEATURE_SECONDS_PER_MVALUE) == set(FEATURES)
    shape = (3600, 64, 2000)
    cheap = {"compute": {"variance": {}}}
    entropy = {"compute": {"variance": {}, "sample_entropy": {}}}
    assert features_seconds(entropy, shape) > 5 * features_seconds(cheap, shape)
    # an entropy costs more per value on longer windows (30 s at 250 Hz)
    longer = (960, 64, 7500)  # as many values as shape
    assert features_seconds(entropy, longer) > 3 * features_seconds(entropy, shape)
    assert features_seconds(cheap, longer) == features_seconds(cheap, shape)
    pairwise = {"compute": {"coherence": {"bands": {"alpha": [8, 12]}}}}
    many, few = (3600, 64, 2000), (3600, 4, 2000)
    per_value = [
        (features_seconds(pairwise, shape) - JOB_START_S) / np.prod(shape)
        for shape in (many, few)
    ]
    assert per_value[0] > 10 * per_value[1]  # a channel's pairs grow with the channels


def test_the_slurm_profile_takes_the_rules_requests():
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    defaults = "\n".join(profile.get("default-resources", []))
    assert "runtime" not in defaults and "mem_mb" not in defaults
    for path in (ROOT / "workflow" / "rules").glob("*.smk"):
        for block in path.read_text().split("\nrule ")[1:]:
            assert "runtime=" in block and "mem_mb=" in block, (path, block[:40])
