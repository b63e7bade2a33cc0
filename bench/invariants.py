# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Check the invariants of sales_pipeline_mgmt's data in SQL, on any database
where the addon is installed (read-only: it runs SELECTs only).

    bench/bin/invariants -d DB [--json] [--sample 5]

The queries of bench/invariants.sql (stays, move counters, tracking, stall
flags, job activities, deal history), plus a check that first looks its
table up:

- forecast statistics: one row per (company, team, stage) key, whether the
  statistics are the plain table crm_lead_forecast_stat or a model's table
  (any table named like %forecast%stat% with those columns); the form found
  and any unique index on the key are reported.

A check whose table is missing (the addon is not installed) is skipped.
PostgreSQL is reached through the usual libpq variables (PGHOST, PGPORT,
PGUSER) or --host/--port. Exit code 1 when an invariant breaks.
"""

import argparse
import json
import os
import re
import sys

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
SQL_FILE = os.path.join(HERE, "invariants.sql")


def parse_checks(path=SQL_FILE):
    """[{name, requires, doc, sql}] from the headers of invariants.sql."""
    with open(path) as file:
        text = file.read()
    checks = []
    for block in re.split(r"^-- check: ", text, flags=re.MULTILINE)[1:]:
        lines = block.splitlines()
        name = lines[0].strip()
        requires, doc, body = [], [], []
        for line in lines[1:]:
            if line.startswith("-- requires:"):
                requires = line.split(":", 1)[1].split()
            elif line.startswith("--") and not body:
                doc.append(line[2:].strip())
            else:
                body.append(line)
        checks.append(
            {
                "name": name,
                "requires": requires,
                "doc": " ".join(doc),
                "sql": "\n".join(body).strip().rstrip(";"),
            }
        )
    return checks


def _tables(cr):
    cr.execute(
        """
        SELECT c.relname FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        """
    )
    return {row[0] for row in cr.fetchall()}


def _columns(cr, table):
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_schema = 'public' AND table_name = %s
        """,
        (table,),
    )
    return {row[0] for row in cr.fetchall()}


def _count_and_sample(cr, sql, sample):
    # no parameters: the checks' format() strings hold % signs
    cr.execute(
        f"SELECT count(*), (array_agg(key::text || ': ' || detail))[1:{int(sample)}] "
        f"FROM ({sql}) breaks"
    )
    count, rows = cr.fetchone()
    return count, rows or []


def check_forecast_statistics(cr, tables, sample):
    key = ("company_id", "team_id", "stage_id")
    found = [
        table
        for table in sorted(tables)
        if "forecast" in table and "stat" in table and set(key) <= _columns(cr, table)
    ]
    result = {
        "name": "forecast_stat_one_row_per_key",
        "doc": "The forecast statistics hold one row per (company, team, stage).",
    }
    if not found:
        return result | {
            "status": "skipped",
            "note": "no forecast statistics table (addon not installed)",
        }
    breaks, samples, forms = 0, [], []
    for table in found:
        cr.execute(
            "SELECT model FROM ir_model WHERE replace(model, '.', '_') = %s", (table,)
        )
        model = cr.fetchone()
        cr.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
              FROM pg_index x
              JOIN pg_class i ON i.oid = x.indexrelid
             WHERE x.indrelid = %s::regclass AND x.indisunique
            """,
            (table,),
        )
        unique = [
            name
            for name, definition in cr.fetchall()
            if all(column in definition for column in ("team_id", "stage_id"))
        ]
        forms.append(
            f"{table}: "
            + (f"model {model[0]}" if model else "plain table")
            + (f", unique key {', '.join(unique)}" if unique else ", no unique key")
        )
        count, rows = _count_and_sample(
            cr,
            f"""
            SELECT concat_ws('/', company_id, team_id, stage_id) AS key,
                   format('%s rows', count(*)) AS detail
              FROM {table}
             GROUP BY company_id, team_id, stage_id
            HAVING count(*) > 1
            """,
            sample,
        )
        breaks += count
        samples += [f"{table} {row}" for row in rows]
    return result | {
        "status": "break" if breaks else "pass",
        "breaks": breaks,
        "sample": samples[:sample],
        "note": "; ".join(forms),
    }


def run_checks(conn, sample=5):
    """Run every check in one read-only snapshot of ``conn`` (psycopg2);
    a list of result dicts (name, status, breaks, sample, note)."""
    with conn.cursor() as cr:
        cr.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        results = run_checks_on_cursor(cr, sample)
    conn.rollback()
    return results


def run_checks_on_cursor(cr, sample=5):
    """The checks on an open cursor (psycopg2's or Odoo's, whose uncommitted
    changes they see)."""
    results = []
    tables = _tables(cr)
    for check in parse_checks():
        missing = [t for t in check["requires"] if t not in tables]
        result = {"name": check["name"], "doc": check["doc"]}
        if missing:
            result |= {
                "status": "skipped",
                "note": f"table {', '.join(missing)} absent"
                + (
                    " (addon not installed)"
                    if "crm_lead_stage_history" in missing
                    else ""
                ),
            }
        else:
            count, rows = _count_and_sample(cr, check["sql"], sample)
            result |= {
                "status": "break" if count else "pass",
                "breaks": count,
                "sample": rows,
            }
        results.append(result)
    results.append(check_forecast_statistics(cr, tables, sample))
    return results


def breaks(results):
    return sum(r.get("breaks", 0) for r in results if r["status"] == "break")


def render(results, db=""):
    lines = [f"invariants{' of ' + db if db else ''}:"]
    for result in results:
        status = result["status"]
        label = {
            "pass": "ok",
            "break": f"BROKEN ({result.get('breaks')})",
            "skipped": "skipped",
            "unchecked": "UNCHECKED",
        }[status]
        note = f"  [{result['note']}]" if result.get("note") else ""
        lines.append(f"  {result['name']:<32} {label}{note}")
        for row in result.get("sample", []) if status == "break" else []:
            lines.append(f"      {row}")
    lines.append(f"  total breaks: {breaks(results)}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(
        prog="bench/bin/invariants", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("-d", "--db", required=True)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--sample", type=int, default=5, help="breaks shown")
    parser.add_argument("--json", action="store_true", help="JSON output")
    args = parser.parse_args()
    conn = psycopg2.connect(
        dbname=args.db,
        **{k: v for k, v in (("host", args.host), ("port", args.port)) if v},
    )
    results = run_checks(conn, args.sample)
    conn.close()
    if args.json:
        print(json.dumps(results, indent=1, default=str))
    else:
        print(render(results, args.db))
    sys.exit(1 if breaks(results) else 0)


if __name__ == "__main__":
    main()
