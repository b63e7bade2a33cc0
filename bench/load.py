# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Load test and fault runs on the scale-out topology (bench/topology.py):
simulated sales reps, each a JSON-RPC session over HTTP on the prefork Odoo.

    bench/bin/load [--reps 16] [--seconds 60] [--phases 4] [--hot 50]
    bench/bin/load --fault worker-kill|cron-kill|pg-restart|replica-stop

Each rep, in a loop without think time: moves an opportunity of a shared hot
set to another stage of its pipeline (web_save with the kanban's fields, as
the kanban's drag and drop does), loads its team's pipeline kanban
(web_read_group with the progress bar sums, read_progress_bar, then one
web_search_read per open column, limit 40), or opens a report: the KPIs
(crm.lead.get_pipeline_kpis over 12 months) with the addon, crm's Pipeline
Analysis graph (its web_read_group) on crm alone. Default mix 6:3:1.

The load run alternates the two databases served by the same Odoo (addon,
crm, crm, addon, ... : --phases slices of --seconds / (phases / 2) each side)
on fresh copies of the same generated data. Before the first phase the
addon's jobs finish their catch-up pass (the first pass after the install);
then they are made due at the start of every addon phase and run on the cron
worker while the reps work.

Counted per side: moves per second (moves Odoo acknowledged), latency
percentiles per kind of call (client side, HTTP included), errors by kind as
the client saw them, and from Odoo's log the concurrency failures that Odoo
retried (not errors) and those it gave up on (errors). Lost updates: every
acknowledged move must return its target stage, and at the end each hot
lead's stage must be the target of the last acknowledged move (or, when
moves overlapped in time, of one of the moves that could have committed
last). Then the invariants (bench/invariants.py) on the addon's database.
"""

import argparse
import collections
import datetime
import glob
import json
import math
import os
import random
import re
import signal
import sys
import threading
import time

import invariants
import psycopg2
import requests
import waits
import webclient
from lxml import etree
from topology import ADDON_DB, CRM_DB, REP_PASSWORD, Topology

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, "results")

TEAM_COUNT = 10  # bench/generate.py
USERS_PER_TEAM = 5
AMBIGUOUS_ERRORS = {"connection", "timeout", "OperationalError", "InterfaceError"}
FAULTS = ("worker-kill", "cron-kill", "pg-restart", "replica-stop")
REQUEST = re.compile(
    r'"POST /web/dataset/call_kw/[^/ ]+/(\w+)(/\w+)? HTTP/[\d.]+" (\d+) - '
    r"(\d+) ([\d.]+) ([\d.]+)"
)
SERVER_KINDS = {
    "web_save": "move",
    "web_read_group": "kanban_groups",
    "read_progress_bar": "kanban_progress",
    "web_search_read": "kanban_cards",
    "get_pipeline_kpis": "report",
}
JOB_DONE_IN = re.compile(r"\) done in ([\d.]+)s$")
LOG_LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) (\d+) (\w+) (\S+) (\S+): (.*)"
)


def say(message):
    print(f"load: {message}", flush=True)


# ----------------------------------------------------------------- RPC ---


class RpcError(Exception):
    def __init__(self, kind, message=""):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Rpc:
    """A JSON-RPC session of one user on one database, as the web client's."""

    def __init__(self, base_url, db, login, password, timeout=300):
        self.base_url = base_url
        self.db = db
        self.login_name = login
        self.password = password
        self.timeout = timeout
        self.http = requests.Session()
        self.uid = None
        self.context = {}
        self.calls = 0

    def _post(self, path, params):
        self.calls += 1
        try:
            response = self.http.post(
                self.base_url + path,
                json={
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": params,
                    "id": self.calls,
                },
                timeout=self.timeout,
            )
        except requests.Timeout as exc:
            raise RpcError("timeout", str(exc)) from exc
        except requests.ConnectionError as exc:
            raise RpcError("connection", str(exc)[:200]) from exc
        if response.status_code != 200:
            raise RpcError(f"http {response.status_code}", response.text[:200])
        data = response.json()
        if "error" in data:
            error = data["error"]
            details = error.get("data") or {}
            name = details.get("name") or error.get("message") or "error"
            raise RpcError(name.rsplit(".", 1)[-1], details.get("message", "")[:300])
        return data["result"]

    def login(self):
        result = self._post(
            "/web/session/authenticate",
            {"db": self.db, "login": self.login_name, "password": self.password},
        )
        self.uid = result["uid"]
        companies = result.get("user_companies") or {}
        self.context = dict(result.get("user_context") or {})
        self.context.update(lang="en_US", tz="UTC")
        if companies.get("current_company"):
            self.context["allowed_company_ids"] = [companies["current_company"]]
        return self

    def call(self, model, method, args=(), tag=None, **kwargs):
        """call_kw as the web client sends it; ``tag`` ends the URL (which
        Odoo ignores) so that Odoo's request log tells the calls apart."""
        kwargs.setdefault("context", self.context)
        try:
            return self._post(
                f"/web/dataset/call_kw/{model}/{method}" + (f"/{tag}" if tag else ""),
                {
                    "model": model,
                    "method": method,
                    "args": list(args),
                    "kwargs": kwargs,
                },
            )
        except RpcError as exc:
            if exc.kind == "SessionExpiredException":
                self.login()
            raise


# ------------------------------------------------------------ the data ---


def percentile(values, rank):
    """Nearest-rank percentile of a list (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, math.ceil(rank / 100 * len(ordered)) - 1))
    return ordered[index]


class Side:
    """One database of the comparison, with its reps' sessions."""

    def __init__(self, topo, db, name, reps, hot, stages):
        self.topo = topo
        self.db = db
        self.name = name
        self.addon = db == ADDON_DB
        self.sessions = []
        self.teams = []
        for index in range(reps):
            team, member = index % TEAM_COUNT, index // TEAM_COUNT
            login = f"bench_sales_{team * USERS_PER_TEAM + member + 1:02d}"
            self.sessions.append(Rpc(topo.base_url, db, login, REP_PASSWORD))
            self.teams.append(team)
        self.hot = hot  # [(lead id, [stage ids its pipeline may move to])]
        self.stages = stages
        self.team_ids = []
        self.spec = self.progressbar = self.aggregates = None

    def setup(self):
        for rpc in self.sessions:
            rpc.login()
        rpc = self.sessions[0]
        views = rpc.call("crm.lead", "get_views", [[[False, "kanban"]]], options={})
        arch = etree.fromstring(views["views"]["kanban"]["arch"])
        fields = views["models"]["crm.lead"]["fields"]
        self.spec = webclient.kanban_spec(arch, fields)
        # grouped by stage: the client reads the groupby field with the cards
        self.spec.setdefault("stage_id", {"fields": {"display_name": {}}})
        self.progressbar = webclient.kanban_progressbar(arch)
        self.aggregates = webclient.kanban_aggregates(self.progressbar, self.spec)
        team_ids = rpc.call(
            "crm.team",
            "search",
            [[("name", "=like", "Bench Team %")]],
            order="name",
        )
        self.team_ids = [team_ids[team] for team in self.teams]
        return self

    def kanban_domain(self, rep):
        return [("type", "=", "opportunity"), ("team_id", "=", self.team_ids[rep])]

    def report(self, rpc):
        today = datetime.date.today()
        if self.addon:
            return rpc.call(
                "crm.lead",
                "get_pipeline_kpis",
                domain=[],
                date_from=str(today - datetime.timedelta(days=365)),
                date_to=str(today + datetime.timedelta(days=1)),
            )
        # crm's Pipeline Analysis graph (crm_opportunity_report_action)
        return rpc.call(
            "crm.lead",
            "web_read_group",
            tag="report",
            domain=[("type", "=", "opportunity")],
            fields=["prorated_revenue:sum"],
            groupby=["stage_id", "date_deadline:month"],
            lazy=False,
        )


def load_data(topo, hot_count, seed):
    """The hot set (the same lead ids in both copies) and each team's open
    stages, read on the primary."""
    conn = topo.connect(ADDON_DB)
    with conn.cursor() as cr:
        cr.execute(
            """
            SELECT team.id,
                   array_agg(stage.id ORDER BY stage.sequence, stage.id)
              FROM crm_team team
              JOIN crm_stage stage
                ON stage.team_id = team.id
                OR (stage.team_id IS NULL AND NOT EXISTS (
                        SELECT 1 FROM crm_stage own WHERE own.team_id = team.id))
             WHERE NOT COALESCE(stage.is_won, FALSE)
               AND team.name->>'en_US' LIKE 'Bench Team %%'
             GROUP BY team.id
            """
        )
        stages = dict(cr.fetchall())
        per_team = max(1, hot_count // max(1, len(stages)))
        cr.execute(
            """
            SELECT id, team_id FROM (
                SELECT lead.id, lead.team_id,
                       row_number() OVER (PARTITION BY lead.team_id
                                          ORDER BY md5(lead.id::text || %s)) AS rank
                  FROM crm_lead lead
                  JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE lead.active AND lead.type = 'opportunity'
                   AND NOT COALESCE(stage.is_won, FALSE)
                   AND lead.team_id = ANY(%s)) ranked
             WHERE rank <= %s
             ORDER BY id
            """,
            (str(seed), list(stages), per_team),
        )
        hot = [(lead_id, stages[team_id]) for lead_id, team_id in cr.fetchall()]
    conn.close()
    return hot[:hot_count], stages


# --------------------------------------------------------------- a rep ---


class Recorder:
    """Samples of one phase: (kind, start, seconds, error kind) per call and
    (lead, target, sent, received, returned stage, error kind) per move."""

    def __init__(self):
        self.calls = []
        self.moves = []
        self.lock = threading.Lock()

    def call(self, kind, started, error=None):
        with self.lock:
            self.calls.append((kind, started, time.monotonic() - started, error))


class Controls:
    def __init__(self):
        self.stop = threading.Event()
        self.pause_moves = threading.Event()


MIX_KINDS = ("move", "kanban", "report")


def rep_move(side, rpc, rng, recorder, seen):
    lead, stages = rng.choice(side.hot)
    choices = [stage for stage in stages if stage != seen.get(lead)] or stages
    target = rng.choice(choices)
    started = time.monotonic()
    returned, error = None, None
    try:
        result = rpc.call(
            "crm.lead",
            "web_save",
            [[lead], {"stage_id": target}],
            specification=side.spec,
        )
        stage = result[0].get("stage_id")
        returned = stage["id"] if isinstance(stage, dict) else stage
        seen[lead] = returned
    except RpcError as exc:
        error = exc.kind
    recorder.call("move", started, error)
    with recorder.lock:
        recorder.moves.append(
            (lead, target, started, time.monotonic(), returned, error, side.db)
        )


def rep_kanban(side, rep, rpc, recorder):
    domain = side.kanban_domain(rep)
    started = time.monotonic()
    try:
        step = time.monotonic()
        groups = rpc.call(
            "crm.lead",
            "web_read_group",
            domain=domain,
            fields=side.aggregates,
            groupby=["stage_id"],
            lazy=True,
        )["groups"]
        recorder.call("kanban_groups", step)
        step = time.monotonic()
        rpc.call(
            "crm.lead",
            "read_progress_bar",
            domain=domain,
            group_by="stage_id",
            progress_bar=side.progressbar,
        )
        recorder.call("kanban_progress", step)
        opened = [g for g in groups if not g.get("__fold") and g["stage_id_count"]]
        for group in opened[:10]:
            step = time.monotonic()
            rpc.call(
                "crm.lead",
                "web_search_read",
                domain=group["__domain"],
                specification=side.spec,
                offset=0,
                limit=40,
                count_limit=10001,
            )
            recorder.call("kanban_cards", step)
    except RpcError as exc:
        recorder.call("kanban", started, exc.kind)
        return
    recorder.call("kanban", started)


def rep_report(side, rpc, recorder):
    started = time.monotonic()
    try:
        side.report(rpc)
    except RpcError as exc:
        recorder.call("report", started, exc.kind)
        return
    recorder.call("report", started)


def rep_loop(side, rep, deadline, recorder, controls, mix, seed):
    rng = random.Random(seed)
    rpc = side.sessions[rep]
    seen = {}
    while time.monotonic() < deadline and not controls.stop.is_set():
        kind = rng.choices(MIX_KINDS, weights=mix)[0]
        if kind == "move" and controls.pause_moves.is_set():
            kind = "kanban"
        try:
            if kind == "move":
                rep_move(side, rpc, rng, recorder, seen)
            elif kind == "kanban":
                rep_kanban(side, rep, rpc, recorder)
            else:
                rep_report(side, rpc, recorder)
        except Exception as exc:  # noqa: BLE001 - a rep never dies silently
            recorder.call("client", time.monotonic(), type(exc).__name__)
            time.sleep(0.5)


def run_reps(side, seconds, controls, mix, seed, recorder=None):
    """All reps of ``side`` for ``seconds``; returns the Recorder."""
    recorder = recorder or Recorder()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=rep_loop,
            args=(side, rep, deadline, recorder, controls, mix, seed * 1000 + rep),
            daemon=True,
        )
        for rep in range(len(side.sessions))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 900)
    return recorder


# ------------------------------------------------------------ Odoo log ---


class OdooLog:
    """Reads what Odoo logged since a mark, per database."""

    def __init__(self, path):
        self.path = path

    def mark(self):
        return os.path.getsize(self.path) if os.path.exists(self.path) else 0

    def lines(self, start, end=None):
        with open(self.path, "rb") as file:
            file.seek(start)
            data = file.read((end - start) if end else -1)
        return data.decode(errors="replace").splitlines()

    def stats(self, start, end, db):
        """Concurrency retries and failures, job batches, readonly fallbacks
        and errors logged for ``db`` between two marks."""
        result = {
            "retried": collections.Counter(),
            "gave_up": collections.Counter(),
            "jobs": {},
            "job_failures": collections.Counter(),
            "readonly_fallbacks": 0,
            "readonly_retried_rw": 0,
            "errors": collections.Counter(),
            "worker_events": collections.Counter(),
            # per kind of call: [queries, SQL seconds, other seconds] per
            # request, from Odoo's request log (server side, no queueing)
            "server": {},
        }
        for line in self.lines(start, end):
            match = LOG_LINE.match(line)
            if not match:
                continue
            _when, _pid, level, dbname, logger, message = match.groups()
            if "Worker" in message and ("alive" in message or "timeout" in message):
                result["worker_events"][message.split("(")[0].strip()] += 1
            if dbname != db:
                continue
            request = REQUEST.search(message) if logger == "werkzeug" else None
            if request:
                method, tag, status, queries, sql_s, other_s = request.groups()
                kind = "report" if tag == "/report" else SERVER_KINDS.get(method)
                if kind and status == "200":
                    result["server"].setdefault(kind, []).append(
                        (int(queries), float(sql_s), float(other_s))
                    )
            elif "tries left, try again" in message:
                result["retried"][message.split(",")[0]] += 1
            elif "maximum number of tries reached" in message:
                result["gave_up"][message.split(",")[0]] += 1
            elif message.startswith("Job "):
                _parse_job_line(result, message)
            elif "Failed to open a readonly cursor" in message:
                result["readonly_fallbacks"] += 1
            elif "retrying with a read/write cursor" in message:
                result["readonly_retried_rw"] += 1
            elif level in ("ERROR", "CRITICAL") and not message.startswith("bad query"):
                result["errors"][f"{logger}: {message[:80]}"] += 1
        return {
            key: dict(value) if isinstance(value, collections.Counter) else value
            for key, value in result.items()
        }


def _parse_job_line(result, message):
    """Count a line of Odoo's cron log into ``result``: a batch's progress,
    its duration, the end of a pass, a failure."""
    message = message.rstrip()
    name = message.split("'")[1] if "'" in message else message
    if " processed " in message:
        numbers = re.findall(r"processed (\d+) records, (\d+) records", message)
        job = _job_stats(result["jobs"], name)
        if numbers:
            job["batches"] += 1
            job["done"] += int(numbers[0][0])
            job["remaining"] = int(numbers[0][1])
    elif duration := JOB_DONE_IN.search(message):
        # each call of the job's code (one batch), timed by Odoo
        _job_stats(result["jobs"], name)["seconds"] += float(duration.group(1))
    elif message.endswith(" completed"):
        # the job's last batch: one pass
        _job_stats(result["jobs"], name)["passes"] += 1
    elif " failed" in message:
        result["job_failures"][name] += 1


def _job_stats(jobs, name):
    return jobs.setdefault(
        name,
        {"batches": 0, "done": 0, "remaining": None, "seconds": 0.0, "passes": 0},
    )


def merge_stats(items):
    total = {}
    for item in items:
        for key, value in item.items():
            if key == "server":
                server = total.setdefault("server", {})
                for kind, rows in value.items():
                    server.setdefault(kind, []).extend(rows)
            elif isinstance(value, dict) and key != "jobs":
                bucket = total.setdefault(key, collections.Counter())
                bucket.update(value)
            elif key == "jobs":
                jobs = total.setdefault("jobs", {})
                for name, job in value.items():
                    into = jobs.setdefault(
                        name, {"batches": 0, "done": 0, "seconds": 0.0, "passes": 0}
                    )
                    for key in ("batches", "done", "seconds", "passes"):
                        into[key] += job.get(key, 0)
            else:
                total[key] = total.get(key, 0) + value
    return {
        k: dict(v) if isinstance(v, collections.Counter) else v
        for k, v in total.items()
    }


# ---------------------------------------------------------------- jobs ---


def addon_cron_ids(topo):
    rows = topo.psql(
        "SELECT res_id FROM ir_model_data WHERE module = 'sales_pipeline_mgmt' "
        "AND model = 'ir.cron' ORDER BY res_id",
        ADDON_DB,
    )
    return [int(row) for row in rows.split()]


def make_jobs_due(topo, cron_ids):
    """Set the jobs' next call to now (a job running now is left alone) and
    wake the cron worker up."""
    ids = ",".join(map(str, cron_ids))
    topo.psql(
        f"""UPDATE ir_cron SET nextcall = (now() AT TIME ZONE 'UTC')
             WHERE id IN (SELECT id FROM ir_cron WHERE id IN ({ids}) AND active
                          FOR UPDATE SKIP LOCKED)""",
        ADDON_DB,
    )
    topo.notify_cron(ADDON_DB)


def jobs_pending(topo, cron_ids):
    ids = ",".join(map(str, cron_ids))
    return int(
        topo.psql(
            f"""SELECT count(*) FROM ir_cron WHERE id IN ({ids}) AND active
                 AND nextcall <= (now() AT TIME ZONE 'UTC')""",
            ADDON_DB,
        )
    )


def wait_jobs_done(topo, cron_ids, timeout):
    """Wait until every job is fully done (rescheduled later); seconds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not jobs_pending(topo, cron_ids):
            return time.monotonic() - started
        topo.notify_cron(ADDON_DB)
        time.sleep(2)
    return None


def next_run_report(topo, cron_ids, odoo_log, timeout=600):
    """Make every job due once more and wait: each must complete (its last
    batch reports nothing remaining). {job: {batches, done, remaining}}."""
    mark = odoo_log.mark()
    make_jobs_due(topo, cron_ids)
    seconds = wait_jobs_done(topo, cron_ids, timeout)
    stats = odoo_log.stats(mark, None, ADDON_DB)
    return {
        "seconds": seconds,
        "jobs": stats["jobs"],
        "job_failures": stats["job_failures"],
        "complete": seconds is not None
        and all(job["remaining"] == 0 for job in stats["jobs"].values()),
    }


# --------------------------------------------------------- correctness ---


def lost_updates(topo, moves, db):
    """Moves Odoo acknowledged whose result is not what the database holds.

    - returned: the acknowledged move did not return its target stage;
    - final: a hot lead's stage is none of the targets of the moves that may
      have committed last (the last acknowledged one, and every move, also one
      that failed in an ambiguous way, that ended after it was sent)."""
    by_lead = collections.defaultdict(list)
    returned = []
    for move in moves:
        lead, target, _sent, _received, stage, error, move_db = move
        if move_db != db:
            continue
        by_lead[lead].append(move)
        if error is None and stage != target:
            returned.append({"lead": lead, "target": target, "returned": stage})
    if not by_lead:
        return {"returned": returned, "final": [], "acknowledged": 0}
    conn = topo.connect(db)
    with conn.cursor() as cr:
        cr.execute(
            "SELECT id, stage_id FROM crm_lead WHERE id = ANY(%s)", (list(by_lead),)
        )
        current = dict(cr.fetchall())
    conn.close()
    final = []
    acknowledged = 0
    for lead, items in by_lead.items():
        acked = [m for m in items if m[5] is None]
        acknowledged += len(acked)
        if not acked:
            continue
        last = max(acked, key=lambda m: m[3])
        allowed = {
            m[1]
            for m in items
            if (m[5] is None or m[5] in AMBIGUOUS_ERRORS) and m[3] >= last[2]
        }
        if current.get(lead) not in allowed:
            final.append(
                {
                    "lead": lead,
                    "stage": current.get(lead),
                    "expected_one_of": sorted(allowed),
                }
            )
    return {"returned": returned, "final": final, "acknowledged": acknowledged}


def count_lost_updates(topo, moves, db):
    """(how many acknowledged moves were lost, the lost moves)."""
    lost = lost_updates(topo, moves, db)
    return len(lost["returned"]) + len(lost["final"]), lost


def check_invariants(topo, db):
    conn = topo.connect(db)
    results = invariants.run_checks(conn)
    conn.close()
    return results


# ------------------------------------------------------------ summaries ---


def summarize(recorders, seconds, stats, begin=None):
    calls = [c for r in recorders for c in r.calls]
    moves = [m for r in recorders for m in r.moves]
    kinds = {}
    for kind in sorted({c[0] for c in calls}):
        ok = [c[2] for c in calls if c[0] == kind and c[3] is None]
        kinds[kind] = {
            "count": len(ok),
            "p50": percentile(ok, 50),
            "p95": percentile(ok, 95),
            "p99": percentile(ok, 99),
        }
    errors = collections.Counter(f"{c[0]}: {c[3]}" for c in calls if c[3])
    acknowledged = sum(1 for m in moves if m[5] is None)
    failed = [c[1] - begin for c in calls if c[3]] if begin is not None else []
    stats = dict(stats)
    server = {}
    for kind, rows in stats.pop("server", {}).items():
        totals = [sql_s + other_s for _queries, sql_s, other_s in rows]
        server[kind] = {
            "count": len(rows),
            "queries_p50": percentile([r[0] for r in rows], 50),
            "p50": percentile(totals, 50),
            "p95": percentile(totals, 95),
            "sql_p50": percentile([r[1] for r in rows], 50),
        }
    return {
        "error_window_s": [round(min(failed), 1), round(max(failed), 1)]
        if failed
        else None,
        "seconds": seconds,
        "moves": acknowledged,
        "moves_per_s": acknowledged / seconds if seconds else None,
        "calls": len(calls),
        "kinds": kinds,
        "client_errors": dict(errors),
        "server": server,
        "log": stats,
    }


def _ms(value):
    if value is None:
        return "n/a"
    return f"{value * 1000:.0f}" if value < 10 else f"{value:.1f} s"


KIND_LABELS = {
    "move": "stage move (web_save)",
    "kanban": "kanban, whole load",
    "kanban_groups": "  web_read_group",
    "kanban_progress": "  read_progress_bar",
    "kanban_cards": "  web_search_read (per column)",
    "report": "report (addon: get_pipeline_kpis; crm: Pipeline Analysis)",
}


def render_load(result):
    addon, crm = result["sides"]["addon"], result["sides"]["crm"]
    ratio = addon["moves_per_s"] / crm["moves_per_s"] if crm["moves_per_s"] else None
    p95 = addon["kinds"].get("move", {}).get("p95")
    crm_p95 = crm["kinds"].get("move", {}).get("p95")
    p95_ratio = p95 / crm_p95 if p95 and crm_p95 else None
    lines = [
        (
            f"{result['reps']} reps, {result['hot']} hot opportunities, "
            f"{result['seconds_per_side']:.0f} s per side in {result['phases']} "
            f"alternating phases ({' '.join(result['order'])}), "
            f"Odoo {result['workers']} HTTP workers + 1 cron worker, replica on"
        ),
        "",
        "| | with the addon | crm alone | ratio | target | |",
        "|---|---|---|---|---|---|",
        (
            f"| moves per second | {addon['moves_per_s']:.2f} | "
            f"{crm['moves_per_s']:.2f} | {ratio:.2f} | ≥ 0.90 | "
            f"{'met' if ratio and ratio >= 0.9 else '**missed**'} |"
        ),
    ]
    for kind, label in KIND_LABELS.items():
        a, c = addon["kinds"].get(kind), crm["kinds"].get(kind)
        if not a and not c:
            continue
        a = a or {"count": 0}
        c = c or {"count": 0}
        cell = "{count} calls, {p50} / {p95} / {p99} ms"
        target = status = ratio_cell = ""
        if kind == "move":
            target = "p95 ≤ 1.25"
            ratio_cell = f"p95 {p95_ratio:.2f}" if p95_ratio else ""
            status = "met" if p95_ratio and p95_ratio <= 1.25 else "**missed**"
        lines.append(
            f"| {label}: p50 / p95 / p99 | "
            + cell.format(
                count=a["count"],
                p50=_ms(a.get("p50")),
                p95=_ms(a.get("p95")),
                p99=_ms(a.get("p99")),
            )
            + " | "
            + cell.format(
                count=c["count"],
                p50=_ms(c.get("p50")),
                p95=_ms(c.get("p95")),
                p99=_ms(c.get("p99")),
            )
            + f" | {ratio_cell} | {target} | {status} |"
        )

    def fmt(counter):
        return ", ".join(f"{k} {v}" for k, v in sorted(counter.items())) or "0"

    def errors(side):
        return sum(side["client_errors"].values()) + sum(
            side["log"].get("gave_up", {}).values()
        )

    lines += [
        (
            f"| concurrency failures retried by Odoo (not errors) | "
            f"{fmt(addon['log'].get('retried', {}))} | "
            f"{fmt(crm['log'].get('retried', {}))} | | | |"
        ),
        (
            f"| errors, by kind | {fmt(addon['client_errors'])} | "
            f"{fmt(crm['client_errors'])} | | 0 | "
            f"{'met' if not errors(addon) and not errors(crm) else '**missed**'} |"
        ),
        (
            f"| lost updates | {result['lost']['addon']} | {result['lost']['crm']} "
            f"| | 0 | {'met' if not any(result['lost'].values()) else '**missed**'} |"
        ),
        (
            f"| invariant breaks | {result['invariant_breaks']} | n/a | | 0 | "
            f"{'met' if not result['invariant_breaks'] else '**missed**'} |"
        ),
    ]
    lines += [
        "",
        (
            "Server side (Odoo's request log: time spent in the worker, no "
            "queueing; median queries):"
        ),
        "",
        "| call | with the addon: p50 / p95 ms (queries) | crm alone | p50 ratio |",
        "|---|---|---|---|",
    ]
    for kind, label in KIND_LABELS.items():
        a, c = addon.get("server", {}).get(kind), crm.get("server", {}).get(kind)
        if not a or not c:
            continue
        lines.append(
            f"| {label.strip()} | {_ms(a['p50'])} / {_ms(a['p95'])} "
            f"({a['queries_p50']}) | {_ms(c['p50'])} / {_ms(c['p95'])} "
            f"({c['queries_p50']}) | {a['p50'] / c['p50']:.2f} |"
        )
    if result.get("phases_detail"):
        lines += [
            "",
            "Per phase (moves/s, move p95, load average after):",
            "",
        ]
        lines += [
            f"- {d['side']}: {d['moves_per_s']:.2f}/s, {_ms(d['move_p95'])} ms, "
            f"load {d['load_after']}"
            for d in result["phases_detail"]
        ]
    jobs = addon["log"].get("jobs", {})
    if jobs:
        lines += [
            "",
            "Jobs run on the cron worker during the addon phases: "
            + "; ".join(
                f"{name} {job.get('passes', 0)} passes, {job['batches']} batches, "
                f"{job['done']} done, {job.get('seconds', 0):.1f} s"
                for name, job in sorted(jobs.items())
            )
            + (
                f"; failed batches: {fmt(addon['log']['job_failures'])}"
                if addon["log"].get("job_failures")
                else ""
            )
            + ".",
        ]
    return "\n".join(lines)


# ------------------------------------------------------------- the run ---


class Run:
    def __init__(self, args):
        self.args = args
        self.topo = Topology(args.dir)
        self.log = OdooLog(self.topo.odoo_log)
        self.controls = Controls()
        self.mix = [float(x) for x in args.mix.split(":")]
        if not self.topo.odoo_pid():
            sys.exit(
                "load: Odoo of the topology is not running: "
                "bench/bin/topology up (see docs/BENCHMARKS.md)"
            )

    def sides(self, names=("addon", "crm")):
        hot, stages = load_data(self.topo, self.args.hot, self.args.seed)
        result = {}
        for name in names:
            db = ADDON_DB if name == "addon" else CRM_DB
            result[name] = Side(
                self.topo, db, name, self.args.reps, hot, stages
            ).setup()
        return result

    def reset(self):
        if self.args.no_reset:
            return
        say("fresh copies of the databases, Odoo restarted")
        self.topo.odoo_stop()
        self.topo.reset_databases()
        self.topo.odoo_start()

    def catch_up(self, cron_ids):
        say("the addon's jobs run their catch-up pass (the first after install)")
        mark = self.log.mark()
        make_jobs_due(self.topo, cron_ids)
        seconds = wait_jobs_done(self.topo, cron_ids, 900)
        stats = self.log.stats(mark, None, ADDON_DB)
        say(
            f"  done in {seconds:.0f} s: "
            + "; ".join(
                f"{name} {job['done']}" for name, job in sorted(stats["jobs"].items())
            )
            if seconds is not None
            else "  not finished after 900 s"
        )
        return {"seconds": seconds, "jobs": stats["jobs"]}

    def load(self):
        args = self.args
        self.reset()
        started_at = datetime.datetime.now(datetime.UTC)
        before = machine(self.topo)
        sides = self.sides()
        cron_ids = addon_cron_ids(self.topo)
        catch_up = self.catch_up(cron_ids)
        say("warm-up, 10 s per side (not measured)")
        for side in sides.values():
            run_reps(side, 10, self.controls, self.mix, args.seed + 99)
        pattern = ["addon", "crm", "crm", "addon"]
        order = [pattern[i % 4] for i in range(args.phases)]
        slice_seconds = args.seconds / (args.phases / 2)
        recorders = {"addon": [], "crm": []}
        stats = {"addon": [], "crm": []}
        elapsed = {"addon": 0.0, "crm": 0.0}
        details = []
        next_jobs, jobs_made_due = 0.0, 0
        sampler = (
            waits.WaitSampler(self.topo, (ADDON_DB, CRM_DB)).start()
            if args.sample_waits
            else None
        )
        for number, name in enumerate(order, 1):
            side = sides[name]
            if side.addon and not args.no_jobs and elapsed["addon"] >= next_jobs:
                make_jobs_due(self.topo, cron_ids)
                jobs_made_due += 1
                next_jobs = elapsed["addon"] + args.jobs_every
            say(f"phase {number}/{len(order)}: {name}, {slice_seconds:.0f} s")
            mark = self.log.mark()
            begin = time.monotonic()
            recorder = run_reps(
                side, slice_seconds, self.controls, self.mix, args.seed + number
            )
            elapsed[name] += time.monotonic() - begin
            time.sleep(1)  # the last lines of the phase reach the log
            stats[name].append(self.log.stats(mark, self.log.mark(), side.db))
            recorders[name].append(recorder)
            moves = sum(1 for m in recorder.moves if m[5] is None)
            say(f"  {moves} moves acknowledged, {len(recorder.calls)} calls")
            phase = summarize([recorder], time.monotonic() - begin - 1, {})
            details.append(
                {
                    "side": name,
                    "moves_per_s": phase["moves_per_s"],
                    "move_p95": phase["kinds"].get("move", {}).get("p95"),
                    "kanban_p95": phase["kinds"].get("kanban", {}).get("p95"),
                    "load_after": _loadavg(),
                }
            )
        wait_samples = sampler.stop() if sampler else None
        say("checks: lost updates, invariants, jobs complete on their next run")
        result = {
            "date": started_at.strftime("%Y-%m-%d %H:%M UTC"),
            "machine": before,
            "reps": args.reps,
            "hot": len(sides["addon"].hot),
            "seconds_per_side": args.seconds,
            "phases": args.phases,
            "order": order,
            "mix": args.mix,
            "workers": self.topo.state["workers"],
            "scale": self.topo.state.get("scale"),
            "catch_up": catch_up,
            "jobs_made_due": jobs_made_due,
            "jobs_every_s": None if args.no_jobs else args.jobs_every,
            "phases_detail": details,
            "waits": wait_samples,
            "sides": {},
            "lost": {},
            "lost_detail": {},
        }
        for name, side in sides.items():
            moves = [m for r in recorders[name] for m in r.moves]
            result["sides"][name] = summarize(
                recorders[name], elapsed[name], merge_stats(stats[name])
            )
            result["lost"][name], result["lost_detail"][name] = count_lost_updates(
                self.topo, moves, side.db
            )
        self.check(result, cron_ids)
        # every sample, for a closer look (not committed: in the topology folder)
        with open(self.topo.path("samples_load.json"), "w") as file:
            json.dump(
                {
                    name: {
                        "phases": [
                            {"calls": r.calls, "moves": r.moves}
                            for r in recorders[name]
                        ]
                    }
                    for name in recorders
                },
                file,
            )
        return result

    # -------------------------------------------------------------- faults ---

    def fault(self, name):
        args = self.args
        self.reset()
        started_at = datetime.datetime.now(datetime.UTC)
        side = self.sides(("addon",))["addon"]
        cron_ids = addon_cron_ids(self.topo)
        result = {
            "fault": name,
            "date": started_at.strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(self.topo),
            "reps": args.reps,
            "seconds": args.seconds,
        }
        if name != "cron-kill":
            result["catch_up"] = self.catch_up(cron_ids)
        elif not self.wait_first_stall_batch():
            sys.exit("load: the stall detection job did not start")
        mark = self.log.mark()
        recorder = Recorder()
        runner = threading.Thread(
            target=run_reps,
            args=(side, args.seconds, self.controls, self.mix, args.seed, recorder),
            daemon=True,
        )
        begin = time.monotonic()
        runner.start()
        if name != "cron-kill":
            time.sleep(args.seconds * 0.3)
        inject = {
            "worker-kill": self.inject_worker_kill,
            "cron-kill": self.inject_cron_kill,
            "pg-restart": self.inject_pg_restart,
            "replica-stop": self.inject_replica_stop,
        }[name]
        result["events"] = inject(side, cron_ids, begin)
        runner.join(args.seconds + 900)
        elapsed = time.monotonic() - begin
        time.sleep(1)
        stats = self.log.stats(mark, self.log.mark(), ADDON_DB)
        result["load"] = summarize([recorder], elapsed, stats, begin)
        say("recovery: Odoo, replica, then the checks")
        result["recovery"] = self.recover(name)
        result["lost"], result["lost_detail"] = count_lost_updates(
            self.topo, recorder.moves, ADDON_DB
        )
        self.check(result, cron_ids)
        return result

    def check(self, result, cron_ids):
        """What a load run and a fault run end with alike: the invariants of
        the addon's database, and whether its jobs complete on their next
        run."""
        checks = check_invariants(self.topo, ADDON_DB)
        result["invariants"] = checks
        result["invariant_breaks"] = invariants.breaks(checks)
        result["jobs_next_run"] = next_run_report(self.topo, cron_ids, self.log)

    def recover(self, name):
        topo = self.topo
        info = {}
        if name == "replica-stop":
            topo.start_cluster("replica", topo.replica_port)
        info["replica_streaming"] = topo.wait_streaming(timeout=120, caught_up=True)
        if name == "replica-stop":
            # Odoo drops a replica it failed to reach until its workers are
            # recycled: do readonly calls go back to it?
            reset_statements(topo)
            side = self.sides(("addon",))["addon"]
            for rep in range(len(side.sessions)):
                rep_kanban(side, rep, side.sessions[rep], Recorder())
            info["readonly_calls_back_on_replica"] = statement_counts(topo)
        info["odoo_answers"] = topo.wait_http(timeout=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            kinds = list(topo.odoo_processes().values())
            if kinds.count("WorkerHTTP") >= int(topo.state["workers"]) and (
                "WorkerCron" in kinds
            ):
                break
            time.sleep(1)
        info["processes"] = collections.Counter(topo.odoo_processes().values())
        return info

    def _backends(self, conn, where="TRUE", params=()):
        """Client backends of the addon's database: (backend pid, Odoo pid,
        state, wait event type, query)."""
        with conn.cursor() as cr:
            cr.execute(
                f"""SELECT pid, client_port, state, wait_event_type,
                           left(regexp_replace(query, '\\s+', ' ', 'g'), 160)
                      FROM pg_stat_activity
                     WHERE datname = %s AND client_port IS NOT NULL
                       AND pid <> pg_backend_pid() AND {where}""",
                (ADDON_DB, *params),
            )
            rows = cr.fetchall()
        return [
            (pid, self.topo.process_of_backend(port), state, wait, query)
            for pid, port, state, wait, query in rows
        ]

    def inject_worker_kill(self, side, _cron_ids, begin):
        """Hold the open stay of a lead outside the hot set, move that lead
        through a worker (which then waits on the row in the middle of its
        move), kill -9 that worker, release the row."""
        topo = self.topo
        events = {}
        conn = topo.connect(ADDON_DB)
        watch = topo.connect(ADDON_DB)
        watch.autocommit = True
        hot = {lead for lead, _stages in side.hot}
        with conn.cursor() as cr:
            cr.execute(
                """SELECT lead.id, lead.stage_id, lead.team_id
                     FROM crm_lead lead JOIN crm_stage stage ON stage.id = lead.stage_id
                    WHERE lead.active AND lead.type = 'opportunity'
                      AND NOT COALESCE(stage.is_won, FALSE) AND lead.team_id = %s
                      AND lead.id <> ALL(%s)
                    ORDER BY lead.id LIMIT 1""",
                (side.team_ids[0], list(hot)),
            )
            lead, stage, _team = cr.fetchone()
        # another stage of the lead's pipeline
        target = next(s for s in side.stages[side.team_ids[0]] if s != stage)

        def state():
            with watch.cursor() as cr:
                cr.execute(
                    "SELECT stage_id, (SELECT count(*) FROM crm_lead_stage_history "
                    "WHERE lead_id = %s) FROM crm_lead WHERE id = %s",
                    (lead, lead),
                )
                return cr.fetchone()

        events["lead"], events["from_stage"], events["to_stage"] = lead, stage, target
        events["before"] = state()
        with conn.cursor() as cr:
            cr.execute(
                "SELECT id FROM crm_lead_stage_history WHERE lead_id = %s "
                "AND date_out IS NULL FOR UPDATE",
                (lead,),
            )
        rpc = Rpc(topo.base_url, ADDON_DB, side.sessions[0].login_name, REP_PASSWORD)
        rpc.login()
        outcome = {}

        def move():
            """What the client sees of the move: "acknowledged" or the
            error's kind."""
            try:
                rpc.call(
                    "crm.lead",
                    "web_save",
                    [[lead], {"stage_id": target}],
                    specification={"stage_id": {"fields": {"display_name": {}}}},
                )
                return "acknowledged"
            except RpcError as exc:
                return exc.kind

        mover = threading.Thread(
            target=lambda: outcome.update(result=move()), daemon=True
        )
        mover.start()
        backend = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not backend:
            rows = self._backends(
                watch,
                "wait_event_type = 'Lock' AND query ILIKE %s",
                ("%crm_lead_stage_history%",),
            )
            backend = rows[0] if rows and rows[0][1] else None
            time.sleep(0.1)
        if not backend:
            conn.rollback()
            events["error"] = "the move never reached the held row"
            return events
        worker = backend[1]
        with watch.cursor() as cr:
            cr.execute(
                """SELECT c.relname FROM pg_locks l
                     JOIN pg_class c ON c.oid = l.relation AND c.relkind = 'r'
                    WHERE l.pid = %s AND l.locktype = 'relation'
                      AND l.mode = 'RowExclusiveLock' ORDER BY 1""",
                (backend[0],),
            )
            written = [row[0] for row in cr.fetchall()]
        events.update(
            worker_pid=worker,
            worker_kind=self.topo.odoo_processes().get(worker),
            backend_pid=backend[0],
            waiting_query=backend[4],
            tables_written_so_far=written,
            at_s=round(time.monotonic() - begin, 1),
        )
        if events["worker_kind"] != "WorkerHTTP":
            conn.rollback()
            events["error"] = f"process {worker} is not an HTTP worker: not killed"
            return events
        say(f"kill -9 worker {worker} in the middle of moving lead {lead}")
        workers_before = set(topo.worker_pids("WorkerHTTP"))
        os.kill(worker, signal.SIGKILL)
        killed_at = time.monotonic()
        while time.monotonic() - killed_at < 30:
            if set(topo.worker_pids("WorkerHTTP")) - workers_before:
                events["respawned_in_s"] = round(time.monotonic() - killed_at, 1)
                break
            time.sleep(0.1)
        conn.rollback()  # the held row is released
        mover.join(120)
        events["client_saw"] = outcome.get("result", "no answer")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self._backends(
            watch, "pid = %s", (backend[0],)
        ):
            time.sleep(0.2)
        events["after_kill"] = state()
        events["move_rolled_back"] = events["after_kill"] == events["before"]
        events["move_again"] = move()
        events["after_retry"] = state()
        conn.close()
        watch.close()
        return events

    def stall_job_id(self):
        return int(
            self.topo.psql(
                "SELECT res_id FROM ir_model_data WHERE module = 'sales_pipeline_mgmt' "
                "AND name = 'ir_cron_stall_detection'",
                ADDON_DB,
            )
        )

    def wait_first_stall_batch(self, timeout=600):
        """On a fresh copy the jobs start their catch-up pass with Odoo: wait
        until the stall detection job has committed its first batch."""
        job_id = self.stall_job_id()
        make_jobs_due(self.topo, [job_id])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = self.topo.psql(
                f"SELECT COALESCE(sum(done), 0) FROM ir_cron_progress "
                f"WHERE cron_id = {job_id}",
                ADDON_DB,
            )
            if int(done):
                return True
            self.topo.notify_cron(ADDON_DB)
            time.sleep(0.5)
        return False

    def inject_cron_kill(self, side, cron_ids, begin):
        """While the reps work, wait until the stall detection job (in its
        catch-up pass, some batches committed) is in the middle of a batch:
        its transaction has written activities or lead flags, not committed.
        Then kill -9 the cron worker. The job must go on from where it was."""
        topo = self.topo
        events = {}
        job_id = self.stall_job_id()
        watch = topo.connect(ADDON_DB)
        watch.autocommit = True

        def progress():
            with watch.cursor() as cr:
                cr.execute(
                    """SELECT id, done, remaining, timed_out_counter
                         FROM ir_cron_progress WHERE cron_id = %s ORDER BY id""",
                    (job_id,),
                )
                return cr.fetchall()

        def committed():
            with watch.cursor() as cr:
                cr.execute(
                    """SELECT (SELECT count(*) FROM crm_lead WHERE is_stalled),
                              (SELECT count(*) FROM mail_activity
                                WHERE pipeline_health_kind IN ('stall', 'escalation')
                                  AND active)"""
                )
                return cr.fetchone()

        def writers():
            """Backends that have written activities or leads, uncommitted:
            (backend pid, client port, query, tables)."""
            with watch.cursor() as cr:
                cr.execute(
                    r"""SELECT a.pid, a.client_port,
                               left(regexp_replace(a.query, '\s+', ' ', 'g'), 160),
                               array_agg(DISTINCT c.relname ORDER BY c.relname)
                          FROM pg_stat_activity a
                          JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'relation'
                                         AND l.mode = 'RowExclusiveLock'
                          JOIN pg_class c ON c.oid = l.relation AND c.relkind = 'r'
                         WHERE a.datname = %s AND a.client_port IS NOT NULL
                         GROUP BY a.pid, a.client_port, a.query
                        HAVING bool_or(c.relname IN ('mail_activity', 'crm_lead'))""",
                    (ADDON_DB,),
                )
                return cr.fetchall()

        def gave_up():
            """The job rescheduled to its next interval with work left: its
            last batch failed before reporting progress (its progress row
            says 0 done, 0 remaining after one that had some remaining):
            Odoo's cron then counts the run as failed and reschedules it."""
            rows = progress()
            with watch.cursor() as cr:
                cr.execute(
                    """SELECT nextcall > (now() AT TIME ZONE 'UTC'), nextcall,
                              failure_count FROM ir_cron WHERE id = %s""",
                    (job_id,),
                )
                later, nextcall, failures = cr.fetchone()
            if (
                later
                and len(rows) >= 2
                and rows[-1][1:] == (0, 0, 0)
                and rows[-2][2] > 0
            ):
                return {"nextcall": nextcall, "failure_count": failures}
            return None

        log_mark = self.log.mark()
        time.sleep(5)  # the reps are at work
        deadline = time.monotonic() + 600
        cron_pid = None
        while time.monotonic() < deadline:
            stopped = gave_up()
            if stopped:
                stats = self.log.stats(log_mark, None, ADDON_DB)
                events.setdefault("job_gave_up", []).append(
                    dict(
                        stopped,
                        flagged=committed()[0],
                        failed_batches=stats["job_failures"],
                        progress=progress()[-3:],
                    )
                )
                say("the stall detection job stopped with work left: made due again")
                make_jobs_due(topo, [job_id])
            rows = progress()
            running = rows and rows[-1][3] >= 1
            cron_pids = topo.worker_pids("WorkerCron")
            if running and cron_pids:
                cron_pid = cron_pids[0]
                busy = [
                    row
                    for row in writers()
                    if topo.process_of_backend(row[1]) == cron_pid
                ]
                if busy:
                    events["cron_backend"] = busy[0][2]
                    events["tables_written_so_far"] = busy[0][3]
                    break
            else:
                topo.notify_cron(ADDON_DB)
            time.sleep(0.02)
        else:
            events["error"] = "the stall detection job was never caught mid-batch"
            return events
        events["progress_before"] = progress()
        events["flagged_and_activities_before"] = committed()
        events["cron_pid"] = cron_pid
        events["at_s"] = round(time.monotonic() - begin, 1)
        if topo.odoo_processes().get(cron_pid) != "WorkerCron":
            events["error"] = f"process {cron_pid} is not the cron worker: not killed"
            return events
        say(f"kill -9 cron worker {cron_pid} in the middle of a stall detection batch")
        os.kill(cron_pid, signal.SIGKILL)
        time.sleep(1)
        events["flagged_and_activities_after_kill"] = committed()
        seconds = wait_jobs_done(topo, [job_id], 900)
        events["job_finished_after_s"] = seconds
        events["progress_after"] = progress()
        events["flagged_and_activities_at_end"] = committed()
        with watch.cursor() as cr:
            # flag and activity are committed together, or neither
            cr.execute(
                """SELECT count(*) FILTER (WHERE l.is_stalled AND u.active
                                             AND a.id IS NULL),
                          count(*) FILTER (WHERE NOT COALESCE(l.is_stalled, FALSE)
                                             AND a.id IS NOT NULL)
                     FROM crm_lead l
                     LEFT JOIN res_users u ON u.id = l.user_id
                     LEFT JOIN mail_activity a
                            ON a.res_model = 'crm.lead' AND a.res_id = l.id
                           AND a.pipeline_health_kind = 'stall' AND a.active"""
            )
            flagged_alone, activity_alone = cr.fetchone()
        events["flagged_without_stall_activity"] = flagged_alone
        events["stall_activity_without_flag"] = activity_alone
        events["new_cron_pid"] = topo.worker_pids("WorkerCron")
        watch.close()
        return events

    def inject_pg_restart(self, _side, _cron_ids, begin):
        events = {"at_s": round(time.monotonic() - begin, 1)}
        say("restart of the primary (pg_ctl restart -m fast) under load")
        started = time.monotonic()
        self.topo.restart_cluster("primary", "fast")
        events["restart_s"] = round(time.monotonic() - started, 1)
        events["replica_streaming_again"] = self.topo.wait_streaming(timeout=60)
        return events

    def figures(self, side):
        """What the readonly calls answer: each team's kanban columns
        (count, expected revenue) and the KPIs."""
        rpc = side.sessions[0]
        answers, errors = {}, []
        for attempt in range(int(self.topo.state["workers"]) * 2 + 2):
            try:
                columns = {}
                for team_id in sorted(set(side.team_ids)):
                    groups = rpc.call(
                        "crm.lead",
                        "web_read_group",
                        domain=[
                            ("type", "=", "opportunity"),
                            ("team_id", "=", team_id),
                        ],
                        fields=["expected_revenue:sum"],
                        groupby=["stage_id"],
                        lazy=True,
                    )["groups"]
                    columns[str(team_id)] = sorted(
                        (
                            g["stage_id"][0] if g["stage_id"] else 0,
                            g["stage_id_count"],
                            round(g.get("expected_revenue") or 0, 2),
                        )
                        for g in groups
                    )
                answers = {"kanban": columns, "kpis": side.report(rpc)}
                return answers, errors, attempt + 1
            except RpcError as exc:
                errors.append(exc.kind)
        return None, errors, None

    def inject_replica_stop(self, side, _cron_ids, begin):
        topo = self.topo
        events = {}
        self.controls.pause_moves.set()
        time.sleep(3)  # moves in flight end
        events["replica_caught_up"] = topo.wait_streaming(timeout=60, caught_up=True)
        reset_statements(topo)
        before, errors, _tries = self.figures(side)
        events["served_by_replica_before"] = statement_counts(topo)
        events["errors_before"] = errors
        say("the replica is stopped under load")
        events["at_s"] = round(time.monotonic() - begin, 1)
        topo.stop_cluster("replica", "fast")
        reset_statements(topo, replica=False)
        after, errors, tries = self.figures(side)
        events["served_after_stop"] = statement_counts(topo, replica=False)
        events["errors_after_stop"] = errors
        events["tries_after_stop"] = tries
        events["figures_unchanged"] = before is not None and before == after
        if before != after:
            events["figures_before"] = before
            events["figures_after"] = after
        self.controls.pause_moves.clear()
        return events


# ------------------------------------------------------- replica proof ---


def reset_statements(topo, replica=True):
    for is_replica in (False, True) if replica else (False,):
        conn = topo.connect(ADDON_DB, replica=is_replica)
        conn.autocommit = True
        with conn.cursor() as cr:
            cr.execute("SELECT pg_stat_statements_reset()")
        conn.close()


def statement_counts(topo, replica=True):
    """Statements on crm.lead's tables executed since the last reset, per
    node: {node: {calls, sample}} (node down: None)."""
    result = {}
    for node, is_replica in (("primary", False), ("replica", True)):
        if is_replica and not replica:
            continue
        try:
            conn = topo.connect(ADDON_DB, replica=is_replica)
        except psycopg2.OperationalError:
            result[node] = None
            continue
        with conn.cursor() as cr:
            cr.execute(
                r"""
                SELECT COALESCE(sum(s.calls), 0)::int,
                       (array_agg(left(regexp_replace(s.query, '\s+', ' ', 'g'), 110)
                                  ORDER BY s.calls DESC))[1:3]
                  FROM pg_stat_statements s
                  JOIN pg_database d ON d.oid = s.dbid
                 WHERE d.datname = %s
                   AND s.query ~ '"?crm_lead"?\M'
                   AND s.query !~* 'pg_stat_statements|pg_stat_activity'
                """,
                (ADDON_DB,),
            )
            calls, sample = cr.fetchone()
        conn.close()
        result[node] = {"calls": calls, "sample": sample or []}
    return result


def replica_proof(topo):
    """Send each RPC kind once and count, on each node, the statements on
    crm_lead* tables it caused (pg_stat_statements, reset before each)."""
    # the jobs write on the primary: let them finish, so that what the
    # primary counts is the call's own
    wait_jobs_done(topo, addon_cron_ids(topo), 600)
    hot, stages = load_data(topo, 10, 1)
    side = Side(topo, ADDON_DB, "addon", 1, hot, stages).setup()
    rpc = side.sessions[0]
    domain = side.kanban_domain(0)
    lead, lead_stages = hot[0]
    targets = [lead_stages[-1], lead_stages[0]]  # a real move each time
    calls = [
        (
            "web_read_group (kanban columns)",
            lambda: rpc.call(
                "crm.lead",
                "web_read_group",
                domain=domain,
                fields=side.aggregates,
                groupby=["stage_id"],
                lazy=True,
            ),
        ),
        (
            "read_progress_bar",
            lambda: rpc.call(
                "crm.lead",
                "read_progress_bar",
                domain=domain,
                group_by="stage_id",
                progress_bar=side.progressbar,
            ),
        ),
        (
            "web_search_read (kanban cards)",
            lambda: rpc.call(
                "crm.lead",
                "web_search_read",
                domain=domain,
                specification=side.spec,
                limit=40,
            ),
        ),
        ("get_pipeline_kpis", lambda: side.report(rpc)),
        (
            "web_save (stage move)",
            lambda: rpc.call(
                "crm.lead",
                "web_save",
                [[lead], {"stage_id": targets.reverse() or targets[0]}],
                specification={"stage_id": {"fields": {"display_name": {}}}},
            ),
        ),
    ]
    result = {"calls": []}
    for label, call in calls:
        call()  # the worker's caches are warm: what remains are the queries
        reset_statements(topo)
        call()
        counts = statement_counts(topo)
        result["calls"].append({"call": label, **counts})
    result["readonly_methods"] = readonly_methods(topo)
    return result


def readonly_methods(_topo):
    """Whether the addon's KPI method carries @api.readonly in this code
    (in whichever file of models/ defines it)."""
    models = os.path.join(os.path.dirname(HERE), "sales_pipeline_mgmt", "models")
    marked = False
    for path in glob.glob(os.path.join(models, "*.py")):
        with open(path) as file:
            if re.search(r"@api\.readonly\s+def get_pipeline_kpis\b", file.read()):
                marked = True
    return {"get_pipeline_kpis": marked}


def render_proof(result):
    lines = [
        "| RPC | statements on crm_lead* on the replica | on the primary | served by |",
        "|---|---|---|---|",
    ]
    for item in result["calls"]:
        replica, primary = item["replica"]["calls"], item["primary"]["calls"]
        served = "replica" if replica and not primary else "primary"
        if replica and primary:
            served = "both"
        lines.append(f"| {item['call']} | {replica} | {primary} | {served} |")
    lines.append("")
    marked = result.get("readonly_methods", {})
    unmarked = [name for name, readonly in marked.items() if not readonly]
    if unmarked:
        lines.append(
            f"Not marked @api.readonly in this code, so served by the primary: "
            f"{', '.join(unmarked)}."
        )
        lines.append("")
    for item in result["calls"]:
        sample = item["replica"]["sample"] or item["primary"]["sample"]
        if sample:
            lines.append(f"- {item['call']}: `{sample[0]}`")
    return "\n".join(lines)


# ---------------------------------------------------------------- main ---


def _loadavg():
    try:
        with open("/proc/loadavg") as file:
            return " ".join(file.read().split()[:3])
    except OSError:
        return ""


def machine(topo):
    def read(path):
        try:
            with open(path) as file:
                return file.read().strip()
        except OSError:
            return ""

    return {
        "nproc": os.cpu_count(),
        "load_before": read("/proc/loadavg"),
        "postgresql": topo.psql("SHOW server_version"),
    }


def render_fault(result):
    load = result["load"]
    errors = ", ".join(f"{k} {v}" for k, v in sorted(load["client_errors"].items()))
    retried = ", ".join(
        f"{k} {v}" for k, v in sorted(load["log"].get("retried", {}).items())
    )
    lines = [
        f"fault {result['fault']}: {result['reps']} reps for {result['seconds']} s",
        f"  events: {json.dumps(result['events'], default=str)}",
        (
            f"  moves acknowledged {load['moves']} ({load['moves_per_s']:.2f}/s); "
            f"errors between {load['error_window_s']} s; "
            f"client errors: {errors or 'none'}; retried by Odoo: {retried or 'none'}"
        ),
        f"  recovery: {json.dumps(result['recovery'], default=str)}",
        f"  lost updates: {result['lost']}",
        render_checks(result),
    ]
    return "\n".join(lines)


def render_checks(result):
    """The end of a load or fault run's report: see Run.check."""
    return (
        invariants.render(result["invariants"], ADDON_DB)
        + "\n  jobs on their next run: "
        + json.dumps(result["jobs_next_run"], default=str)
    )


def main():
    parser = argparse.ArgumentParser(
        prog="bench/bin/load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--dir", help="topology folder (default $SPM_TOPOLOGY_DIR)")
    parser.add_argument("--reps", type=int, default=16)
    parser.add_argument(
        "--seconds", type=float, default=60, help="measured seconds per side"
    )
    parser.add_argument(
        "--phases", type=int, default=8, help="alternating phases (even, default 8)"
    )
    parser.add_argument("--hot", type=int, default=50, help="hot opportunities")
    parser.add_argument(
        "--mix", default="6:3:1", help="weights of move:kanban:report (6:3:1)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--fault", choices=FAULTS)
    parser.add_argument(
        "--jobs-every",
        type=float,
        default=30,
        help="make the addon's jobs due every this many seconds of addon "
        "phases (default 30)",
    )
    parser.add_argument(
        "--no-jobs",
        action="store_true",
        help="do not make the addon's jobs due at each addon phase",
    )
    parser.add_argument(
        "--no-reset", action="store_true", help="keep the current databases"
    )
    parser.add_argument(
        "--sample-waits",
        action="store_true",
        help="sample the wait events of Odoo's sessions on the primary every "
        "0.1 s during the phases (bench/waits.py)",
    )
    parser.add_argument("--out", help="JSON result (default bench/results/...)")
    args = parser.parse_args()
    if args.phases < 2 or args.phases % 2:
        parser.error("--phases must be even")
    run = Run(args)
    if args.fault:
        result = run.fault(args.fault)
        text = render_fault(result)
        out = args.out or os.path.join(RESULTS, f"fault_{args.fault}.json")
    else:
        result = run.load()
        text = render_load(result) + "\n\n" + render_checks(result)
        if result.get("waits"):
            text += "\n\n" + waits.render(
                result["waits"], {ADDON_DB: "addon", CRM_DB: "crm"}
            )
        out = args.out or os.path.join(RESULTS, f"load_{args.reps}reps.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as file:
        json.dump(result, file, indent=1, default=str)
    print(text)
    say(f"saved {out}")


if __name__ == "__main__":
    main()
