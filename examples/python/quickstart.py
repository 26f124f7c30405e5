"""smallpond's README quick start, on pond: only the import differs.

Run from the source tree:  PYTHONPATH=python /usr/bin/python3 examples/python/quickstart.py
It first writes its own input, prices/*.parquet, with pond itself."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import pond as smallpond  # noqa: E402

work = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "pond-quickstart")
os.makedirs(work, exist_ok=True)

# Initialize session
sp = smallpond.init(data_root=os.path.join(work, "data"))

# Mock input: 100,000 prices of 20 tickers, in 4 Parquet files
gen = sp.partial_sql("SELECT 'T' || (i % 20) AS ticker, i AS t, 100 + (hash(i) % 1000) / 10.0 AS price "
                     "FROM range(100000) r(i)")
gen.repartition(4, by="t % 4").write_parquet(os.path.join(work, "prices"))

# Load data
df = sp.read_parquet(os.path.join(work, "prices", "*.parquet"))

# Process data
df = df.repartition(3, hash_by="ticker")
df = sp.partial_sql("SELECT ticker, min(price) AS min_price, max(price) AS max_price "
                    "FROM {0} GROUP BY ticker", df)

# Save results
df.write_parquet(os.path.join(work, "output"))
# Show results
print(df.to_pandas().sort_values("ticker").to_string(index=False))
sp.shutdown()
