"""pond hands numbers over as arrays (pond_result_kind, pond_result_data)
and other values as text (DuckDB's VARCHAR cast) with NULL as None; these
turn them into Python values (or pandas Series) by the column's kind and
DuckDB type."""
import array
import ctypes
import datetime
import decimal

TEXT, INT64, DOUBLE, BOOL = 0, 1, 2, 3

_INTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
         "UBIGINT", "UHUGEINT"}
_FLOATS = {"FLOAT", "DOUBLE", "REAL"}


def _date(s):
    try:
        return datetime.date.fromisoformat(s)
    except ValueError:
        return s


def _timestamp(s):
    try:
        return datetime.datetime.fromisoformat(s)
    except ValueError:
        return s


def converter(dtype):
    """A function from pond's text to a Python value for DuckDB type dtype."""
    t = dtype.upper()
    if t in _INTS:
        return int
    if t in _FLOATS:
        return float
    if t == "BOOLEAN":
        return lambda s: s == "true"
    if t.startswith("DECIMAL"):
        return decimal.Decimal
    if t == "DATE":
        return _date
    if t.startswith("TIMESTAMP"):
        return _timestamp
    return str


def column(dtype, raw):
    """A column's values (bytes or None) as Python values."""
    conv = converter(dtype)
    if conv is str:
        return [None if v is None else v.decode() for v in raw]
    return [None if v is None else conv(v.decode()) for v in raw]


def pandas_dtype(dtype):
    """The pandas dtype a column of DuckDB type dtype gets in to_pandas."""
    t = dtype.upper()
    if t in _INTS - {"HUGEINT", "UHUGEINT", "UBIGINT"}:
        return "Int64"
    if t in _FLOATS:
        return "float64"
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith("TIMESTAMP"):
        return "datetime64[ns]" if t == "TIMESTAMP" else None
    return None


def pandas_column(pd, dtype, vals):
    """A pandas Series of a text column's values: numpy-backed when it has
    no NULL (fast), else a nullable type, else objects."""
    import numpy as np
    t = pandas_dtype(dtype)
    if t in ("Int64", "float64", "boolean") and None not in vals:
        return pd.Series(np.array(vals, dtype={"Int64": "int64", "float64": "float64", "boolean": "bool"}[t]))
    if t == "float64":
        return pd.Series(np.array([np.nan if v is None else v for v in vals], dtype="float64"))
    return pd.Series(vals, dtype=t if t else object)


def typed(kind, data, valid, n, pd=None):
    """A typed column (an array at address data, n rows; valid: bytes, 0
    for NULL) as a list of Python values, or with pd a pandas Series."""
    if pd is not None:
        return _typed_series(pd, kind, data, valid, n)
    if n == 0:
        return []
    if kind == BOOL:
        vals = [b == 1 for b in ctypes.string_at(data, n)]
    else:
        vals = array.array("q" if kind == INT64 else "d", ctypes.string_at(data, n * 8)).tolist()
    if b"\0" in valid:
        for i, v in enumerate(valid):
            if not v:
                vals[i] = None
    return vals


def _typed_series(pd, kind, data, valid, n):
    import numpy as np
    if n == 0:
        return pd.Series([], dtype={INT64: "Int64", DOUBLE: "float64", BOOL: "boolean"}[kind])
    width = 1 if kind == BOOL else 8
    buf = (ctypes.c_uint8 * (n * width)).from_address(data)
    vals = np.frombuffer(buf, dtype={INT64: np.int64, DOUBLE: np.float64, BOOL: np.uint8}[kind]).copy()
    if kind == BOOL:
        vals = vals.astype(bool)
    mask = np.frombuffer(valid, dtype=np.uint8) == 0
    if not mask.any():
        return pd.Series(vals)
    if kind == DOUBLE:
        vals[mask] = np.nan
        return pd.Series(vals)
    if kind == INT64:
        return pd.Series(pd.arrays.IntegerArray(vals, mask))
    return pd.Series(pd.arrays.BooleanArray(vals, mask))
