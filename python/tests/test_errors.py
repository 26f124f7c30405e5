"""pond.Error and its subclasses: raised at the call that made the
mistake, with the message and the failing SQL."""
import os

import pytest

import pond


def test_bad_sql_raises_at_the_call(sp, data):
    df = sp.read_parquet(str(data / "sales"))
    with pytest.raises(pond.UsageError) as e:
        df.filter("no_such_column > 1")
    assert "no_such_column" in e.value.message and e.value.sql == "no_such_column > 1"
    assert "test_errors.py" in e.value.message  # where the user made it
    with pytest.raises(pond.UsageError) as e:
        sp.partial_sql("SELEC k FROM {0}", df)
    assert "syntax error" in e.value.message.lower() and e.value.sql == "SELEC k FROM {0}"
    # the session goes on after an error
    assert df.filter("k = 1").count() > 0


def test_missing_input(sp, tmp_path):
    with pytest.raises(pond.InputError) as e:
        sp.read_parquet(str(tmp_path / "nothing-here" / "*.parquet"))
    assert "nothing-here" in e.value.message


def test_bad_arguments(sp, data):
    df = sp.read_parquet(str(data / "sales"))
    with pytest.raises(pond.UsageError):
        df.repartition(3, hash_by="k", by_rows=True)
    with pytest.raises(pond.UsageError):
        df.repartition(0)
    with pytest.raises(pond.UsageError):
        df.repartition(2, hash_by="nope")
    a, b = df.repartition(2), df.repartition(3)
    with pytest.raises(pond.UsageError) as e:
        sp.partial_sql("SELECT * FROM {0}, {1}", a, b)
    assert "partitions" in e.value.message


def test_task_failure_is_a_task_error(sp):
    df = sp.partial_sql("SELECT 'x' || i AS s FROM range(10) t(i)")
    bad = df.map("s::INTEGER AS n")  # binds (VARCHAR → INTEGER), fails at run time
    with pytest.raises(pond.TaskError) as e:
        bad.take_all()
    assert "Conversion Error" in e.value.message


def test_shutdown(tmp_path):
    s = pond.init(data_root=str(tmp_path))
    s.shutdown()
    with pytest.raises(pond.Error):
        s.partial_sql("SELECT 1")
    assert os.path.isdir(tmp_path)
