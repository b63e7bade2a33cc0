# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Measure the addon's hot paths on a benchmark database (addon installed), in
one Odoo process, and write the figures as JSON.

Run by bench/run.py; standalone:
    PYTHONPATH=$ODOO_DIR $ODOO_PYTHON bench/measure.py --db spm_bench_100k \
        --sections write,kanban,kpis,pivots --out bench/results/x.json

Every operation but the stage writes runs in a transaction that is rolled back
afterwards, so the database is unchanged and runs can be repeated. Sections:

- write: a manager moves 1, 100 and 10,000 open leads of the shared pipeline's
  first stage in one write, forward, skipping a stage and backward; "crm
  alone" is the same call made as ``super(CrmLead, leads).write(vals)``,
  CrmLead being the addon's class, which skips all of the addon's write logic.
  The timing covers what the request pays: the write, the flush, the precommit
  hooks (mail tracking) and the commit. These writes are committed (see
  Bench.measure_write): the section changes the database.
- kanban: the pipeline kanban's first load for a salesperson, the RPCs the web
  client sends: web_read_group on stage_id, read_progress_bar, then one
  web_search_read per open column (limit 40, the kanban's default), with the
  fields spec of the kanban arch; "crm alone" uses the spec of crm's arch
  (the addon's views deactivated in a rolled-back transaction).
- kpis: get_pipeline_kpis over all teams for the last 12 months, and a plain
  scan of the stage history table (the floor).
- dashboard: one load of the Pipeline Dashboard (get_pipeline_dashboard
  through call_kw, as the RPC does, result serialized) as a sales manager, all
  teams, the last 12 months against the 12 before.
- pivots: the read_group calls the pivot view sends (one per prefix of its
  row and column groupbys, lazy=False) for the Stage Analysis and the
  forecast.
- cron:<xmlid>: one full pass of a scheduled action over the database: its
  server action called in a loop like ir.cron._run_job does (a progress record
  in the context, the cache cleared between batches as a commit would) until
  it reports nothing remaining; peak RSS of the process (ru_maxrss).
"""

import argparse
import json
import logging
import os
import resource
import statistics
import time
from datetime import timedelta

import webclient  # bench/webclient.py, beside this script
from lxml import etree

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

_logger = logging.getLogger("bench.measure")

WRITE_SIZES = (1, 100, 10_000)
WRITE_KINDS = ("forward", "skip", "backward")
MODES = ("addon", "crm")
# Sections that gather one entry per thing measured on its own (each
# scheduled action in a process of its own, see bench/run.py): a run replaces
# the entries it measured and keeps the others.
COLLECTION_SECTIONS = ("crons",)
# Scheduled actions whose full pass is measured a second time right after the
# first (they run every few minutes and must find nothing to do quickly).
SECOND_PASS_CRONS = (
    "ir_cron_follow_up",
    "ir_cron_stall_detection",
    "ir_cron_overload_check",
)


def _loadavg():
    with open("/proc/loadavg") as file:
        return " ".join(file.read().split()[:3])


def median(values):
    return statistics.median(values) if values else None


class Bench:
    def __init__(
        self,
        env,
        runs,
        big_write_runs=2,
        cron_timeout=900,
        write_sizes=None,
        write_kinds=None,
    ):
        self.env = env
        self.write_sizes = write_sizes or WRITE_SIZES
        self.write_kinds = write_kinds or WRITE_KINDS
        self.cron_timeout = cron_timeout
        self.big_write_runs = big_write_runs
        self.cr = env.cr
        self.runs = runs
        self.results = {}

    # ------------------------------------------------------------------
    # helpers
    # ------------------------------------------------------------------

    def rollback(self):
        self.cr.rollback()
        self.env.invalidate_all()
        self.env.transaction.reset()

    def user(self, login):
        user = self.env["res.users"].search([("login", "=", login)])
        assert user, f"benchmark user {login} not found"
        return user

    def timed(self, func, runs, warmup=1):
        """Run ``func`` (cold ORM cache, rolled back after) ``warmup + runs``
        times; return (median seconds, query count of the last run, times)."""
        times, queries = [], None
        for index in range(warmup + runs):
            self.rollback()
            count_before = self.cr.sql_log_count
            started = time.perf_counter()
            func()
            elapsed = time.perf_counter() - started
            queries = self.cr.sql_log_count - count_before
            self.rollback()
            if index >= warmup:
                times.append(elapsed)
        return median(times), queries, times

    # ------------------------------------------------------------------
    # a. stage write overhead
    # ------------------------------------------------------------------

    def _write_pool(self, size):
        """The shared pipeline's open stages in order, and up to ``size``
        active leads of its first stage that are not won: opportunities
        first, then leads of type lead where the stage holds too few."""
        env = self.env
        stages = env["crm.stage"].search(
            [("team_id", "=", False), ("is_won", "=", False)], order="sequence, id"
        )
        self.cr.execute(
            SQL(
                """
                SELECT id FROM crm_lead
                 WHERE active AND stage_id = %s AND probability < 100
                 ORDER BY type = 'opportunity' DESC, id
                 LIMIT %s
                """,
                stages[0].id,
                size,
            )
        )
        return stages, [row[0] for row in self.cr.fetchall()]

    def measure_write(self):
        """Stage writes as a request pays for them: write, flush, precommit
        (crm's mail tracking), COMMIT and postcommit, for forward moves,
        skips and backward moves, with the addon and as crm alone.

        The writes are committed (a rolled-back transaction would leave the
        commit out): each side moves the same leads around a cycle that brings
        them back to their stage (forward to the 2nd stage, backward to the
        1st, skip to the 3rd, backward to the 1st), so that the database keeps
        its shape and runs can be repeated; the stays and messages of the
        moves stay. Per run, the addon's cycle and crm's alternate in which
        goes first."""
        from odoo.addons.sales_pipeline_mgmt.models.crm_lead import CrmLead

        env = self.env
        manager = self.user("bench_sales_05")
        stages, pool = self._write_pool(max(self.write_sizes))
        # (kind measured, target stage index); the last move only returns the
        # leads to their stage
        cycle = [("forward", 1), ("backward", 0), ("skip", 2), (None, 0)]
        results = {"load_before": _loadavg()}
        for size in self.write_sizes:
            ids = pool[:size]
            if len(ids) < size:
                _logger.warning("only %s leads to move for N=%s", len(ids), size)
            # a write costs crm ~10 to 20 ms and ~8 queries per lead (mail
            # tracking): the 10,000-lead cycle takes minutes, so it runs fewer
            # times and without a warm-up round
            if size == 1:
                runs, warmup = self.runs * 4 + 1, 1
            elif size >= 10_000:
                runs, warmup = self.big_write_runs, 0
            else:
                runs, warmup = self.runs, 1
            times = {(kind, mode): [] for kind in self.write_kinds for mode in MODES}
            queries = {}
            for index in range(warmup + runs):
                for mode in MODES if index % 2 == 0 else MODES[::-1]:
                    for kind, target in cycle:
                        measured = kind in self.write_kinds
                        seconds, count = self._committed_write(
                            CrmLead, manager, ids, stages[target], mode
                        )
                        if measured:
                            queries[kind, mode] = count
                            if index >= warmup:
                                times[kind, mode].append(seconds)
            for kind in self.write_kinds:
                addon, crm = median(times[kind, "addon"]), median(times[kind, "crm"])
                results.setdefault(kind, {})[str(size)] = {
                    "leads": len(ids),
                    "opportunities": env["crm.lead"].search_count(
                        [("id", "in", ids), ("type", "=", "opportunity")]
                    ),
                    "runs": runs,
                    "addon_s": addon,
                    "crm_s": crm,
                    "ratio": addon / crm,
                    "addon_queries": queries[kind, "addon"],
                    "crm_queries": queries[kind, "crm"],
                    "addon_times": times[kind, "addon"],
                    "crm_times": times[kind, "crm"],
                }
                _logger.info(
                    "write %s N=%s: addon %.1f ms, crm %.1f ms, ratio %.3f "
                    "(%s / %s q), load %s",
                    kind,
                    size,
                    addon * 1000,
                    crm * 1000,
                    addon / crm,
                    queries[kind, "addon"],
                    queries[kind, "crm"],
                    _loadavg(),
                )
        results["load_after"] = _loadavg()
        self.results["write"] = results

    def _committed_write(self, crm_lead_class, user, ids, stage, mode):
        """Move the leads ``ids`` to ``stage`` as ``user`` and commit; return
        (seconds, queries) from the write to the end of the commit."""
        self.rollback()
        leads = self.env["crm.lead"].with_user(user).browse(ids)
        count_before = self.cr.sql_log_count
        started = time.perf_counter()
        if mode == "addon":
            leads.write({"stage_id": stage.id})
        else:
            super(crm_lead_class, leads).write({"stage_id": stage.id})
        # flush, precommit hooks (mail tracking), COMMIT, postcommit
        self.cr.commit()
        elapsed = time.perf_counter() - started
        queries = self.cr.sql_log_count - count_before
        self.env.invalidate_all()
        return elapsed, queries

    # ------------------------------------------------------------------
    # f. kanban first load
    # ------------------------------------------------------------------

    def _kanban_arch(self, user):
        env = self.env
        lead_model = env["crm.lead"].with_user(user)
        views = lead_model.get_views([(False, "kanban")], {})
        arch = etree.fromstring(views["views"]["kanban"]["arch"])
        fields = views["models"]["crm.lead"]["fields"]
        return arch, fields

    def _kanban_spec(self, arch, fields):
        """The fields spec the web client derives from a kanban arch."""
        return webclient.kanban_spec(arch, fields)

    def _progressbar(self, arch):
        return webclient.kanban_progressbar(arch)

    def _crm_alone_kanban(self, user):
        """Arch and fields spec of crm's kanban without the addon's views."""
        self.rollback()
        self.cr.execute(
            SQL(
                """
                UPDATE ir_ui_view SET active = FALSE
                 WHERE id IN (SELECT res_id FROM ir_model_data
                               WHERE module = 'sales_pipeline_mgmt'
                                 AND model = 'ir.ui.view')
                """
            )
        )
        self.env.registry.clear_cache("templates")
        self.env.registry.clear_cache()
        self.env.invalidate_all()
        arch, fields = self._kanban_arch(user)
        spec = self._kanban_spec(arch, fields)
        self.rollback()
        self.env.registry.clear_cache("templates")
        self.env.registry.clear_cache()
        return arch, spec

    def measure_kanban(self):
        env = self.env
        salesman = self.user("bench_sales_02")
        action = env["crm.team"].with_user(salesman).action_your_pipeline()
        context = dict(action["context"], bin_size=True, tz="UTC", lang="en_US")
        domain = [("type", "=", "opportunity"), ("user_id", "=", salesman.id)]
        _crm_arch, crm_spec = self._crm_alone_kanban(salesman)
        arch, fields = self._kanban_arch(salesman)
        addon_spec = self._kanban_spec(arch, fields)
        progressbar = self._progressbar(arch)

        def load(spec):
            # the addon's kanban sums stalled_count in the same read_group as
            # the progress bar (static/src/views/kanban_stalled_count.js)
            sums = webclient.kanban_aggregates(progressbar, spec)

            def run():
                lead_model = env["crm.lead"].with_user(salesman).with_context(context)
                groups = lead_model.web_read_group(
                    domain, sums, ["stage_id"], lazy=True
                )["groups"]
                env.invalidate_all()  # every RPC is a request of its own
                lead_model.read_progress_bar(domain, "stage_id", progressbar)
                # as the client: open columns holding records, 10 at most
                opened = [
                    group
                    for group in groups
                    if not group.get("__fold") and group["stage_id_count"]
                ][:10]
                for group in opened:
                    env.invalidate_all()
                    lead_model.with_context(
                        default_stage_id=group["stage_id"] and group["stage_id"][0]
                    ).web_search_read(
                        group["__domain"], spec, offset=0, limit=40, count_limit=10001
                    )

            return run

        results = {}
        for mode, spec in (("crm", crm_spec), ("addon", addon_spec)):
            seconds, queries, times = self.timed(load(spec), self.runs * 2 + 1)
            results[mode] = {"s": seconds, "queries": queries, "times": times}
        results["ratio"] = results["addon"]["s"] / results["crm"]["s"]
        results["spec_fields_crm"] = sorted(crm_spec)
        results["spec_fields_addon"] = sorted(addon_spec)
        results["lead_count"] = env["crm.lead"].search_count(domain)
        self.results["kanban"] = results
        _logger.info("kanban: %s", results)

    # ------------------------------------------------------------------
    # c. KPIs
    # ------------------------------------------------------------------

    def measure_kpis(self):
        env = self.env
        results = {}

        def floor():
            self.cr.execute(
                SQL("SELECT count(*), sum(duration_days) FROM crm_lead_stage_history")
            )
            self.cr.fetchall()

        seconds, _queries, times = self.timed(floor, self.runs)
        results["floor"] = {"s": seconds, "times": times}
        lead_model = env["crm.lead"]
        if not hasattr(lead_model, "get_pipeline_kpis"):
            results["kpis"] = {"skipped": "get_pipeline_kpis does not exist yet"}
        else:
            manager = self.user("bench_sales_05")
            date_to = self.cr.now().replace(hour=0, minute=0, second=0, microsecond=0)
            date_from = date_to - timedelta(days=365)

            def kpis():
                env["crm.lead"].with_user(manager).get_pipeline_kpis(
                    [], date_from.date(), date_to.date()
                )

            seconds, queries, times = self.timed(kpis, self.runs)
            results["kpis"] = {"s": seconds, "queries": queries, "times": times}
        self.results["kpis"] = results
        _logger.info("kpis: %s", results)

    # ------------------------------------------------------------------
    # c'. pipeline dashboard
    # ------------------------------------------------------------------

    def measure_dashboard(self):
        """One load of the Pipeline Dashboard as the web client sends it: the
        RPC (call_kw with the user's context, the result serialized to JSON)
        as a sales manager, all teams, the last 12 months compared with the 12
        before, with its 12 sparkline periods; cold ORM cache each run."""
        env = self.env
        if not hasattr(env["crm.lead"], "get_pipeline_dashboard"):
            self.results["dashboard"] = {"skipped": "no get_pipeline_dashboard"}
            return
        manager = self.user("bench_sales_05")
        context = {"lang": "en_US", "tz": "UTC", "uid": manager.id}
        filters = {"period": "last_12_months", "compare": "previous"}
        sizes = []

        def load():
            # the web client sends the user's context with the call
            lead_model = env["crm.lead"].with_user(manager)
            result = api.call_kw(
                lead_model, "get_pipeline_dashboard", [filters], {"context": context}
            )
            sizes.append(len(json.dumps(result, default=str)))

        seconds, queries, times = self.timed(load, self.runs)
        self.results["dashboard"] = {
            "s": seconds,
            "queries": queries,
            "times": times,
            "filters": filters,
            "payload_bytes": sizes[-1],
        }
        _logger.info("dashboard: %s", self.results["dashboard"])

    def measure_history(self):
        """The deal history's rows: see bench/history.py."""
        import history  # bench/history.py, beside this script

        history.measure(self)

    # ------------------------------------------------------------------
    # d. pivots
    # ------------------------------------------------------------------

    def _pivot_calls(self, model, view_xmlid):
        """(groupbys list, measures) the pivot view asks for on first load."""
        view = self.env.ref(view_xmlid)
        arch = etree.fromstring(
            self.env[model].get_views([(view.id, "pivot")], {})["views"]["pivot"][
                "arch"
            ]
        )
        rows, cols, measures = [], [], []
        fields = self.env[model]._fields
        for node in arch.iter("field"):
            name, interval = node.get("name"), node.get("interval")
            groupby = f"{name}:{interval}" if interval else name
            if node.get("type") == "row":
                rows.append(groupby)
            elif node.get("type") == "col":
                cols.append(groupby)
            elif node.get("type") == "measure":
                measures.append(f"{name}:{fields[name].aggregator or 'sum'}")
        if arch.get("disable_linking") is None or "__count" not in measures:
            measures.append("__count")
        calls = [
            rows[:i] + cols[:j]
            for i in range(len(rows) + 1)
            for j in range(len(cols) + 1)
        ]
        return calls, measures

    def measure_pivots(self):
        env = self.env
        manager = self.user("bench_sales_05")
        stage_analysis = (
            "crm.lead.stage.analysis",
            "sales_pipeline_mgmt.crm_lead_stage_analysis_view_pivot",
            [("lead_type", "=", "opportunity")],
        )
        pivots = [
            ("stage_analysis", *stage_analysis, manager),
            # the same first load as a salesperson, whose record rule keeps
            # the stays of their own and unassigned leads
            (
                "stage_analysis_salesman",
                *stage_analysis,
                self.user("bench_sales_01"),
            ),
        ]
        # crm's forecast pivot (the addon adds its historical revenue measure),
        # as the forecast action's filters ask for it, over all teams
        today = self.cr.now().date()
        pivots.append(
            (
                "forecast",
                "crm.lead",
                "crm.crm_lead_view_pivot_forecast",
                [
                    ("type", "=", "opportunity"),
                    "|",
                    ("date_deadline", "=", False),
                    ("date_deadline", ">=", today.replace(day=1)),
                ],
                manager,
            )
        )
        results = {}
        for key, model, view_xmlid, domain, user in pivots:
            calls, measures = self._pivot_calls(model, view_xmlid)

            def pivot(
                model=model, domain=domain, calls=calls, measures=measures, user=user
            ):
                records = env[model].with_user(user)
                for groupby in calls:
                    env.invalidate_all()
                    records.read_group(domain, measures, groupby, lazy=False)

            seconds, queries, times = self.timed(pivot, self.runs)
            results[key] = {
                "s": seconds,
                "queries": queries,
                "times": times,
                "calls": calls,
                "measures": measures,
                "view": view_xmlid,
            }
            # crm alone: the same calls with the measures of crm's own arch
            crm_measures = [
                measure
                for measure in measures
                if measure == "__count"
                or env[model]._fields[measure.split(":")[0]]._module
                != "sales_pipeline_mgmt"
            ]
            if model == "crm.lead" and crm_measures != measures:
                seconds, queries, times = self.timed(
                    lambda crm_measures=crm_measures: pivot(measures=crm_measures),
                    self.runs,
                )
                results[key]["crm"] = {
                    "s": seconds,
                    "queries": queries,
                    "times": times,
                    "measures": crm_measures,
                }
        self.results["pivots"] = results
        _logger.info("pivots: %s", results)

    # ------------------------------------------------------------------
    # e. scheduled actions
    # ------------------------------------------------------------------

    def _enable_pipeline_health(self):
        """The pipeline health jobs are off until configured: switch them on
        (in the transaction that is rolled back), with the standard stages'
        default days and an overload limit of 200 open opportunities."""
        env = self.env
        env["res.company"].search([]).write(
            {
                "pipeline_follow_up_enabled": True,
                "pipeline_stall_enabled": True,
                "pipeline_max_open_opportunities": 200,
            }
        )
        env["crm.team"].search([]).write({"max_open_opportunities": 200})
        env.flush_all()
        self.cr.flush()

    def measure_cron(self, xmlid):
        env = self.env
        self.rollback()
        self._enable_pipeline_health()
        cron = env.ref(xmlid)
        # what the pipeline health jobs are budgeted on, and what they did
        counts_sql = """SELECT (SELECT COUNT(*) FROM crm_lead l
                                 LEFT JOIN crm_stage s ON s.id = l.stage_id
                                WHERE l.active AND l.type = 'opportunity'
                                  AND NOT COALESCE(s.is_won, FALSE)),
                               (SELECT COUNT(*) FROM mail_activity
                                 WHERE pipeline_health_kind IS NOT NULL),
                               (SELECT COUNT(*) FROM crm_lead WHERE is_stalled)"""
        self.cr.execute(counts_sql)
        open_opportunities, activities_before, stalled_before = self.cr.fetchone()
        started = time.perf_counter()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        batches, done_total, remaining, done = self._run_cron_pass(cron, started)
        elapsed = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.cr.execute(counts_sql)
        _open, activities_after, stalled_after = self.cr.fetchone()
        again = {}
        if xmlid.split(".")[-1] in SECOND_PASS_CRONS and (not remaining or not done):
            # a second pass right after the first, as the jobs run every few
            # minutes: little changed, so it should find nothing to do fast
            again_started = time.perf_counter()
            again_batches, *_rest = self._run_cron_pass(cron, again_started)
            self.cr.execute(counts_sql)
            again = {
                "again_s": time.perf_counter() - again_started,
                "again_batches": again_batches,
                "again_activities": self.cr.fetchone()[1] - activities_after,
            }
        self.rollback()
        self.results.setdefault("crons", {})[xmlid] = {
            "s": elapsed,
            "complete": not remaining or not done,
            "batches": batches,
            "done": done_total,
            "remaining": remaining,
            "peak_rss_mib": peak_kib / 1024.0,
            "rss_before_mib": rss_before / 1024.0,
            "open_opportunities": open_opportunities,
            "activities": activities_after - activities_before,
            "flagged": stalled_after - stalled_before,
            **again,
        }
        _logger.info("cron %s: %s", xmlid, self.results["crons"][xmlid])

    def _run_cron_pass(self, cron, started):
        """Call the scheduled action ``cron`` in a loop like ir.cron._run_job
        (a progress record in the context, the cache cleared between batches
        as a commit would) until it reports nothing remaining, or the
        timeout. Return (batches, done in all, last remaining, last done)."""
        env = self.env
        batches = done_total = 0
        while True:
            job = cron.with_user(cron.user_id).with_context(lastcall=cron.lastcall)
            job, progress = job._add_progress()
            job.ir_actions_server_id.run()
            env.flush_all()
            self.cr.flush()
            batches += 1
            done, remaining = progress.done, progress.remaining
            done_total += done
            # a commit clears the cache; the rows stay uncommitted
            env.invalidate_all()
            self.cr.clear()
            if not remaining or not done:
                break
            if time.perf_counter() - started > self.cron_timeout:
                _logger.warning("cron %s stopped after %s batches", cron.name, batches)
                break
        return batches, done_total, remaining, done


def merge_results(stored, measured):
    """``stored`` (the results file) with the sections of this run. A section
    measured again replaces the stored one whole: a key that this run did not
    write (a size left out, a figure or load average added to an earlier
    run's section) must not stay beside the new figures as if measured with
    them. In a collection only the entries measured again are replaced."""
    for key, value in measured.items():
        if key in COLLECTION_SECTIONS and isinstance(stored.get(key), dict):
            stored[key].update(value)
        else:
            stored[key] = value
    return stored


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-write-runs", type=int, default=2)
    parser.add_argument(
        "--write-sizes",
        default=",".join(map(str, WRITE_SIZES)),
        help="numbers of leads moved by the measured stage writes",
    )
    parser.add_argument(
        "--write-kinds",
        default=",".join(WRITE_KINDS),
        help="kinds of stage moves measured (forward, skip, backward)",
    )
    parser.add_argument(
        "--cron-timeout",
        type=float,
        default=900,
        help="stop a scheduled action's full pass after this many seconds "
        "(the figures then say how far it got)",
    )
    parser.add_argument("--sections", default="write,kanban,kpis,dashboard,pivots")
    parser.add_argument("--out", required=True)
    parser.add_argument(
        "--addons-path",
        default="{0}/addons,{0}/odoo/addons,".format(os.environ.get("ODOO_DIR", ""))
        + os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    args = parser.parse_args()
    odoo.tools.config.parse_config(
        ["-d", args.db, "--log-level=warn", f"--addons-path={args.addons_path}"]
    )
    logging.getLogger("bench").setLevel(logging.INFO)
    registry = odoo.modules.registry.Registry(args.db)
    results = {}
    if os.path.exists(args.out):
        with open(args.out) as file:
            results = json.load(file)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        bench = Bench(
            env,
            args.runs,
            args.big_write_runs,
            args.cron_timeout,
            [int(size) for size in args.write_sizes.split(",")],
            args.write_kinds.split(","),
        )
        for section in args.sections.split(","):
            if section.startswith("cron:"):
                bench.measure_cron(section[5:])
            else:
                getattr(bench, f"measure_{section}")()
        cr.rollback()
    merge_results(results, bench.results)
    with open(args.out, "w") as file:
        json.dump(results, file, indent=1, default=str)


if __name__ == "__main__":
    main()
