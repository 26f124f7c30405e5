"""smallpond's DataFrame methods on pond, each result compared with
single-process DuckDB (duckq) over the same seeded files."""
import os

import pandas as pd
import pytest

import pond
from conftest import duckq, oracle, q, rows_of


def sales(data):
    return q(str(data / "sales" / "*.parquet"))


def test_read_parquet_take_all_count(sp, data):
    df = sp.read_parquet(str(data / "sales" / "*.parquet"))
    assert df.num_partitions == 1
    assert df.columns == ["id", "k", "v", "name", "maybe"]
    got = sorted(rows_of(df.take_all()))
    want = sorted(oracle(f"SELECT * FROM read_parquet({sales(data)})", [t for _, t in df.schema]))
    assert got == want
    assert df.count() == 30000
    assert len(df.take(7)) == 7


def test_partial_sql_after_hash_repartition(sp, data):
    df = sp.read_parquet(str(data / "sales")).repartition(4, hash_by="k")
    assert df.num_partitions == 4
    agg = sp.partial_sql("SELECT k, count(*)::BIGINT AS n, round(sum(v), 2) AS s FROM {0} GROUP BY k", df)
    got = sorted(rows_of(agg.take_all()))
    want = sorted(oracle(f"SELECT k, count(*)::BIGINT, round(sum(v), 2) FROM read_parquet({sales(data)}) GROUP BY k",
                         ["INTEGER", "BIGINT", "DOUBLE"]))
    assert [r[:2] for r in got] == [r[:2] for r in want]
    assert all(abs(a[2] - b[2]) < 1e-6 for a, b in zip(got, want))


def test_partial_sql_partition_placeholder(sp, data):
    df = sp.read_parquet(str(data / "sales")).repartition(3, by_rows=True)
    got = sp.partial_sql("SELECT {partition} AS p, count(*)::BIGINT AS n FROM {0}", df).take_all()
    assert sorted(r["p"] for r in got) == [0, 1, 2]
    assert sum(r["n"] for r in got) == 30000


def test_sql_join_and_aggregate(sp, data):
    s = sp.read_parquet(str(data / "sales"))
    items = sp.read_csv(str(data / "items.csv"), schema={"k": "INTEGER", "label": "VARCHAR"}, delim=";")
    got = sp.sql("SELECT i.label, count(*)::BIGINT AS n FROM {0} s JOIN {1} i ON s.k = i.k "
                 "GROUP BY i.label", s, items).take_all()
    want = oracle(f"SELECT i.label, count(*)::BIGINT FROM read_parquet({sales(data)}) s JOIN "
                  f"read_csv({q(data / 'items.csv')}, delim=';', header=true) i ON s.k = i.k GROUP BY i.label",
                  ["VARCHAR", "BIGINT"])
    assert sorted(rows_of(got)) == sorted(want)


def test_filter_map_partial_sort_limit(sp, data):
    df = sp.read_parquet(str(data / "sales")).repartition(3)
    out = df.filter("k < 10 AND maybe IS NOT NULL").map("id, k * 2 AS k2, maybe").partial_sort("id")
    got = rows_of(out.take_all())
    want = oracle(f"SELECT id, k * 2, maybe FROM read_parquet({sales(data)}) WHERE k < 10 AND maybe IS NOT NULL",
                  ["BIGINT", "INTEGER", "BIGINT"])
    assert sorted(got) == sorted(want)
    assert len(df.limit(5).take_all()) == 5
    assert df.limit(0).count() == 0


def test_flat_map_sql(sp):
    df = sp.partial_sql("SELECT i AS id, [i, i + 1] AS xs FROM range(5) t(i)")
    got = sorted(rows_of(df.flat_map("id, unnest(xs) AS x").take_all()))
    assert got == sorted((i, x) for i in range(5) for x in (i, i + 1))


def test_repartition_modes(sp, data):
    base = sp.read_parquet(str(data / "sales"))
    want = sorted(r["id"] for r in base.take_all())
    for df in (base.repartition(4, by_rows=True), base.repartition(5, by="id % 5"),
               base.repartition(3, hash_by=["k", "name"]), base.random_shuffle(4)):
        assert sorted(r["id"] for r in df.take_all()) == want
    ranged = base.repartition(4, range_by="v").partial_sort("v")
    vs = [r["v"] for r in ranged.take_all()]
    assert vs == sorted(vs)  # partition i's values all precede partition i+1's
    by_expr = sp.partial_sql("SELECT DISTINCT id % 5 AS r, {partition} AS p FROM {0}", base.repartition(5, by="id % 5"))
    assert sorted((r["r"], r["p"]) for r in by_expr.take_all()) == [(i, i) for i in range(5)]


def test_read_json_and_csv(sp, data):
    ev = sp.read_json(str(data / "events.json"))
    got = sorted(rows_of(ev.filter("kind = 3").take_all()))
    want = sorted(oracle(f"SELECT * FROM read_json({q(data / 'events.json')}) WHERE kind = 3",
                         [t for _, t in ev.schema]))
    assert got == want
    items = sp.read_csv(str(data / "items.csv"), delim=";")
    assert items.count() == 100


def test_from_items_and_pandas(sp):
    df = sp.from_items([{"a": i, "b": f"x{i}"} for i in range(10)])
    assert sorted(rows_of(df.filter("a % 2 = 0").take_all())) == [(i, f"x{i}") for i in range(0, 10, 2)]
    assert sorted(r["item"] for r in sp.from_items([3, 1, 2]).take_all()) == [1, 2, 3]
    p = pd.DataFrame({"x": [1, 2, 3], "y": [0.5, None, 2.5], "s": ["a", "b", None]})
    back = sp.from_pandas(p).to_pandas()
    assert list(back.columns) == ["x", "y", "s"]
    assert back["x"].tolist() == [1, 2, 3]
    assert back["y"].isna().tolist() == [False, True, False]
    assert back["s"].tolist()[:2] == ["a", "b"]


def test_to_pandas_matches_oracle(sp, data):
    df = sp.read_parquet(str(data / "sales")).filter("id < 1000")
    p = df.to_pandas().sort_values("id").reset_index(drop=True)
    assert len(p) == 1000
    want = oracle(f"SELECT * FROM read_parquet({sales(data)}) WHERE id < 1000 ORDER BY id", [t for _, t in df.schema])
    assert [tuple(None if pd.isna(v) else v for v in r) for r in p.itertuples(index=False)] == want


def test_write_parquet(sp, data, tmp_path):
    out = tmp_path / "out"
    df = sp.read_parquet(str(data / "sales")).repartition(3, hash_by="k")
    sp.partial_sql("SELECT k, count(*)::BIGINT AS n FROM {0} GROUP BY k", df).write_parquet(str(out))
    assert os.path.exists(out / "_SUCCESS")
    got = oracle(f"SELECT k, sum(n)::BIGINT FROM read_parquet({q(out / '*.parquet')}) GROUP BY k ORDER BY k",
                 ["INTEGER", "BIGINT"])
    want = oracle(f"SELECT k, count(*)::BIGINT FROM read_parquet({sales(data)}) GROUP BY k ORDER BY k",
                  ["INTEGER", "BIGINT"])
    assert got == want


def test_computed_frames_are_reused(sp, data):
    df = sp.read_parquet(str(data / "sales")).filter("k = 1")
    first = df.take_all()
    before = dict(sp._computed)
    assert df.take_all() == first and df.to_pandas().shape[0] == len(first)
    assert sp._computed == before  # nothing new was run


def test_to_arrow_when_pyarrow(sp):
    pytest.importorskip("pyarrow")
    t = sp.from_items([{"a": 1}]).to_arrow()
    assert t.num_rows == 1


def test_write_csv_and_partition_by(sp, data, tmp_path):
    df = sp.read_parquet(str(data / "sales")).filter("k < 3")
    df.write_csv(str(tmp_path / "csv"), delim="|")
    df.write_parquet(str(tmp_path / "hive"), partition_by="k")
    want = oracle(f"SELECT k, count(*)::BIGINT FROM read_parquet({q(data / 'sales' / '*.parquet')}) WHERE k < 3 "
                  "GROUP BY k ORDER BY k", ["INTEGER", "BIGINT"])
    got_csv = oracle(f"SELECT k, count(*)::BIGINT FROM read_csv({q(tmp_path / 'csv' / '*.csv')}, delim='|') "
                     "GROUP BY k ORDER BY k", ["INTEGER", "BIGINT"])
    got_hive = oracle(f"SELECT k, count(*)::BIGINT FROM read_parquet({q(tmp_path / 'hive' / '**' / '*.parquet')}, "
                      "hive_partitioning=true) GROUP BY k ORDER BY k", ["INTEGER", "BIGINT"])
    assert got_csv == want and got_hive == want


def test_typed_values_with_nulls(sp, tmp_path):
    """Numbers cross as arrays with a validity byte: each type, with and
    without NULLs, as Python values and as pandas columns."""
    path = tmp_path / "typed.parquet"
    types = ["BIGINT", "INTEGER", "SMALLINT", "DOUBLE", "BOOLEAN", "FLOAT", "DECIMAL(9,2)", "VARCHAR", "UBIGINT"]
    duckq(f"COPY (SELECT i AS id, CASE WHEN i % 3 = 0 THEN NULL ELSE i * 400009 - 7 END::INTEGER AS n, "
          f"(i % 7 - 3)::SMALLINT AS s, CASE WHEN i % 5 = 0 THEN NULL ELSE i / 3 END AS d, "
          f"CASE WHEN i % 4 = 0 THEN NULL ELSE i % 2 = 0 END AS b, (i / 7)::FLOAT AS f, "
          f"(i / 9)::DECIMAL(9,2) AS m, CASE WHEN i % 6 = 0 THEN NULL ELSE 'v' || i END AS t, "
          f"((i + 50) * 3)::UBIGINT AS u FROM range(-50, 5000) r(i)) TO {q(path)} (FORMAT parquet)", "SELECT 1")
    df = sp.read_parquet(str(path))
    want = oracle(f"SELECT * FROM read_parquet({q(path)})", types)
    assert rows_of(df.take_all()) == want
    p = df.to_pandas()
    assert str(p["id"].dtype) == "int64" and str(p["n"].dtype) == "Int64" and str(p["b"].dtype) == "boolean"
    assert str(p["d"].dtype) == "float64"
    assert [tuple(None if pd.isna(v) else v for v in r) for r in p.itertuples(index=False)] == want
    empty = df.filter("id < -1000")
    assert empty.take_all() == [] and len(empty.to_pandas()) == 0
