"""Bad configs stop the workflow at start, with the key named, before any job."""

from unittest import mock

import pytest
from snakemake.utils import validate

from conftest import ROOT, TINY_CONFIG, run_snakemake, write_config
from eegflow import UserError
from eegflow.checks import check_config


@pytest.mark.parametrize(
    "config, message",
    [
        ({"windows": {"window_s": "two"}}, "'two' is not of type 'number'"),
        ({"windwos": {"window_s": 2}}, "'windwos' was unexpected"),
        ({"windows": {"window_s": -2}}, "-2 is less than or equal to the minimum of 0"),
        ({"windows": {"stride_s": 0}}, "0 is less than or equal to the minimum of 0"),
        (
            {"features": {"compute": {"varience": {}}}},
            "features.compute.varience: unknown feature",
        ),
        (
            {"preprocess": {"filter": {"h_freq": 64}}},
            "preprocess.filter.h_freq=64 Hz is not below the Nyquist",
        ),
        (
            {"preprocess": {"filter": {"l_freq": 30, "h_freq": 10}}},
            "l_freq=30 Hz must be below",
        ),
        (
            {"windows": {"window_s": 40}},
            "windows.window_s=40 s is longer than the synthetic recordings",
        ),
        (
            {"preprocess": {"crop": {"tmin": 25}}, "windows": {"window_s": 10}},
            "after cropping (5 s",
        ),
        (
            {"input": {"source": "files", "files": ["nowhere/*.edf"]}},
            "no file matches ['nowhere/*.edf']",
        ),
        (
            {"input": {"source": "table"}},
            "input.table is empty while input.source is 'table'",
        ),
        (
            {"input": {"source": "bids", "bids": {"root": "nowhere"}}},
            "input.bids.root=nowhere: not a folder",
        ),
        (
            {"windows": {"annotations": {"mapping": {"W": 0}, "crop_wake_mins": 30}}},
            "crop_wake_mins needs windows.annotations.wake",
        ),
        (
            {"windows": {"annotations": {"mapping": {"W": 0}, "wake": ["Wake"]}}},
            "windows.annotations.wake: ['Wake'] are not in windows.annotations.mapping",
        ),
        (
            {"preprocess": {"reference": "averge"}},
            "On instance['preprocess']['reference']",
        ),
        (
            {"combine": {"mismatched_columns": "keep"}},
            "'keep' is not one of ['error', 'drop']",
        ),
        (
            {"preprocess": {"notch": {"freqs": [50, 100]}}},
            "preprocess.notch.freqs [100] Hz are not below the Nyquist frequency 64 Hz",
        ),
        (
            {"preprocess": {"resample_sfreq": 100000}},
            "100000 is greater than the maximum of 20000",
        ),
        (
            {"preprocess": {"resample_sfreq": 100, "notch": {"freqs": [49.5]}}},
            "preprocess.notch.freqs [49.5] Hz are not below the Nyquist frequency 50 Hz",
        ),
        (
            {"preprocess": {"steps": [{"filtr": {"l_freq": 1}}]}},
            "preprocess.steps[0]: 'filtr' is not a method of mne.io.Raw",
        ),
        (
            {"preprocess": {"bad_channels": {"detect": ["noisy"]}}},
            "'noisy' is not one of",
        ),
        (
            {"windows": {"reject": {"ptp_uv": "automatic"}}},
            "On instance['windows']['reject']",
        ),
        (
            {"windows": {"annotations": {"missing_label": "ignore"}}},
            "'ignore' is not one of ['error', 'warn']",
        ),
    ],
)
def test_bad_config_is_refused_before_any_job(tmp_path, config, message):
    write_config(
        tmp_path, {**TINY_CONFIG, **config} if "input" not in config else config
    )
    result = run_snakemake(tmp_path, check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()


def test_fastica_without_scikit_learn_is_refused_naming_the_fix():
    """MNE's FastICA needs scikit-learn (installed with picard): where it is missing, refused
    at start instead of an ImportError traceback in every ICA job."""
    config = {
        "preprocess": {"reference": "average"},
        "ica": {"enabled": True, "method": "fastica"},
    }
    validate(config, str(ROOT / "workflow/schemas/config.schema.yaml"), True)
    check_config(config)  # installed here (a test requirement)
    with mock.patch("importlib.util.find_spec", return_value=None):
        with pytest.raises(UserError, match="pip install scikit-learn, or use"):
            check_config(config)


def test_a_table_column_named_like_a_feature_column_is_refused_naming_it(tmp_path):
    """A recordings table's ``variance_Fz`` beside the feature column of that name
    made per-recording tables nobody could read or combine."""
    (tmp_path / "rec.edf").write_text("x")  # not opened before a job
    (tmp_path / "recordings.csv").write_text("path,variance_Fz\nrec.edf,3\n")
    write_config(
        tmp_path,
        {
            "input": {"source": "table", "table": "recordings.csv"},
            "features": {"compute": {"variance": {}}},
        },
    )
    result = run_snakemake(tmp_path, "--dry-run", check=False)
    assert result.returncode != 0
    assert (
        "recordings.csv: column 'variance_Fz' (recording 'rec') is named like the "
        "feature columns of config features.compute.variance (variance_<channel>...)"
        in result.stdout
        + result.stderr
    )
    assert "rename the column" in result.stdout + result.stderr


def test_a_config_file_is_code_as_the_documentation_says(tmp_path):
    """Snakemake reads config files with yte, which evaluates Python in a file that
    sets __use_yte__: hence "a config file is trusted input" in the README."""
    from snakemake.common.configfile import load_configfile

    from conftest import documentation

    config = tmp_path / "config.yaml"
    config.write_text('__use_yte__: true\nwindows:\n  window_s: ?len("abc")\n')
    assert load_configfile(config) == {"windows": {"window_s": 3}}
    assert "A config file is trusted input, like a script" in documentation()
