"""A sort of mock URLs (smallpond's sort benchmark, small): a range
shuffle on the URL, then a sort inside each partition, so the partitions
in order are globally sorted.

    PYTHONPATH=python /usr/bin/python3 examples/python/sort_urls.py [WORKDIR]"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import pond as smallpond  # noqa: E402

work = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "pond-sort-urls")
sp = smallpond.init(data_root=os.path.join(work, "data"), num_workers=2)

urls = sp.partial_sql("SELECT 'https://' || ['a', 'b', 'c', 'd'][(1 + hash(i) % 4)::INTEGER] || (hash(i) % 997) || '.example/'"
                      " || md5(i::VARCHAR)[1:12] AS url, i AS visits FROM range(300000) r(i)")
urls.write_parquet(os.path.join(work, "urls"))
df = sp.read_parquet(os.path.join(work, "urls"))
df = df.repartition(6, range_by="url").partial_sort("url")
df.write_parquet(os.path.join(work, "sorted"))
first = df.take(3)
print("first urls:", [r["url"] for r in first])
rows = [r["url"] for r in df.take_all()]
print("rows:", len(rows), "globally sorted:", rows == sorted(rows))
sp.shutdown()
