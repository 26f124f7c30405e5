"""Benchmark of the Python API (issue 10 item 8): take_all() of N1 rows and
to_pandas() of N2 rows against single-process DuckDB reading the same
Parquet into Python (DuckDB's Python module is not installed: duckq's text
output parsed and converted the same way, for to_pandas by pandas' C CSV
parser into the same dtypes), and a Python map callable's rows/s per
worker. The driver's peak RSS after to_pandas is printed too.

    /usr/bin/python3 bench/python_api.py [N1 [N2]]   # defaults 1,000,000 and 10,000,000
Needs build/libpond.so and build/tests/duckq; writes under /tmp (removed at the end)."""
import csv
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
import pond  # noqa: E402
from pond import _convert  # noqa: E402

DUCKQ = os.environ.get("DUCKQ", os.path.join(ROOT, "build", "tests", "duckq"))
n1 = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
n2 = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000_000
work = tempfile.mkdtemp(prefix="pond-pybench-")
TYPES = ["BIGINT", "INTEGER", "DOUBLE", "VARCHAR"]


def gen(n, name):
    path = os.path.join(work, name)
    subprocess.run([DUCKQ, f"COPY (SELECT i AS id, (i % 1000)::INTEGER AS k, i / 7.0 AS v, 'row' || i AS s "
                    f"FROM range({n}) t(i)) TO '{path}' (FORMAT parquet)"], check=True, capture_output=True)
    return path


def duckdb_rows(path):
    out = subprocess.run([DUCKQ, f"SELECT * FROM '{path}'"], check=True, capture_output=True).stdout
    convs = [_convert.converter(t) for t in TYPES]
    return [tuple(c(v) for c, v in zip(convs, line.split("\t"))) for line in out.decode().splitlines()]


def duckdb_frame(path):
    import pandas as pd
    out = subprocess.run([DUCKQ, f"SELECT * FROM '{path}'"], check=True, capture_output=True).stdout
    return pd.read_csv(io.BytesIO(out), sep="\t", header=None, names=["id", "k", "v", "s"], quoting=csv.QUOTE_NONE,
                       na_values=["\\N"], keep_default_na=False, float_precision="round_trip")


def timed(f):
    t = time.perf_counter()
    r = f()
    return time.perf_counter() - t, r


p1, p2 = gen(n1, "a.parquet"), gen(n2, "b.parquet")
sp = pond.init(data_root=os.path.join(work, "root"), num_workers=2)
t_pond, rows = timed(lambda: sp.read_parquet(p1).take_all())
t_duck, drows = timed(lambda: duckdb_rows(p1))
assert len(rows) == len(drows) == n1
print(f"take_all {n1:,} rows: pond {t_pond:.2f} s, DuckDB (one process) into Python {t_duck:.2f} s")
t_pd, frame = timed(lambda: sp.read_parquet(p2).to_pandas())
assert len(frame) == n2
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
t_dpd, dframe = timed(lambda: duckdb_frame(p2))
assert frame.equals(dframe), (frame.dtypes, dframe.dtypes)
print(f"to_pandas {n2:,} rows: pond {t_pd:.2f} s (driver's peak RSS {peak:.2f} GiB), "
      f"DuckDB (one process) into pandas {t_dpd:.2f} s")
del frame, dframe
t_map, mapped = timed(lambda: sp.read_parquet(p1).repartition(2, by_rows=True)
                      .map(lambda r: {"id": r["id"], "w": r["v"] * 2}, schema={"id": "BIGINT", "w": "DOUBLE"})
                      .count())
assert mapped == n1
print(f"map (Python callable) over {n1:,} rows, 2 workers: {t_map:.2f} s, "
      f"{n1 / t_map / 2:,.0f} rows/s per worker (end to end, with reading and writing)")
sp.shutdown()
shutil.rmtree(work)
