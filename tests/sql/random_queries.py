#!/usr/bin/python3
"""random_queries.py SEED COUNT: COUNT random queries over gen_star's tables
(tests/sql/lib_sql.sh), one a line as `ORDERED<TAB>SQL` (ORDERED is 1 when
the query's ORDER BY orders its rows totally). The same SEED gives the
same queries. tests/sql/random.sh runs each with pond sql and DuckDB.

The corpus (corpus.sql) holds each shape pond distributes once, written
by hand; these combine them at random (joins of every kind with filtered
dimensions, aggregates that merge and that do not, windows, set
operations, semi and anti joins, correlated and uncorrelated subqueries,
ORDER BY … LIMIT), to find the combinations nobody wrote down. Every
query is deterministic in DuckDB: no LIMIT without a total order, no
order-sensitive aggregate over ties, no comparison of a row's value with
an aggregate of DOUBLEs (its last bits depend on the order rows are
summed). An avg of DECIMALs or integers is compared: pond's equals
DuckDB's to the last bit (docs/SQL.md, "Exactness")."""
import random
import sys

FACT = {
    "sale_id": "int", "sale_date": "date", "customer_id": "int", "product_id": "int",
    "store_id": "int", "quantity": "int", "unit_price": "dec", "amount": "dec",
    "discount": "dbl", "channel": "str", "returned": "bool",
}
DIMS = {
    "customers": {"customer_id": "int", "name": "str", "segment": "str", "country": "str",
                  "signup_date": "date", "credit": "dec"},
    "products": {"product_id": "int", "pname": "str", "category": "str", "brand": "str",
                 "list_price": "dec"},
    "stores": {"store_id": "int", "city": "str", "region": "str", "size_m2": "int"},
}
KEY = {"customers": "customer_id", "products": "product_id", "stores": "store_id"}
FACT_COLS = {f"s.{c}": t for c, t in FACT.items()}


class Gen:
    def __init__(self, r):
        self.r = r

    def pick(self, xs):
        return self.r.choice(list(xs))

    # ---- predicates ---------------------------------------------------------

    def pred(self, cols):
        c, t = self.pick(cols.items())
        r = self.r
        if c.endswith("sale_id"):
            return f"{c} % {r.choice([3, 7, 10, 50])} = {r.randint(0, 2)}"
        if t == "int":
            return self.pick([f"{c} < {r.randint(1, 60)}", f"{c} IS NULL", f"{c} IS NOT NULL",
                              f"{c} IN ({r.randint(1, 20)}, {r.randint(1, 20)}, 1)", f"{c} <> 1",
                              f"{c} BETWEEN {r.randint(1, 10)} AND {r.randint(10, 3000)}"])
        if t == "dec":
            return self.pick([f"{c} > {r.randint(0, 100000)}", f"{c} < {r.randint(0, 5000)}.5", f"{c} IS NOT NULL"])
        if t == "dbl":
            return self.pick([f"{c} > 0.{r.randint(1, 9)}", f"{c} IS NULL", f"coalesce({c}, 0) < 0.3"])
        if t == "str":
            return self.pick([f"{c} = 'web'", f"{c} IS NULL", f"{c} LIKE '%o%'", f"{c} >= 'm'",
                              f"{c} IN ('gold', 'DE', 'toys', 'north', 'store')"])
        if t == "date":
            return self.pick([f"{c} >= DATE '202{r.randint(1, 3)}-0{r.randint(1, 9)}-01'",
                              f"year({c}) = 202{r.randint(1, 3)}"])
        return self.pick([c, f"NOT {c}"])

    def conds(self, cols, n=None):
        """n random predicates joined by AND (sometimes two by OR); '' for none"""
        n = self.r.choice([0, 1, 1, 2]) if n is None else n
        ps = [self.pred(cols) for _ in range(n)]
        if len(ps) == 2 and self.r.random() < 0.3:
            return f"(({ps[0]}) OR ({ps[1]}))"
        return " AND ".join(f"({p})" for p in ps)

    def where(self, cols, n=None):
        c = self.conds(cols, n)
        return f" WHERE {c}" if c else ""

    # ---- the pieces of a SELECT ---------------------------------------------

    def from_clause(self):
        """sales and up to two dimensions, joined any way; (sql, columns)"""
        cols = dict(FACT_COLS)
        sql = "sales s"
        for i, d in enumerate(self.r.sample(list(DIMS), self.r.choice([0, 0, 1, 1, 2]))):
            kind = self.pick(["JOIN", "JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"])
            side = d
            if self.r.random() < 0.3:
                side = f"(SELECT * FROM {d}{self.where(DIMS[d], 1)})"
            sql += f" {kind} {side} d{i} ON s.{KEY[d]} = d{i}.{KEY[d]}"
            cols.update({f"d{i}.{c}": t for c, t in DIMS[d].items() if c != KEY[d]})
        return sql, cols

    def agg(self, cols, i):
        c = self.pick(cols)
        n = self.pick(k for k, v in cols.items() if v in ("int", "dec", "dbl"))
        f = self.pick(["count(*)", f"count({c})", f"sum({n})", f"min({c})", f"max({c})", f"avg({n})",
                       f"count(DISTINCT {c})", f"median({n})", f"stddev_samp({n})",
                       f"sum({n}) FILTER (WHERE {self.pred(cols)})", f"bool_or({self.pred(cols)})",
                       f"quantile_disc({n}, 0.25)", f"max({n}) - min({n})"])
        return f"{f} AS a{i}"

    def key(self, cols):
        c, t = self.pick(cols.items())
        if t == "date" and self.r.random() < 0.5:
            return f"month({c})"
        if t == "dec":
            return f"round({c} / 1000)"
        if t == "dbl":
            return f"round({c}, 1)"
        if c.endswith("sale_id"):
            return f"{c} % 100"
        return c

    def select_block(self):
        frm, cols = self.from_clause()
        shape = self.pick(["scan", "agg", "agg", "agg", "distinct", "window", "global"])
        w = self.where(cols)
        if shape == "scan":
            sel = self.r.sample(list(cols), self.r.randint(1, 4))
            return f"SELECT {', '.join(f'{c} AS c{i}' for i, c in enumerate(sel))} FROM {frm}{w}"
        if shape == "distinct":
            sel = [self.key(cols) for _ in range(self.r.randint(1, 2))]
            return f"SELECT DISTINCT {', '.join(f'{c} AS c{i}' for i, c in enumerate(sel))} FROM {frm}{w}"
        if shape == "global":
            return f"SELECT {', '.join(self.agg(cols, i) for i in range(self.r.randint(1, 3)))} FROM {frm}{w}"
        if shape == "window":
            p = self.key(cols)
            c = self.pick(k for k, v in cols.items() if v in ("int", "dec"))
            f = self.pick([f"sum({c}) OVER (PARTITION BY {p})",
                           f"row_number() OVER (PARTITION BY {p} ORDER BY s.sale_id)",
                           f"rank() OVER (PARTITION BY {p} ORDER BY {c}, s.sale_id)",
                           f"lag({c}) OVER (PARTITION BY {p} ORDER BY s.sale_id)",
                           f"count(*) OVER (PARTITION BY {p})"])
            return f"SELECT s.sale_id AS c0, {p} AS c1, {f} AS c2 FROM {frm}{w}"
        keys = list(dict.fromkeys(self.key(cols) for _ in range(self.r.randint(1, 3))))
        aggs = [self.agg(cols, i) for i in range(self.r.randint(1, 3))]
        having = f" HAVING count(*) > {self.r.randint(1, 50)}" if self.r.random() < 0.3 else ""
        sel = [f"{k} AS k{i}" for i, k in enumerate(keys)] + aggs
        return f"SELECT {', '.join(sel)} FROM {frm}{w} GROUP BY {', '.join(keys)}{having}"

    # ---- subqueries, set operations, derived tables ---------------------------

    def semi(self):
        d = self.pick(DIMS)
        k = KEY[d]
        cond = self.conds(DIMS[d], 1)
        kind = self.pick(["IN", "NOT IN", "EXISTS", "NOT EXISTS"])
        if "EXISTS" in kind:
            clause = f"{kind} (SELECT 1 FROM {d} x WHERE x.{k} = s.{k} AND {cond})"
        else:
            clause = f"s.{k} {kind} (SELECT {k} FROM {d} WHERE {cond})"
        more = f" AND {self.conds(FACT_COLS, 1)}"
        if self.r.random() < 0.5:
            return (f"SELECT s.channel AS k0, count(*) AS a0, sum(s.amount) AS a1 FROM sales s "
                    f"WHERE {clause}{more} GROUP BY s.channel")
        return f"SELECT s.sale_id AS c0, s.amount AS c1 FROM sales s WHERE {clause}{more}"

    def scalar(self):
        c = self.pick(["amount", "quantity", "unit_price"])
        if self.r.random() < 0.5:
            sub = f"(SELECT avg({c}) FROM sales{self.where(FACT, 1)})"
            return f"SELECT s.sale_id AS c0, s.{c} AS c1 FROM sales s WHERE s.{c} > {sub} AND s.sale_id % 13 = 0"
        k = self.pick(["customer_id", "product_id", "store_id"])
        return (f"SELECT s.sale_id AS c0, s.{c} AS c1 FROM sales s WHERE s.{c} > "
                f"(SELECT {self.pick(['avg', 'max', 'min'])}(t.{c}) FROM sales t WHERE t.{k} = s.{k}) "
                f"AND s.sale_id % 7 = 1")

    def setop(self):
        k = self.pick(["channel", "store_id", "customer_id % 100", "product_id", "sale_date"])
        op = self.pick(["UNION", "UNION ALL", "INTERSECT", "EXCEPT", "INTERSECT ALL", "EXCEPT ALL"])
        return f"SELECT {k} AS c0 FROM sales{self.where(FACT, 1)} {op} SELECT {k} AS c0 FROM sales{self.where(FACT, 1)}"

    def cte(self):
        k = self.pick(["customer_id", "product_id", "store_id", "channel"])
        return (f"WITH t AS (SELECT {k} AS k, sum(amount) AS total, count(*) AS n FROM sales{self.where(FACT, 1)} "
                f"GROUP BY {k}) SELECT a.k AS k0, a.total AS a0, b.n AS a1 FROM t a JOIN t b ON a.k = b.k "
                f"WHERE a.n > {self.r.randint(0, 100)}")

    def derived(self):
        d = self.pick(DIMS)
        k = KEY[d]
        other = self.pick(c for c in DIMS[d] if c != k)
        j = self.pick(["JOIN", "LEFT JOIN", "RIGHT JOIN"])
        return (f"SELECT d.{k} AS k0, d.{other} AS c1, t.total AS a0 FROM {d} d {j} "
                f"(SELECT {k}, sum(amount) AS total FROM sales{self.where(FACT, 1)} GROUP BY {k}) t ON d.{k} = t.{k}")

    def special(self):
        """one of the shapes that most often go wrong in a distributed plan"""
        r = self.r
        p = lambda: self.conds(FACT, 1)  # noqa: E731
        ps = lambda: self.conds(FACT_COLS, 1)  # noqa: E731  (qualified: beside a join)
        k = self.pick(["customer_id", "product_id", "store_id"])
        x = self.pick(["amount", "quantity", "unit_price", "discount"])
        y = "amount" if x == "discount" else x  # compared with an average: not a double
        return self.pick([
            # NOT IN over a column with NULLs: no row when the subquery has one
            f"SELECT s.sale_id AS c0 FROM sales s WHERE s.quantity NOT IN (SELECT t.quantity FROM sales t "
            f"WHERE t.store_id = {r.randint(1, 50)} AND t.sale_id % {r.choice([5, 200, 5000])} = 0) AND s.sale_id % 11 = 0",
            f"SELECT s.sale_id AS c0 FROM sales s WHERE s.quantity IN (SELECT t.quantity FROM sales t WHERE {p()}) "
            f"AND s.sale_id % 17 = 0",
            # a LEFT JOIN whose ON filters the side it pads (TPC-H Q13)
            f"SELECT c.customer_id AS k0, count(s.sale_id) AS a0, sum(s.amount) AS a1 FROM customers c "
            f"LEFT JOIN sales s ON c.customer_id = s.customer_id AND {ps()} GROUP BY c.customer_id",
            f"SELECT c0, count(*) AS a0 FROM (SELECT c.customer_id, count(s.sale_id) AS c0 FROM customers c "
            f"LEFT JOIN sales s ON c.customer_id = s.customer_id AND s.channel <> 'web' GROUP BY c.customer_id) GROUP BY c0",
            f"SELECT a.{k} AS k0, a.t AS a0, b.n AS a1 FROM (SELECT {k}, sum({x}) AS t FROM sales GROUP BY {k}) a "
            f"{self.pick(['JOIN', 'LEFT JOIN', 'FULL JOIN'])} (SELECT {k}, count(*) AS n FROM sales WHERE {p()} GROUP BY {k}) b "
            f"ON a.{k} = b.{k}",
            f"SELECT s.sale_id AS c0, t.amount AS c1 FROM sales s JOIN sales t ON s.sale_id = t.sale_id + 1 "
            f"WHERE s.sale_id % 31 = 0",
            f"SELECT {k} AS k0, store_id AS k1, count(*) AS a0 FROM sales JOIN stores USING (store_id) "
            f"GROUP BY {self.pick(['ROLLUP', 'CUBE'])} ({k}, store_id)",
            f"SELECT {k} AS k0, channel AS k1, sum(amount) AS a0 FROM sales GROUP BY GROUPING SETS (({k}), (channel), ())",
            f"SELECT DISTINCT ON ({k}) {k} AS k0, sale_id AS c0, {x} AS c1 FROM sales ORDER BY {k}, sale_id",
            f"SELECT sale_id AS c0, {k} AS k0, {x} AS c1 FROM sales "
            f"QUALIFY row_number() OVER (PARTITION BY {k} ORDER BY {x} DESC NULLS LAST, sale_id) <= 2",
            f"SELECT sale_id AS c0, {x} AS c1 FROM sales WHERE {p()} ORDER BY {x} NULLS FIRST, sale_id "
            f"LIMIT 50 OFFSET {r.randint(0, 500)}",
            f"SELECT sale_id AS c0, sum({x}) OVER (PARTITION BY {k} ORDER BY sale_id ROWS BETWEEN 2 PRECEDING "
            f"AND CURRENT ROW) AS c1 FROM sales WHERE sale_id % 9 = 0",
            f"SELECT sale_id AS c0, sum({x}) OVER (ORDER BY sale_id) AS c1 FROM sales WHERE sale_id % 97 = 0",
            "SELECT quantity AS c0 FROM sales WHERE sale_id % 1000 = 1 UNION ALL "
            "SELECT amount FROM sales WHERE sale_id % 1000 = 2",
            f"SELECT s.store_id AS k0, d.city AS c0, count(*) AS a0 FROM sales s JOIN stores d "
            f"ON s.store_id = d.store_id WHERE {ps()} GROUP BY ALL",
            # a correlated aggregate (TPC-H Q17), one in the select list's arithmetic
            f"SELECT s.sale_id AS c0 FROM sales s WHERE s.{y} < (SELECT 0.5 * avg(t.{y}) FROM sales t "
            f"WHERE t.{k} = s.{k}) AND s.sale_id % 3 = 0",
            f"SELECT s.sale_id AS c0, (SELECT max(t.amount) FROM sales t WHERE t.store_id = {r.randint(1, 50)}) "
            f"- s.amount AS c1 FROM sales s WHERE s.sale_id % 41 = 0",
            "SELECT c.country AS k0, count(*) AS a0 FROM sales s LEFT JOIN customers c "
            "ON s.customer_id = c.customer_id WHERE c.segment IS NULL GROUP BY c.country",
            f"SELECT {k} AS k0, string_agg(channel, ',' ORDER BY sale_id) AS a0, "
            f"list(sale_id ORDER BY sale_id DESC)[1] AS a1 FROM sales WHERE sale_id % 50 = 0 GROUP BY {k}",
            f"SELECT CASE WHEN {p()} THEN 'a' ELSE 'b' END AS k0, count(*) AS a0, avg({x}) AS a1 FROM sales GROUP BY 1",
            f"SELECT count(*) AS a0, sum(t) AS a1 FROM (SELECT DISTINCT {k}, channel, {x} AS t FROM sales WHERE {p()})",
            f"SELECT s.{k} AS k0, count(*) AS a0 FROM sales s NATURAL JOIN {self.pick(DIMS)} GROUP BY 1",
            "SELECT p.category AS k0, c.country AS k1, sum(s.amount) AS a0, count(DISTINCT s.customer_id) AS a1 "
            "FROM sales s JOIN products p USING (product_id) JOIN customers c USING (customer_id) "
            "JOIN stores st USING (store_id) WHERE st.region = 'north' GROUP BY ALL",
            f"SELECT {k} AS k0 FROM sales WHERE {p()} INTERSECT SELECT {k} FROM sales WHERE {p()} "
            f"EXCEPT SELECT {k} FROM sales WHERE {p()}",
            "SELECT s.sale_id AS c0 FROM sales s WHERE NOT EXISTS (SELECT 1 FROM sales t WHERE "
            "t.customer_id = s.customer_id AND t.sale_id <> s.sale_id AND t.channel = 'phone') AND s.sale_id % 3 = 0",
            f"SELECT {k} AS k0, max({x}) AS a0, arg_max(sale_id, ({x}, sale_id)) AS a1 FROM sales "
            f"WHERE {x} IS NOT NULL GROUP BY {k}",
            f"SELECT {k} AS k0, count(*) AS a0 FROM sales GROUP BY {k} "
            f"HAVING sum({y}) > (SELECT avg({y}) * {r.randint(100, 2000)} FROM sales)",
        ])

    def query(self):
        kind = self.pick(["select"] * 4 + ["special"] * 4 + ["semi", "scalar", "setop", "cte", "derived"])
        body = getattr(self, "select_block" if kind == "select" else kind)()
        ordered = 0
        if "ORDER BY" not in body and self.r.random() < 0.35:
            body += " ORDER BY ALL" + self.pick(["", " DESC", " NULLS FIRST"])
            ordered = 1
            if self.r.random() < 0.5:
                body += f" LIMIT {self.r.choice([1, 5, 100, 10000])}"
        return ordered, body


def main():
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    for i in range(count):
        ordered, body = Gen(random.Random(seed * 1000003 + i)).query()
        print(f"{ordered}\t{body}")


main()
