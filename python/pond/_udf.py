"""Python functions in a pipeline: map, filter, flat_map (rows as dicts)
and map_batches (pandas DataFrames).

How they run (docs/PYTHON.md, "Python functions"): the function is
serialised with cloudpickle when the step is made (an unpicklable one
raises PickleError there, before anything runs). When an action needs the
step, pond computes its input (one Parquet file per partition), and up to
num_workers Python processes (`python3 -m pond._runner TASK`, the same
interpreter) apply the function to each partition in parallel, writing JSON lines; the step's DataFrame is
then a pond source over those files, one partition per input partition,
typed by schema= (or, for filter, by the input's columns; else DuckDB
infers the types). An exception in the function fails the step with its
Python traceback (TaskError). The output is kept in the job's directory,
so a rerun with the same job_id reuses it.
"""
import concurrent.futures
import json
import math
import os
import pickle
import shutil
import subprocess
import sys
import traceback

from .errors import PickleError, TaskError

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


def _row_line(row):
    return json.dumps({str(k): _clean(v) for k, v in row.items()}, default=str)


def _write_part(path, rows=None, frame=None):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        if frame is not None:
            if len(frame):
                f.write(frame.to_json(orient="records", lines=True, date_format="iso"))
                f.write("\n")
        else:
            for r in rows:
                f.write(_row_line(r))
                f.write("\n")
    os.replace(tmp, path)


def write_rows(path, parts):
    """Writes each part (a list of dicts, or a pandas DataFrame) as
    part-NNNNN.jsonl into path, then _SUCCESS."""
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


def _apply(pickled, kind, rows, columns, batch_size, out):
    """In a pool process: the function over one partition's rows. Returns
    None, or the traceback of what failed."""
    try:
        import cloudpickle
        func = cloudpickle.loads(pickled)
        if kind == "map":
            _write_part(out, rows=[func(r) for r in rows])
        elif kind == "filter":
            _write_part(out, rows=[r for r in rows if func(r)])
        elif kind == "flat_map":
            _write_part(out, rows=[o for r in rows for o in func(r)])
        else:  # map_batches
            import pandas as pd
            frames = []
            step = batch_size or max(len(rows), 1)
            for lo in range(0, max(len(rows), 1), step):
                got = func(pd.DataFrame(rows[lo:lo + step], columns=columns))
                if hasattr(got, "to_pandas") and not isinstance(got, pd.DataFrame):
                    got = got.to_pandas()  # a pyarrow table
                frames.append(got)
            _write_part(out, frame=pd.concat(frames, ignore_index=True) if frames else pd.DataFrame())
        return None
    except BaseException:  # noqa: B902 - the user's error, reported whole
        return traceback.format_exc()


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
        out_schema = dict(schema) if schema else dict(in_schema) if kind == "filter" else None
        out = os.path.join(sp._root, key, "python")
        if not os.path.exists(os.path.join(out, "_SUCCESS")):
            _run(sp, df, kind, pickled, [c for c, _ in in_schema], batch_size, out)
        src = sp._rows_source(out, out_schema, key)
        return src._handle()
    return DataFrame(sp, key, make, [df], lazy=True)


def _run(sp, df, kind, pickled, columns, batch_size, out):
    result = sp._compute(df)
    parts = sorted(f for f in os.listdir(result) if f.endswith(".parquet"))
    tmp = out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    jobs = []
    for i, name in enumerate(parts):
        n, cols = sp._fetch(df, os.path.join(result, name))
        names = [c[0] for c in cols]
        rows = [dict(zip(names, vals)) for vals in zip(*[c[2] for c in cols])] if cols else []
        task = os.path.join(tmp, f"task-{i:05d}.pickle")
        with open(task, "wb") as f:
            pickle.dump((pickled, kind, rows, columns, batch_size, os.path.join(tmp, f"part-{i:05d}.jsonl")), f)
        jobs.append((i, task))
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")

    def one(job):
        i, task = job
        p = subprocess.run([sys.executable, "-m", "pond._runner", task], env=env, capture_output=True, text=True)
        os.unlink(task)
        return i, p.returncode, p.stderr

    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=sp.num_workers) as pool:
        for i, rc, err in pool.map(one, jobs):
            if rc:
                failures.append((i, err))
    if failures:
        i, tb = failures[0]
        more = f" ({len(failures) - 1} more partitions failed)" if len(failures) > 1 else ""
        raise TaskError(f"{kind}: the Python function failed on partition {i}{more}:\n{tb.rstrip()}", 3)
    open(os.path.join(tmp, "_SUCCESS"), "w").close()
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
