"""A shuffle: rows hashed on a key into partitions, then a Python function
and SQL per partition, with a random shuffle for comparison.

    PYTHONPATH=python /usr/bin/python3 examples/python/shuffle.py [WORKDIR]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import pond as smallpond  # noqa: E402

work = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "pond-shuffle")
sp = smallpond.init(data_root=os.path.join(work, "data"), num_workers=2)

# 200,000 events of 1,000 users
events = sp.partial_sql("SELECT i AS id, hash(i) % 1000 AS user_id, (hash(i * 7) % 100)::INTEGER AS amount "
                        "FROM range(200000) r(i)")
by_user = events.repartition(8, hash_by="user_id")
# every user's rows are now in one partition: a per-partition GROUP BY is final
totals = sp.partial_sql("SELECT user_id, count(*) AS n, sum(amount) AS total FROM {0} GROUP BY user_id", by_user)
# a Python function over rows, run in parallel worker processes
tagged = totals.map(lambda r: {"user_id": r["user_id"], "big": r["total"] > 10000},
                    schema={"user_id": "UBIGINT", "big": "BOOLEAN"})
print("users:", totals.count(), "big spenders:", tagged.filter("big").count())
shuffled = events.random_shuffle(4)
print("random shuffle keeps every row:", shuffled.count() == events.count())
sp.shutdown()
