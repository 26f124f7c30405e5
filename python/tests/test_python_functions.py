"""Python callables in map, filter, flat_map and map_batches: run in
parallel worker processes, compared with the same computation in DuckDB;
a user exception carries its traceback; an unpicklable function fails
before anything runs."""
import os
import threading

import pytest

import pond
from conftest import oracle, q, rows_of


def test_map_filter_flat_map(sp, data):
    df = sp.read_parquet(str(data / "sales")).repartition(3)
    m = df.map(lambda r: {"id": r["id"], "k3": r["k"] * 3}, schema={"id": "BIGINT", "k3": "BIGINT"})
    got = sorted(rows_of(m.filter("k3 < 30").take_all()))
    want = sorted(oracle(f"SELECT id, k * 3 FROM read_parquet({q(data / 'sales' / '*.parquet')}) WHERE k * 3 < 30",
                         ["BIGINT", "BIGINT"]))
    assert got == want
    assert m.num_partitions == 3
    f = df.filter(lambda r: r["maybe"] is not None and r["maybe"] > 4)
    assert f.schema == df.schema  # a Python filter keeps its input's columns and types
    want_n = oracle(f"SELECT count(*) FROM read_parquet({q(data / 'sales' / '*.parquet')}) WHERE maybe > 4",
                    ["BIGINT"])[0][0]
    assert f.count() == want_n
    fm = sp.from_items([{"n": i} for i in range(5)]).flat_map(lambda r: [{"n": r["n"], "j": j} for j in range(r["n"])])
    assert sorted(rows_of(fm.take_all())) == [(n, j) for n in range(5) for j in range(n)]


def test_map_batches(sp, data):
    df = sp.read_parquet(str(data / "sales")).repartition(2)

    def double(batch):
        batch = batch[["id", "v"]].copy()
        batch["v2"] = batch["v"] * 2
        return batch
    got = sorted(rows_of(df.map_batches(double, batch_size=4000).filter("id < 100").take_all()))
    want = sorted(oracle(f"SELECT id, v, v * 2 FROM read_parquet({q(data / 'sales' / '*.parquet')}) WHERE id < 100",
                         ["BIGINT", "DOUBLE", "DOUBLE"]))
    assert got == want


def test_user_exception_fails_with_its_traceback(sp):
    df = sp.from_items([{"a": i} for i in range(5)])

    def boom(row):
        if row["a"] == 3:
            raise ValueError(f"bad row {row['a']}")
        return row
    m = df.map(boom)  # lazy: nothing runs yet
    with pytest.raises(pond.TaskError) as e:
        m.take_all()
    assert "ValueError: bad row 3" in e.value.message
    assert "Traceback" in e.value.message and "in boom" in e.value.message


def test_unpicklable_function_fails_before_running(sp):
    df = sp.from_items([{"a": 1}])
    lock = threading.Lock()
    runs = os.listdir(sp._root)
    with pytest.raises(pond.PickleError) as e:
        df.map(lambda r: (lock, r)[1])
    assert "cannot be serialised" in e.value.message
    assert os.listdir(sp._root) == runs  # nothing ran


def test_map_without_schema_infers_types(sp):
    got = sp.from_items([{"a": i} for i in range(4)]).map(lambda r: {"a": r["a"], "s": f"v{r['a']}", "h": r["a"] / 2})
    assert dict(got.schema) == {"a": "BIGINT", "s": "VARCHAR", "h": "DOUBLE"}
    assert sorted(rows_of(got.take_all())) == [(i, f"v{i}", i / 2) for i in range(4)]
