"""Fixtures for pond's Python tests: the package from this tree, seeded
data written by single-process DuckDB (duckq), and duckq as the oracle."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

import pond  # noqa: E402
from pond import _convert  # noqa: E402

DUCKQ = os.environ.get("DUCKQ") or os.path.join(ROOT, "build", "tests", "duckq")


def duckq(*sql):
    """Runs the statements in one in-memory DuckDB; the last one's rows as
    tuples of text (None for NULL)."""
    p = subprocess.run([DUCKQ, *sql], capture_output=True, text=True)
    if p.returncode:
        raise AssertionError(f"duckq failed: {p.stderr}")
    rows = []
    for line in p.stdout.splitlines():
        rows.append(tuple(None if f == "\\N" else f for f in line.split("\t")))
    return rows


def oracle(query, types):
    """query's rows from duckq, converted as pond converts its values."""
    convs = [_convert.converter(t) for t in types]
    return [tuple(None if v is None else c(v) for c, v in zip(convs, r)) for r in duckq(query)]


def rows_of(dicts, names=None):
    return [tuple(d[k] for k in (names or list(d))) for d in dicts]


def q(path):
    return "'" + str(path).replace("'", "''") + "'"


@pytest.fixture(scope="session")
def data(tmp_path_factory):
    """Seeded tables: sales (Parquet, 3 files, 30,000 rows), items (CSV with
    ';'), events (JSON lines)."""
    d = tmp_path_factory.mktemp("data")
    (d / "sales").mkdir()
    stmts = ["SELECT setseed(0.42)",
             "CREATE TABLE s AS SELECT i AS id, (random() * 100)::INTEGER AS k, round(random() * 1000, 2) AS v, "
             "'u' || (random() * 50)::INTEGER AS name, CASE WHEN i % 17 = 0 THEN NULL ELSE i % 7 END AS maybe "
             "FROM range(30000) t(i)"]
    for f in range(3):
        stmts.append(f"COPY (SELECT * FROM s WHERE id % 3 = {f} ORDER BY id) TO {q(d / 'sales' / f'part{f}.parquet')} "
                     "(FORMAT parquet)")
    stmts.append(f"COPY (SELECT i AS k, 'item ' || i AS label FROM range(100) t(i)) TO {q(d / 'items.csv')} "
                 "(FORMAT csv, DELIMITER ';', HEADER true)")
    stmts.append(f"COPY (SELECT i AS id, i % 5 AS kind, 'e' || i AS tag FROM range(500) t(i)) TO "
                 f"{q(d / 'events.json')} (FORMAT json)")
    stmts.append("SELECT 1")
    duckq(*stmts)
    return d


@pytest.fixture
def sp(tmp_path):
    s = pond.init(data_root=str(tmp_path / "root"), num_workers=2)
    yield s
    s.shutdown()
