# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, format_amount, format_date

CHANGES_FILTERS = ("date_from", "date_to", "team_ids", "user_id")
OVER_TIME_INTERVALS = {"day": 1, "week": 7}
# the most points a pipeline-over-time chart reads (two years of days)
OVER_TIME_MAX_POINTS = 731

# The bars of the waterfall, in order: the entries, the amount changes of
# the deals that stay, then the exits.
CHANGE_BUCKETS = (
    "new",
    "reopened",
    "moved_into_period",
    "increase",
    "decrease",
    "won",
    "lost",
    "moved_out_of_period",
    "moved_out",
)


class CrmLead(models.Model):
    """Pipeline inspection from the deal history (crm.lead.deal.history):
    the state of every deal at a past moment, the pipeline changes between
    two moments (the waterfall), and the open pipeline over time."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    pipeline_change_summary = fields.Char(
        string="Changes",
        compute="_compute_pipeline_change_summary",
        help="What changed in the deal between the two dates of the pipeline "
        "changes it was opened from: each value, old -> new.",
    )

    # ------------------------------------------------------------
    # PIPELINE AT A MOMENT
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def _get_pipeline_at(self, moment, domain=None):
        """The state of every deal at ``moment``, as the current user may see
        it, in one query: the deal-history rows in effect then.

        :param moment: a datetime (UTC), or a date (its start)
        :param list domain: on crm.lead.deal.history, i.e. on the values the
            deals had then (e.g. [("state", "=", "open"), ("team_id", "=", 3)])
        :return: {lead id: {stage_id, expected_revenue, date_deadline,
            probability, user_id, team_id, company_id, state}}
        :raise UserError: naming the argument that is wrong
        """
        moment = self._check_pipeline_api_date(
            "moment", moment, with_time=True, required=True
        )
        domain = self._check_pipeline_api_domain(
            "domain", domain, "crm.lead.deal.history"
        )
        history_model = self.env["crm.lead.deal.history"]
        history_model._record_pending_changes()
        history_model.flush_model()
        query = history_model._search(
            [
                *domain,
                ("date_from", "<=", moment),
                "|",
                ("date_to", "=", False),
                ("date_to", ">", moment),
            ]
        )
        columns = self._get_pipeline_at_columns()
        self.env.cr.execute(
            query.select(
                SQL.identifier("crm_lead_deal_history", "lead_id"),
                *(SQL.identifier("crm_lead_deal_history", fname) for fname in columns),
            )
        )
        return {
            lead_id: dict(zip(columns, values, strict=True))
            for lead_id, *values in self.env.cr.fetchall()
        }

    @api.model
    def _get_pipeline_at_columns(self):
        return [
            "stage_id",
            "expected_revenue",
            "date_deadline",
            "probability",
            "user_id",
            "team_id",
            "company_id",
            "state",
        ]

    # ------------------------------------------------------------
    # PIPELINE CHANGES (WATERFALL)
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def get_pipeline_changes(self, filters=None):
        """How the open pipeline went from the start of ``date_from`` to the
        end of ``date_to``, deal by deal, in one query over the deal history.

        The pipeline at a moment: the open deals of the scope (team,
        salesperson, the user's companies) whose expected closing date then
        falls in the forecast period (the calendar quarter of ``date_to``) or
        is empty. Each deal of the pipeline at either end, or in it at some
        moment in between, counts once at most in one entry bar and once in
        one exit bar (or in one amount bar when it is in at both ends), so
        that start + entries + amount changes - exits = end, in count and in
        amount, exactly:

        - entries (the end amount, or the last amount in the pipeline for a
          deal that left again): ``new`` (no deal yet at the start),
          ``reopened`` (won or lost at the start, or another team's or
          salesperson's: reopened or moved in), ``moved_into_period`` (open
          in the scope at the start, closing outside the period);
        - ``increase`` / ``decrease``: in at both ends, end amount - start
          amount;
        - exits (the start amount, or the last amount in the pipeline):
          ``won``, ``lost`` (by their state at the end, in the scope),
          ``moved_out_of_period`` (open in the scope at the end, closing
          outside the period), ``moved_out`` (in another team or to another
          salesperson, or no longer an opportunity).

        :param dict filters: date_from, date_to (days, "YYYY-MM-DD", both
            included; default the last 7 days up to today), team_ids (list of
            ids, empty for all), user_id (id or False)
        :return dict: filters (normalized), forecast_period (first and last
            day), currency_id, start and end ({count, amount}), bars (list of
            {key, label, count, amount, sign}) in waterfall order
        :raise UserError: naming the filter that is wrong
        """
        options = self._get_pipeline_changes_options(filters)
        self.env.cr.execute(
            SQL(
                """
                %(classified)s
                SELECT bucket, COUNT(*), COALESCE(SUM(amount), 0)
                  FROM (
                      SELECT 'start' AS bucket, start_amount AS amount
                        FROM classified WHERE start_in
                      UNION ALL
                      SELECT 'end', end_amount FROM classified WHERE end_in
                      UNION ALL
                      SELECT entry_bucket, entry_amount
                        FROM classified WHERE entry_bucket IS NOT NULL
                      UNION ALL
                      SELECT change_bucket, end_amount - start_amount
                        FROM classified WHERE change_bucket IS NOT NULL
                      UNION ALL
                      SELECT exit_bucket, -exit_amount
                        FROM classified WHERE exit_bucket IS NOT NULL
                  ) figures
                 GROUP BY bucket
                """,
                classified=self._get_pipeline_changes_sql(options),
            )
        )
        figures = {
            bucket: {"count": count, "amount": float(amount)}
            for bucket, count, amount in self.env.cr.fetchall()
        }
        empty = {"count": 0, "amount": 0.0}
        labels = self._get_pipeline_change_labels()
        bars = []
        for key in CHANGE_BUCKETS:
            bar = figures.get(key, empty)
            bars.append(
                {
                    "key": key,
                    "label": labels[key],
                    "count": bar["count"],
                    "amount": bar["amount"],
                    # the deals an entry brings, an exit takes; an amount
                    # change moves no deal
                    "sign": 0
                    if key in ("increase", "decrease")
                    else 1
                    if key in ("new", "reopened", "moved_into_period")
                    else -1,
                }
            )
        return {
            "filters": self._pipeline_changes_filters_values(options),
            "forecast_period": [
                fields.Date.to_string(day) for day in options["forecast_period"]
            ],
            "currency_id": self.env.company.currency_id.id,
            "start": figures.get("start", empty),
            "end": figures.get("end", empty),
            "bars": bars,
        }

    @api.model
    @api.readonly
    def action_open_pipeline_change(self, filters, bucket):
        """The deals behind one bar of get_pipeline_changes (or ``start`` and
        ``end``), in a list showing what changed in each, old -> new."""
        options = self._get_pipeline_changes_options(filters)
        labels = self._get_pipeline_change_labels()
        bucket = self._check_pipeline_api_choice("bucket", bucket, tuple(labels))
        self.env.cr.execute(
            SQL(
                """
                %(classified)s
                SELECT lead_id FROM classified
                 WHERE CASE %(bucket)s WHEN 'start' THEN start_in
                                       WHEN 'end' THEN end_in
                                       ELSE %(bucket)s IN (entry_bucket,
                                                           change_bucket,
                                                           exit_bucket) END
                """,
                classified=self._get_pipeline_changes_sql(options),
                bucket=bucket,
            )
        )
        lead_ids = [lead_id for (lead_id,) in self.env.cr.fetchall()]
        start, end = options["moments"]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._(
                "%(bar)s: %(date_from)s - %(date_to)s",
                bar=labels[bucket],
                date_from=format_date(self.env, options["date_from"]),
                date_to=format_date(self.env, options["date_to"]),
            ),
            "res_model": "crm.lead",
            "views": [
                (
                    self.env.ref(
                        "sales_pipeline_mgmt.crm_lead_view_list_pipeline_changes"
                    ).id,
                    "list",
                ),
                (False, "form"),
            ],
            "domain": [("id", "in", lead_ids)],
            "context": {
                # won deals may be archived since, lost ones are
                "active_test": False,
                "sales_pipeline_mgmt_changes_from": fields.Datetime.to_string(start),
                "sales_pipeline_mgmt_changes_to": fields.Datetime.to_string(end),
            },
        }

    @api.model
    def _get_pipeline_change_labels(self):
        _ = self.env._
        return {
            "start": _("Pipeline at the start"),
            "new": _("New"),
            "reopened": _("Reopened or moved in"),
            "moved_into_period": _("Closing moved into the period"),
            "increase": _("Increased"),
            "decrease": _("Decreased"),
            "won": _("Won"),
            "lost": _("Lost"),
            "moved_out_of_period": _("Closing moved out of the period"),
            "moved_out": _("Moved out"),
            "end": _("Pipeline at the end"),
        }

    @api.model
    def _get_pipeline_changes_options(self, filters, known=CHANGES_FILTERS):
        """Check ``filters`` and return them normalized, with the two moments
        (UTC datetimes) and the forecast period. Raise a UserError naming the
        filter that is wrong."""
        filters = self._check_pipeline_api_filters(filters, known)
        date_to = self._check_pipeline_api_date(
            "date_to", filters.get("date_to") or None
        ) or fields.Date.context_today(self)
        date_from, date_to = self._check_pipeline_api_days(
            filters.get("date_from") or date_to - timedelta(days=6), date_to
        )
        quarter_start = date_to.replace(day=1) - relativedelta(
            months=(date_to.month - 1) % 3
        )
        return {
            "date_from": date_from,
            "date_to": date_to,
            "team_ids": self._check_pipeline_api_ids(
                "team_ids", filters.get("team_ids"), "crm.team"
            ),
            "user_id": self._check_pipeline_api_id(
                "user_id", filters.get("user_id"), "res.users"
            ),
            "moments": (
                datetime.combine(date_from, time.min),
                datetime.combine(date_to + timedelta(days=1), time.min),
            ),
            "forecast_period": (
                quarter_start,
                quarter_start + relativedelta(months=3, days=-1),
            ),
        }

    @api.model
    def _pipeline_changes_filters_values(self, options):
        return {
            "date_from": fields.Date.to_string(options["date_from"]),
            "date_to": fields.Date.to_string(options["date_to"]),
            "team_ids": options["team_ids"],
            "user_id": options["user_id"],
        }

    @api.model
    def _get_pipeline_changes_scope_sql(self, options):
        """The scope on a row of the deal history (alias ``history``): the
        user's companies, and the team and salesperson of the filters."""
        conditions = [
            SQL(
                "(history.company_id IS NULL OR history.company_id IN %s)",
                tuple(self.env.companies.ids),
            )
        ]
        if options["team_ids"]:
            conditions.append(SQL("history.team_id IN %s", tuple(options["team_ids"])))
        if options["user_id"]:
            conditions.append(SQL("history.user_id = %s", options["user_id"]))
        return SQL(" AND ").join(conditions)

    @api.model
    def _get_pipeline_changes_sql(self, options):
        """The CTEs of the waterfall, ending with ``classified``: one row per
        deal that was in the pipeline at some moment of the period, with its
        start and end amounts and its entry, amount and exit bars (see
        get_pipeline_changes)."""
        history_model = self.env["crm.lead.deal.history"]
        history_model._record_pending_changes()
        history_model.flush_model()
        start, end = options["moments"]
        period_start, period_end = options["forecast_period"]
        scope = self._get_pipeline_changes_scope_sql(options)
        # the rows in effect at some moment of [start, end] that the user may
        # read; rows replaced in the same instant never were in effect
        query = history_model._search(
            [
                ("date_from", "<=", end),
                "|",
                ("date_to", "=", False),
                ("date_to", ">", start),
            ]
        )
        query.order = None
        return SQL(
            """
            WITH candidates AS (
                -- the deals in the pipeline at some moment of the period: the
                -- others count nowhere, and most deals are not. The rows the
                -- user may read as a plain subquery, which PostgreSQL merges
                -- into this one: one pass over the rows of the period, where
                -- "id IN (rows the user may read)" read them twice.
                SELECT DISTINCT history.lead_id
                  FROM (%(visible)s) AS history
                 WHERE %(in_pipeline)s
                   AND (history.date_to IS NULL
                        OR history.date_to > history.date_from)
            ),
            rows AS (
                -- all their rows in effect in the period (a deal's rows are
                -- visible alike: the rules follow the lead)
                SELECT history.id, history.lead_id, history.date_from,
                       COALESCE(history.expected_revenue, 0) AS amount,
                       history.state,
                       %(scope)s AS in_scope,
                       %(in_pipeline)s AS in_pipeline,
                       history.date_from <= %(start)s AS at_start,
                       history.date_to IS NULL OR history.date_to > %(end)s
                           AS at_end
                  FROM crm_lead_deal_history history
                 WHERE history.lead_id IN (SELECT lead_id FROM candidates)
                   AND history.date_from <= %(end)s
                   AND (history.date_to IS NULL OR history.date_to > %(start)s)
                   AND (history.date_to IS NULL
                        OR history.date_to > history.date_from)
            ),
            deals AS (
                SELECT lead_id,
                       BOOL_OR(at_start) AS existed,
                       COALESCE(BOOL_OR(in_pipeline AND at_start), FALSE)
                           AS start_in,
                       COALESCE(BOOL_OR(in_pipeline AND at_end), FALSE) AS end_in,
                       MAX(amount) FILTER (WHERE at_start) AS start_amount,
                       MAX(amount) FILTER (WHERE at_end) AS end_amount,
                       MAX(state) FILTER (WHERE at_start) AS start_state,
                       BOOL_OR(in_scope AND at_start) AS start_scope,
                       MAX(state) FILTER (WHERE at_end) AS end_state,
                       BOOL_OR(in_scope AND at_end) AS end_scope,
                       (ARRAY_AGG(amount ORDER BY date_from DESC, id DESC)
                            FILTER (WHERE in_pipeline))[1] AS last_amount
                  FROM rows
                 GROUP BY lead_id
                HAVING BOOL_OR(in_pipeline)
            ),
            classified AS (
                SELECT lead_id, start_in, end_in, start_amount, end_amount,
                       CASE WHEN start_in THEN NULL
                            WHEN NOT COALESCE(existed, FALSE) THEN 'new'
                            WHEN start_state = 'open' AND start_scope
                                THEN 'moved_into_period'
                            ELSE 'reopened' END AS entry_bucket,
                       CASE WHEN end_in THEN end_amount ELSE last_amount END
                           AS entry_amount,
                       CASE WHEN start_in AND end_in
                                 AND end_amount > start_amount THEN 'increase'
                            WHEN start_in AND end_in
                                 AND end_amount < start_amount THEN 'decrease'
                            END AS change_bucket,
                       CASE WHEN end_in THEN NULL
                            WHEN end_scope AND end_state = 'won' THEN 'won'
                            WHEN end_scope AND end_state = 'lost' THEN 'lost'
                            WHEN end_scope AND end_state = 'open'
                                THEN 'moved_out_of_period'
                            ELSE 'moved_out' END AS exit_bucket,
                       CASE WHEN start_in THEN start_amount ELSE last_amount END
                           AS exit_amount
                  FROM deals
            )
            """,
            scope=scope,
            in_pipeline=SQL(
                "(history.state = 'open' AND %(scope)s AND (history.date_deadline "
                "IS NULL OR history.date_deadline BETWEEN %(first)s AND %(last)s))",
                scope=scope,
                first=period_start,
                last=period_end,
            ),
            start=start,
            end=end,
            visible=query.select(SQL("%s.*", SQL.identifier(query.table))),
        )

    # ------------------------------------------------------------
    # PIPELINE OVER TIME
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def get_pipeline_over_time(self, filters=None):
        """The open pipeline by stage at the end of each day or week of a
        period, read from the deal history in one query: its deal count,
        expected revenue and historical revenue (expected revenue x the
        stage's historical probability of today's forecast statistics, else
        the deal's probability then).

        Each row of the history is counted from the first point at or after
        it took effect to the last point before it was replaced: its entry
        and exit are summed per point and stage, then accumulated over the
        points, so that the query reads each row once whatever the number of
        points.

        :param dict filters: date_from, date_to (days, both included; default
            the 52 weeks up to today), interval ("week" (default) or "day":
            points at the end of date_to and every 7 or 1 days before, back
            to date_from), team_ids, user_id
        :return dict: filters, currency_id, points (list of days),
            stages (list of {id, name}), series (list of {stage_id, counts,
            expected, historical}, one value per point), totals ({counts,
            expected, historical})
        :raise UserError: naming the filter that is wrong
        """
        filters = dict(filters or {}) if isinstance(filters, dict) else filters
        interval = "week"
        if isinstance(filters, dict):
            interval = filters.pop("interval", None) or "week"
            if not filters.get("date_from"):
                date_to = self._check_pipeline_api_date(
                    "date_to", filters.get("date_to") or None
                ) or fields.Date.context_today(self)
                filters["date_from"] = date_to - timedelta(days=364)
        interval = self._check_pipeline_api_choice(
            "interval", interval, tuple(OVER_TIME_INTERVALS)
        )
        options = self._get_pipeline_changes_options(filters)
        step = OVER_TIME_INTERVALS[interval]
        count = (options["date_to"] - options["date_from"]).days // step + 1
        if count > OVER_TIME_MAX_POINTS:
            raise UserError(
                self.env._(
                    "date_from: %(count)s points are too many for a chart (at "
                    "most %(max)s): choose a shorter period or weeks.",
                    count=count,
                    max=OVER_TIME_MAX_POINTS,
                )
            )
        # the points, oldest first: the end of date_to and every step before
        last = options["moments"][1]
        first = last - timedelta(days=step * (count - 1))
        history_model = self.env["crm.lead.deal.history"]
        history_model._record_pending_changes()
        history_model.flush_model()
        self.env["crm.lead.forecast.stat"].flush_model()
        query = history_model._search(
            [
                ("state", "=", "open"),
                ("date_from", "<=", last),
                "|",
                ("date_to", "=", False),
                ("date_to", ">", first),
            ]
        )
        seconds = step * 86400
        self.env.cr.execute(
            SQL(
                """
                WITH rows AS (
                    SELECT history.stage_id,
                           COALESCE(history.expected_revenue, 0) AS expected,
                           COALESCE(history.expected_revenue, 0) * CASE
                               WHEN team_stat.sample_size >= %(min_sample)s
                                   THEN team_stat.won_count::float8
                                        / team_stat.sample_size
                               WHEN company_stat.sample_size >= %(min_sample)s
                                   THEN company_stat.won_count::float8
                                        / company_stat.sample_size
                               ELSE COALESCE(history.probability, 0) / 100.0
                           END AS historical,
                           -- the first point at or after date_from, the first
                           -- point at or after date_to (it is out from there),
                           -- in float8: EXTRACT returns a numeric, whose
                           -- arithmetic on every row cost more than the scan
                           GREATEST(CEIL(date_part('epoch', history.date_from
                                                   - %(first)s) / %(seconds)s), 0)
                               AS point_in,
                           CEIL(date_part('epoch', history.date_to - %(first)s)
                                / %(seconds)s) AS point_out
                      -- the rows the user may read as a plain subquery that
                      -- PostgreSQL merges into this one: one pass over the
                      -- rows of the period, where "id IN (rows the user may
                      -- read)" read them twice
                      FROM (%(visible)s) AS history
                      LEFT JOIN res_company company
                             ON company.id = history.company_id
                      LEFT JOIN crm_lead_forecast_stat team_stat
                             ON team_stat.stage_id = history.stage_id
                            AND team_stat.team_id = history.team_id
                            AND COALESCE(team_stat.company_id, 0)
                                = COALESCE(history.company_id, 0)
                      LEFT JOIN crm_lead_forecast_stat company_stat
                             ON company_stat.stage_id = history.stage_id
                            AND company_stat.team_id IS NULL
                            AND COALESCE(company_stat.company_id, 0)
                                = COALESCE(history.company_id, 0)
                     WHERE %(scope)s
                ),
                moves AS (
                    SELECT stage_id, point_in AS point, COUNT(*) AS count,
                           SUM(expected) AS expected, SUM(historical) AS historical
                      FROM rows
                     WHERE point_in < %(count)s
                       AND (point_out IS NULL OR point_out > point_in)
                     GROUP BY stage_id, point_in
                     UNION ALL
                    SELECT stage_id, point_out, -COUNT(*), -SUM(expected),
                           -SUM(historical)
                      FROM rows
                     WHERE point_out < %(count)s AND point_out > point_in
                     GROUP BY stage_id, point_out
                ),
                deltas AS (
                    SELECT stage_id, point, SUM(count) AS count,
                           SUM(expected) AS expected, SUM(historical) AS historical
                      FROM moves GROUP BY stage_id, point
                ),
                stages AS (SELECT DISTINCT stage_id FROM deltas)
                SELECT stages.stage_id, points.point,
                       SUM(COALESCE(deltas.count, 0)) OVER running,
                       SUM(COALESCE(deltas.expected, 0)) OVER running,
                       SUM(COALESCE(deltas.historical, 0)) OVER running
                  FROM stages
                 CROSS JOIN generate_series(0, %(count)s - 1) AS points(point)
                  LEFT JOIN deltas ON deltas.stage_id IS NOT DISTINCT FROM
                                      stages.stage_id
                                  AND deltas.point = points.point
                WINDOW running AS (PARTITION BY stages.stage_id ORDER BY points.point)
                """,
                min_sample=self.env["res.company"]._get_forecast_setting_sql(
                    "forecast_min_sample"
                ),
                first=first,
                seconds=seconds,
                count=count,
                visible=query.select(SQL("%s.*", SQL.identifier(query.table))),
                scope=self._get_pipeline_changes_scope_sql(options),
            )
        )
        by_stage = {}
        for stage_id, point, deals, expected, historical in self.env.cr.fetchall():
            series = by_stage.setdefault(
                stage_id,
                {
                    "stage_id": stage_id or False,
                    "counts": [0] * count,
                    "expected": [0.0] * count,
                    "historical": [0.0] * count,
                },
            )
            series["counts"][point] = int(deals)
            series["expected"][point] = float(expected)
            series["historical"][point] = float(historical)
        stages = (
            self.env["crm.stage"]
            .browse([stage_id for stage_id in by_stage if stage_id])
            .sorted(lambda stage: (stage.sequence, stage.id))
        )
        series = [by_stage[stage.id] for stage in stages]
        if None in by_stage:
            series.append(by_stage[None])
        names = {stage.id: stage.name for stage in stages}
        for values in series:
            values["name"] = names.get(values["stage_id"]) or self.env._("No stage")
        return {
            "filters": {
                **self._pipeline_changes_filters_values(options),
                "interval": interval,
            },
            "currency_id": self.env.company.currency_id.id,
            "points": [
                fields.Date.to_string(
                    (first + timedelta(days=step * index) - timedelta(days=1)).date()
                )
                for index in range(count)
            ],
            "series": series,
            "totals": {
                key: [
                    sum(values[key][index] for values in series)
                    for index in range(count)
                ]
                for key in ("counts", "expected", "historical")
            },
        }

    # ------------------------------------------------------------
    # WHAT CHANGED IN A DEAL
    # ------------------------------------------------------------

    @api.depends_context(
        "sales_pipeline_mgmt_changes_from", "sales_pipeline_mgmt_changes_to"
    )
    def _compute_pipeline_change_summary(self):
        """Each value that differs between the deal's rows at the two moments
        of the context, old -> new, in one query for all the leads."""
        context = self.env.context
        start = context.get("sales_pipeline_mgmt_changes_from")
        end = context.get("sales_pipeline_mgmt_changes_to")
        if not (start and end and self.ids):
            self.pipeline_change_summary = False
            return
        start = self._check_pipeline_api_date(
            "sales_pipeline_mgmt_changes_from", start, with_time=True
        )
        end = self._check_pipeline_api_date(
            "sales_pipeline_mgmt_changes_to", end, with_time=True
        )
        # sudo: the rows of the leads of self, which the user reads already
        history_model = self.env["crm.lead.deal.history"].sudo()
        history_model._record_pending_changes()
        history_model.flush_model()
        at = (
            SQL(
                "(history.date_from <= %(moment)s AND (history.date_to IS NULL "
                "OR history.date_to > %(moment)s))",
                moment=start,
            ),
            SQL(
                "(history.date_from <= %(moment)s AND (history.date_to IS NULL "
                "OR history.date_to > %(moment)s))",
                moment=end,
            ),
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT history.lead_id, history.id, %(at_start)s, %(at_end)s
                  FROM crm_lead_deal_history history
                 WHERE history.lead_id IN %(lead_ids)s
                   AND (%(at_start)s OR %(at_end)s)
                """,
                at_start=at[0],
                at_end=at[1],
                lead_ids=tuple(self.ids),
            )
        )
        rows = {}
        for lead_id, row_id, at_start, at_end in self.env.cr.fetchall():
            if at_start:
                rows.setdefault(lead_id, {})["start"] = row_id
            if at_end:
                rows.setdefault(lead_id, {})["end"] = row_id
        history = history_model.browse(
            {row_id for values in rows.values() for row_id in values.values()}
        )
        history.fetch(self._get_pipeline_at_columns())
        for lead in self:
            lead_rows = rows.get(lead.id, {})
            old = history_model.browse(lead_rows.get("start"))
            # no row at the end: the deal is no longer an opportunity
            new = history_model.browse(lead_rows.get("end", lead_rows.get("start")))
            lead.pipeline_change_summary = (
                lead._describe_deal_change(old, new) if new else False
            )

    def _describe_deal_change(self, old, new):
        """'Stage: Proposal -> Won · Expected Revenue: 1,000 -> 1,200'; the
        new values alone for a deal that did not exist at the start."""
        self.ensure_one()
        parts = []
        for fname in self._get_pipeline_at_columns():
            if fname == "company_id":
                continue
            field = new._fields[fname]
            old_value = self._format_deal_value(old, fname) if old else None
            new_value = self._format_deal_value(new, fname)
            if old and old[fname] == new[fname]:
                continue
            label = field._description_string(self.env)
            if old:
                parts.append(f"{label}: {old_value} → {new_value}")
            elif new[fname]:
                parts.append(f"{label}: {new_value}")
        if not old:
            parts.insert(0, self.env._("New deal"))
        return " · ".join(parts) or self.env._("No change")

    def _format_deal_value(self, row, fname):
        value = row[fname]
        field = row._fields[fname]
        if field.type == "many2one":
            return value.display_name or "-"
        if field.type == "monetary":
            return format_amount(self.env, value or 0, row.company_currency)
        if field.type == "date":
            return format_date(self.env, value) if value else "-"
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, value)
        if field.type == "float":
            return f"{value or 0:g} %"
        return str(value)
