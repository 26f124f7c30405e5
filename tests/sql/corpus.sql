-- The corpus of pond sql's tests (tests/sql/corpus.sh): analytic queries
-- over gen_star's tables (tests/sql/lib_sql.sh). Each query follows a
-- header line
--   -- NAME: EXPECT [ordered] [| FLAGS]
-- EXPECT is "distributed" (--explain must not say "not distributed", and no
-- task may read the whole fact table) or "one task"; "ordered" compares the
-- rows in order (the query's ORDER BY must then order them totally); FLAGS
-- are added to pond sql's command line. The query ends with a line ending
-- in ';'. Each is compared with DuckDB.

-- ---- scans: filters and projections -------------------------------------

-- scan_all_columns: distributed
SELECT * FROM sales;

-- scan_filter_project: distributed
SELECT sale_id, amount, channel FROM sales WHERE amount > 90000 AND channel = 'web';

-- scan_expressions: distributed
SELECT sale_id, amount * 2 AS twice, upper(channel) AS ch, sale_date + INTERVAL 1 DAY AS next_day,
       quantity IS NULL AS no_quantity, CAST(unit_price AS DOUBLE) / 3 AS third
FROM sales WHERE sale_id % 97 = 0;

-- scan_null_filters: distributed
SELECT sale_id, customer_id, discount FROM sales WHERE customer_id IS NULL OR discount IS NULL;

-- scan_in_list_like: distributed
SELECT sale_id, channel, store_id FROM sales
WHERE store_id IN (3, 7, 11) AND channel LIKE 'w%' AND sale_date BETWEEN DATE '2022-03-01' AND DATE '2022-03-31';

-- scan_qualified_columns: distributed
SELECT s.sale_id, s.amount FROM sales AS s WHERE s.returned AND s.quantity > 18;

-- scan_case_coalesce: distributed
SELECT sale_id, CASE WHEN amount > 50000 THEN 'big' WHEN amount > 10000 THEN 'mid' ELSE 'small' END AS size,
       coalesce(channel, 'unknown') AS channel, coalesce(quantity, 0) * unit_price AS value
FROM sales WHERE sale_id % 101 = 5;

-- scan_star_exclude: distributed
SELECT * EXCLUDE (discount, returned) FROM sales WHERE product_id = 42;

-- scan_path_in_query: distributed
SELECT sale_id, amount FROM '@WH@/sales/*.parquet' WHERE product_id = 7;

-- scan_read_parquet_call: distributed
SELECT sale_id, store_id FROM read_parquet('@WH@/sales/*.parquet') WHERE store_id = 13 AND quantity = 1;

-- scan_empty_result: distributed
SELECT sale_id FROM sales WHERE amount < 0;

-- scan_dates_and_strings: distributed
SELECT sale_id, year(sale_date) AS y, strftime(sale_date, '%Y-%m') AS ym, length(channel) AS n
FROM sales WHERE sale_id % 500 = 3;

-- ---- aggregates that merge ----------------------------------------------

-- global_count: distributed
SELECT count(*) FROM sales;

-- global_aggregates: distributed
SELECT count(*) AS n, count(quantity) AS nq, sum(amount) AS total, min(sale_date) AS first_day,
       max(sale_date) AS last_day, avg(amount) AS mean, sum(quantity) AS units
FROM sales;

-- global_aggregates_filtered: distributed
SELECT count(*) FILTER (WHERE returned) AS returns, sum(amount) FILTER (WHERE channel = 'web') AS web,
       avg(discount) AS avg_discount
FROM sales WHERE store_id < 40;

-- global_variances: distributed
SELECT stddev(amount) AS sd, stddev_pop(amount) AS sdp, variance(discount) AS v, var_pop(quantity) AS vp
FROM sales;

-- global_empty_input: distributed
SELECT count(*) AS n, sum(amount) AS s, avg(amount) AS a, min(channel) AS m FROM sales WHERE amount < 0;

-- group_by_channel: distributed ordered
SELECT channel, count(*) AS n, sum(amount) AS total FROM sales GROUP BY channel ORDER BY channel NULLS FIRST;

-- group_by_two_keys: distributed
SELECT store_id, channel, count(*) AS n, sum(quantity) AS q, max(unit_price) AS top FROM sales GROUP BY store_id, channel;

-- group_by_all: distributed
SELECT store_id, returned, count(*), avg(unit_price) FROM sales GROUP BY ALL;

-- group_by_position: distributed
SELECT channel, store_id % 5 AS bucket, sum(amount) FROM sales GROUP BY 1, 2;

-- group_by_alias: distributed
SELECT year(sale_date) AS y, month(sale_date) AS m, count(*) AS n FROM sales GROUP BY y, m;

-- group_by_expression: distributed
SELECT upper(coalesce(channel, 'none')) AS ch, sum(amount) / count(*) AS mean FROM sales
GROUP BY upper(coalesce(channel, 'none'));

-- group_by_skewed_key: distributed
SELECT customer_id, count(*) AS n, sum(amount) AS total, avg(quantity) AS q FROM sales GROUP BY customer_id;

-- group_by_many_groups: distributed
SELECT sale_id % 100000 AS k, count(*) AS n, sum(amount) AS s FROM sales GROUP BY k;

-- group_by_date: distributed
SELECT sale_date, count(*) AS n, sum(amount) AS total, min(amount) AS lo, max(amount) AS hi FROM sales GROUP BY sale_date;

-- group_by_having: distributed
SELECT product_id, count(*) AS n, sum(amount) AS total FROM sales GROUP BY product_id HAVING count(*) > 620;

-- group_by_having_not_selected: distributed
SELECT store_id FROM sales GROUP BY store_id HAVING avg(amount) > 49900 AND sum(quantity) > 0;

-- group_by_expressions_of_aggregates: distributed
SELECT channel, sum(amount) / nullif(sum(quantity), 0) AS per_unit, count(*) * 2 + 1 AS odd,
       max(amount) - min(amount) AS spread
FROM sales GROUP BY channel;

-- group_by_variances: distributed
SELECT store_id, stddev(amount) AS sd, var_samp(discount) AS v, stddev_pop(quantity) AS sp, var_pop(amount) AS vp
FROM sales GROUP BY store_id;

-- group_by_bool_and_bits: distributed
SELECT store_id, bool_and(returned) AS all_returned, bool_or(returned) AS any_returned,
       bit_or(quantity) AS bo, bit_and(quantity) AS ba, bit_xor(quantity) AS bx
FROM sales GROUP BY store_id;

-- group_by_min_max_distinct: distributed
SELECT channel, min(DISTINCT store_id) AS lo, max(DISTINCT amount) AS hi FROM sales GROUP BY channel;

-- group_by_filtered_aggregates: distributed
SELECT store_id, count(*) FILTER (WHERE returned) AS returns, sum(amount) FILTER (WHERE quantity > 10) AS big,
       avg(discount) FILTER (WHERE channel = 'web') AS web_discount
FROM sales GROUP BY store_id;

-- group_by_with_where: distributed
SELECT channel, count(*) AS n FROM sales WHERE sale_date >= DATE '2023-01-01' AND amount > 50000 GROUP BY channel;

-- group_by_null_keys: distributed
SELECT quantity, channel, count(*) AS n FROM sales WHERE store_id < 5 GROUP BY quantity, channel;

-- group_by_decimal_sums: distributed
SELECT store_id, sum(unit_price) AS up, sum(amount) AS a, sum(unit_price * quantity) AS revenue FROM sales GROUP BY store_id;

-- group_by_integer_sums: distributed
SELECT channel, sum(quantity) AS q, sum(sale_id) AS ids, sum(store_id) AS stores FROM sales GROUP BY channel;

-- group_by_qualified: distributed
SELECT s.channel, count(*) AS n FROM sales s GROUP BY s.channel;

-- group_by_mean: distributed
SELECT channel, mean(amount) AS m, avg(quantity) AS q FROM sales GROUP BY channel;

-- group_by_avg_decimal_as_duckdb: distributed
SELECT count(*) AS n, count(*) FILTER (WHERE s.unit_price > g.a) AS above, count(*) FILTER (WHERE s.unit_price = g.a) AS at,
       count(*) FILTER (WHERE s.amount = g.b) AS at_amount
FROM sales s JOIN (SELECT customer_id, store_id, avg(unit_price) AS a, avg(amount) AS b FROM sales GROUP BY customer_id, store_id) g
  USING (customer_id, store_id);

-- group_by_avg_of_dates: distributed
SELECT store_id, avg(sale_date) AS mid, avg(amount) AS a, count(*) AS n FROM sales GROUP BY store_id;

-- ---- aggregates that do not merge: rows shuffled on the keys -------------

-- group_by_median: distributed
SELECT store_id, median(amount) AS med, count(*) AS n FROM sales GROUP BY store_id;

-- group_by_count_distinct: distributed
SELECT channel, count(DISTINCT customer_id) AS customers, count(DISTINCT product_id) AS products FROM sales GROUP BY channel;

-- group_by_quantiles: distributed
SELECT store_id, quantile_cont(amount, 0.9) AS p90, quantile_disc(quantity, 0.5) AS p50 FROM sales GROUP BY store_id;

-- group_by_string_agg_ordered: distributed
SELECT store_id, string_agg(DISTINCT channel, ',' ORDER BY channel) AS channels FROM sales GROUP BY store_id;

-- group_by_list_ordered: distributed
SELECT product_id, list(sale_id ORDER BY sale_id) AS ids FROM sales WHERE product_id <= 3 GROUP BY product_id;

-- group_by_sum_distinct: distributed
SELECT channel, sum(DISTINCT quantity) AS q, count(DISTINCT store_id) AS stores FROM sales GROUP BY channel;

-- group_by_mixed_merge_and_not: distributed
SELECT store_id, median(quantity) AS med, sum(amount) AS total, avg(discount) AS d FROM sales GROUP BY store_id HAVING count(*) > 100;

-- global_median: one task
SELECT median(amount) FROM sales;

-- global_count_distinct: one task
SELECT count(DISTINCT customer_id) FROM sales;

-- ---- DISTINCT ------------------------------------------------------------

-- distinct_one_column: distributed
SELECT DISTINCT channel FROM sales;

-- distinct_columns: distributed
SELECT DISTINCT store_id, channel, returned FROM sales WHERE quantity = 5;

-- distinct_of_aggregates: distributed
SELECT DISTINCT count(*) % 3 AS r FROM sales GROUP BY store_id;

-- ---- ORDER BY and LIMIT ---------------------------------------------------

-- order_by_amount: distributed ordered
SELECT sale_id, amount FROM sales WHERE sale_id % 10 = 0 ORDER BY amount, sale_id;

-- order_by_desc: distributed ordered
SELECT sale_id, amount FROM sales WHERE sale_id % 10 = 3 ORDER BY amount DESC, sale_id DESC;

-- order_by_nulls_first: distributed ordered
SELECT sale_id, customer_id FROM sales WHERE sale_id % 20 = 1 ORDER BY customer_id NULLS FIRST, sale_id;

-- order_by_desc_nulls_first: distributed ordered
SELECT sale_id, discount FROM sales WHERE sale_id % 20 = 2 ORDER BY discount DESC NULLS FIRST, sale_id;

-- order_by_position: distributed ordered
SELECT channel, sale_id, amount FROM sales WHERE sale_id % 50 = 7 ORDER BY 3 DESC, 2;

-- order_by_alias: distributed ordered
SELECT sale_id, amount * quantity AS value FROM sales WHERE sale_id % 30 = 1 ORDER BY value NULLS FIRST, sale_id;

-- order_by_expression_not_selected: distributed ordered
SELECT sale_id, channel FROM sales WHERE sale_id % 40 = 9 ORDER BY length(coalesce(channel, '')) DESC, sale_id;

-- order_by_date_string: distributed ordered
SELECT sale_id, sale_date, channel FROM sales WHERE sale_id % 25 = 4 ORDER BY sale_date, channel, sale_id;

-- order_by_aggregate: distributed ordered
SELECT product_id, sum(amount) AS total FROM sales GROUP BY product_id ORDER BY total DESC, product_id;

-- order_by_aggregate_not_selected: distributed ordered
SELECT store_id FROM sales GROUP BY store_id ORDER BY count(*), store_id;

-- order_by_group_key_desc: distributed ordered
SELECT customer_id, count(*) AS n FROM sales GROUP BY customer_id ORDER BY customer_id DESC NULLS LAST;

-- order_by_limit: distributed ordered
SELECT sale_id, amount FROM sales ORDER BY amount DESC, sale_id LIMIT 10;

-- order_by_limit_offset: distributed ordered
SELECT sale_id, sale_date FROM sales ORDER BY sale_date, sale_id LIMIT 7 OFFSET 13;

-- order_by_aggregate_limit: distributed ordered
SELECT customer_id, sum(amount) AS total FROM sales WHERE customer_id IS NOT NULL GROUP BY customer_id
ORDER BY total DESC, customer_id LIMIT 5;

-- limit_without_order: distributed ordered
SELECT sale_id, amount FROM sales LIMIT 5;

-- limit_offset_without_order: distributed ordered
SELECT sale_id FROM sales WHERE store_id = 9 LIMIT 4 OFFSET 3;

-- distinct_order_by: distributed ordered
SELECT DISTINCT store_id, channel FROM sales WHERE store_id < 6 ORDER BY store_id, channel NULLS LAST;

-- order_by_median: distributed ordered
SELECT store_id, median(amount) AS m FROM sales GROUP BY store_id ORDER BY m, store_id;

-- ---- other tables ----------------------------------------------------------

-- customers_by_segment: distributed
SELECT segment, count(*) AS n, avg(credit) AS c FROM customers GROUP BY segment;

-- dates_json: distributed
SELECT year, count(*) AS days, count(*) FILTER (WHERE weekend) AS weekend_days FROM dates GROUP BY year;

-- stores_csv_one_file: one task
SELECT region, count(*) AS n, sum(size_m2) AS m2 FROM stores GROUP BY region;

-- ---- joins: dimensions broadcast, or co-partitioned on the keys -------------

-- join_two_tables: distributed
SELECT c.segment, count(*) AS n FROM sales s JOIN customers c USING (customer_id) GROUP BY c.segment;

-- star_join_four_dimensions: distributed
SELECT c.segment, p.category, st.region, d.year, count(*) AS n, sum(s.amount) AS revenue,
       avg(s.quantity) AS q
FROM sales s
JOIN customers c ON s.customer_id = c.customer_id
JOIN products p ON s.product_id = p.product_id
JOIN stores st ON s.store_id = st.store_id
JOIN dates d ON s.sale_date = d.date_id
GROUP BY c.segment, p.category, st.region, d.year;

-- star_join_filters_on_dimensions: distributed
SELECT p.brand, sum(s.amount) AS revenue, count(DISTINCT s.customer_id) AS buyers
FROM sales s JOIN products p ON s.product_id = p.product_id JOIN dates d ON d.date_id = s.sale_date
WHERE p.category = 'books' AND d.weekend AND s.channel = 'web'
GROUP BY p.brand;

-- join_left_keeps_unmatched: distributed
SELECT s.sale_id, s.customer_id, c.name FROM sales s LEFT JOIN customers c ON s.customer_id = c.customer_id
WHERE s.sale_id % 1000 = 17;

-- join_right_with_split_right: distributed
SELECT c.country, count(*) AS n FROM customers c RIGHT JOIN sales s ON s.customer_id = c.customer_id GROUP BY c.country;

-- join_semi: distributed
SELECT count(*) AS n, sum(amount) AS total FROM sales s SEMI JOIN customers c ON s.customer_id = c.customer_id AND c.segment = 'gold';

-- join_anti: distributed
SELECT sale_id, customer_id FROM sales s ANTI JOIN customers c ON s.customer_id = c.customer_id AND c.country <> 'JP'
WHERE sale_id % 100 = 1;

-- join_comma_where: distributed
SELECT st.city, count(*) AS n FROM sales s, stores st WHERE s.store_id = st.store_id AND st.size_m2 > 200 GROUP BY st.city;

-- join_scan_projection: distributed
SELECT s.sale_id, p.pname, p.list_price, s.unit_price FROM sales s JOIN products p USING (product_id)
WHERE s.sale_id % 300 = 11;

-- join_order_by_limit: distributed ordered
SELECT c.name, sum(s.amount) AS revenue FROM sales s JOIN customers c USING (customer_id)
GROUP BY c.name ORDER BY revenue DESC, c.name LIMIT 10;

-- join_order_by: distributed ordered
SELECT p.category, p.pname, s.sale_id FROM sales s JOIN products p USING (product_id)
WHERE s.sale_id % 997 = 5 ORDER BY p.category, s.sale_id;

-- join_median_per_dimension: distributed
SELECT st.region, median(s.amount) AS med, quantile_disc(s.quantity, 0.9) AS q90 FROM sales s JOIN stores st USING (store_id)
GROUP BY st.region;

-- join_distinct: distributed
SELECT DISTINCT c.country, s.channel FROM sales s JOIN customers c USING (customer_id) WHERE s.amount > 99000;

-- join_copartitioned: distributed | --broadcast-limit 0
SELECT c.segment, count(*) AS n, sum(s.amount) AS total FROM sales s JOIN customers c ON s.customer_id = c.customer_id
GROUP BY c.segment;

-- join_copartitioned_on_filter_null_side: distributed ordered | --broadcast-limit 0
SELECT c_count, count(*) AS custdist FROM (
  SELECT c.customer_id, count(s.sale_id) AS c_count FROM customers c LEFT JOIN sales s
  ON c.customer_id = s.customer_id AND s.channel <> 'web' AND s.amount > 20000 AND c.segment <> 'gold'
  WHERE c.country IS DISTINCT FROM 'JP'
  GROUP BY c.customer_id) AS counts
GROUP BY c_count ORDER BY custdist DESC, c_count DESC;

-- join_copartitioned_right_where_on_null_side: distributed | --broadcast-limit 0
SELECT s.channel, c.segment, count(*) AS n, sum(s.quantity) AS q FROM customers c RIGHT JOIN sales s
ON s.customer_id = c.customer_id AND c.segment = 'gold'
WHERE c.country IS NULL OR c.country <> 'JP'
GROUP BY s.channel, c.segment;

-- join_copartitioned_anti_on_filter: distributed | --broadcast-limit 0
SELECT sale_id, customer_id FROM sales s ANTI JOIN customers c ON s.customer_id = c.customer_id AND c.country <> 'JP'
WHERE sale_id % 100 = 1 AND (s.discount IS NULL OR s.discount > 0.1);

-- join_copartitioned_pushed_columns_not_shipped: distributed ordered | --broadcast-limit 0
-- explain: s: 2 of its 11 columns shipped, rows filtered first by
SELECT c.segment, count(s.sale_id) AS n FROM customers c LEFT JOIN sales s
ON c.customer_id = s.customer_id AND s.channel <> 'web' AND s.amount > 20000 AND s.discount IS NOT NULL
WHERE c.country <> 'JP'
GROUP BY c.segment ORDER BY c.segment NULLS FIRST;

-- join_reduced_side_pushed_columns_not_shipped: distributed ordered | --broadcast-limit 1MB
-- explain: SELECT "sale_id", "customer_id", "quantity" FROM
SELECT c.country, count(s.sale_id) AS n, sum(s.quantity) AS q FROM customers c LEFT JOIN sales s
ON s.customer_id = c.customer_id AND s.channel = 'web' AND s.returned IS NOT TRUE
WHERE c.segment = 'gold'
GROUP BY c.country ORDER BY c.country NULLS FIRST;

-- join_copartitioned_grouped_on_key_top: distributed ordered | --broadcast-limit 0
-- explain: GROUP BY: each group within one partition of the join (hashed on p.product_id)
SELECT p.product_id, p.category, count(*) AS n, sum(s.amount) AS total, median(s.quantity) AS mq
FROM products p JOIN sales s ON s.product_id = p.product_id
WHERE s.channel <> 'web' GROUP BY p.product_id, p.category HAVING count(*) > 100
ORDER BY n DESC, p.product_id LIMIT 10;

-- join_copartitioned_grouped_on_key_distinct_count: distributed | --broadcast-limit 0
-- explain: GROUP BY: each group within one partition of the join (hashed on s.product_id)
SELECT s.product_id, s.store_id, count(DISTINCT s.customer_id) AS nc, avg(p.list_price) AS lp
FROM sales s JOIN products p ON s.product_id = p.product_id GROUP BY ALL;

-- join_copartitioned_grouped_on_null_side_key: distributed | --broadcast-limit 0
-- explain: GROUP BY: partial aggregates per part, hash shuffle on 1 key
SELECT s.product_id, count(*) AS n, count(s.sale_id) AS ns FROM products p
LEFT JOIN sales s ON s.product_id = p.product_id AND s.amount > 99000
GROUP BY s.product_id;

-- join_copartitioned_inner_filters_ordered_hugeint: distributed ordered | --broadcast-limit 0
SELECT c.segment, s.channel, sum(s.quantity) AS q, count(*) AS n FROM sales s JOIN customers c
ON s.customer_id = c.customer_id AND c.country <> 'JP' AND s.quantity > 3
WHERE s.returned IS NOT TRUE
GROUP BY c.segment, s.channel ORDER BY q DESC, c.segment, s.channel;

-- agg_small_groups_ordered_limit_hugeint: distributed ordered
SELECT channel, sum(quantity) AS q, count(*) AS n FROM sales GROUP BY channel HAVING count(*) > 10
ORDER BY q DESC, channel LIMIT 3;

-- join_copartitioned_full_where_on_both: distributed ordered | --broadcast-limit 0
SELECT c.segment, p.category, count(*) AS n, count(p.product_id) AS np FROM customers c FULL JOIN products p
ON c.customer_id = p.product_id AND p.list_price > 10
WHERE c.country IS NULL OR c.country <> 'JP'
GROUP BY c.segment, p.category ORDER BY 1 NULLS FIRST, 2 NULLS FIRST;

-- join_copartitioned_left_small_left: distributed
SELECT c.country, count(s.sale_id) AS n FROM customers c LEFT JOIN sales s ON s.customer_id = c.customer_id
GROUP BY c.country;

-- join_copartitioned_full: distributed | --broadcast-limit 0
SELECT coalesce(c.customer_id, p.product_id) AS id, c.name, p.pname FROM customers c FULL JOIN products p
ON c.customer_id = p.product_id WHERE coalesce(c.customer_id, p.product_id) % 50 = 3;

-- join_self_copartitioned: distributed | --broadcast-limit 1MB
SELECT count(*) AS n, sum(a.amount - b.amount) AS d FROM sales a JOIN sales b ON a.customer_id = b.customer_id
AND a.sale_date = b.sale_date AND a.product_id = b.product_id;

-- join_copartitioned_with_broadcast_dims: distributed | --broadcast-limit 1MB
SELECT p.category, count(*) AS n FROM sales a JOIN sales b ON a.sale_id = b.sale_id
JOIN products p ON a.product_id = p.product_id GROUP BY p.category;

-- join_expression_keys_of_two_big_tables: one task | --broadcast-limit 1MB
SELECT count(*) FROM sales a JOIN sales b ON a.sale_id + 1 = b.sale_id;

-- ---- subqueries: over small tables inside every task, else their own stage --

-- subquery_in_small_table: distributed
SELECT count(*) AS n, sum(amount) AS total FROM sales
WHERE customer_id IN (SELECT customer_id FROM customers WHERE segment = 'gold');

-- subquery_not_in_small_table: distributed
SELECT channel, count(*) AS n FROM sales
WHERE product_id NOT IN (SELECT product_id FROM products WHERE category IN ('toys', 'music')) GROUP BY channel;

-- subquery_exists_correlated_small: distributed
SELECT count(*) AS n FROM sales s
WHERE EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = s.customer_id AND c.country = 'JP');

-- subquery_not_exists_correlated_small: distributed
SELECT s.store_id, count(*) AS n FROM sales s
WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.product_id = s.product_id AND p.list_price > 400)
GROUP BY s.store_id;

-- subquery_scalar_small: distributed
SELECT sale_id, unit_price FROM sales WHERE unit_price > (SELECT max(list_price) - 1 FROM products);

-- subquery_in_select_list: distributed
SELECT sale_id, (SELECT count(*) FROM stores) AS stores, unit_price - (SELECT avg(list_price) FROM products) AS d
FROM sales WHERE sale_id % 1000 = 1;

-- subquery_scalar_own_stage: distributed ordered | --broadcast-limit 1MB
SELECT sale_id, amount FROM sales WHERE amount > (SELECT max(amount) - 10 FROM sales) ORDER BY sale_id;

-- subquery_scalar_own_stage_aggregated: distributed | --broadcast-limit 1MB
SELECT channel, count(*) AS n FROM sales WHERE amount > (SELECT avg(amount) FROM sales) GROUP BY channel;

-- subquery_in_own_stage: distributed | --broadcast-limit 1MB
SELECT count(*) AS n FROM sales WHERE customer_id IN (SELECT customer_id FROM sales WHERE amount > 99990);

-- subquery_correlated_big_table: distributed | --broadcast-limit 1MB
SELECT count(*) FROM sales s WHERE amount > (SELECT avg(amount) * 1.9 FROM sales t WHERE t.store_id = s.store_id);

-- ---- correlated subqueries over big tables: decorrelated into joins ------------

-- decor_exists_q4: distributed ordered | --broadcast-limit 1MB
SELECT channel, count(*) AS n FROM sales s
WHERE sale_date >= DATE '2022-01-01' AND sale_date < DATE '2022-04-01'
  AND EXISTS (SELECT * FROM sales t WHERE t.customer_id = s.customer_id AND t.product_id = s.product_id
              AND t.amount > t.unit_price * 100)
GROUP BY channel ORDER BY channel;

-- decor_exists_not_exists_residual_q21: distributed ordered | --broadcast-limit 1MB
SELECT c.segment, count(*) AS numwait FROM sales s1, customers c
WHERE s1.customer_id = c.customer_id AND s1.returned AND s1.customer_id > 1
  AND EXISTS (SELECT * FROM sales s2 WHERE s2.customer_id = s1.customer_id AND s2.product_id = s1.product_id
              AND s2.sale_id <> s1.sale_id)
  AND NOT EXISTS (SELECT * FROM sales s3 WHERE s3.customer_id = s1.customer_id AND s3.product_id = s1.product_id
                  AND s3.sale_id <> s1.sale_id AND s3.sale_date > s1.sale_date)
GROUP BY c.segment ORDER BY numwait DESC, c.segment;

-- decor_not_exists_null_keys: distributed | --broadcast-limit 0
SELECT count(*) AS n, sum(amount) AS total, count(customer_id) AS with_key FROM sales s
WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = s.customer_id AND c.country = 'JP');

-- decor_exists_outer_condition_in_subquery: distributed | --broadcast-limit 0
SELECT store_id, count(*) AS n FROM sales s
WHERE EXISTS (SELECT 1 FROM products p WHERE p.product_id = s.product_id AND p.list_price < s.unit_price
              AND s.quantity > 10)
GROUP BY store_id;

-- decor_in_correlated: distributed | --broadcast-limit 1MB
SELECT count(*) AS n, sum(quantity) AS q FROM sales s
WHERE customer_id > 1 AND quantity IN (SELECT t.quantity + 2 FROM sales t WHERE t.customer_id = s.customer_id
                                       AND t.product_id = s.product_id AND t.sale_date > s.sale_date);

-- decor_not_in_with_nulls: distributed | --broadcast-limit 1MB
SELECT count(*) AS n, sum(quantity) AS q, count(quantity) AS with_quantity FROM sales s
WHERE quantity NOT IN (SELECT t.quantity + 2 FROM sales t WHERE t.customer_id = s.customer_id
                       AND t.product_id = s.product_id);

-- decor_not_in_null_outer_keys: distributed | --broadcast-limit 0
SELECT count(*) AS n, count(customer_id) AS with_key FROM sales s
WHERE product_id NOT IN (SELECT c.customer_id FROM customers c WHERE c.customer_id = s.customer_id);

-- decor_scalar_avg_q17: distributed | --broadcast-limit 1MB
-- explain: its rows only for keys of p's rows the query keeps
SELECT sum(s.amount) / 7.0 AS avg_yearly FROM sales s, products p
WHERE p.product_id = s.product_id AND p.brand = 'brand-3'
  AND s.quantity < (SELECT 0.2 * avg(quantity) * 4 FROM sales t WHERE t.product_id = p.product_id);

-- decor_scalar_min_q2: distributed ordered | --broadcast-limit 1MB
SELECT p.product_id, p.pname, s.sale_id, s.unit_price FROM products p, sales s
WHERE p.product_id = s.product_id AND p.category = 'toys' AND s.store_id = 7
  AND s.unit_price = (SELECT min(t.unit_price) FROM sales t, stores st
                      WHERE t.product_id = p.product_id AND t.store_id = st.store_id AND st.store_id = 7)
ORDER BY p.product_id, s.sale_id;

-- decor_scalar_count_empty_groups: distributed | --broadcast-limit 1MB
SELECT count(*) AS n, count(customer_id) AS with_key, sum(quantity) AS q FROM sales s
WHERE quantity > (SELECT count(*) FROM sales t WHERE t.customer_id = s.customer_id AND t.sale_date < DATE '2021-02-01');

-- decor_scalar_coalesce_not_null_when_empty: distributed | --broadcast-limit 1MB
SELECT count(*) AS n, sum(amount) AS total FROM sales s
WHERE amount > (SELECT coalesce(sum(t.amount), 0) / 50 FROM sales t WHERE t.customer_id = s.customer_id
                AND t.product_id = s.product_id AND t.returned);

-- decor_scalar_inside_expression: distributed | --broadcast-limit 1MB
SELECT count(*) AS n FROM sales s
WHERE coalesce((SELECT max(t.quantity) FROM sales t WHERE t.product_id = s.product_id AND t.store_id = 3), -1) < quantity;

-- decor_in_with_correlated_scalar_q20: distributed ordered | --broadcast-limit 1MB
SELECT p.product_id, p.pname FROM products p
WHERE p.product_id IN (SELECT s.product_id FROM sales s WHERE s.channel = 'web'
                       AND s.quantity > (SELECT 0.9 * max(t.quantity) FROM sales t
                                         WHERE t.product_id = s.product_id AND t.store_id = s.store_id))
  AND p.category = 'books'
ORDER BY p.product_id;

-- decor_not_exists_and_uncorrelated_scalar_q22: distributed ordered | --broadcast-limit 1MB
SELECT country, count(*) AS numcust, sum(credit) AS totacctbal FROM (
  SELECT c.country, c.credit FROM customers c
  WHERE c.credit > (SELECT avg(credit) FROM customers WHERE credit > 5000)
    AND NOT EXISTS (SELECT * FROM sales s WHERE s.customer_id = c.customer_id AND s.channel = 'phone'
                    AND s.sale_date >= DATE '2023-06-01')) AS custsale
GROUP BY country ORDER BY country;

-- ---- join reduction: a small kept side's keys filter the big side before its shuffle

-- reduce_exists_small_filtered_outer: distributed ordered | --broadcast-limit 1MB
SELECT c.segment, count(*) AS n FROM customers c
WHERE c.country = 'JP' AND c.signup_date < DATE '2019-01-01'
  AND EXISTS (SELECT 1 FROM sales s WHERE s.customer_id = c.customer_id AND s.channel = 'web')
GROUP BY c.segment ORDER BY c.segment NULLS FIRST;

-- reduce_not_exists_small_filtered_outer: distributed ordered | --broadcast-limit 1MB
SELECT c.customer_id, c.name FROM customers c
WHERE c.country = 'BR' AND c.credit > 9000
  AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.customer_id = c.customer_id AND s.returned AND s.quantity > 18)
ORDER BY c.customer_id;

-- reduce_exists_residual: distributed ordered | --broadcast-limit 1MB
SELECT c.country, count(*) AS n FROM customers c
WHERE c.segment = 'gold'
  AND EXISTS (SELECT 1 FROM sales s WHERE s.customer_id = c.customer_id AND s.amount > c.credit * 10)
  AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.customer_id = c.customer_id AND s.unit_price > c.credit)
GROUP BY c.country ORDER BY c.country;

-- reduce_in_correlated: distributed ordered | --broadcast-limit 1MB
SELECT p.product_id, p.pname FROM products p
WHERE p.category = 'toys'
  AND p.list_price::INTEGER % 20 IN (SELECT s.quantity FROM sales s WHERE s.product_id = p.product_id AND s.store_id < 5)
ORDER BY p.product_id;

-- reduce_not_in_with_nulls: distributed ordered | --broadcast-limit 1MB
-- explain: its rows only for keys of p's rows the query keeps
SELECT p.product_id, p.brand FROM products p
WHERE p.category IN ('books', 'food')
  AND CASE WHEN p.product_id % 9 = 0 THEN NULL ELSE p.product_id % 20 END
      NOT IN (SELECT s.quantity FROM sales s WHERE s.product_id = p.product_id AND s.store_id < 3)
ORDER BY p.product_id;

-- reduce_semi_anti_null_keys_both_sides: distributed ordered | --broadcast-limit 1MB
SELECT 'semi' AS j, count(*) AS n, count(c.k) AS with_key FROM
  (SELECT CASE WHEN customer_id % 5 = 0 THEN NULL ELSE customer_id END AS k FROM customers WHERE country = 'DE') c
  SEMI JOIN sales s ON s.customer_id = c.k
UNION ALL
SELECT 'anti', count(*), count(c.k) FROM
  (SELECT CASE WHEN customer_id % 5 = 0 THEN NULL ELSE customer_id END AS k FROM customers WHERE country = 'DE') c
  ANTI JOIN sales s ON s.customer_id = c.k AND s.channel = 'phone'
ORDER BY j;

-- reduce_left_join_small_side_kept: distributed ordered | --broadcast-limit 1MB
SELECT c.country, count(*) AS n, count(s.sale_id) AS matched, sum(s.amount) AS total FROM
  (SELECT CASE WHEN customer_id % 11 = 0 THEN NULL ELSE customer_id END AS k, country FROM customers
   WHERE segment = 'business') c
  LEFT JOIN sales s ON s.customer_id = c.k AND s.channel IS DISTINCT FROM 'web'
GROUP BY c.country ORDER BY c.country;

-- reduce_right_join_small_side_kept: distributed ordered | --broadcast-limit 1MB
SELECT c.segment, count(*) AS n, count(s.sale_id) AS matched FROM sales s
  RIGHT JOIN customers c ON s.customer_id = c.customer_id AND s.store_id = 4
WHERE c.country = 'FR'
GROUP BY c.segment ORDER BY c.segment NULLS FIRST;

-- decor_semi_filter_count_left_join: distributed ordered | --broadcast-limit 1MB
-- explain: its rows only for keys of c's rows the query keeps
SELECT c.segment, count(*) AS n, sum(c.credit) AS credit FROM customers c
WHERE c.country = 'JP' AND c.segment IS DISTINCT FROM 'gold'
  AND 3 > (SELECT count(*) FROM sales t WHERE t.customer_id = c.customer_id AND t.channel = 'web')
GROUP BY c.segment ORDER BY c.segment NULLS FIRST;

-- decor_semi_filter_two_keys_anti: distributed ordered | --broadcast-limit 1MB
-- explain: its rows only for keys of c's rows the query keeps
SELECT c.country, count(*) AS n FROM customers c
WHERE c.customer_id <= 2000 AND c.segment = 'business'
  AND NOT EXISTS (SELECT 1 FROM sales s2 WHERE s2.customer_id = c.customer_id AND s2.product_id = c.customer_id
                  AND s2.channel <> 'web')
GROUP BY c.country ORDER BY c.country NULLS FIRST;

-- decor_semi_filter_key_name_shared: distributed | --broadcast-limit 1MB
SELECT count(*) AS n FROM customers c
WHERE c.country = 'DE' AND c.credit / 1000 > (SELECT count(*) FROM sales WHERE customer_id = c.customer_id);

-- decor_semi_filter_in_subquery_q20: distributed ordered | --broadcast-limit 1MB
-- explain: its rows only for keys of c's rows the query keeps
SELECT c.customer_id, c.name, c.credit FROM customers c
WHERE c.customer_id % 50 IN (SELECT st.store_id FROM stores st WHERE st.region = 'north')
  AND c.credit / 100 > (SELECT sum(s.quantity) FROM sales s WHERE s.customer_id = c.customer_id AND s.channel = 'web')
ORDER BY c.customer_id;

-- decor_semi_filter_in_subquery_two_keys: distributed ordered | --broadcast-limit 1MB
-- explain: its rows only for keys of c's rows the query keeps
SELECT c.customer_id, c.segment FROM customers c
WHERE c.segment IN (SELECT CASE WHEN st.size_m2 > 200 THEN 'gold' ELSE 'retail' END FROM stores st WHERE st.region <> 'east')
  AND c.credit / 1000 > (SELECT coalesce(sum(t.quantity), 0) FROM sales t WHERE t.customer_id = c.customer_id
                         AND t.product_id = c.customer_id)
ORDER BY c.customer_id;

-- decor_semi_filter_subquery_on_itself: distributed ordered | --broadcast-limit 1MB
SELECT c.customer_id, c.country FROM customers c
WHERE c.credit > (SELECT avg(c2.credit) FROM customers c2 WHERE c2.country = c.country) * 1.8
  AND c.credit / 200 > (SELECT sum(s.quantity) FROM sales s WHERE s.customer_id = c.customer_id AND s.store_id < 25)
ORDER BY c.customer_id;

-- broadcast_side_filtered_once_q3: distributed ordered | --broadcast-limit 400KB
-- explain: c: filtered once by one task, then broadcast (its own conditions; keys met by p)
SELECT p.category, c.segment, count(*) AS n, sum(s.amount) AS total FROM sales s, customers c, products p
WHERE s.customer_id = c.customer_id AND c.customer_id = p.product_id AND p.category = 'toys'
  AND c.country IS DISTINCT FROM 'JP'
GROUP BY p.category, c.segment ORDER BY p.category, c.segment NULLS FIRST;

-- decor_correlated_non_equality: one task | --broadcast-limit 1MB
SELECT count(*) FROM sales s WHERE amount > (SELECT avg(amount) * 1.5 FROM sales t WHERE t.store_id < s.store_id);

-- ---- subqueries in an aggregate's select list, HAVING, ORDER BY ----------------
-- (uncorrelated: planned as in WHERE, read whole by the final aggregate's tasks)

-- subquery_in_having: distributed | --broadcast-limit 1MB
SELECT store_id, sum(amount) AS total FROM sales GROUP BY store_id
HAVING sum(amount) > (SELECT sum(amount) / 60 FROM sales);

-- subquery_in_having_q11: distributed ordered | --broadcast-limit 1MB
SELECT s.product_id, sum(s.amount * s.quantity) AS value FROM sales s, products p
WHERE s.product_id = p.product_id AND p.category = 'books'
GROUP BY s.product_id
HAVING sum(s.amount * s.quantity) > (SELECT sum(s2.amount * s2.quantity) * 0.004 FROM sales s2, products p2
                                     WHERE s2.product_id = p2.product_id AND p2.category = 'books')
ORDER BY value DESC, s.product_id;

-- subquery_in_having_many_groups: distributed | --broadcast-limit 1MB
SELECT customer_id, count(*) AS n FROM sales GROUP BY customer_id
HAVING count(*) > (SELECT count(*) / 8000 FROM sales WHERE channel = 'web');

-- subquery_in_having_global: distributed | --broadcast-limit 1MB
SELECT count(*) AS n, sum(amount) AS total FROM sales WHERE channel = 'phone'
HAVING sum(amount) > (SELECT sum(amount) / 5 FROM sales);

-- subquery_in_aggregate_select_list: distributed ordered | --broadcast-limit 1MB
SELECT channel, count(*) AS n, sum(amount) / (SELECT sum(amount) FROM sales) AS share,
       (SELECT max(quantity) FROM sales) - max(quantity) AS gap
FROM sales GROUP BY channel ORDER BY channel;

-- subquery_small_in_aggregate_select_list: distributed ordered
SELECT store_id, count(*) * (SELECT count(*) FROM stores) AS x, sum(amount) AS total
FROM sales WHERE store_id < 5 GROUP BY store_id HAVING count(*) > (SELECT count(*) FROM products) ORDER BY store_id;

-- subquery_in_select_list_unmerged_aggregate: distributed | --broadcast-limit 1MB
SELECT store_id, median(quantity) AS med, (SELECT max(amount) FROM sales) - max(amount) AS gap
FROM sales GROUP BY store_id HAVING count(DISTINCT channel) >= (SELECT max(store_id) FROM sales) / 20;

-- subquery_in_aggregate_order_by: distributed ordered | --broadcast-limit 1MB
SELECT store_id, sum(quantity) AS q FROM sales GROUP BY store_id
ORDER BY abs(sum(quantity) - (SELECT avg(quantity) * 24000 FROM sales)), store_id LIMIT 10;

-- subquery_no_rows_in_having: distributed | --broadcast-limit 1MB
SELECT store_id, sum(amount) AS total FROM sales GROUP BY store_id
HAVING sum(amount) > (SELECT amount FROM sales WHERE amount < 0);

-- subquery_no_rows_in_aggregate_select_list: distributed ordered | --broadcast-limit 1MB
SELECT channel, count(*) AS n, (SELECT amount FROM sales WHERE amount < 0) AS none,
       coalesce((SELECT max(amount) FROM sales WHERE amount < 0), -1) AS fallback
FROM sales GROUP BY channel ORDER BY channel;

-- subquery_in_window_select_list: distributed
SELECT sale_id, row_number() OVER (PARTITION BY store_id ORDER BY sale_id) + (SELECT count(*) FROM stores) AS r
FROM sales WHERE sale_id % 100 = 0;

-- subquery_correlated_in_window_select_list: one task
SELECT sale_id, row_number() OVER (PARTITION BY store_id ORDER BY sale_id)
       + (SELECT count(*) FROM stores t WHERE t.store_id = s.store_id) AS r
FROM sales s WHERE sale_id % 100 = 0;

-- subquery_in_merged_aggregate_argument: one task | --broadcast-limit 1MB
SELECT store_id, sum(amount * (SELECT max(list_price) FROM products)) AS t FROM sales GROUP BY store_id;

-- subquery_in_unmerged_aggregate_argument: distributed | --broadcast-limit 1MB
SELECT store_id, median(amount * (SELECT max(list_price) FROM products)) AS t FROM sales GROUP BY store_id
HAVING count(*) > (SELECT count(*) FROM sales) / 60;

-- subquery_correlated_in_having: one task
SELECT store_id, sum(amount) AS total FROM sales s GROUP BY store_id
HAVING sum(amount) > (SELECT count(*) FROM stores t WHERE t.store_id = s.store_id) * 1000000;

-- ---- derived tables and CTEs: planned on their own ---------------------------

-- cte_filtered_then_grouped: distributed
WITH big AS (SELECT * FROM sales WHERE amount > 99000) SELECT channel, count(*) AS n FROM big GROUP BY channel;

-- cte_aggregate_joined_to_dimension: distributed ordered
WITH per_store AS (SELECT store_id, sum(amount) AS total, count(*) AS n FROM sales GROUP BY store_id)
SELECT st.region, sum(ps.total) AS total, sum(ps.n) AS n FROM per_store ps JOIN stores st USING (store_id)
GROUP BY st.region ORDER BY st.region;

-- derived_table_of_aggregates: distributed ordered
SELECT c_count, count(*) AS custdist FROM (
  SELECT c.customer_id, count(s.sale_id) AS c_count FROM customers c LEFT JOIN sales s ON c.customer_id = s.customer_id
  GROUP BY c.customer_id) AS counts
GROUP BY c_count ORDER BY custdist DESC, c_count DESC;

-- derived_tables_joined: distributed
SELECT a.store_id, a.web, b.phone FROM
  (SELECT store_id, sum(amount) AS web FROM sales WHERE channel = 'web' GROUP BY store_id) a
  JOIN (SELECT store_id, sum(amount) AS phone FROM sales WHERE channel = 'phone' GROUP BY store_id) b
  ON a.store_id = b.store_id;

-- cte_used_twice: distributed
WITH daily AS (SELECT sale_date, sum(amount) AS total FROM sales GROUP BY sale_date)
SELECT d1.sale_date, d1.total - d2.total AS change FROM daily d1 JOIN daily d2 ON d1.sale_date = d2.sale_date + 1;

-- derived_nested: distributed
SELECT max(n) AS most, min(n) AS least FROM (SELECT customer_id, count(*) AS n FROM
  (SELECT * FROM sales WHERE customer_id IS NOT NULL AND customer_id <> 1) GROUP BY customer_id);

-- cte_scan_with_order_limit: distributed ordered
WITH scored AS (SELECT sale_id, amount * coalesce(discount, 0) AS score FROM sales)
SELECT sale_id, score FROM scored ORDER BY score DESC, sale_id LIMIT 20;

-- cte_named_in_where_subquery: distributed ordered | --broadcast-limit 1000000
-- (TPC-H Q15's shape: the CTE is inlined in the subquery too; it did not
-- bind once the CTEs were dropped, and the query fell back to one task)
WITH per_store AS (SELECT store_id, sum(amount) AS total FROM sales WHERE channel = 'web' GROUP BY store_id)
SELECT st.store_id, st.city, ps.total FROM stores st, per_store ps
WHERE st.store_id = ps.store_id AND ps.total = (SELECT max(total) FROM per_store) ORDER BY st.store_id;

-- cte_named_in_derived_table: distributed
WITH big AS (SELECT sale_id, customer_id FROM sales WHERE amount > 99000)
SELECT n, count(*) AS customers FROM (SELECT customer_id, count(*) AS n FROM big GROUP BY customer_id) GROUP BY n;

-- ---- window functions: rows shuffled on their PARTITION BY -----------------

-- window_row_number: distributed
SELECT sale_id, store_id, row_number() OVER (PARTITION BY store_id ORDER BY sale_id) AS rn FROM sales WHERE sale_id < 5000;

-- window_running_sum_and_rank: distributed
SELECT sale_id, customer_id, sum(amount) OVER (PARTITION BY customer_id ORDER BY sale_id) AS running,
       rank() OVER (PARTITION BY customer_id ORDER BY amount DESC, sale_id) AS r,
       lag(amount) OVER (PARTITION BY customer_id ORDER BY sale_id) AS previous
FROM sales WHERE customer_id BETWEEN 100 AND 400;

-- window_partition_aggregates: distributed
SELECT sale_id, store_id, amount - avg(amount) OVER (PARTITION BY store_id, channel) AS above,
       count(*) OVER (PARTITION BY store_id, channel) AS n
FROM sales WHERE sale_id % 50 = 0;

-- window_qualify_top_two: distributed ordered
SELECT store_id, sale_id, amount FROM sales
QUALIFY row_number() OVER (PARTITION BY store_id ORDER BY amount DESC, sale_id) <= 2
ORDER BY store_id, amount DESC, sale_id;

-- window_over_join: distributed
SELECT s.sale_id, p.category, dense_rank() OVER (PARTITION BY p.category ORDER BY s.amount DESC, s.sale_id) AS r
FROM sales s JOIN products p USING (product_id) WHERE s.sale_id % 200 = 1;

-- window_without_partition: one task
SELECT sale_id, row_number() OVER (ORDER BY amount DESC, sale_id) AS rn FROM sales WHERE sale_id < 1000;

-- window_over_aggregate: one task
SELECT store_id, sum(amount) AS total, rank() OVER (ORDER BY sum(amount) DESC) AS r FROM sales GROUP BY store_id;

-- ---- set operations ---------------------------------------------------------

-- union_all: distributed
SELECT channel FROM sales WHERE sale_id < 10 UNION ALL SELECT segment FROM customers WHERE customer_id < 10;

-- union_all_types_widen: distributed
SELECT store_id AS x, amount AS y FROM sales WHERE sale_id % 10000 = 1
UNION ALL SELECT customer_id, credit FROM customers WHERE customer_id % 1000 = 2;

-- union_distinct_ordered: distributed ordered
SELECT store_id FROM sales WHERE amount > 99990 UNION SELECT store_id FROM sales WHERE amount < 5 ORDER BY 1;

-- union_of_aggregates: distributed ordered
SELECT 'web' AS ch, count(*) AS n FROM sales WHERE channel = 'web'
UNION ALL SELECT 'phone', count(*) FROM sales WHERE channel = 'phone' ORDER BY ch;

-- intersect_except: distributed ordered
SELECT customer_id FROM sales WHERE channel = 'web' AND amount > 90000
INTERSECT SELECT customer_id FROM sales WHERE channel = 'phone' AND amount > 90000
EXCEPT SELECT customer_id FROM customers WHERE segment = 'gold' ORDER BY customer_id LIMIT 50;

-- intersect_all_except_all: distributed
SELECT store_id, channel FROM sales WHERE amount > 99000 INTERSECT ALL SELECT store_id, channel FROM sales WHERE quantity = 1
EXCEPT ALL SELECT store_id, channel FROM sales WHERE returned AND amount > 99500;

-- ---- not distributed yet: one task, still DuckDB's answer ------------------


-- collate_order_by: one task ordered
-- explain: COLLATE is not distributed
SELECT sale_id, CASE WHEN sale_id % 3 = 0 THEN upper(channel) ELSE channel END AS ch FROM sales
WHERE sale_id < 60000 ORDER BY ch COLLATE NOCASE, sale_id;

-- collate_window_partition: one task
SELECT sale_id, row_number() OVER (PARTITION BY (CASE WHEN sale_id % 3 = 0 THEN upper(channel) ELSE channel END) COLLATE NOCASE
ORDER BY sale_id) AS rn FROM sales WHERE sale_id < 60000;

-- enum_order_by: one task ordered
-- explain: ENUM values would cross between tasks
SELECT sale_id, CAST(channel AS ENUM('web', 'store', 'phone')) AS e FROM sales WHERE sale_id < 60000
ORDER BY e, sale_id;

-- enum_min_max_per_group: one task
SELECT store_id, min(CAST(channel AS ENUM('web', 'store', 'phone'))) AS lo,
       max(channel::ENUM('web', 'store', 'phone')) AS hi FROM sales GROUP BY store_id;

-- interval_group_by_micros: one task
-- explain: INTERVAL values would cross between tasks
SELECT to_microseconds(sale_id % 7) + INTERVAL (store_id % 3) DAY AS iv, count(*) AS n FROM sales GROUP BY iv;

-- interval_order_by_micros: one task ordered
SELECT sale_id, CASE WHEN sale_id % 2 = 0 THEN INTERVAL 1 MONTH ELSE INTERVAL 30 DAY + to_microseconds(sale_id % 5) END AS iv
FROM sales WHERE sale_id < 30000 ORDER BY iv, sale_id;

-- interval_scan_stays_distributed: distributed
SELECT sale_id, to_microseconds(sale_id) + INTERVAL (store_id) DAY AS iv FROM sales WHERE sale_id % 10 = 0;

-- bignum_max_per_group: one task
-- explain: BIGNUM values would cross between tasks
SELECT store_id, max(sale_id::BIGNUM) AS b FROM sales GROUP BY store_id;

-- bit_order_by: one task ordered
SELECT sale_id, b::VARCHAR AS bits FROM (SELECT sale_id, (CASE WHEN sale_id % 3 = 0 THEN '1' WHEN sale_id % 3 = 1
THEN '10' ELSE '011' END)::BIT AS b FROM sales WHERE sale_id < 30000) ORDER BY b, sale_id;

-- nested_hugeint_max: one task
SELECT store_id, max(list_value(sale_id::HUGEINT * 100000000000000000000 + 1))[1] % 10 AS last_digit
FROM sales GROUP BY store_id;

-- rollup: one task
SELECT channel, returned, count(*) FROM sales GROUP BY ROLLUP (channel, returned);

-- ---- table references pond runs as one task: their tables named all the same

-- pivot_in_list: one task ordered
-- explain: PIVOT or UNPIVOT in FROM is not distributed
PIVOT sales ON channel IN ('web', 'store', 'phone') USING sum(amount) AS s, count(*) AS n GROUP BY store_id
ORDER BY store_id;

-- unpivot_of_a_subquery: one task
UNPIVOT (SELECT sale_id, unit_price, amount FROM sales WHERE sale_id % 50 = 0) ON unit_price, amount
INTO NAME k VALUE v;

-- pivot_joined_to_a_dimension: one task ordered
SELECT s.store_id, s.region, p.web_s FROM stores s
JOIN (PIVOT sales ON channel IN ('web', 'store') USING sum(amount) AS s GROUP BY store_id) p USING (store_id)
ORDER BY s.store_id;

-- describe_a_table: one task ordered
-- explain: DESCRIBE or SUMMARIZE in FROM is not distributed
SELECT * FROM (DESCRIBE customers);

-- summarize_a_query: one task ordered
SELECT column_name, column_type, min, max, count, null_percentage
FROM (SUMMARIZE SELECT * FROM sales WHERE store_id < 10);

-- values_with_a_subquery: one task
-- explain: VALUES in FROM is not distributed
VALUES ((SELECT count(*) FROM sales)), ((SELECT count(*) FROM customers));

-- values_with_a_subquery_in_a_subquery: one task
-- explain: VALUES in a subquery is not distributed
SELECT count(*) FROM sales
WHERE store_id IN (SELECT x FROM (VALUES ((SELECT min(store_id) FROM stores)), (7)) v(x));
