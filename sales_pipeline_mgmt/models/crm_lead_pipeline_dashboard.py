# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The figures of the Pipeline Dashboard (CRM > Reporting), read in one call.

Every figure comes with the domain of the deals behind it (its drill-down):
the domains below say on crm.lead what the SQL of the figures counts, so that
opening a figure lists exactly as many records as it shows."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL, formatLang
from odoo.tools.misc import format_date

DASHBOARD_PERIODS = (
    "this_month",
    "this_quarter",
    "this_year",
    "last_3_months",
    "last_12_months",
    "custom",
)
DASHBOARD_COMPARISONS = ("previous", "last_year", "none")
DASHBOARD_FILTERS = (
    "period",
    "date_from",
    "date_to",
    "compare",
    "team_ids",
    "user_id",
    "source_id",
    "domain",
)
# number of periods of a KPI card's sparkline, the selected one last
SPARKLINE_LENGTH = 12
# the bottleneck: at least this many deals entered the stage in both periods,
# and its conversion fell or its time grew by at least this share
BOTTLENECK_MIN_SAMPLE = 5
BOTTLENECK_MIN_WORSENING = 0.10
# the longest custom period
CUSTOM_PERIOD_MAX_YEARS = 10


# one concern of crm.lead per file, as Odoo's mail.thread does
# pylint: disable=consider-merging-classes-inherited
class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # PIPELINE DASHBOARD
    # ------------------------------------------------------------

    @api.model
    @api.readonly
    def get_pipeline_dashboard(self, filters=None):
        """Every figure of the pipeline dashboard for ``filters``, as the
        current user may see them (record rules apply: a salesman gets their
        own pipeline), in a constant number of queries.

        :param dict filters: period ("this_month" (default), "this_quarter",
            "this_year", "last_3_months", "last_12_months" or "custom" with
            date_from and date_to, both days included, as "YYYY-MM-DD"),
            compare ("previous" (default), "last_year" or "none"), team_ids
            (list of ids), user_id, source_id (id or False), domain (an extra
            domain on crm.lead)
        :return dict: filters (normalized), period and comparison (ISO dates,
            end excluded), currency_id, kpis (cards), funnel, bottleneck,
            sources (leads per source per month) and pipeline (open pipeline
            by stage); every figure has a drill-down ({name, domain} on
            crm.lead)
        :raise UserError: naming the filter that is wrong
        """
        options = self._get_pipeline_dashboard_options(filters)
        # Each statement of the load reads every lead or stay of its periods:
        # at a million leads their cost makes PostgreSQL compile them (JIT),
        # which takes longer than running them, and their sorts and hashes
        # outgrow the default work_mem. The settings of the Stage Analysis'
        # groupings serve here too, changed in the statement that reads the
        # currency (no round trip of their own) and put back after the load.
        with self.env["crm.lead.stage.analysis"]._aggregation_settings(
            self._get_pipeline_dashboard_currency_sql()
        ) as currency_id:
            return self._get_pipeline_dashboard_values(options, currency_id)

    @api.model
    def _get_pipeline_dashboard_values(self, options, currency_id):
        """The figures of get_pipeline_dashboard for checked ``options``."""
        domain = self._get_pipeline_dashboard_domain(options)
        period, comparison = options["period_dates"], options["comparison_dates"]
        sparkline = options["sparkline_dates"]
        periods = [period, *([comparison] if comparison else [])]
        pipeline = self._get_pipeline_dashboard_pipeline(domain)
        funnel = self._get_pipeline_dashboard_funnel(domain, periods, pipeline)
        return {
            "filters": {
                key: value
                for key, value in options.items()
                if key in DASHBOARD_FILTERS and key != "domain"
            },
            "period": self._pipeline_dashboard_period_values(period),
            "comparison": comparison
            and self._pipeline_dashboard_period_values(comparison),
            "sparkline_periods": [
                self._pipeline_dashboard_period_values(dates) for dates in sparkline
            ],
            "currency_id": currency_id,
            "kpis": self._get_pipeline_dashboard_kpis(
                domain, period, comparison, sparkline
            ),
            "funnel": funnel,
            "bottleneck": self._get_pipeline_dashboard_bottleneck(funnel, options),
            "sources": self._get_pipeline_dashboard_sources(domain, period),
            "pipeline": pipeline,
        }

    @api.model
    def _get_pipeline_dashboard_currency_sql(self):
        """The current company's currency, in which the amounts are shown, as
        an SQL expression. Read alone: through the ORM the company's other
        fields come along, and its partner's with them."""
        company = self.env.company
        company.flush_recordset(["currency_id"])
        return SQL("(SELECT currency_id FROM res_company WHERE id = %s)", company.id)

    # Filters ---------------------------------------------------------

    @api.model
    def _get_pipeline_dashboard_options(self, filters):
        """Check ``filters`` and return them normalized, with the dates of the
        period, of the comparison period and of the sparkline's periods
        (pairs of dates, the end excluded). Raise a UserError naming the
        filter that is wrong."""
        _ = self.env._
        filters = self._check_pipeline_api_filters(filters, DASHBOARD_FILTERS)
        period = self._check_pipeline_api_choice(
            "period", filters.get("period"), DASHBOARD_PERIODS, default="this_month"
        )
        compare = self._check_pipeline_api_choice(
            "compare",
            filters.get("compare"),
            DASHBOARD_COMPARISONS,
            default="previous",
        )
        options = {
            "period": period,
            "compare": compare,
            "team_ids": self._check_pipeline_api_ids(
                "team_ids", filters.get("team_ids"), "crm.team"
            ),
            "user_id": self._check_pipeline_api_id(
                "user_id", filters.get("user_id"), "res.users"
            ),
            "source_id": self._check_pipeline_api_id(
                "source_id", filters.get("source_id"), "utm.source"
            ),
            "domain": self._check_pipeline_api_domain("domain", filters.get("domain")),
        }
        if period == "custom":
            date_from, date_to = self._check_pipeline_api_days(
                self._pipeline_dashboard_date(filters, "date_from"),
                self._pipeline_dashboard_date(filters, "date_to"),
            )
            if date_to >= date_from + relativedelta(years=CUSTOM_PERIOD_MAX_YEARS):
                # its sparkline reaches 12 lengths back: keep it in the calendar
                raise UserError(
                    _(
                        "date_to: a custom period lasts at most %(years)s years "
                        "(%(date_from)s to %(date_to)s).",
                        years=CUSTOM_PERIOD_MAX_YEARS,
                        date_from=date_from,
                        date_to=date_to,
                    )
                )
            start, end = date_from, date_to + timedelta(days=1)
            step = relativedelta(days=(end - start).days)
        else:
            start, end, step = self._get_pipeline_dashboard_preset(period)
        options["date_from"] = fields.Date.to_string(start)
        options["date_to"] = fields.Date.to_string(end - timedelta(days=1))
        options["period_dates"] = (start, end)
        options["sparkline_dates"] = [
            (start - step * index, end - step * index)
            for index in range(SPARKLINE_LENGTH - 1, -1, -1)
        ]
        if compare == "previous":
            options["comparison_dates"] = (start - step, end - step)
        elif compare == "last_year":
            year = relativedelta(years=1)
            options["comparison_dates"] = (start - year, end - year)
        else:
            options["comparison_dates"] = None
        return options

    @api.model
    def _get_pipeline_dashboard_preset(self, period):
        """(first day, day after the last day, length) of a preset period
        around today (the user's today)."""
        today = fields.Date.context_today(self)
        month_start = today.replace(day=1)
        if period == "this_month":
            start, months = month_start, 1
        elif period == "this_quarter":
            start = month_start - relativedelta(months=(month_start.month - 1) % 3)
            months = 3
        elif period == "this_year":
            start, months = month_start.replace(month=1), 12
        elif period == "last_3_months":
            start, months = month_start - relativedelta(months=2), 3
        else:  # last_12_months
            start, months = month_start - relativedelta(months=11), 12
        step = relativedelta(months=months)
        return start, start + step, step

    @api.model
    def _pipeline_dashboard_date(self, filters, name):
        value = filters.get(name)
        if not value:
            raise UserError(
                self.env._(
                    "%(name)s: a custom period needs a first and a last day.",
                    name=name,
                )
            )
        return self._check_pipeline_api_date(name, value)

    @api.model
    def _get_pipeline_dashboard_domain(self, options):
        """The leads of the dashboard (record rules apply on top)."""
        domain = []
        if options["team_ids"]:
            domain.append(("team_id", "in", options["team_ids"]))
        if options["user_id"]:
            domain.append(("user_id", "=", options["user_id"]))
        if options["source_id"]:
            domain.append(("source_id", "=", options["source_id"]))
        return expression.AND([domain, options["domain"]])

    @api.model
    def _pipeline_dashboard_period_values(self, dates):
        start, end = dates
        return {
            "date_from": fields.Date.to_string(start),
            "date_to": fields.Date.to_string(end - timedelta(days=1)),
        }

    # Drill-down domains ----------------------------------------------
    # Each one says on crm.lead what the SQL of its figure counts; archived
    # leads count unless said otherwise, hence ("active", "in", ...).

    @api.model
    def _pipeline_dashboard_datetime(self, value):
        return fields.Datetime.to_string(self._pipeline_bound(value))

    @api.model
    def _pipeline_dashboard_in_period(self, fname, dates):
        return [
            (fname, ">=", self._pipeline_dashboard_datetime(dates[0])),
            (fname, "<", self._pipeline_dashboard_datetime(dates[1])),
        ]

    @api.model
    def _get_pipeline_won_domain(self):
        """Won, as _pipeline_state_sql says it."""
        return [
            ("active", "=", True),
            ("stage_id.is_won", "=", True),
            ("probability", "=", 100),
        ]

    @api.model
    def _get_pipeline_lost_domain(self):
        """Lost, as _pipeline_state_sql says it."""
        return [("active", "=", False), ("probability", "=", 0)]

    @api.model
    def _get_pipeline_open_domain(self, date_to=None):
        """Open opportunities as the KPIs count them (the shared definition of
        an open opportunity), now or, given ``date_to``, just before it:
        opened before it, and open now or closed (won or lost) on or after
        it."""
        open_now = self._get_open_opportunity_domain()
        if date_to is None:
            return open_now
        limit = self._pipeline_dashboard_datetime(date_to)
        return expression.AND(
            [
                [("type", "=", "opportunity"), ("active", "in", [True, False])],
                [
                    "|",
                    ("date_conversion", "<", limit),
                    "&",
                    ("date_conversion", "=", False),
                    ("create_date", "<", limit),
                ],
                expression.OR(
                    [
                        open_now,
                        expression.AND(
                            [
                                expression.OR(
                                    [
                                        self._get_pipeline_won_domain(),
                                        self._get_pipeline_lost_domain(),
                                    ]
                                ),
                                [("date_closed", ">=", limit)],
                            ]
                        ),
                    ]
                ),
            ]
        )

    @api.model
    def _get_pipeline_figure_domain(self, figure, dates):
        """The leads behind a figure of _read_pipeline_figures over the
        period ``dates``, for the figures the dashboard opens."""
        archived_too = [("active", "in", [True, False])]
        is_opportunity = [("type", "=", "opportunity")]
        created = self._pipeline_dashboard_in_period("create_date", dates)
        opened = expression.OR(
            [
                [("date_conversion", "!=", False)]
                + self._pipeline_dashboard_in_period("date_conversion", dates),
                [("date_conversion", "=", False)] + created,
            ]
        )
        closed = self._pipeline_dashboard_in_period("date_closed", dates)
        won, lost = self._get_pipeline_won_domain(), self._get_pipeline_lost_domain()
        domains = {
            "created_count": created,
            "started_as_lead_count": created
            + ["|", ("type", "=", "lead"), ("date_conversion", "!=", False)],
            "opened_count": is_opportunity + opened,
            "closed_count": is_opportunity + closed + expression.OR([won, lost]),
            "won_count": is_opportunity + closed + won,
            "open_count": self._get_pipeline_open_domain(dates[1]),
        }
        return expression.AND([archived_too, domains[figure]])

    @api.model
    def _pipeline_dashboard_drill(self, name, domain, base_domain):
        return {"name": name, "domain": expression.AND([base_domain, domain])}

    @api.model
    def _pipeline_dashboard_period_label(self, dates):
        return self.env._(
            "%(date_from)s to %(date_to)s",
            date_from=format_date(self.env, dates[0]),
            date_to=format_date(self.env, dates[1] - timedelta(days=1)),
        )

    # KPI cards -------------------------------------------------------

    @api.model
    def _get_pipeline_dashboard_kpi_definitions(self):
        """The cards: the seven KPIs of get_pipeline_kpis (the leads per source
        as their total), sales velocity and average won deal. ``figure`` is
        the population the value is computed on (shown and opened),
        ``direction`` 1 when a higher value is better, -1 when lower is."""
        _ = self.env._
        return [
            {
                "key": "new_leads",
                "label": _("New Leads"),
                "help": _(
                    "Leads and opportunities created in the period, archived "
                    "ones included."
                ),
                "kind": "count",
                "direction": 1,
                "figure": "created_count",
            },
            {
                "key": "lead_to_opportunity_rate",
                "label": _("Lead to Opportunity"),
                "help": _(
                    "Among the records created in the period that started as "
                    "leads, the share converted to opportunities."
                ),
                "kind": "percent",
                "direction": 1,
                "figure": "started_as_lead_count",
            },
            {
                "key": "opportunity_win_rate",
                "label": _("Opportunity Win Rate"),
                "help": _(
                    "Among the opportunities opened in the period, the share won "
                    "by now."
                ),
                "kind": "percent",
                "direction": 1,
                "figure": "opened_count",
            },
            {
                "key": "win_percentage",
                "label": _("Win Percentage"),
                "help": _(
                    "Among the opportunities closed in the period (won or lost), "
                    "the share won."
                ),
                "kind": "percent",
                "direction": 1,
                "figure": "closed_count",
            },
            {
                "key": "avg_days_to_win",
                "label": _("Days to Win"),
                "help": _(
                    "Mean days from the start of the opportunity to its win, over "
                    "the opportunities won in the period."
                ),
                "kind": "days",
                "direction": -1,
                "figure": "won_count",
            },
            {
                "key": "avg_sales_cycle_days",
                "label": _("Sales Cycle"),
                "help": _(
                    "Mean days from creation to closing, over the opportunities "
                    "closed in the period, won and lost."
                ),
                "kind": "days",
                "direction": -1,
                "figure": "closed_count",
            },
            {
                "key": "open_opportunity_count",
                "label": _("Open Opportunities"),
                "help": _(
                    "Opportunities open at the end of the period (now, for a "
                    "period that is not over)."
                ),
                "kind": "count",
                "direction": 1,
                "figure": "open_count",
            },
            {
                "key": "sales_velocity",
                "label": _("Sales Velocity"),
                "help": _(
                    "Open opportunities x average won deal x win percentage / "
                    "days to win: the revenue the pipeline brings in per day."
                ),
                "kind": "monetary",
                "direction": 1,
                "figure": "open_count",
            },
            {
                "key": "avg_won_revenue",
                "label": _("Average Won Deal"),
                "help": _(
                    "Mean expected revenue of the opportunities won in the period."
                ),
                "kind": "monetary",
                "direction": 1,
                "figure": "won_count",
            },
        ]

    @api.model
    def _get_pipeline_dashboard_figure_labels(self):
        """How a card names the population its value is computed on."""
        _ = self.env._
        return {
            "created_count": _("created"),
            "started_as_lead_count": _("started as leads"),
            "opened_count": _("opened"),
            "closed_count": _("closed"),
            "won_count": _("won"),
            "open_count": _("open"),
        }

    @api.model
    def _read_pipeline_dashboard_figures(self, domain, periods):
        """The figures of _read_pipeline_figures for each period of
        ``periods`` (pairs of dates, the end excluded), from one query.

        The query is _read_pipeline_figures itself, grouped by the slices
        (between the sorted bounds of all the periods) in which each lead was
        created, opened and closed: a period's figures are the sums of its
        slices' (means are weighted by their counts), and the open
        opportunities at the end of a period are those opened before it and
        open now or closed after it."""
        bounds = sorted(
            {self._pipeline_bound(bound) for dates in periods for bound in dates}
        )
        # the slice of each date plus one (width_bucket gives 0 before the
        # first bound and the number of bounds after the last; no date is
        # -1), the three in one integer key from 0 to key_count - 1: an
        # integer key groups in a hash table, and its possible values tell
        # the planner how many groups to expect (see _read_pipeline_figures)
        base = len(bounds) + 2
        key_count = base**3
        assert key_count <= 100_000
        bounds_sql = SQL("%s::timestamp[]", bounds)
        dates_sql = self._get_pipeline_date_sql()
        created, opened, closed = (
            SQL("(COALESCE(width_bucket(%s, %s), -1) + 1)", dates_sql[name], bounds_sql)
            for name in ("created", "opened", "closed")
        )
        slices = SQL("((%s * %s + %s) * %s + %s)", created, base, opened, base, closed)
        groups = [
            ((key // base**2 - 1, key // base % base - 1, key % base - 1), figures)
            for key, figures in self._read_pipeline_figures(
                domain, groupby=slices, key_count=key_count
            ).items()
        ]
        result = []
        for dates in periods:
            # a date is in the period when it lies in one of the slices
            # first + 1 .. last (width_bucket counts the bounds <= the date)
            first = bounds.index(self._pipeline_bound(dates[0]))
            last = bounds.index(self._pipeline_bound(dates[1]))
            result.append(self._sum_pipeline_figures(groups, first, last))
        return result

    @api.model
    def _sum_pipeline_figures(self, groups, first, last):
        figures = self._empty_pipeline_figures()
        weighted = dict.fromkeys(
            ("avg_days_to_win", "avg_sales_cycle_days", "avg_won_revenue"), 0.0
        )
        weights = {
            "avg_days_to_win": "won_count",
            "avg_sales_cycle_days": "closed_count",
            "avg_won_revenue": "won_revenue_count",
        }
        for (created, opened, closed), group in groups:
            if first < created <= last:
                for fname in (
                    "created_count",
                    "started_as_lead_count",
                    "converted_count",
                ):
                    figures[fname] += group[fname]
            if first < opened <= last:
                figures["opened_count"] += group["opened_count"]
                figures["opened_won_count"] += group["opened_won_count"]
            if first < closed <= last:
                for fname in ("closed_count", "won_count", "won_revenue_count"):
                    figures[fname] += group[fname]
                for fname, weight in weights.items():
                    if group[fname] is not None:
                        weighted[fname] += group[fname] * group[weight]
            if opened <= last:
                # opened before the end: open now, or closed after the end
                figures["open_count"] += group["open_count"]
                figures["open_revenue"] += group["open_revenue"]
                if closed > last:
                    figures["open_count"] += group["closed_count"]
        for fname, weight in weights.items():
            if figures[weight]:
                figures[fname] = weighted[fname] / figures[weight]
        return figures

    @api.model
    def _get_pipeline_dashboard_kpis(self, domain, period, comparison, sparkline):
        """The KPI cards: value, comparison value, sparkline and drill-downs."""
        periods = [period, *([comparison] if comparison else []), *sparkline]
        figures = self._read_pipeline_dashboard_figures(domain, periods)
        current, *others = figures
        compared = others.pop(0) if comparison else None
        labels = self._get_pipeline_dashboard_figure_labels()
        # formatted once: every card's drill-downs name the same periods
        period_label = self._pipeline_dashboard_period_label(period)
        comparison_label = comparison and self._pipeline_dashboard_period_label(
            comparison
        )
        cards = []
        for definition in self._get_pipeline_dashboard_kpi_definitions():
            key, figure = definition["key"], definition["figure"]
            card = dict(
                definition,
                value=self._get_pipeline_dashboard_kpi_value(key, current),
                count=current[figure],
                count_label=labels[figure],
                drill=self._pipeline_dashboard_kpi_drill(
                    definition, period, domain, period_label
                ),
                sparkline=[
                    self._get_pipeline_dashboard_kpi_value(key, values)
                    for values in others
                ],
            )
            if comparison:
                card.update(
                    comparison_value=self._get_pipeline_dashboard_kpi_value(
                        key, compared
                    ),
                    comparison_count=compared[figure],
                    comparison_drill=self._pipeline_dashboard_kpi_drill(
                        definition, comparison, domain, comparison_label
                    ),
                )
            cards.append(card)
        return cards

    @api.model
    def _get_pipeline_dashboard_kpi_value(self, key, figures):
        if key == "new_leads":
            return figures["created_count"]
        if key == "sales_velocity":
            return self._get_sales_velocity(figures)
        if key == "avg_won_revenue":
            return figures["avg_won_revenue"]
        return self._get_pipeline_kpi_values(figures)[key]

    @api.model
    def _pipeline_dashboard_kpi_drill(
        self, definition, dates, base_domain, period_label=None
    ):
        labels = self._get_pipeline_dashboard_figure_labels()
        return self._pipeline_dashboard_drill(
            self.env._(
                "%(kpi)s: %(population)s, %(period)s",
                kpi=definition["label"],
                population=labels[definition["figure"]],
                period=period_label or self._pipeline_dashboard_period_label(dates),
            ),
            self._get_pipeline_figure_domain(definition["figure"], dates),
            base_domain,
        )

    # Funnel and bottleneck -------------------------------------------

    @api.model
    def _read_pipeline_dashboard_funnel(self, domain, periods, standard_stages):
        """Per period and standard stage, the deals (leads of ``domain``) that
        entered the stage in the period, where they are now, and the average
        days of those stays (as the Stage Analysis counts them: a current
        stay up to now), in one query.

        :param standard_stages: all the standard stages, archived ones too
        :return dict: {(period index, standard stage id): figures}
        """
        if not standard_stages:
            return {}
        self.env["crm.lead.stage.history"].flush_model()
        _won, lost = self._pipeline_state_sql()

        def sequence_of(column):
            # the standard stages' order as values rather than a join: a join
            # on them hides from the planner how many stays it keeps
            return SQL(
                "(CASE %s %s END)",
                column,
                SQL(" ").join(
                    SQL("WHEN %s THEN %s", stage.id, stage.sequence)
                    for stage in standard_stages
                ),
            )

        # the stays that began in each period, one branch per period: the
        # planner sees each date range (a stay counts in every period its
        # entry falls in: a comparison period may overlap the period)
        duration = self.env["crm.lead.stage.analysis"]._get_duration_sql()
        stays = SQL(" UNION ALL ").join(
            SQL(
                """SELECT %s AS period, stay.lead_id, stay.standard_stage_id,
                          %s AS days
                     FROM crm_lead_stage_history stay
                    WHERE stay.date_in >= %s AND stay.date_in < %s
                      AND stay.standard_stage_id IS NOT NULL""",
                index,
                duration,
                self._pipeline_bound(dates[0]),
                self._pipeline_bound(dates[1]),
            )
            for index, dates in enumerate(periods)
        )
        in_stage_now = SQL("lead.standard_stage_id = stay.standard_stage_id")
        # Where each deal is now, against the stage it entered, is one of
        # these categories (or none): grouped by it, a period and stage count
        # their deals with one distinct count per group, where a distinct
        # count per category sorted the stays once for each. The deals of a
        # stage are the sum of its categories'.
        self.env.cr.execute(
            SQL(
                """
                SELECT stay.period, stay.standard_stage_id,
                       CASE WHEN %(now_sequence)s > %(stay_sequence)s
                                THEN 'moved_on'
                            WHEN %(in_stage_now)s AND %(lost)s THEN 'lost'
                            WHEN %(in_stage_now)s AND lead.active THEN 'still'
                       END,
                       COUNT(DISTINCT stay.lead_id),
                       SUM(stay.days),
                       COUNT(stay.days)
                  FROM %(leads)s AS lead
                  JOIN (%(stays)s) AS stay ON stay.lead_id = lead.id
                 GROUP BY 1, 2, 3
                """,
                stays=stays,
                now_sequence=sequence_of(SQL("lead.standard_stage_id")),
                stay_sequence=sequence_of(SQL("stay.standard_stage_id")),
                in_stage_now=in_stage_now,
                lost=lost,
                leads=self._get_pipeline_kpi_leads_sql(domain),
            )
        )
        figures = {}
        for (
            period_index,
            standard_id,
            category,
            count,
            days,
            stays_count,
        ) in self.env.cr.fetchall():
            values = figures.setdefault(
                (period_index, standard_id),
                {"entered": 0, "moved_on": 0, "lost": 0, "still": 0, "days": [0, 0]},
            )
            values["entered"] += count
            if category:
                values[category] += count
            values["days"][0] += days or 0.0
            values["days"][1] += stays_count
        for values in figures.values():
            days, stays_count = values.pop("days")
            values["avg_days"] = float(days) / stays_count if stays_count else None
        return figures

    @api.model
    def _get_pipeline_funnel_domain(self, category, standard_stage, dates):
        """The deals behind a cell of the funnel: those that entered
        ``standard_stage`` in the period (``entered``), and among them those
        now in a later standard stage (``moved_on``), lost in it (``lost``),
        or still in it and active (``still``)."""
        entered = [
            ("active", "in", [True, False]),
            (
                "stage_history_ids",
                "any",
                [("standard_stage_id", "=", standard_stage.id)]
                + self._pipeline_dashboard_in_period("date_in", dates),
            ),
        ]
        in_stage_now = [("standard_stage_id", "=", standard_stage.id)]
        domains = {
            "entered": [],
            "moved_on": [("standard_stage_id.sequence", ">", standard_stage.sequence)],
            "lost": in_stage_now + self._get_pipeline_lost_domain(),
            "still": in_stage_now + [("active", "=", True)],
        }
        return expression.AND([entered, domains[category]])

    @api.model
    def _get_pipeline_dashboard_funnel(self, domain, periods, pipeline):
        """One step per standard stage (Awareness to Purchase): for the period
        and the comparison period, the deals that entered it, moved on to a
        later stage, were lost in it or are still in it, the conversion to
        the next stage (moved on / entered) and the average days there; plus
        the open deals stalled there now."""
        _ = self.env._
        # archived ones too: a lead may still be in a stage mapped onto one
        all_standard_stages = (
            self.env["crm.standard.stage"]
            .with_context(active_test=False)
            .search_fetch([], ["name", "sequence", "active"])
        )
        figures = self._read_pipeline_dashboard_funnel(
            domain, periods, all_standard_stages
        )
        standard_stages = all_standard_stages.filtered("active")
        stalled = {}
        for row in pipeline["stages"]:
            stalled[row["standard_stage_id"]] = (
                stalled.get(row["standard_stage_id"], 0) + row["stalled_count"]
            )
        labels = {
            "entered": _("entered"),
            "moved_on": _("moved on"),
            "lost": _("lost there"),
            "still": _("still there"),
        }
        # formatted once: every step's drill-downs name the same periods
        period_labels = [self._pipeline_dashboard_period_label(d) for d in periods]
        steps = []
        for index, standard_stage in enumerate(standard_stages):
            next_stage = standard_stages[index + 1 : index + 2]
            step = {
                "id": standard_stage.id,
                "name": standard_stage.name,
                "next_name": next_stage.name or False,
                "stalled_count": stalled.get(standard_stage.id, 0),
                "stalled_drill": self._pipeline_dashboard_drill(
                    _("Stalled in %(stage)s", stage=standard_stage.name),
                    expression.AND(
                        [
                            self._get_pipeline_open_domain(),
                            [
                                ("standard_stage_id", "=", standard_stage.id),
                                ("is_stalled", "=", True),
                            ],
                        ]
                    ),
                    domain,
                ),
                "periods": [],
            }
            for period_index, dates in enumerate(periods):
                values = dict(
                    figures.get((period_index, standard_stage.id))
                    or {
                        "entered": 0,
                        "moved_on": 0,
                        "lost": 0,
                        "still": 0,
                        "avg_days": None,
                    }
                )
                values["conversion"] = (
                    self._pipeline_rate(values["moved_on"], values["entered"])
                    if next_stage
                    else None
                )
                values["drills"] = {
                    category: self._pipeline_dashboard_drill(
                        _(
                            "%(stage)s: %(category)s, %(period)s",
                            stage=standard_stage.name,
                            category=label,
                            period=period_labels[period_index],
                        ),
                        self._get_pipeline_funnel_domain(
                            category, standard_stage, dates
                        ),
                        domain,
                    )
                    for category, label in labels.items()
                }
                step["periods"].append(values)
            steps.append(step)
        return steps

    @api.model
    def _get_pipeline_dashboard_bottleneck_min_sample(self):
        value = (
            self.env["ir.config_parameter"]
            # a setting of the rule, not data: reading it shows no record
            .sudo()
            .get_param("sales_pipeline_mgmt.bottleneck_min_sample")
        )
        try:
            return max(int(value), 1) if value else BOTTLENECK_MIN_SAMPLE
        except ValueError:
            return BOTTLENECK_MIN_SAMPLE

    @api.model
    def _get_pipeline_dashboard_comparison_name(self, options):
        """How the bottleneck's sentence names the comparison period."""
        _ = self.env._
        if options["compare"] == "last_year":
            return _("the same period last year")
        return {
            "this_month": _("the previous month"),
            "this_quarter": _("the previous quarter"),
            "this_year": _("the previous year"),
            "last_3_months": _("the previous 3 months"),
            "last_12_months": _("the previous 12 months"),
        }.get(options["period"]) or _("the previous period")

    @api.model
    def _get_pipeline_dashboard_bottleneck(self, funnel, options):
        """The stage that worsened most against the comparison period (see
        readme/USAGE.md): among the standard stages but the last that at
        least the minimum sample of deals entered in both periods, the one
        whose conversion to the next stage fell most, or whose average days
        grew most, in relative terms, if by at least 10 %.

        :return dict: stage_id, sentence, the figures and the drill-downs;
            or stage_id False and a message saying why there is none
        """
        _ = self.env._
        min_sample = self._get_pipeline_dashboard_bottleneck_min_sample()
        if options["compare"] == "none":
            return {
                "stage_id": False,
                "message": _("Choose a comparison period to find the bottleneck."),
            }
        best = None
        candidates = 0
        for step in funnel[:-1]:
            current, previous = step["periods"]
            if min(current["entered"], previous["entered"]) < min_sample:
                continue
            candidates += 1
            worsening = []
            if previous["conversion"]:
                worsening.append(
                    (previous["conversion"] - current["conversion"])
                    / previous["conversion"]
                )
            if previous["avg_days"] and current["avg_days"] is not None:
                worsening.append(
                    (current["avg_days"] - previous["avg_days"]) / previous["avg_days"]
                )
            score = max(worsening, default=0.0)
            if score >= BOTTLENECK_MIN_WORSENING and (best is None or score > best[0]):
                best = (score, step)
        if not candidates:
            return {
                "stage_id": False,
                "message": _(
                    "Not enough deals to name a bottleneck: at least %(count)s "
                    "deals must enter a stage in both periods.",
                    count=min_sample,
                ),
            }
        if best is None:
            return {
                "stage_id": False,
                "message": _("No stage worsened against the comparison period."),
            }
        step = best[1]
        current, previous = step["periods"]
        comparison_name = self._get_pipeline_dashboard_comparison_name(options)
        parts = [
            _(
                "%(stage)s: %(count)s deals entered",
                stage=step["name"],
                count=current["entered"],
            )
        ]
        if current["avg_days"] is not None:
            if previous["avg_days"]:
                parts.append(
                    _(
                        "they stay %(days)s days, %(ratio)s× %(comparison)s",
                        days=formatLang(self.env, current["avg_days"], digits=0),
                        ratio=formatLang(
                            self.env,
                            current["avg_days"] / previous["avg_days"],
                            digits=1,
                        ),
                        comparison=comparison_name,
                    )
                )
            else:
                parts.append(
                    _(
                        "they stay %(days)s days",
                        days=formatLang(self.env, current["avg_days"], digits=0),
                    )
                )
        parts.append(
            _(
                "conversion to %(next)s %(rate)s %% (was %(previous)s %%)",
                next=step["next_name"],
                rate=formatLang(self.env, current["conversion"], digits=0),
                previous=formatLang(self.env, previous["conversion"] or 0.0, digits=0),
            )
        )
        if step["stalled_count"]:
            parts.append(_("%(count)s stalled here", count=step["stalled_count"]))
        return {
            "stage_id": step["id"],
            "name": step["name"],
            "sentence": "; ".join(parts) + ".",
            "entered": current["entered"],
            "avg_days": current["avg_days"],
            "previous_avg_days": previous["avg_days"],
            "conversion": current["conversion"],
            "previous_conversion": previous["conversion"],
            "stalled_count": step["stalled_count"],
            "drill": current["drills"]["entered"],
            "stalled_drill": step["stalled_drill"],
        }

    # Leads per source, open pipeline ---------------------------------

    @api.model
    def _get_pipeline_dashboard_sources(self, domain, period):
        """Leads created per source and month (the KPI's
        leads_by_source_month) over the months of the period, and at least
        the 12 months up to its end, as the series of a stacked bar chart."""
        last_month = (period[1] - timedelta(days=1)).replace(day=1)
        month = min(period[0], last_month - relativedelta(months=11))
        period = (month, period[1])
        rows = self._read_leads_by_source_month(domain, *period, with_names=True)
        months = []
        while month < period[1]:
            months.append(month)
            month += relativedelta(months=1)
        month_keys = [month.strftime("%Y-%m") for month in months]
        names = {row["source_id"]: row["source_name"] for row in rows}
        counts = {}
        for row in rows:
            counts.setdefault(row["source_id"], {})[row["month"]] = row["count"]
        # each month's dates and label, the same for every source
        month_dates = [
            (max(month, period[0]), min(month + relativedelta(months=1), period[1]))
            for month in months
        ]
        month_labels = [self._pipeline_dashboard_period_label(d) for d in month_dates]
        series = []
        for source_id in sorted(
            counts, key=lambda key: (-sum(counts[key].values()), key or 0)
        ):
            name = names.get(source_id) or self.env._("No Source")
            series_counts = [counts[source_id].get(key, 0) for key in month_keys]
            drills = []
            for dates, month_label, count in zip(
                month_dates, month_labels, series_counts, strict=True
            ):
                drills.append(
                    count
                    and self._pipeline_dashboard_drill(
                        self.env._(
                            "New leads from %(source_name)s, %(period)s",
                            source_name=name,
                            period=month_label,
                        ),
                        expression.AND(
                            [
                                self._get_pipeline_figure_domain(
                                    "created_count", dates
                                ),
                                [("source_id", "=", source_id)],
                            ]
                        ),
                        domain,
                    )
                )
            series.append(
                {
                    "source_id": source_id,
                    "name": name,
                    "counts": series_counts,
                    "drills": drills,
                }
            )
        return {"months": [fields.Date.to_string(m) for m in months], "series": series}

    @api.model
    def _get_pipeline_dashboard_pipeline(self, domain):
        """Open opportunities (as the KPIs count them) per stage: count,
        expected and historical revenue, stalled ones; in one grouped read."""
        open_domain = expression.AND([domain, self._get_pipeline_open_domain()])
        groups = self._read_group(
            open_domain,
            ["stage_id", "is_stalled"],
            ["__count", "expected_revenue:sum", "historical_revenue:sum"],
        )
        stage_keys = self._get_pipeline_stage_keys()
        rows = {}
        for stage, is_stalled, count, expected, historical in groups:
            row = rows.setdefault(
                stage,
                {
                    "stage_id": stage.id,
                    "name": stage.display_name if stage else self.env._("No Stage"),
                    "standard_stage_id": stage_keys[stage.id][3] if stage else False,
                    "count": 0,
                    "expected_revenue": 0.0,
                    "historical_revenue": 0.0,
                    "stalled_count": 0,
                },
            )
            row["count"] += count
            row["expected_revenue"] += expected or 0.0
            row["historical_revenue"] += historical or 0.0
            if is_stalled:
                row["stalled_count"] += count
        for stage, row in rows.items():
            stage_domain = expression.AND(
                [open_domain, [("stage_id", "=", stage.id or False)]]
            )
            row["drill"] = {
                "name": self.env._("Open in %(stage)s", stage=row["name"]),
                "domain": stage_domain,
            }
            row["stalled_drill"] = {
                "name": self.env._("Stalled in %(stage)s", stage=row["name"]),
                "domain": expression.AND([stage_domain, [("is_stalled", "=", True)]]),
            }
        return {
            "stages": list(rows.values()),
            "count": sum(row["count"] for row in rows.values()),
            "expected_revenue": sum(row["expected_revenue"] for row in rows.values()),
            "historical_revenue": sum(
                row["historical_revenue"] for row in rows.values()
            ),
            "stalled_count": sum(row["stalled_count"] for row in rows.values()),
        }
