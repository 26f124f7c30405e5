"""Python callables in map, filter, flat_map and map_batches: run in
parallel worker processes, compared with the same computation in DuckDB;
a user exception carries its traceback; an unpicklable function fails
before anything runs."""
import json
import os
import subprocess
import sys
import threading

import pytest

import pond
from conftest import ROOT, oracle, q, rows_of


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


# ---- Python functions are pond tasks ----------------------------------------------

def journal(sp, df, event=None):
    """The journal lines of the run that computed df."""
    with open(os.path.join(sp._root, df._key, "job", "journal.jsonl")) as f:
        lines = [json.loads(line) for line in f]
    return [e for e in lines if event is None or e.get("event") == event]


def python_tasks(lines):
    return sorted({e["task"] for e in lines if "-python-" in e.get("task", "")})


def k3(sp, data, n=3):
    df = sp.read_parquet(str(data / "sales")).repartition(n)
    return df.map(lambda r: {"id": r["id"], "k3": r["k"] * 3}, schema={"id": "BIGINT", "k3": "BIGINT"})


def k3_oracle(data):
    return sorted(oracle(f"SELECT id, k * 3 FROM read_parquet({q(data / 'sales' / '*.parquet')})",
                         ["BIGINT", "BIGINT"]))


def test_map_runs_as_one_pond_task_per_partition(sp, data):
    m = k3(sp, data, 3)
    assert sorted(rows_of(m.take_all())) == k3_oracle(data)
    commits = journal(sp, m, "commit")
    tasks = python_tasks(commits)
    assert len(tasks) == 3 and len({t.rsplit("-t", 1)[0] for t in tasks}) == 1  # one stage, a task per partition
    assert sum(e["rows"] for e in commits if e["task"] in tasks) == 30000
    with open(os.path.join(sp._root, m._key, "job", "events.jsonl")) as f:
        events = [json.loads(line) for line in f]
    assert sorted({e.get("task") for e in events if "-python-" in str(e.get("task"))}) == tasks


def test_exception_in_a_task_is_not_retried(sp, data):
    df = sp.read_parquet(str(data / "sales")).repartition(3)

    def boom(row):
        if row["id"] == 29999:  # not among the first rows: fails in its task, not on the driver
            raise KeyError(f"no such id {row['id']}")
        return {"id": row["id"]}
    m = df.map(boom, schema={"id": "BIGINT"})
    with pytest.raises(pond.TaskError) as e:
        m.count()
    msg = e.value.message
    assert "KeyError: 'no such id 29999'" in msg and "in boom" in msg and "Traceback" in msg
    assert "-python-t" in msg and "not retried" in msg
    c = sp.sql("SELECT count(*) AS n FROM {0}", m)
    fails = [x for x in journal(sp, c, "fail") if "-python-" in x["task"]]
    assert len(fails) == 1 and fails[0]["attempt"] == 1  # one task failed, once


def test_crashed_python_task_is_retried(sp, data, monkeypatch):
    monkeypatch.setenv("POND_TEST_CRASH", "-python-")  # attempt 1 of each Python task dies of SIGSEGV
    m = k3(sp, data, 3)
    assert sorted(rows_of(m.take_all())) == k3_oracle(data)
    commits = [e for e in journal(sp, m, "commit") if "-python-" in e["task"]]
    assert len(commits) == 3 and all(e["attempt"] == 2 for e in commits)


def test_killed_worker_python_task_runs_elsewhere(sp, data, monkeypatch):
    # the worker that gets attempt 1 of task 1 of the Python stage is killed
    monkeypatch.setenv("POND_TEST_KILL_AT", "worker-s00-python-t00001.a1")
    m = k3(sp, data, 3)
    assert sorted(rows_of(m.take_all())) == k3_oracle(data)
    lines = journal(sp, m)
    assert [e["attempt"] for e in lines if e.get("event") == "commit" and e["task"] == "s00-python-t00001"] == [2]


def test_resume_skips_committed_python_tasks(tmp_path, data):
    calls = tmp_path / "calls"
    calls.mkdir()

    def tag(row):
        with open(calls / f"{os.getpid()}", "a") as f:
            f.write("x")
        return {"id": row["id"], "even": row["id"] % 2 == 0}

    def run():
        sp = pond.init(data_root=str(tmp_path / "root"), job_id="again", num_workers=2)
        df = sp.read_parquet(str(data / "sales")).repartition(3).map(tag, schema={"id": "BIGINT", "even": "BOOLEAN"})
        got = sorted(rows_of(df.take_all()))
        done = [e for e in journal(sp, df, "commit") if "-python-" in e["task"]]
        sp.shutdown()
        return got, done

    def ncalls():
        return sum(len((calls / n).read_text()) for n in os.listdir(calls))
    first, done = run()
    assert len(done) == 3 and ncalls() == 30000
    again, done = run()
    assert again == first and len(done) == 3  # no new commit: the journal holds the first run's
    assert ncalls() == 30000  # the function was not called again
    want = sorted(oracle(f"SELECT id, id % 2 = 0 FROM read_parquet({q(data / 'sales' / '*.parquet')})",
                         ["BIGINT", "BOOLEAN"]))
    assert first == want


def test_python_tasks_under_mpirun(tmp_path, data):
    """A Python map under mpirun -n 3: its tasks run on the worker ranks."""
    root = tmp_path / "root"
    prog = tmp_path / "job.py"
    prog.write_text(f"""
import sys
sys.path.insert(0, {os.path.join(ROOT, 'python')!r})
import pond
sp = pond.init(data_root={str(root)!r}, job_id='mpi')
df = sp.read_parquet({str(data / 'sales')!r}).repartition(3)
m = df.map(lambda r: {{'id': r['id'], 'k3': r['k'] * 3}}, schema={{'id': 'BIGINT', 'k3': 'BIGINT'}})
print(sorted((r['id'], r['k3']) for r in m.take_all()))
print(m._key)
sp.shutdown()
""")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = subprocess.run(["mpirun", "-n", "3", "--oversubscribe", sys.executable, str(prog)], capture_output=True,
                       text=True, env=env, timeout=300, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    out = p.stdout.strip().splitlines()
    assert out[-2] == str(k3_oracle(data))
    with open(root / "mpi" / out[-1] / "job" / "journal.jsonl") as f:
        starts = [json.loads(line) for line in f]
    workers = {e["worker"] for e in starts if e.get("event") == "start" and "-python-" in e["task"]}
    assert workers and all("rank 0" not in w for w in workers), workers


def test_bad_schema_is_a_usage_error_at_the_step(sp):
    df = sp.from_items([{"a": 1}])
    with pytest.raises(pond.UsageError) as e:
        df.map(lambda r: r, schema={"a": "BIGINT); DROP TABLE x; --"})  # raises here: the step is made now
    assert "DuckDB type" in e.value.message
    with pytest.raises(pond.UsageError) as e:
        df.map(lambda r: r, schema={"a": "NOSUCHTYPE"})
    assert "NOSUCHTYPE" in e.value.message
