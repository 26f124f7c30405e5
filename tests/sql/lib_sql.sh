# lib_sql.sh — helpers of pond sql's tests (sourced by tests/sql/*.sh, after
# tests/e2e/lib.sh): a generated star schema, and a query's result compared
# with single-process DuckDB's (duckq) on the same files.

# gen_star DIR [FACT_FILES] [ROWS_PER_FILE]: a seeded star schema under DIR,
# laid out for --tables DIR:
#   sales/f00.parquet …  the fact table (default 24 files × 50,000 rows):
#                        skewed customer keys (30 % are customer 1), NULLs,
#                        DECIMALs, dates, doubles, a boolean
#   customers.parquet    10,000 customers (NULL segments, DECIMAL credit)
#   products.parquet     2,000 products
#   stores.csv           50 stores (one CSV file)
#   dates/d0.json …      the date dimension as two JSON files
# Values come from hash() of the row number: the same data on every run.
gen_star() {
	local dir=$1 files=${2:-24} per=${3:-50000} f lo
	mkdir -p "$dir/sales" "$dir/dates"
	for ((f = 0; f < files; f++)); do
		lo=$((f * per))
		q "COPY (SELECT i AS sale_id,
			DATE '2021-01-01' + (hash(i, 3) % 1096)::INTEGER AS sale_date,
			CASE WHEN hash(i, 7) % 1000 = 0 THEN NULL
			     WHEN hash(i, 1) % 10 < 3 THEN 1
			     ELSE 1 + (hash(i, 2) % 10000)::INTEGER END AS customer_id,
			(1 + hash(i, 4) % 2000)::INTEGER AS product_id,
			(1 + hash(i, 5) % 50)::SMALLINT AS store_id,
			CASE WHEN hash(i, 6) % 50 = 0 THEN NULL ELSE (1 + hash(i, 8) % 20)::INTEGER END AS quantity,
			((hash(i, 9) % 100000) / 100.0)::DECIMAL(10,2) AS unit_price,
			((hash(i, 10) % 10000000) / 100.0)::DECIMAL(18,2) AS amount,
			CASE WHEN hash(i, 11) % 20 = 0 THEN NULL ELSE (hash(i, 12) % 1000) / 1000.0 END AS discount,
			CASE hash(i, 13) % 4 WHEN 0 THEN 'web' WHEN 1 THEN 'store' WHEN 2 THEN 'phone' ELSE NULL END AS channel,
			hash(i, 14) % 3 = 0 AS returned
			FROM range($lo, $((lo + per))) t(i)) TO '$dir/sales/f$(printf %02d "$f").parquet'" >/dev/null
	done
	q "COPY (SELECT i::INTEGER AS customer_id, 'cust-' || i AS name,
		CASE WHEN i % 97 = 0 THEN NULL ELSE ['retail', 'business', 'gold', 'public'][(1 + hash(i, 20) % 4)::INTEGER] END AS segment,
		['DE', 'FR', 'US', 'JP', 'BR', 'IN'][(1 + hash(i, 21) % 6)::INTEGER] AS country,
		DATE '2015-01-01' + (hash(i, 22) % 2500)::INTEGER AS signup_date,
		((hash(i, 23) % 1000000) / 100.0)::DECIMAL(12,2) AS credit
		FROM range(1, 10001) t(i)) TO '$dir/customers.parquet'" >/dev/null
	q "COPY (SELECT i::INTEGER AS product_id, 'prod-' || i AS pname,
		['toys', 'books', 'food', 'tools', 'garden', 'music', 'sport'][(1 + hash(i, 30) % 7)::INTEGER] AS category,
		'brand-' || (hash(i, 31) % 40) AS brand,
		((hash(i, 32) % 50000) / 100.0)::DECIMAL(10,2) AS list_price
		FROM range(1, 2001) t(i)) TO '$dir/products.parquet'" >/dev/null
	q "COPY (SELECT i::SMALLINT AS store_id, 'city-' || (i % 17) AS city,
		['north', 'south', 'east', 'west'][1 + i % 4] AS region, (i * 37 % 400)::INTEGER AS size_m2
		FROM range(1, 51) t(i)) TO '$dir/stores.csv' (HEADER)" >/dev/null
	for f in 0 1; do
		q "COPY (SELECT d::DATE AS date_id, year(d)::INTEGER AS year, month(d)::INTEGER AS month,
			dayname(d) AS day_name, (dayofweek(d) IN (0, 6)) AS weekend
			FROM range(DATE '2021-01-01' + $((f * 548)), DATE '2021-01-01' + $((f * 548 + 548)), INTERVAL 1 DAY) t(d))
			TO '$dir/dates/d$f.json'" >/dev/null
	done
}

# oracle_views DIR: the statements that name gen_star's tables in duckq.
oracle_views() {
	local dir=$1
	printf "%s\n" \
		"CREATE VIEW sales AS SELECT * FROM read_parquet('$dir/sales/*.parquet')" \
		"CREATE VIEW customers AS SELECT * FROM read_parquet('$dir/customers.parquet')" \
		"CREATE VIEW products AS SELECT * FROM read_parquet('$dir/products.parquet')" \
		"CREATE VIEW stores AS SELECT * FROM read_csv('$dir/stores.csv')" \
		"CREATE VIEW dates AS SELECT * FROM read_json('$dir/dates/*.json')"
}

# compare_result NAME POND_DIR ORACLE_FILE ORDERED: pond's output (its part
# files read in name order) against the oracle's Parquet file: the same
# column names and types, the same rows (in the same order when ORDERED is
# 1), doubles within 1e-9 relative. Prints nothing when they agree.
compare_result() {
	local name=$1 pond=$2 oracle=$3 ordered=$4 cols types cond="" sel="" ord="" cs="" i=0 n c t a b
	types=$(q "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('$oracle'))")
	cols=$(q "SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('$pond/part-*'))")
	if [ "$types" != "$cols" ]; then
		echo "$name: columns differ: pond [$(echo $cols)] oracle [$(echo $types)]"
		return
	fi
	while IFS=$'\t' read -r c t; do
		i=$((i + 1))
		case $t in
		DOUBLE | FLOAT)
			cond+=" AND (x.c$i IS NOT DISTINCT FROM y.c$i OR abs(x.c$i - y.c$i) <= 1e-9 * greatest(abs(x.c$i), abs(y.c$i)))" ;;
		*) cond+=" AND x.c$i IS NOT DISTINCT FROM y.c$i" ;;
		esac
		sel+="#$i AS c$i, "
		cs+=", c$i"
		ord+="${ord:+, }c$i"
	done <<<"$types"
	a="(SELECT ${sel}filename, file_row_number FROM read_parquet('$pond/part-*', filename=true, file_row_number=true))"
	b="(SELECT ${sel}file_row_number FROM read_parquet('$oracle', file_row_number=true))"
	if [ "$ordered" = 1 ]; then
		a="SELECT row_number() OVER (ORDER BY filename, file_row_number) AS rn$cs FROM $a"
		b="SELECT row_number() OVER (ORDER BY file_row_number) AS rn$cs FROM $b"
	else
		a="SELECT row_number() OVER (ORDER BY $ord) AS rn$cs FROM $a"
		b="SELECT row_number() OVER (ORDER BY $ord) AS rn$cs FROM $b"
	fi
	q "WITH x AS ($a), y AS ($b)
	   SELECT '$name: ' || count(*) || ' rows differ, first at row ' || min(rn) ||
		' (pond ' || (SELECT count(*) FROM x) || ' rows, oracle ' || (SELECT count(*) FROM y) || ')'
	   FROM x FULL JOIN y USING (rn) WHERE NOT (true$cond)
	   HAVING count(*) > 0"
}
