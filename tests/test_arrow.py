"""eegflow.arrow's arrays against pyarrow's own conversion (``pa.array``), the reference."""

import math
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from conftest import ROOT
from eegflow.arrow import numpy_array, python_array, string_array


def assert_same_array(built, reference):
    """Same type, nulls and values (NaN equal to NaN) as ``reference``."""
    assert built.type == reference.type
    assert built.null_count == reference.null_count
    built.validate(full=True)

    def values(array):
        return [
            "nan" if isinstance(v, float) and math.isnan(v) else v
            for v in array.to_pylist()
        ]

    assert values(built) == values(reference)


@pytest.mark.parametrize(
    "values",
    [
        np.arange(5, dtype=np.int64) - 2,
        np.array([2**62, -(2**63)], dtype=np.int64),
        np.array([1, 2], dtype=np.int32),
        np.array([0.5, np.nan, -np.inf, 1e300]),
        np.array([0.5, np.nan], dtype=np.float32),
        np.array([True, False] * 7 + [True]),  # 15: a partial last byte
        np.array([], dtype=np.float64),
        np.arange(10, dtype=np.int64)[::3],  # a strided view
    ],
)
def test_numpy_arrays_are_pyarrows(values):
    assert_same_array(numpy_array(values), pa.array(values))


def test_numpy_array_with_nulls_and_refusals():
    values = np.array([1.5, 2.5, np.nan])
    valid = np.array([True, False, True])
    assert_same_array(numpy_array(values, valid), pa.array(values, mask=~valid))
    with pytest.raises(TypeError, match="dtype"):
        numpy_array(np.array(["a"]))
    with pytest.raises(ValueError, match="one axis"):
        numpy_array(np.zeros((2, 2)))


@pytest.mark.parametrize(
    "values",
    [
        ["rec-1"] * 4,
        ["", None, "ptp 120 µV > 100", "flat"],
        [None, None],
        [],
        ["ünïcødé", "日本語", "a" * 1000],
    ],
)
def test_string_arrays_are_pyarrows(values):
    assert_same_array(string_array(values), pa.array(values, pa.string()))


def test_string_array_of_non_strings_is_pyarrows_own_error():
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError)):
        pa.array([1, "a"], pa.string())
    with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError)):
        string_array([1, "a"])


@pytest.mark.parametrize(
    "values",
    [
        [True, False, None],
        [np.bool_(True)] * 3,
        [1, 2, None, -(2**63), 2**63 - 1],
        [np.int64(7)] * 2,
        [1.5, None, float("nan")],
        [np.float64(0.25), 1.0],
        [1, 2.5, None],  # ints and floats mixed: float64
        ["sub-01", None],
        [None, None, None],
        [2**53 + 1, 0.5],  # beyond exact floats: pyarrow's own conversion
        [np.int64(-(2**63)), 0.5],  # (NumPy's abs of it overflows)
        [np.float32(1.5), np.float32(2)],  # another NumPy type: pyarrow's own
        [np.int32(3)],
        [2**64],  # beyond int64: pyarrow's own
        [],
    ],
)
def test_python_arrays_are_pyarrows(values):
    try:
        reference = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError) as error:
        with pytest.raises(type(error)):
            python_array(values)
        return
    assert_same_array(python_array(values), reference)


def test_mixed_kinds_are_pyarrows_own_error():
    for values in ([1, "a"], [True, 1], ["a", 1.5]):
        with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError)):
            pa.array(values)
        with pytest.raises((pa.ArrowInvalid, pa.ArrowTypeError, TypeError)):
            python_array(values)


def test_building_arrays_and_writing_them_does_not_import_pandas(tmp_path):
    code = (
        f"import sys; sys.path.insert(0, {str(ROOT / 'workflow' / 'scripts')!r})\n"
        "import numpy as np, pyarrow as pa, pyarrow.parquet as pq\n"
        "from eegflow.arrow import numpy_array, python_array, string_array\n"
        "table = pa.table({'a': numpy_array(np.arange(3.0)), 'b': string_array(['x',"
        " None, 'z']), 'c': python_array([1, None, 3]), 'd': numpy_array(np.ones(3,"
        " bool))})\n"
        "pq.write_table(table, 't.parquet')\n"
        "print('pandas' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.stdout.strip() == "False", result.stderr
