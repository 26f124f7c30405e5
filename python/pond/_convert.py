"""pond hands values over as text (DuckDB's VARCHAR cast) with NULL as
None; these turn them into Python values by the column's DuckDB type."""
import datetime
import decimal

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
    """A pandas Series of a column: numpy-backed when it has no NULL (fast),
    else a nullable type, else objects."""
    import numpy as np
    t = pandas_dtype(dtype)
    if t in ("Int64", "float64", "boolean") and None not in vals:
        return pd.Series(np.array(vals, dtype={"Int64": "int64", "float64": "float64", "boolean": "bool"}[t]))
    if t == "float64":
        return pd.Series(np.array([np.nan if v is None else v for v in vals], dtype="float64"))
    return pd.Series(vals, dtype=t if t else object)
