# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)


class CrmPipelineSnapshot(models.Model):
    """The open pipeline as it stood on a date, per company, team, salesperson
    and stage, with the revenue each forecast method expected in each of the
    next three calendar months. Written only by _take_snapshot (cron), one set
    of rows per date: taking it again the same day brings them up to date."""

    _name = "crm.pipeline.snapshot"
    _description = "Pipeline Snapshot"
    _order = "snapshot_date desc, id desc"
    _rec_name = "snapshot_date"

    # Snapshot
    snapshot_date = fields.Date(
        required=True,
        readonly=True,
        index=True,
        help="Day the pipeline was recorded; one set of lines per day.",
    )
    company_id = fields.Many2one("res.company", readonly=True, index="btree_not_null")
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    standard_stage_id = fields.Many2one("crm.standard.stage", readonly=True)
    company_currency = fields.Many2one(
        "res.currency", related="company_id.currency_id", string="Currency"
    )
    # Open pipeline
    open_count = fields.Integer(
        string="Open Opportunities",
        readonly=True,
        help="Open opportunities (active, not won) on the snapshot date.",
    )
    expected_revenue = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="Sum of the expected revenue of the open opportunities.",
    )
    prorated_revenue = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="Sum of expected revenue x Odoo's probability of the open opportunities.",
    )
    historical_revenue = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="Sum of expected revenue x historical probability of the open "
        "opportunities.",
    )
    # Forecast per month (calendar months after the snapshot date's month)
    forecast_prorated_month_1 = fields.Monetary(
        string="Month +1 (Prorated)",
        currency_field="company_currency",
        readonly=True,
        help="Prorated revenue of the open opportunities expected to close in the "
        "month after the snapshot's month (Odoo's probability, expected closing).",
    )
    forecast_prorated_month_2 = fields.Monetary(
        string="Month +2 (Prorated)",
        currency_field="company_currency",
        readonly=True,
        help="Prorated revenue of the open opportunities expected to close in the "
        "second month after the snapshot's month.",
    )
    forecast_prorated_month_3 = fields.Monetary(
        string="Month +3 (Prorated)",
        currency_field="company_currency",
        readonly=True,
        help="Prorated revenue of the open opportunities expected to close in the "
        "third month after the snapshot's month.",
    )
    forecast_historical_month_1 = fields.Monetary(
        string="Month +1 (Historical)",
        currency_field="company_currency",
        readonly=True,
        help="Historical revenue of the open opportunities predicted to close in "
        "the month after the snapshot's month (historical probability, predicted "
        "closing).",
    )
    forecast_historical_month_2 = fields.Monetary(
        string="Month +2 (Historical)",
        currency_field="company_currency",
        readonly=True,
        help="Historical revenue of the open opportunities predicted to close in the "
        "second month after the snapshot's month.",
    )
    forecast_historical_month_3 = fields.Monetary(
        string="Month +3 (Historical)",
        currency_field="company_currency",
        readonly=True,
        help="Historical revenue of the open opportunities predicted to close in the "
        "third month after the snapshot's month.",
    )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _cron_take_snapshot(self):
        done = self._take_snapshot()
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)

    @api.model
    def _get_snapshot_lead_domain_sql(self):
        """SQL condition on ``lead`` (crm_lead) and ``stage`` (crm_stage) of the
        leads a snapshot counts: open opportunities."""
        return self.env["crm.lead"]._get_open_opportunity_sql()

    @api.model
    def _take_snapshot(self, snapshot_date=None):
        """Make the snapshot rows of ``snapshot_date`` (default: today) the
        current open pipeline, company by company, each in its own
        savepoint: a company that fails is logged and skipped. The historical
        forecast is refreshed first so that the rows use today's figures.

        :return: number of companies snapshotted
        """
        snapshot_date = snapshot_date or self.env.cr.now().date()
        self.env["crm.lead"]._refresh_historical_forecast()
        self.flush_model()
        # all companies, whoever runs it: rows are filtered by the record rules
        company_ids = self.env["res.company"].sudo().search([]).ids + [None]
        done = 0
        for company_id in company_ids:
            try:
                with self.env.cr.savepoint():
                    self._take_company_snapshot(snapshot_date, company_id)
                done += 1
            except Exception:
                _logger.exception(
                    "Pipeline snapshot of %s failed for company %s",
                    snapshot_date,
                    company_id,
                )
        self.invalidate_model()
        return done

    @api.model
    def _get_insert_columns_sql(self):
        """The columns a snapshot query fills, in the order of its SELECT."""
        return SQL(", ").join(
            map(
                SQL.identifier,
                [
                    "snapshot_date",
                    *self._get_value_columns(),
                    "create_uid",
                    "create_date",
                    "write_uid",
                    "write_date",
                ],
            )
        )

    @api.model
    def _get_forecast_months_sql(
        self, snapshot_date, prorated, historical, names=False
    ):
        """The six forecast columns of snapshot lines: the prorated, then the
        historical revenue expected in each of the three calendar months after
        the month of ``snapshot_date`` (SQL). ``prorated`` and ``historical``
        are (amount, closing date) SQL expressions summed per line; with
        ``names``, each column is named after its field."""
        start = SQL("date_trunc('month', %s)", snapshot_date)

        def in_month(date_column, offset):
            return SQL(
                "%(column)s >= (%(start)s + make_interval(months => %(offset)s))::date"
                " AND %(column)s"
                " < (%(start)s + make_interval(months => %(offset)s + 1))::date",
                column=date_column,
                start=start,
                offset=offset,
            )

        return SQL(", ").join(
            SQL(
                "COALESCE(SUM(%s) FILTER (WHERE %s), 0)%s",
                amount,
                in_month(date_column, offset),
                SQL(" AS %s", SQL.identifier(f"forecast_{method}_month_{offset}"))
                if names
                else SQL(),
            )
            for method, (amount, date_column) in (
                ("prorated", prorated),
                ("historical", historical),
            )
            for offset in (1, 2, 3)
        )

    @api.model
    def _take_company_snapshot(self, snapshot_date, company_id):
        """Make the rows of one company (None: leads without a company) for
        ``snapshot_date`` the current open pipeline, in one statement: the
        rows that no longer hold are deleted and the missing ones inserted.
        A row that still holds is left alone, so that a second snapshot the
        same day with nothing changed writes nothing."""
        company_condition = (
            SQL("snap.company_id = %s", company_id)
            if company_id
            else SQL("snap.company_id IS NULL")
        )
        lead_company_condition = (
            SQL("lead.company_id = %s", company_id)
            if company_id
            else SQL("lead.company_id IS NULL")
        )
        values = SQL(", ").join(map(SQL.identifier, self._get_value_columns()))
        same_row = SQL(
            "(%s) IS NOT DISTINCT FROM (%s)",
            SQL(", ").join(
                SQL.identifier("snap", column) for column in self._get_value_columns()
            ),
            SQL(", ").join(
                SQL.identifier("new_row", column)
                for column in self._get_value_columns()
            ),
        )
        self.env.cr.execute(
            SQL(
                """
                WITH new_row AS (
                    SELECT lead.company_id, lead.team_id, lead.user_id,
                           lead.stage_id, lead.standard_stage_id,
                           COUNT(*) AS open_count,
                           COALESCE(SUM(lead.expected_revenue), 0) AS expected_revenue,
                           COALESCE(SUM(lead.prorated_revenue), 0) AS prorated_revenue,
                           COALESCE(SUM(lead.historical_revenue), 0)
                               AS historical_revenue,
                           %(forecasts)s
                      FROM crm_lead lead
                      LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                     WHERE %(lead_company)s AND %(open_leads)s
                     GROUP BY lead.company_id, lead.team_id, lead.user_id,
                              lead.stage_id, lead.standard_stage_id
                ),
                gone AS (
                    DELETE FROM crm_pipeline_snapshot snap
                     WHERE snap.snapshot_date = %(snapshot_date)s AND %(company)s
                       AND NOT EXISTS (SELECT 1 FROM new_row WHERE %(same_row)s)
                )
                INSERT INTO crm_pipeline_snapshot (%(columns)s)
                SELECT %(snapshot_date)s, %(values)s,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM new_row
                 WHERE NOT EXISTS (
                       SELECT 1 FROM crm_pipeline_snapshot snap
                        WHERE snap.snapshot_date = %(snapshot_date)s AND %(company)s
                          AND %(same_row)s)
                """,
                columns=self._get_insert_columns_sql(),
                values=values,
                snapshot_date=snapshot_date,
                company=company_condition,
                same_row=same_row,
                forecasts=self._get_forecast_months_sql(
                    SQL("%s::date", snapshot_date),
                    (SQL("lead.prorated_revenue"), SQL("lead.date_deadline")),
                    (SQL("lead.historical_revenue"), SQL("lead.predicted_close_date")),
                    names=True,
                ),
                uid=self.env.uid,
                now=self.env.cr.now(),
                lead_company=lead_company_condition,
                open_leads=self._get_snapshot_lead_domain_sql(),
            )
        )

    @api.model
    def _get_value_columns(self):
        """The columns that make a snapshot row, besides its date: a row
        whose columns all hold is kept by a new snapshot of the same day."""
        return [
            "company_id",
            "team_id",
            "user_id",
            "stage_id",
            "standard_stage_id",
            "open_count",
            "expected_revenue",
            "prorated_revenue",
            "historical_revenue",
            "forecast_prorated_month_1",
            "forecast_prorated_month_2",
            "forecast_prorated_month_3",
            "forecast_historical_month_1",
            "forecast_historical_month_2",
            "forecast_historical_month_3",
        ]
