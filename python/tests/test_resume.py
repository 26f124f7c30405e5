"""job_id: a rerun of the same program with the same job_id resumes: what
was committed is not run again."""
import json
import os
import subprocess
import sys

from conftest import ROOT, oracle, q, rows_of

import pond


def commits(root):
    n = 0
    for dirpath, _, files in os.walk(root):
        if "journal.jsonl" in files:
            with open(os.path.join(dirpath, "journal.jsonl")) as f:
                n += sum(1 for line in f if json.loads(line).get("event") == "commit")
    return n


def pipeline(sp, data):
    df = sp.read_parquet(str(data / "sales")).repartition(4, hash_by="k")
    return sp.partial_sql("SELECT k, count(*)::BIGINT AS n FROM {0} GROUP BY k", df)


def test_resume_by_job_id(tmp_path, data):
    root = str(tmp_path / "root")
    sp = pond.init(data_root=root, job_id="nightly", num_workers=2)
    first = sorted(rows_of(pipeline(sp, data).take_all()))
    sp.shutdown()
    done = commits(root)
    assert done > 0
    sp = pond.init(data_root=root, job_id="nightly", num_workers=2)
    again = sorted(rows_of(pipeline(sp, data).take_all()))
    sp.shutdown()
    assert again == first
    assert commits(root) == done  # every task was already committed
    want = sorted(oracle(f"SELECT k, count(*)::BIGINT FROM read_parquet({q(data / 'sales' / '*.parquet')}) GROUP BY k",
                         ["INTEGER", "BIGINT"]))
    assert first == want
    # another job_id starts fresh
    sp = pond.init(data_root=root, job_id="other", num_workers=2)
    pipeline(sp, data).count()
    sp.shutdown()
    assert commits(os.path.join(root, "other")) > 0


def test_under_mpirun(tmp_path, data):
    """The same program under mpirun -n 3: rank 0 runs the session over the
    two other ranks."""
    prog = tmp_path / "job.py"
    prog.write_text(f"""
import sys
sys.path.insert(0, {os.path.join(ROOT, 'python')!r})
import pond
sp = pond.init(data_root={str(tmp_path / 'root')!r})
df = sp.read_parquet({str(data / 'sales')!r}).repartition(3, hash_by='k')
rows = sp.partial_sql('SELECT k, count(*)::BIGINT AS n FROM {{0}} GROUP BY k', df).take_all()
print(sorted((r['k'], r['n']) for r in rows))
sp.shutdown()
""")
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    p = subprocess.run(["mpirun", "-n", "3", "--oversubscribe", sys.executable, str(prog)], capture_output=True,
                       text=True, env=env, timeout=300, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    want = sorted(oracle(f"SELECT k, count(*)::BIGINT FROM read_parquet({q(data / 'sales' / '*.parquet')}) GROUP BY k",
                         ["INTEGER", "BIGINT"]))
    assert p.stdout.strip().splitlines()[-1] == str(want)
