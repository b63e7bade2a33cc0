# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from datetime import UTC, date, datetime, time

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL, sql

# The figures behind the KPIs, in the order of the columns of the query of
# _read_pipeline_figures; the means are None over an empty population.
PIPELINE_FIGURES = (
    "created_count",
    "started_as_lead_count",
    "converted_count",
    "opened_count",
    "opened_won_count",
    "closed_count",
    "won_count",
    "avg_days_to_win",
    "avg_sales_cycle_days",
    "avg_won_revenue",
    "won_revenue_count",
    "open_count",
    "open_revenue",
)
PIPELINE_MEANS = ("avg_days_to_win", "avg_sales_cycle_days", "avg_won_revenue")

# The columns of crm_lead that the pipeline figures read (the KPIs, the
# dashboard's funnel, leads per source and open pipeline, the record rules
# of crm.lead, the dashboard's team and salesperson filters), kept beside
# the creation date in one narrow index: the figures read every lead the
# user may see, and an index-only scan of these columns reads a tenth of
# the pages of the table (whose rows carry descriptions, addresses, ...).
PIPELINE_FIGURES_INDEX = "crm_lead_pipeline_figures_idx"
FUNNEL_STAYS_INDEX = "crm_lead_stage_history_funnel_idx"
# PostgreSQL keeps no statistics on an expression by default: grouped by the
# month of creation, the leads per source looked like one group per lead to
# the planner, which then aggregated them in a single process. These
# statistics give it the number of months (a few hundred rows at most).
CREATE_MONTH_STATISTICS = "crm_lead_create_month_stat"
PIPELINE_FIGURES_COLUMNS = (
    "id",
    "company_id",
    "user_id",
    "team_id",
    "source_id",
    "type",
    "active",
    "probability",
    "stage_id",
    "standard_stage_id",
    "date_conversion",
    "date_closed",
    "expected_revenue",
    "historical_revenue",
    "is_stalled",
)


class CrmLead(models.Model):
    """Pipeline KPIs: the seven KPIs of a population of leads and the figures
    behind them, shared by the pipeline dashboard, the sales team dashboard,
    the digest and the sales velocity."""

    _name = "crm.lead"
    # the argument checks of the public methods, shared with the dashboard
    _inherit = ("crm.lead", "crm.pipeline.api.mixin")

    def init(self):
        res = super().init()
        # On an install the install hook creates the indexes once it has
        # filled the columns they hold: built on the filled rows they stay
        # compact, where an index in place during the fills takes every row
        # version they write (the leads' grew to 345 MB at 1,000,000 leads
        # in an upgrade that filled columns with it in place).
        self.env.cr.execute(
            SQL(
                "SELECT state FROM ir_module_module WHERE name = %s",
                "sales_pipeline_mgmt",
            )
        )
        if self.env.cr.fetchone() != ("to install",):
            self._create_pipeline_figures_indexes()
        return res

    @api.model
    def _create_pipeline_figures_indexes(self):
        """The index of the leads' columns the pipeline figures read, and the
        index of the stays the dashboard's funnel counts (entry date,
        standard stage, lead, duration): both read in index-only scans. A
        query that reads a column outside them (a custom domain) reads the
        table instead, with the same result. And the statistics of the
        leads' months of creation (see CREATE_MONTH_STATISTICS)."""
        cr = self.env.cr
        if not sql.index_exists(cr, PIPELINE_FIGURES_INDEX):
            cr.execute(
                SQL(
                    "CREATE INDEX %s ON crm_lead (create_date) INCLUDE (%s)",
                    SQL.identifier(PIPELINE_FIGURES_INDEX),
                    SQL(", ").join(map(SQL.identifier, PIPELINE_FIGURES_COLUMNS)),
                )
            )
        if not sql.index_exists(cr, FUNNEL_STAYS_INDEX):
            cr.execute(
                SQL(
                    "CREATE INDEX %s ON crm_lead_stage_history (date_in) "
                    "INCLUDE (standard_stage_id, lead_id, duration_days)",
                    SQL.identifier(FUNNEL_STAYS_INDEX),
                )
            )
        cr.execute(
            SQL(
                "SELECT 1 FROM pg_statistic_ext WHERE stxname = %s",
                CREATE_MONTH_STATISTICS,
            )
        )
        if not cr.rowcount:
            cr.execute(
                SQL(
                    "CREATE STATISTICS %s ON (date_trunc('month', create_date)) "
                    "FROM crm_lead",
                    SQL.identifier(CREATE_MONTH_STATISTICS),
                )
            )
            # a sample of the table (a second at a million leads); until
            # then the planner would wait for autovacuum's next analyze
            cr.execute(SQL("ANALYZE crm_lead"))

    @api.model
    def _drop_pipeline_figures_statistics(self):
        """The statistics on crm_lead's own column outlive the addon's
        columns (and the indexes that hold them): dropped on uninstall."""
        self.env.cr.execute(
            SQL(
                "DROP STATISTICS IF EXISTS %s",
                SQL.identifier(CREATE_MONTH_STATISTICS),
            )
        )

    @api.model
    @api.readonly
    def get_pipeline_kpis(self, domain=None, date_from=None, date_to=None):
        """Return the seven pipeline KPIs of the leads matching ``domain`` that
        the current user can read (archived ones included), for the period
        [date_from, date_to) (dates or UTC datetimes; None leaves that end
        open). A rate or mean over an empty population is None.

        :return dict: leads_by_source_month (list of dicts with source_id, an
            id or False, month "YYYY-MM" and count), lead_to_opportunity_rate,
            opportunity_win_rate, win_percentage (percent), avg_days_to_win,
            avg_sales_cycle_days (fractional days), open_opportunity_count.
        :raise UserError: naming the argument that is wrong (a domain that is
            not a valid domain on crm.lead, a date that is not a date or
            outside 1900-2999, a period that does not end after it starts)
        """
        domain = self._check_pipeline_api_domain("domain", domain)
        date_from, date_to = self._check_pipeline_api_period(date_from, date_to)
        return self._read_pipeline_kpis(domain, date_from, date_to)[0]

    @api.model
    def _read_pipeline_kpis(self, domain=None, date_from=None, date_to=None):
        """(the seven KPIs, the figures they come from) in two queries; the
        figures also feed the sales velocity (see _get_sales_velocity)."""
        figures = self._read_pipeline_figures(domain, date_from, date_to)[False]
        kpis = {
            "leads_by_source_month": self._read_leads_by_source_month(
                domain, date_from, date_to
            ),
            **self._get_pipeline_kpi_values(figures),
        }
        return kpis, figures

    @api.model
    def _get_pipeline_kpi_values(self, figures):
        """The KPIs computed from pipeline figures (all but the leads per
        source per month, which have a query of their own)."""
        return {
            "lead_to_opportunity_rate": self._pipeline_rate(
                figures["converted_count"], figures["started_as_lead_count"]
            ),
            "opportunity_win_rate": self._pipeline_rate(
                figures["opened_won_count"], figures["opened_count"]
            ),
            "win_percentage": self._pipeline_rate(
                figures["won_count"], figures["closed_count"]
            ),
            "avg_days_to_win": figures["avg_days_to_win"],
            "avg_sales_cycle_days": figures["avg_sales_cycle_days"],
            "open_opportunity_count": figures["open_count"],
        }

    @api.model
    def _pipeline_rate(self, part, whole):
        return 100.0 * part / whole if whole else None

    @api.model
    def _get_pipeline_kpi_query(self, domain=None):
        """The population of the KPIs as a Query: the leads of ``domain`` the
        user may read, archived ones included (record rules apply)."""
        self.flush_model()
        self.env["crm.stage"].flush_model(["is_won"])
        return self.with_context(active_test=False)._search(domain or [])

    @api.model
    def _get_pipeline_kpi_leads_sql(self, domain=None):
        """The population of the KPIs as a table to alias ``lead`` in their
        SQL. A plain subquery (no ORDER BY), which PostgreSQL merges into the
        query that reads it: crm_lead is scanned once, where ``lead.id IN
        (population)`` scanned it twice."""
        query = self._get_pipeline_kpi_query(domain)
        query.order = None
        return SQL("(%s)", query.select(SQL("%s.*", SQL.identifier(query.table))))

    @api.model
    def _get_pipeline_date_sql(self):
        """The dates the KPIs count a lead by, on the alias ``lead``: its
        creation, the start of the opportunity (conversion, else creation)
        and its closing."""
        return {
            "created": SQL("lead.create_date"),
            "opened": SQL("COALESCE(lead.date_conversion, lead.create_date)"),
            "closed": SQL("lead.date_closed"),
        }

    @api.model
    def _pipeline_period_sql(self, column, date_from, date_to):
        """SQL condition ``column`` in [date_from, date_to); TRUE if open."""
        conditions = [SQL("TRUE")]
        if date_from:
            conditions.append(SQL("%s >= %s", column, self._pipeline_bound(date_from)))
        if date_to:
            conditions.append(SQL("%s < %s", column, self._pipeline_bound(date_to)))
        return SQL("(%s)", SQL(" AND ").join(conditions))

    @api.model
    def _pipeline_bound(self, value):
        if isinstance(value, str):
            value = fields.Datetime.to_datetime(value)
        elif isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time.min)
        # aware datetimes are converted to UTC, the database's naive timezone
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value

    @api.model
    def _read_pipeline_figures(
        self, domain=None, date_from=None, date_to=None, groupby=None, key_count=None
    ):
        """Counts and means behind the KPIs, the team dashboard and the sales
        velocity, in one query: {group id or False: {figure: value}}.

        :param groupby: None (one group, key False), "team_id", "user_id", or
            an SQL expression on the alias ``lead`` (e.g. the periods of the
            pipeline dashboard) whose values become the keys
        :param key_count: with an SQL ``groupby`` whose values are integers
            from 0 to key_count - 1, that number (a few thousand at most)
        """
        assert groupby in (None, "team_id", "user_id") or isinstance(groupby, SQL)
        won, lost = self._pipeline_state_sql()
        is_opportunity = SQL("lead.type = 'opportunity'")
        dates = self._get_pipeline_date_sql()
        created = self._pipeline_period_sql(dates["created"], date_from, date_to)
        opened = self._pipeline_period_sql(dates["opened"], date_from, date_to)
        closed = self._pipeline_period_sql(dates["closed"], date_from, date_to)
        won_in_period = SQL("(%s AND %s AND %s)", is_opportunity, closed, won)
        closed_in_period = SQL(
            "(%s AND %s AND (%s OR %s))", is_opportunity, closed, won, lost
        )
        if isinstance(groupby, SQL):
            group_key = groupby
        elif groupby:
            group_key = SQL("lead.%s", SQL.identifier(groupby))
        else:
            group_key = SQL("NULL::int4")
        key_join = SQL()
        if key_count:
            # PostgreSQL keeps no statistics on a key computed from the
            # leads' columns: it expects one group per lead, and so
            # aggregates every lead in one process. Matched to the series of
            # its possible values, the key is a column whose number of
            # values it knows, and workers aggregate the leads in parallel.
            key_join = SQL(
                "JOIN generate_series(0, %s) AS group_key(key) ON group_key.key = %s",
                key_count - 1,
                group_key,
            )
            group_key = SQL("group_key.key")
        self.env.cr.execute(
            SQL(
                """
                SELECT %(group_key)s AS group_key,
                       COUNT(*) FILTER (WHERE %(created)s),
                       COUNT(*) FILTER (WHERE %(created)s AND (lead.type = 'lead'
                                        OR lead.date_conversion IS NOT NULL)),
                       COUNT(*) FILTER (WHERE %(created)s
                                        AND lead.date_conversion IS NOT NULL),
                       COUNT(*) FILTER (WHERE %(is_opp)s AND %(opened)s),
                       COUNT(*) FILTER (WHERE %(is_opp)s AND %(opened)s AND %(won)s),
                       COUNT(*) FILTER (WHERE %(closed_in)s),
                       COUNT(*) FILTER (WHERE %(won_in)s),
                       AVG(EXTRACT(EPOCH FROM lead.date_closed - COALESCE(
                           lead.date_conversion, lead.create_date)) / 86400.0)
                           FILTER (WHERE %(won_in)s),
                       AVG(EXTRACT(EPOCH FROM lead.date_closed - lead.create_date)
                           / 86400.0) FILTER (WHERE %(closed_in)s),
                       AVG(lead.expected_revenue) FILTER (WHERE %(won_in)s),
                       COUNT(lead.expected_revenue) FILTER (WHERE %(won_in)s),
                       COUNT(*) FILTER (WHERE %(open)s),
                       SUM(lead.expected_revenue) FILTER (WHERE %(open)s)
                  FROM %(leads)s AS lead
                  LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                  %(key_join)s
                 GROUP BY 1
                """,
                group_key=group_key,
                key_join=key_join,
                created=created,
                opened=opened,
                is_opp=is_opportunity,
                won=won,
                won_in=won_in_period,
                closed_in=closed_in_period,
                open=self._get_open_opportunity_sql(),
                leads=self._get_pipeline_kpi_leads_sql(domain),
            )
        )
        result = {}
        for group_key_value, *values in self.env.cr.fetchall():
            figures = dict(zip(PIPELINE_FIGURES, values, strict=True))
            for fname in PIPELINE_MEANS:
                if figures[fname] is not None:
                    figures[fname] = float(figures[fname])
            figures["open_revenue"] = float(figures["open_revenue"] or 0.0)
            result[group_key_value or False] = figures
        if not groupby and False not in result:
            result[False] = self._empty_pipeline_figures()
        return result

    @api.model
    def _empty_pipeline_figures(self):
        return {
            fname: None if fname in PIPELINE_MEANS else 0 for fname in PIPELINE_FIGURES
        } | {"open_revenue": 0.0}

    @api.model
    def _read_leads_by_source_month(
        self, domain=None, date_from=None, date_to=None, with_names=False
    ):
        """Leads created in the period per UTM source and month of creation
        (UTC), in one query; leads without a source form their own group.
        With ``with_names``, each row also has the source's name
        (source_name, False without a source), read in the same query."""
        period = []
        if date_from:
            period.append(("create_date", ">=", self._pipeline_bound(date_from)))
        if date_to:
            period.append(("create_date", "<", self._pipeline_bound(date_to)))
        # archived leads included (the KPIs' population), months in UTC (no
        # timezone conversion). The name is a plain column of the source
        # (its display name), read beside the counts rather than by a second
        # query: utm.source has no record rules, and every user of the
        # pipeline may read sources.
        self.env["utm.source"].flush_model(["name"])
        self.env.cr.execute(
            SQL(
                """
                SELECT lead.source_id, date_trunc('month', lead.create_date),
                       COUNT(*), %(name)s
                  FROM %(leads)s AS lead
                  %(join)s
                 GROUP BY 1, 2
                 ORDER BY 2, COALESCE(lead.source_id, 0)
                """,
                # grouped by the expression of CREATE_MONTH_STATISTICS as is
                name=SQL("MAX(source.name)") if with_names else SQL("NULL"),
                join=SQL("LEFT JOIN utm_source source ON source.id = lead.source_id")
                if with_names
                else SQL(),
                leads=self._get_pipeline_kpi_leads_sql(
                    expression.AND([domain or [], period])
                ),
            )
        )
        rows = []
        for source_id, month, count, name in self.env.cr.fetchall():
            row = {
                "source_id": source_id or False,
                "month": month.strftime("%Y-%m"),
                "count": count,
            }
            if with_names:
                row["source_name"] = name or False
            rows.append(row)
        return rows

    @api.model
    def _get_sales_velocity(self, figures):
        """Sales velocity (revenue per day) from pipeline figures: open
        opportunities x average won deal value x win percentage / average days
        to win. None when an input is missing or the days to win are 0."""
        win_percentage = self._pipeline_rate(
            figures["won_count"], figures["closed_count"]
        )
        inputs = (
            figures["avg_won_revenue"],
            win_percentage,
            figures["avg_days_to_win"],
        )
        if any(value is None for value in inputs) or not figures["avg_days_to_win"]:
            return None
        return (
            figures["open_count"]
            * figures["avg_won_revenue"]
            * win_percentage
            / 100.0
            / figures["avg_days_to_win"]
        )
