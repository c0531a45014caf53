"""Arrow arrays built from their buffers, for the tables window and feature jobs write.

pyarrow's converters (``pa.array``, ``pa.scalar``, a table from NumPy arrays or lists)
import pandas on their first call, to check whether the values are pandas objects:
0.2 s and about 40 MiB of resident memory in a process that holds no pandas object,
paid by every warm worker that runs a window or feature job and kept for its life.
The arrays here are the same Arrow arrays, type for type and value for value
(tests/test_arrow.py compares them with ``pa.array``'s), assembled from NumPy buffers;
values these functions do not cover go to ``pa.array`` itself.
"""

import numpy as np
import pyarrow as pa

# NumPy dtypes laid out in memory as these Arrow types are
PRIMITIVE_TYPES = {
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.int32): pa.int32(),
    np.dtype(np.float64): pa.float64(),
    np.dtype(np.float32): pa.float32(),
}
# offsets of pa.string() are int32: longer text needs pyarrow's own chunking
MAX_STRING_BYTES = 2**31 - 1


def _bitmap(flags):
    """An Arrow bit-packed buffer of booleans ``flags`` (least significant bit first)."""
    return pa.py_buffer(np.packbits(flags, bitorder="little"))


def _validity(valid):
    """Validity buffer and null count of ``valid`` (booleans): None, 0 when all valid."""
    n_null = int(valid.size - np.count_nonzero(valid))
    return (_bitmap(valid) if n_null else None), n_null


def numpy_array(values, valid=None):
    """The Arrow array of NumPy ``values`` (int32/64, float32/64 or bool, one axis), as
    ``pa.array(values)``; ``valid`` (booleans, optional) marks the non-null entries.

    NaN stays a floating-point NaN, not a null, as ``pa.array`` keeps it.
    """
    values = np.asarray(values)
    if values.ndim != 1:
        raise ValueError(f"one axis of values expected, not {values.shape}")
    validity, n_null = (
        _validity(np.asarray(valid, bool)) if valid is not None else (None, 0)
    )
    if values.dtype == np.bool_:
        data, arrow_type = _bitmap(values), pa.bool_()
    elif values.dtype in PRIMITIVE_TYPES:
        data = pa.py_buffer(np.ascontiguousarray(values))
        arrow_type = PRIMITIVE_TYPES[values.dtype]
    else:
        raise TypeError(f"no Arrow array from buffers for dtype {values.dtype}")
    return pa.Array.from_buffers(
        arrow_type, len(values), [validity, data], null_count=n_null
    )


def string_array(values):
    """``pa.array(values, pa.string())`` of ``values``: str, or None for a null."""
    if not all(value is None or isinstance(value, str) for value in values):
        return pa.array(values, pa.string())  # pyarrow's conversion or its error
    encoded = [b"" if value is None else value.encode() for value in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(text) for text in encoded], out=offsets[1:])
    if offsets[-1] > MAX_STRING_BYTES:
        return pa.array(values, pa.string())
    validity, n_null = _validity(
        np.array([value is not None for value in values], bool)
    )
    buffers = [
        validity,
        pa.py_buffer(offsets.astype(np.int32)),
        pa.py_buffer(b"".join(encoded)),
    ]
    return pa.Array.from_buffers(pa.string(), len(values), buffers, null_count=n_null)


def _kind(value):
    """The Arrow type pyarrow infers for one scalar, where this module builds it."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, str):
        return "string"
    if type(value) is int or isinstance(value, np.int64):
        return "int64" if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):  # NumPy's float64 too
        return "float64"
    return None


# the kinds of scalars in a list -> the NumPy dtype of its Arrow array, as pyarrow infers
INFERRED_DTYPES = {
    frozenset({"bool"}): np.bool_,
    frozenset({"int64"}): np.int64,
    frozenset({"float64"}): np.float64,
    frozenset({"int64", "float64"}): np.float64,
}
# ints mixed with floats convert exactly up to this magnitude (pyarrow refuses beyond)
EXACT_FLOAT_INT = 2**53


def python_array(values):
    """``pa.array(values)`` of a list of Python scalars (or NumPy's bool, int64 and
    float64), its type inferred as pyarrow infers it: bool, int64, float64 (ints and
    floats mixed), string or null, None a null in each; any other list is
    ``pa.array``'s own conversion (or its error)."""
    present = [value for value in values if value is not None]
    if not present:
        return pa.nulls(len(values))
    present_kinds = [_kind(value) for value in present]
    kinds = frozenset(present_kinds)
    if kinds == {"string"}:
        return string_array(values)
    dtype = INFERRED_DTYPES.get(kinds)
    if dtype is None or (
        len(kinds) == 2
        and any(
            kind == "int64" and abs(int(value)) > EXACT_FLOAT_INT
            for value, kind in zip(present, present_kinds)
        )
    ):
        return pa.array(values)
    valid = np.array([value is not None for value in values], bool)
    filled = np.zeros(len(values), dtype=dtype)
    filled[valid] = present
    return numpy_array(filled, None if valid.all() else valid)
