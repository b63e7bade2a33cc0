# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The deal history's benchmark rows (section ``history`` of measure.py):

- the pipeline changes (waterfall) of the last 7 days, all teams, as a sales
  manager, through call_kw as the RPC does, result serialized;
- the pipeline over time, 52 weeks, likewise;
- the waterfall's reconciliation, checked in SQL independently of the
  method: the open pipeline at both ends counted straight from the deal
  history, and start + bars = end, in deals and amount.
"""

import json

from odoo import api
from odoo.tools import SQL

MANAGER = "bench_sales_05"


def _pipeline_at(env, moment, companies, period):
    """(deals, amount) of the open pipeline at ``moment``: the deal-history
    rows in effect then, open, in ``companies``, closing in ``period`` or
    undated."""
    env.cr.execute(
        SQL(
            """
            SELECT COUNT(*), COALESCE(SUM(expected_revenue), 0)
              FROM crm_lead_deal_history
             WHERE state = 'open'
               AND (company_id IS NULL OR company_id IN %(companies)s)
               AND (date_deadline IS NULL
                    OR date_deadline BETWEEN %(first)s AND %(last)s)
               AND date_from <= %(moment)s
               AND (date_to IS NULL OR date_to > %(moment)s)
               AND (date_to IS NULL OR date_to > date_from)
            """,
            companies=tuple(companies),
            first=period[0],
            last=period[1],
            moment=moment,
        )
    )
    count, amount = env.cr.fetchone()
    return count, float(amount)


def measure(bench):
    env = bench.env
    if "crm.lead.deal.history" not in env:
        bench.results["history"] = {"skipped": "no deal history"}
        return
    manager = bench.user(MANAGER)
    context = {"lang": "en_US", "tz": "UTC", "uid": manager.id}
    results = {}
    payloads = {}

    def call(method, filters):
        def rpc():
            lead_model = env["crm.lead"].with_user(manager)
            result = api.call_kw(lead_model, method, [filters], {"context": context})
            payloads[method] = result
            json.dumps(result, default=str)

        return rpc

    for key, method, filters in (
        ("waterfall", "get_pipeline_changes", {}),
        ("over_time", "get_pipeline_over_time", {"interval": "week"}),
    ):
        seconds, queries, times = bench.timed(call(method, filters), bench.runs)
        results[key] = {"s": seconds, "queries": queries, "times": times}
    changes = payloads["get_pipeline_changes"]
    results["over_time"]["points"] = len(payloads["get_pipeline_over_time"]["points"])
    # the reconciliation, from the deal history itself
    lead_model = env["crm.lead"].with_user(manager)
    options = lead_model._get_pipeline_changes_options(changes["filters"])
    start, end = options["moments"]
    companies = manager.company_ids.ids
    period = options["forecast_period"]
    start_sql = _pipeline_at(env, start, companies, period)
    end_sql = _pipeline_at(env, end, companies, period)
    count = changes["start"]["count"] + sum(
        bar["sign"] * bar["count"] for bar in changes["bars"]
    )
    amount = changes["start"]["amount"] + sum(bar["amount"] for bar in changes["bars"])
    results["reconciliation"] = {
        "period": [changes["filters"]["date_from"], changes["filters"]["date_to"]],
        "start": [changes["start"]["count"], changes["start"]["amount"]],
        "end": [changes["end"]["count"], changes["end"]["amount"]],
        "start_sql": list(start_sql),
        "end_sql": list(end_sql),
        "bars": {bar["key"]: [bar["count"], bar["amount"]] for bar in changes["bars"]},
        "ok": (
            tuple(start_sql) == (changes["start"]["count"], changes["start"]["amount"])
            and tuple(end_sql) == (changes["end"]["count"], changes["end"]["amount"])
            and count == changes["end"]["count"]
            and abs(amount - changes["end"]["amount"]) < 0.01
        ),
    }
    env.cr.execute("SELECT COUNT(*) FROM crm_lead_deal_history")
    results["rows"] = env.cr.fetchone()[0]
    bench.results["history"] = results


def render_rows(data, ms, status):
    """The report's rows of the section, or []."""
    history = data.get("history") or {}
    if "waterfall" not in history:
        return []
    big = data["scale"] >= 1_000_000
    rows = []
    for key, label, limit in (
        (
            "waterfall",
            "Pipeline changes (waterfall), last 7 days, all teams",
            3.0 if big else 0.5,
        ),
        (
            "over_time",
            (
                f"Pipeline over time, {history['over_time'].get('points', 53)} "
                "weeks, all teams"
            ),
            5.0 if big else 1.0,
        ),
    ):
        item = history[key]
        rows.append(
            f"| h | {label} ({item['queries']} q, {history['rows']:,} deal-history "
            f"rows) | {ms(item['s'])} | | | ≤ {ms(limit)} | "
            f"{status(item['s'] <= limit)} |"
        )
    check = history.get("reconciliation")
    if check:
        bars = ", ".join(
            f"{key} {count:,} / {amount:,.0f}"
            for key, (count, amount) in check["bars"].items()
            if count
        )
        rows.append(
            f"| h | Waterfall reconciliation {check['period'][0]} – "
            f"{check['period'][1]} in SQL: start {check['start'][0]:,} deals / "
            f"{check['start'][1]:,.0f} (SQL {check['start_sql'][0]:,} / "
            f"{check['start_sql'][1]:,.0f}); {bars}; end {check['end'][0]:,} / "
            f"{check['end'][1]:,.0f} (SQL {check['end_sql'][0]:,} / "
            f"{check['end_sql'][1]:,.0f}) | | | | exact | {status(check['ok'])} |"
        )
    return rows
