# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Render bench/results/*.json as the tables of docs/BENCHMARKS.md (between
the markers; the rest of the file is written by hand)."""

import glob
import json
import os

import history  # bench/history.py, beside this script

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.join(os.path.dirname(HERE), "docs", "BENCHMARKS.md")
START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def _ms(seconds):
    if seconds is None:
        return "n/a"
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


# The jobs budgeted per open opportunity (the others: per database).
PIPELINE_HEALTH_JOBS = (
    "ir_cron_follow_up",
    "ir_cron_stall_detection",
    "ir_cron_overload_check",
)


def _status(ok):
    return "met" if ok else "**missed**"


def _write_rows(write):
    """Rows of the stage writes by kind of move (forward, skip, backward)."""
    lines = []
    targets = {"1": 1.25, "100": 1.10, "10000": 1.10}
    kinds = [kind for kind in ("forward", "skip", "backward") if kind in write]
    for kind in kinds:
        for size, item in sorted(write[kind].items(), key=lambda pair: int(pair[0])):
            target = targets.get(size)
            leads = f"{int(size):,} lead{'s' if size != '1' else ''}"
            if item["leads"] < int(size):
                leads = f"{item['leads']:,} leads (all the stage holds)"
            elif item.get("opportunities", item["leads"]) < item["leads"]:
                leads += f", {item['opportunities']:,} of them opportunities"
            lines.append(
                f"| a | Stage write, {kind}, {leads} (write to commit, "
                f"median of {item['runs']}) | {_ms(item['addon_s'])} "
                f"({item['addon_queries']} q) | {_ms(item['crm_s'])} "
                f"({item['crm_queries']} q) | {item['ratio']:.2f} | "
                + (
                    f"≤ {target:.2f} | {_status(item['ratio'] <= target)} |"
                    if target
                    else "| |"
                )
            )
    if kinds:
        lines.append(
            f"| a | (stage writes: load average {write.get('load_before', '?')} "
            f"before, {write.get('load_after', '?')} after) | | | | | |"
        )
    return lines


def render_scale(data):
    scale = data["scale"]
    big = scale >= 1_000_000
    machine = data.get("machine", {})
    generated = (
        f" Generated in {data['generate_s'] / 60:.1f} min."
        if data.get("generate_s")
        else ""
    )
    lines = [
        (
            f"### {scale:,} leads (database `{data['db']}`, "
            f"template `{data['template']}`)"
        ),
        "",
        f"{data.get('counts', '')}{generated}",
        "",
        (
            f"Measured {machine.get('date', '?')}; load average before the run: "
            f"{machine.get('load_before', '?')}."
        ),
        "",
        "| # | Operation | with the addon | crm alone | ratio | target | |",
        "|---|---|---|---|---|---|---|",
    ]
    write = data.get("write", {})
    lines += _write_rows(write)
    install = data.get("install")
    if install:
        target = 600 if big else 60
        module = (
            f" (the addon's part {_ms(install['module_s'])}, of which "
            f"{_ms(install['until_rebuilt_s'])} until the history is rebuilt"
            + (
                f", then {_ms(install['deal_rebuild_s'])} for the deal history"
                if install.get("deal_rebuild_s") is not None
                else ""
            )
            + (
                f", then {_ms(install['fill_s'])} for the leads' columns"
                if install.get("fill_s") is not None
                else ""
            )
            + ")"
            if install.get("until_rebuilt_s") is not None
            else ""
        )
        lines.append(
            f"| b | Install on the generated database (`odoo-bin -i`, wall){module} "
            f"| {_ms(install['wall_s'])} | | | ≤ {_ms(target)} | "
            f"{_status(install['wall_s'] <= target)} |"
        )
    limit = 3.0 if big else 0.5
    kpis = data.get("kpis", {})
    if kpis:
        floor = kpis.get("floor", {}).get("s")
        item = kpis.get("kpis", {})
        if "s" in item:
            lines.append(
                f"| c | get_pipeline_kpis, all teams, 12 months ({item['queries']} q) "
                f"| {_ms(item['s'])} | floor: history scan {_ms(floor)} | | "
                f"≤ {_ms(limit)} | {_status(item['s'] <= limit)} |"
            )
        else:
            lines.append(
                f"| c | get_pipeline_kpis: {item.get('skipped', 'n/a')} | | floor: "
                f"history scan {_ms(floor)} | | ≤ {_ms(limit)} | |"
            )
    dashboard = data.get("dashboard", {})
    if "s" in dashboard:
        when = (
            f", measured {dashboard['measured']}, load {dashboard['load_before']}"
            if dashboard.get("measured")
            else ""
        )
        same_run = (
            f"get_pipeline_kpis in the same run: {_ms(dashboard['kpis_same_run_s'])}"
            if dashboard.get("kpis_same_run_s")
            else ""
        )
        lines.append(
            f"| c' | Pipeline Dashboard load (RPC, cold cache), all teams, last 12 "
            f"months against the 12 before ({dashboard['queries']} q{when}) | "
            f"{_ms(dashboard['s'])} | {same_run} | | ≤ {_ms(limit)} | "
            f"{_status(dashboard['s'] <= limit)} |"
        )
    for key, title in (
        ("stage_analysis", "Stage Analysis pivot"),
        ("stage_analysis_salesman", "Stage Analysis pivot, salesperson"),
        ("forecast", "Forecast pivot"),
    ):
        item = data.get("pivots", {}).get(key)
        if not item:
            continue
        crm = item.get("crm")
        lines.append(
            f"| d | {title} ({len(item['calls'])} read_group, "
            f"{item['queries']} q) | {_ms(item['s'])} | "
            + (
                f"{_ms(crm['s'])} (without the addon's measures) | "
                f"{item['s'] / crm['s']:.2f} | "
                if crm
                else "| | "
            )
            + f"≤ {_ms(limit)} | {_status(item['s'] <= limit)} |"
        )
    for xmlid, item in sorted(data.get("crons", {}).items()):
        name = xmlid.split(".")[-1]
        memory_ok = item["peak_rss_mib"] < 1024
        complete = item.get("complete", True)
        extent = (
            f"{item['batches']} batches, {item['done']:,} done"
            if complete
            else f"stopped after {item['batches']} batches: {item['done']:,} done, "
            f"{item['remaining']:,} remaining"
        )
        if name in PIPELINE_HEALTH_JOBS and item.get("open_opportunities"):
            # budget: 60 s per 100,000 open opportunities, and < 1 GiB
            limit = 60 * item["open_opportunities"] / 100_000
            extent += (
                f"; {item['open_opportunities']:,} open opportunities, "
                f"{item['activities']:,} activities planned"
                + (f", {item['flagged']:,} flagged" if item.get("flagged") else "")
                + (
                    f"; a second pass right after: {_ms(item['again_s'])}, "
                    f"{item['again_batches']} batches, "
                    f"{item['again_activities']:,} activities"
                    if "again_s" in item
                    else ""
                )
            )
            target = f"≤ {_ms(limit)}, RSS < 1 GiB"
            ok = complete and item["s"] <= limit and memory_ok
        else:
            target = "RSS < 1 GiB" if big else "≤ 60 s"
            ok = memory_ok if big else (complete and item["s"] <= 60)
        lines.append(
            f"| e | Full pass of `{name}` ({extent}, peak RSS "
            f"{item['peak_rss_mib']:.0f} MiB) | {_ms(item['s'])} | | | "
            f"{target} | {_status(ok)} |"
        )
    lines += history.render_rows(data, _ms, _status)
    kanban = data.get("kanban")
    if kanban:
        lines.append(
            f"| f | Pipeline kanban first load, salesperson "
            f"({kanban['lead_count']:,} opportunities) | {_ms(kanban['addon']['s'])} "
            f"({kanban['addon']['queries']} q) | {_ms(kanban['crm']['s'])} "
            f"({kanban['crm']['queries']} q) | {kanban['ratio']:.2f} | | |"
        )
    return "\n".join(lines) + "\n"


def _scale_of(path):
    with open(path) as file:
        return json.load(file).get("scale", 0)


def render_all():
    files = sorted(
        glob.glob(os.path.join(HERE, "results", "*.json")),
        key=_scale_of,
    )
    blocks = []
    machine = None
    for path in files:
        with open(path) as file:
            data = json.load(file)
        if "scale" not in data or "db" not in data:
            continue  # not a benchmark database's results (e.g. the load test)
        machine = machine or data.get("machine")
        blocks.append(render_scale(data))
    header = ""
    if machine:
        header = (
            f"Machine: {machine['nproc']} cores ({machine['cpu']}), {machine['ram']} "
            f"RAM, PostgreSQL {machine['postgresql']} ({machine['pg_settings']}).\n\n"
        )
    return header + "\n".join(blocks)


def write_docs():
    text = ""
    if os.path.exists(DOCS):
        with open(DOCS) as file:
            text = file.read()
    block = f"{START}\n{render_all()}{END}"
    if START in text and END in text:
        before, rest = text.split(START, 1)
        after = rest.split(END, 1)[1]
        text = before + block + after
    else:
        text = text + "\n" + block + "\n"
    os.makedirs(os.path.dirname(DOCS), exist_ok=True)
    with open(DOCS, "w") as file:
        file.write(text)


if __name__ == "__main__":
    print(render_all())
