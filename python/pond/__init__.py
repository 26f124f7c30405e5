"""pond's Python API: smallpond's Session and DataFrame over libpond.

    import pond as smallpond
    sp = smallpond.init(data_root="data", job_id="job1", num_workers=4)
    df = sp.read_parquet("prices/*.parquet")
    df = df.repartition(8, hash_by="ticker")
    df = sp.partial_sql("SELECT ticker, min(price) lo FROM {0} GROUP BY ticker", df)
    print(df.to_pandas())

Every step is made through libpond's plan-building API (include/pond.h,
pond_read … pond_write): Python never writes script text. A DataFrame is
lazy: its step is checked and bound in DuckDB when it is made (wrong SQL
raises there), and runs only when an action (count, take, take_all,
to_pandas, write_parquet) needs it. See docs/PYTHON.md.
"""
import ctypes
import hashlib
import inspect
import os
import sys
import tempfile
import uuid

from . import _convert
from ._lib import BY, FORMAT, POND_PROGRESS_NONE, Options, enc, kvs, lib, strings
from .errors import (BusyError, Error, InputError, InterruptedError, OutputExistsError, PickleError,  # noqa: F401
                     TaskError, UsageError, from_status)

__all__ = ["init", "Session", "DataFrame", "Error", "UsageError", "InputError", "TaskError",
           "OutputExistsError", "BusyError", "InterruptedError", "PickleError"]
__version__ = "0.1.0"


def init(data_root=None, job_id=None, num_workers=None, job_name=None, seed=42, memory_limit=None,
         progress=False, num_executors=None, **_ignored):
    """smallpond.init: a Session. data_root holds each job's directory
    (default: a temporary directory); job_id names the job, so a rerun with
    the same job_id resumes it (default: a fresh one); num_workers is the
    number of local worker processes (default: one per core). Under mpirun
    every rank calls init; the worker ranks serve tasks inside it and exit
    when rank 0's session ends."""
    return Session(data_root=data_root, job_id=job_id, num_workers=num_workers or num_executors, job_name=job_name, seed=seed,
                   memory_limit=memory_limit, progress=progress)


def _site():
    """The user's file and line that called into pond, for messages."""
    here = os.path.dirname(os.path.abspath(__file__))
    for fr in inspect.stack(0)[2:]:
        if not os.path.abspath(fr.filename).startswith(here):
            return fr.filename, fr.lineno
    return None, 0


def _key(*parts):
    h = hashlib.sha1()
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


class Session:
    """A pond session: builds DataFrames and runs them (smallpond.Session)."""

    def __init__(self, data_root=None, job_id=None, num_workers=None, job_name=None, seed=42,
                 memory_limit=None, progress=False):
        self._tmp = None
        if data_root is None:
            self._tmp = tempfile.mkdtemp(prefix="pond-")
            data_root = self._tmp
        self.data_root = os.path.abspath(data_root)
        self.job_id = str(job_id) if job_id is not None else uuid.uuid4().hex[:12]
        self.job_name = job_name
        self.num_workers = num_workers or os.cpu_count() or 1
        self._root = os.path.join(self.data_root, self.job_id)
        os.makedirs(self._root, exist_ok=True)
        self._computed = {}  # frame key -> its result directory, this session
        # the Python that pond's tasks run Python functions with: this one
        # (the workers are forked from this process, or are MPI ranks that
        # call init too)
        if sys.executable and not os.environ.get("POND_PYTHON"):
            os.environ["POND_PYTHON"] = sys.executable
        opts = Options()
        lib.pond_options_init(ctypes.byref(opts))
        opts.workers = int(num_workers or 0)
        opts.seed = int(seed)
        opts.progress = 0 if progress else POND_PROGRESS_NONE
        if memory_limit:
            opts.memory_limit = int(memory_limit)
        self._s = ctypes.c_void_p()
        lib.pond_session_new(ctypes.byref(opts), ctypes.byref(self._s))
        worker = ctypes.c_bool(False)
        st = lib.pond_mpi_join(self._s, ctypes.byref(worker))
        if worker.value:  # an MPI worker rank: it served rank 0 until released
            lib.pond_session_free(self._s)
            self._s = None
            sys.exit(0 if st == 0 else 1)
        self._check(st)

    # ---- errors and calls -------------------------------------------------
    def _check(self, st, sql=None):
        if st != 0:
            raise from_status(st, lib.pond_errmsg(self._s).decode(errors="replace"), sql)

    def _at(self):
        f, line = _site()
        lib.pond_at(self._s, enc(f), line)

    def _alive(self):
        if not self._s:
            raise UsageError("the session was shut down")

    def shutdown(self):
        """Ends the session (its plan-time DuckDB, its datasets)."""
        if self._s:
            lib.pond_session_free(self._s)
            self._s = None

    def __del__(self):
        try:
            self.shutdown()
        except Exception:  # interpreter teardown
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.shutdown()

    # ---- sources ----------------------------------------------------------
    def _read(self, fmt, paths, columns, opts, key_extra):
        self._alive()
        paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
        paths = [os.fspath(p) for p in paths]
        key = _key("read", fmt, [os.path.abspath(p) for p in paths], columns, opts, key_extra)

        def make():
            out = ctypes.c_void_p()
            cols = list(columns.items()) if isinstance(columns, dict) else [(c, "") for c in (columns or [])]
            self._at()
            st = lib.pond_read(self._s, FORMAT[fmt], strings(paths), len(paths), kvs(cols), len(cols),
                               kvs(opts), len(opts), ctypes.byref(out))
            self._check(st)
            return out.value
        return DataFrame(self, key, make, [])

    def read_parquet(self, paths, recursive=False, columns=None, union_by_name=False, **options):
        """read_parquet: one partition until repartitioned (as smallpond)."""
        if isinstance(columns, str):
            columns = [columns]
        opts = [("union_by_name", _text(union_by_name))] + [(k, _text(v)) for k, v in options.items()]
        return self._read("parquet", paths, columns, opts, recursive)

    def read_csv(self, paths, schema=None, delim=",", header=True, **options):
        """read_csv(paths, schema={'a': 'INT'}, delim=',')."""
        opts = [("delim", delim), ("header", _text(header))] + [(k, _text(v)) for k, v in options.items()]
        return self._read("csv", paths, dict(schema) if schema else None, opts, None)

    def read_json(self, paths, schema=None, **options):
        """read_json(paths, schema={'a': 'INT'})."""
        opts = [(k, _text(v)) for k, v in options.items()]
        return self._read("json", paths, dict(schema) if schema else None, opts, None)

    def from_items(self, items):
        """A one-partition DataFrame of Python values: dicts become columns,
        anything else a column named 'item'."""
        rows = [r if isinstance(r, dict) else {"item": r} for r in items]
        return self._from_rows(rows, None, "items")

    def from_pandas(self, df):
        """A one-partition DataFrame of a pandas DataFrame's rows."""
        import pandas as pd  # noqa: F401
        from ._udf import pandas_schema
        rows = df.to_dict(orient="records")
        return self._from_rows(rows, pandas_schema(df), "pandas")

    def from_arrow(self, table):
        """A DataFrame of a pyarrow Table (needs pyarrow)."""
        return self.from_pandas(table.to_pandas())

    def _from_rows(self, rows, schema, what):
        from ._udf import write_rows
        key = _key("from", what, _key(repr(rows)), schema)
        path = os.path.join(self._root, f"input-{key}")
        if not os.path.exists(os.path.join(path, "_SUCCESS")):
            write_rows(path, [rows])
        return self._rows_source(path, schema, key)

    def _rows_source(self, path, schema, key):
        files = sorted(os.path.join(path, f) for f in os.listdir(path) if f.endswith(".jsonl"))
        if not files:
            raise UsageError(f"{path}: no rows, and no schema to give the empty frame its columns")
        df = self._read("json", files, schema, [("format", "newline_delimited")], key)
        df._key = key
        if len(files) > 1:
            df = df.repartition(len(files))
            df._key = _key(key, "parts")
        return df

    def _python(self, h, kind, pickle_path, columns):
        """The pond_python node of a Python function (see _udf.py)."""
        runner = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_runner.py")
        out = ctypes.c_void_p()
        self._at()
        self._check(lib.pond_python(self._s, h, enc(kind), enc(runner), enc(pickle_path), kvs(columns), len(columns),
                                    ctypes.byref(out)))
        return out.value

    # ---- steps of several inputs -----------------------------------------
    def partial_sql(self, query, *inputs):
        """partial_sql(query, df0, df1, ...): query per partition; {0}, {1}
        name the inputs' partitions, {partition} the partition index."""
        return self._query("partial_sql", query, inputs)

    def sql(self, query, *inputs):
        """sql(query, df0, ...): over whole datasets, planned across workers."""
        return self._query("sql", query, inputs)

    def _query(self, kind, query, inputs):
        self._alive()
        for d in inputs:
            if not isinstance(d, DataFrame) or d._sp is not self:
                raise UsageError(f"{kind}: the inputs must be DataFrames of this session")
        key = _key(kind, query, [d._key for d in inputs])

        def make(*handles):
            arr = (ctypes.c_void_p * max(len(handles), 1))(*handles)
            out = ctypes.c_void_p()
            self._at()
            fn = lib.pond_partial_sql if kind == "partial_sql" else lib.pond_sql_step
            self._check(fn(self._s, enc(query), arr, len(handles), ctypes.byref(out)), query)
            return out.value
        return DataFrame(self, key, make, list(inputs))

    # ---- running -----------------------------------------------------------
    def _run_write(self, df, fmt, path, opts, overwrite, key):
        """Writes df to path through a run in the job directory of key;
        resumes that directory when this job ran it before."""
        job = os.path.join(self._root, key, "job")
        h = df._handle()
        # no call site: the plan (and so resuming it) must not depend on
        # the line of the action that asked for it
        lib.pond_at(self._s, None, 0)
        self._check(lib.pond_write(self._s, h, FORMAT[fmt], enc(path), kvs(opts), len(opts), overwrite))
        self._check(lib.pond_set_job(self._s, enc(job), True))
        self._check(lib.pond_run(self._s))

    def _compute(self, df):
        """The directory of df's rows as Parquet, one file per partition,
        computed once per session (and resumed across sessions by job_id)."""
        if df._key not in self._computed:
            out = os.path.join(self._root, df._key, "result")
            self._run_write(df, "parquet", out, [], True, df._key)
            self._computed[df._key] = out
        return self._computed[df._key]

    def _fetch(self, df, path, pd=None):
        """(rows, [(name, type, values)]): values a list of Python values,
        or with pd (pandas) a Series. Numbers cross as arrays."""
        res = ctypes.c_void_p()
        self._check(lib.pond_fetch(self._s, df._handle(), enc(path), ctypes.byref(res)))
        try:
            n = lib.pond_result_rows(res)
            cols = []
            for c in range(lib.pond_result_columns(res)):
                name = lib.pond_result_name(res, c).decode()
                dtype = lib.pond_result_type(res, c).decode()
                kind = lib.pond_result_kind(res, c)
                if kind == _convert.TEXT:
                    raw = lib.pond_result_values(res, c)[:n] if n else []
                    vals = _convert.pandas_column(pd, dtype, _convert.column(dtype, raw)) if pd else \
                        _convert.column(dtype, raw)
                else:
                    data = lib.pond_result_data(res, c) if n else None
                    valid = ctypes.string_at(lib.pond_result_valid(res, c), n) if n else b""
                    vals = _convert.typed(kind, data, valid, n, pd)
                cols.append((name, dtype, vals))
            return n, cols
        finally:
            lib.pond_result_free(res)


def _text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class DataFrame:
    """A lazy dataset (smallpond.DataFrame). Steps return new DataFrames;
    actions run what they need."""

    def __init__(self, sp, key, make, parents, lazy=False):
        self._sp = sp
        self._key = key
        self._make = make
        self._parents = parents
        self._h = None
        # a step over bound inputs is bound now, so its mistakes raise here
        if not lazy and all(p._h is not None for p in parents):
            self._handle()

    def _handle(self):
        if self._h is None:
            self._sp._alive()
            self._h = self._make(*[p._handle() for p in self._parents])
        return self._h

    def __repr__(self):
        return f"DataFrame({self._key})"

    # ---- SQL steps ------------------------------------------------------------
    def _step(self, name, fn, arg, *extra):
        key = _key(name, self._key, arg, extra)
        sp = self._sp

        def make(h):
            out = ctypes.c_void_p()
            sp._at()
            sp._check(fn(sp._s, h, *extra, ctypes.byref(out)) if arg is None
                      else fn(sp._s, h, enc(arg), ctypes.byref(out)), arg)
            return out.value
        return DataFrame(sp, key, make, [self])

    def filter(self, sql_or_func, **kwargs):
        """Rows where the SQL predicate holds, or where func(row) is true."""
        if callable(sql_or_func):
            from ._udf import python_step
            return python_step(self, "filter", sql_or_func, None)
        return self._step("filter", lib.pond_filter, sql_or_func)

    def map(self, sql_or_func, schema=None, **kwargs):
        """A SQL select list ('a, b * 2 AS c'), or func(row) -> dict."""
        if callable(sql_or_func):
            from ._udf import python_step
            return python_step(self, "map", sql_or_func, schema)
        return self._step("map", lib.pond_map, sql_or_func)

    def flat_map(self, sql_or_func, schema=None, **kwargs):
        """A SQL select list with unnest, or func(row) -> list of dicts."""
        if callable(sql_or_func):
            from ._udf import python_step
            return python_step(self, "flat_map", sql_or_func, schema)
        return self._step("flat_map", lib.pond_flat_map, sql_or_func)

    def map_batches(self, func, schema=None, batch_size=None, **kwargs):
        """func(pandas.DataFrame) -> pandas.DataFrame, per batch of rows."""
        from ._udf import python_step
        return python_step(self, "map_batches", func, schema, batch_size=batch_size)

    def partial_sort(self, by, **kwargs):
        """Sorts each partition: by is a column, a list, or 'a, b DESC'."""
        if not isinstance(by, str):
            by = ", ".join(_ident(c) for c in by)
        return self._step("partial_sort", lib.pond_partial_sort, by)

    def partial_sql(self, query, *others):
        return self._sp.partial_sql(query, self, *others)

    def sql(self, query, *others):
        return self._sp.sql(query, self, *others)

    def limit(self, n):
        """At most n rows overall (one partition)."""
        return self._step("limit", lib.pond_limit, None, ctypes.c_int64(int(n)))

    def repartition(self, npartitions, hash_by=None, by=None, by_rows=False, range_by=None, **kwargs):
        """npartitions partitions: files spread evenly, or by_rows=True,
        hash_by='k' (or a list), by='SQL expression', range_by='k'."""
        chosen = [k for k, v in (("hash_by", hash_by), ("by", by), ("range_by", range_by)) if v is not None]
        if by_rows:
            chosen.append("by_rows")
        if len(chosen) > 1:
            raise UsageError(f"repartition takes one of by_rows, hash_by, by, range_by, not {', '.join(chosen)}")
        mode, keys = "files", []
        if by_rows:
            mode = "rows"
        elif hash_by is not None:
            mode, keys = "hash", [hash_by] if isinstance(hash_by, str) else list(hash_by)
        elif range_by is not None:
            mode, keys = "range", [range_by] if isinstance(range_by, str) else list(range_by)
        elif by is not None:
            mode, keys = "expr", [by]
        return self._repartition(int(npartitions), mode, keys)

    def random_shuffle(self, npartitions=None, **kwargs):
        """Rows spread at random (seeded by init's seed)."""
        return self._repartition(int(npartitions or 0), "random", [])

    def _repartition(self, n, mode, keys):
        sp = self._sp

        def make(h):
            out = ctypes.c_void_p()
            sp._at()
            sp._check(lib.pond_repartition(sp._s, h, n, BY[mode], strings(keys), len(keys), ctypes.byref(out)))
            return out.value
        return DataFrame(sp, _key("repartition", self._key, n, mode, keys), make, [self])

    # ---- what a frame is ----------------------------------------------------------
    @property
    def num_partitions(self):
        return lib.pond_dataset_partitions(self._handle())

    @property
    def columns(self):
        return [name for name, _ in self.schema]

    @property
    def schema(self):
        """[(column, DuckDB type)], as the binder found them."""
        h = self._handle()
        out = []
        for i in range(lib.pond_dataset_columns(h)):
            t = ctypes.c_char_p()
            name = lib.pond_dataset_column(h, i, ctypes.byref(t))
            out.append((name.decode(), t.value.decode()))
        return out

    # ---- actions ----------------------------------------------------------------
    def write_parquet(self, path, mode="overwrite", compression="zstd", partition_by=None):
        """Writes a Parquet file per partition into path, then _SUCCESS."""
        if mode not in ("overwrite", "error"):
            raise UsageError(f"mode must be 'overwrite' or 'error', not {mode!r}")
        pb = [partition_by] if isinstance(partition_by, str) else list(partition_by or [])
        opts = [("compression", compression)] + [("partition_by", c) for c in pb]
        path = os.path.abspath(os.fspath(path))
        self._sp._run_write(self, "parquet", path, opts, mode == "overwrite", _key("write", self._key, path, opts))

    def write_csv(self, path, mode="overwrite", delim=",", header=True):
        path = os.path.abspath(os.fspath(path))
        opts = [("delim", delim), ("header", _text(header))]
        self._sp._run_write(self, "csv", path, opts, mode == "overwrite", _key("write", self._key, path, opts))

    def compute(self):
        """Runs the frame now; later actions reuse its result."""
        self._sp._compute(self)
        return self

    def count(self):
        """The number of rows."""
        c = self._sp.sql("SELECT count(*) AS n FROM {0}", self)
        _, cols = self._sp._fetch(c, self._sp._compute(c))
        return int(cols[0][2][0])

    def _rows(self, df):
        n, cols = self._sp._fetch(df, self._sp._compute(df))
        names = [c[0] for c in cols]
        return [dict(zip(names, vals)) for vals in zip(*[c[2] for c in cols])] if cols else [{}] * n

    def take(self, limit):
        """At most limit rows, as dicts."""
        return self._rows(self.limit(limit))

    def take_all(self):
        """Every row, as dicts (partition 0's rows first)."""
        return self._rows(self)

    def to_pandas(self):
        """Every row as a pandas DataFrame, typed by the columns' types."""
        import pandas as pd
        n, cols = self._sp._fetch(self, self._sp._compute(self), pd)
        data = {name: vals for name, _, vals in cols}
        return pd.DataFrame(data, columns=[c[0] for c in cols], index=range(n))

    def to_arrow(self):
        """Every row as a pyarrow Table (needs pyarrow)."""
        import pyarrow as pa
        return pa.Table.from_pandas(self.to_pandas(), preserve_index=False)


def _ident(name):
    return '"' + str(name).replace('"', '""') + '"'
