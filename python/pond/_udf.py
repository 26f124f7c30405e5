"""Python functions in a pipeline: map, filter, flat_map (rows as dicts)
and map_batches (pandas DataFrames).

How they run (docs/PYTHON.md, "Python functions"): the function is
serialised with cloudpickle when the step is made (an unpicklable one
raises PickleError there, before anything runs) and written to a file in
the job's directory. The step is a pond_python node: a stage of pond
tasks, task i running _runner.py over partition i of the input on the
worker that gets it, so it is scheduled, retried, journaled and resumed
like any task. The output's columns are schema=, or for filter the
input's, or else found by applying the function on the driver to the
input's first rows (INFER_ROWS). An exception in the function fails its
task for good, with the Python traceback as the error (TaskError).
"""
import datetime
import decimal
import json
import math
import os
import pickle
import shutil

from .errors import PickleError, TaskError, UsageError

INFER_ROWS = 100

_DTYPES = {"int64": "BIGINT", "int32": "INTEGER", "int16": "SMALLINT", "int8": "TINYINT", "float64": "DOUBLE",
           "float32": "FLOAT", "bool": "BOOLEAN", "datetime64[ns]": "TIMESTAMP", "Int64": "BIGINT",
           "boolean": "BOOLEAN", "string": "VARCHAR"}


def pandas_schema(df):
    """DuckDB types for a pandas DataFrame's columns, or None when one of
    them has no sure type (object columns are left to DuckDB to infer)."""
    out = {}
    for name, dt in df.dtypes.items():
        t = _DTYPES.get(str(dt))
        if t is None:
            return None
        out[str(name)] = t
    return out


def _clean(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return None
    return v


def _row_line(row, names=None):
    if names is None:
        return json.dumps({str(k): _clean(v) for k, v in row.items()}, default=str)
    return json.dumps({k: _clean(row.get(k)) for k in names}, default=str)


def _write_part(path, rows=None, frame=None, names=None):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        if frame is not None:
            if len(frame):
                f.write(frame.to_json(orient="records", lines=True, date_format="iso"))
                f.write("\n")
        else:
            for r in rows:
                f.write(_row_line(r, names))
                f.write("\n")
    os.replace(tmp, path)


def write_rows(path, parts):
    """Writes each part (a list of dicts, or a pandas DataFrame) as
    part-NNNNN.jsonl into path, then _SUCCESS (from_items, from_pandas)."""
    tmp = path + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    for i, p in enumerate(parts):
        target = os.path.join(tmp, f"part-{i:05d}.jsonl")
        if hasattr(p, "to_json"):
            _write_part(target, frame=p)
        else:
            _write_part(target, rows=p)
    open(os.path.join(tmp, "_SUCCESS"), "w").close()
    shutil.rmtree(path, ignore_errors=True)
    os.replace(tmp, path)


def _call(func, kind, rows, columns, batch_size):
    """The function over rows: a list of dicts, or a pandas DataFrame."""
    if kind == "map":
        return [func(r) for r in rows]
    if kind == "filter":
        return [r for r in rows if func(r)]
    if kind == "flat_map":
        return [o for r in rows for o in func(r)]
    import pandas as pd  # map_batches
    frames = []
    step = batch_size or max(len(rows), 1)
    for lo in range(0, max(len(rows), 1), step):
        got = func(pd.DataFrame(rows[lo:lo + step], columns=columns))
        if hasattr(got, "to_pandas") and not isinstance(got, pd.DataFrame):
            got = got.to_pandas()  # a pyarrow table
        frames.append(got)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def apply_file(pickle_path, in_path, out_path):
    """In a task (_runner.py): the function over the partition in in_path."""
    import cloudpickle

    from . import _convert
    with open(pickle_path, "rb") as f:
        pickled, kind, in_schema, out_names, batch_size = pickle.load(f)
    func = cloudpickle.loads(pickled)
    convs = [(name, _convert.converter(t)) for name, t in in_schema]
    rows = []
    with open(in_path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                raw = json.loads(line)
                rows.append({n: None if raw.get(n) is None else c(raw[n]) for n, c in convs})
    got = _call(func, kind, rows, [n for n, _ in in_schema], batch_size)
    if kind == "map_batches":
        _write_part(out_path, frame=got)
    else:
        _write_part(out_path, rows=got, names=out_names)


def _type_of(values):
    """The DuckDB type of a column of Python values (None: no value)."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return "VARCHAR"
    if kinds <= {bool}:
        return "BOOLEAN"
    if kinds <= {int, bool}:
        return "BIGINT"
    if kinds <= {int, float, bool, decimal.Decimal}:
        return "DOUBLE"
    if kinds <= {datetime.datetime}:
        return "TIMESTAMP"
    if kinds <= {datetime.date}:
        return "DATE"
    return "VARCHAR"


def infer_schema(func, kind, rows, columns, batch_size):
    """[(column, DuckDB type)] of the function's output on rows (run here,
    on the driver); a failure raises TaskError with the traceback."""
    import traceback
    try:
        got = _call(func, kind, rows, columns, batch_size)
    except Exception:
        raise TaskError(f"{kind}: the Python function failed on the first rows of its input "
                        f"(applied on the driver to find its output's columns; schema= avoids it):\n"
                        f"{traceback.format_exc().rstrip()}", 3)
    if kind == "map_batches":
        known = pandas_schema(got) or {}
        return [(str(c), known.get(str(c)) or _type_of([_scalar(v) for v in got[c].tolist()])) for c in got.columns]
    names = []
    for r in got:
        if not isinstance(r, dict):
            raise TaskError(f"{kind}: the Python function must return dicts (rows), not {type(r).__name__}", 3)
        names += [str(k) for k in r if str(k) not in names]
    return [(n, _type_of([r.get(n) for r in got])) for n in names]


def _scalar(v):
    return v.item() if hasattr(v, "item") else v


def python_step(df, kind, func, schema, batch_size=None):
    """The DataFrame of a Python function applied to df's partitions."""
    import cloudpickle

    from . import DataFrame, _key
    try:
        pickled = cloudpickle.dumps(func)
    except Exception as e:
        raise PickleError(f"{kind}: the function {func!r} cannot be serialised with cloudpickle: "
                          f"{type(e).__name__}: {e}") from e
    sp = df._sp
    key = _key(kind, df._key, pickled, schema, batch_size)

    def make(h):
        in_schema = df.schema
        if schema:
            out = [(str(k), str(v)) for k, v in dict(schema).items()]
        elif kind == "filter":
            out = list(in_schema)
        else:
            sample = df.take(INFER_ROWS)
            out = infer_schema(func, kind, sample, [c for c, _ in in_schema], batch_size)
            if not out:
                raise UsageError(f"{kind}: the function gave no rows for the first rows of its input, so its "
                                 f"output's columns are unknown: give schema={{'column': 'TYPE'}}")
        path = os.path.join(sp._root, f"python-{key}.pickle")
        if not os.path.exists(path):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                pickle.dump((pickled, kind, in_schema, [c for c, _ in out], batch_size), f)
            os.replace(tmp, path)
        return sp._python(h, kind, path, out)
    # with its columns known, the step is made (and checked) now; else when
    # first needed, since finding them runs the input's first rows
    return DataFrame(sp, key, make, [df], lazy=not (schema or kind == "filter"))
