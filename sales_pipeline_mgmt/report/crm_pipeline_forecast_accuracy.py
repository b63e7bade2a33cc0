# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.tools import SQL, frozendict

FORECAST_METHODS = [
    ("prorated", "Odoo's Probability"),
    ("historical", "Historical"),
]


class CrmPipelineForecastAccuracy(models.Model):
    """For each completed month, the revenue forecast to close in it by the
    snapshot taken N weeks before the month starts (the latest snapshot on or
    before that day, N set per company), against the revenue actually won in
    the month, per method, team and salesperson."""

    _name = "crm.pipeline.forecast.accuracy"
    _description = "Forecast Accuracy"
    _auto = False
    _order = "month desc, id"
    _rec_name = "month"
    # what the query reads: pending ORM writes to it are flushed first
    _depends = frozendict(
        {
            "res.company": ["forecast_accuracy_lead_weeks"],
            "crm.stage": ["is_won"],
            "crm.pipeline.snapshot": [
                "snapshot_date",
                "company_id",
                "team_id",
                "user_id",
                "forecast_prorated_month_1",
                "forecast_prorated_month_2",
                "forecast_prorated_month_3",
                "forecast_historical_month_1",
                "forecast_historical_month_2",
                "forecast_historical_month_3",
            ],
            "crm.lead": [
                "active",
                "stage_id",
                "probability",
                "type",
                "date_closed",
                "expected_revenue",
                "company_id",
                "team_id",
                "user_id",
            ],
        }
    )

    month = fields.Date(
        readonly=True,
        help="The completed month whose forecast is checked.",
    )
    snapshot_date = fields.Date(
        string="Forecast Taken On",
        readonly=True,
        help="Date of the snapshot the forecast comes from: the latest one taken at "
        "least the accuracy lead time (weeks) before the month started.",
    )
    method = fields.Selection(
        FORECAST_METHODS,
        readonly=True,
        help="Odoo's Probability: prorated revenue by expected closing month. "
        "Historical: historical revenue by predicted closing month.",
    )
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_currency = fields.Many2one(
        "res.currency", related="company_id.currency_id", string="Currency"
    )
    forecast_revenue = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        help="Revenue the snapshot forecast to close in the month, by the method of "
        "the line.",
    )
    actual_revenue = fields.Monetary(
        string="Won Revenue",
        currency_field="company_currency",
        readonly=True,
        help="Expected revenue of the opportunities won (closed) in the month.",
    )
    error_revenue = fields.Monetary(
        string="Error",
        currency_field="company_currency",
        readonly=True,
        help="Forecast revenue - won revenue.",
    )
    error_percent = fields.Float(
        string="Error (%)",
        readonly=True,
        aggregator="avg",
        help="(Forecast - won) / won x 100; empty when nothing was won. Grouped "
        "lines show the average of the rows: compare the Error and Won Revenue "
        "sums for the error of a group.",
    )

    @property
    def _table_query(self):
        def pick(prefix):
            return SQL(
                "SUM(CASE chosen.month_offset WHEN 1 THEN %s WHEN 2 THEN %s"
                " WHEN 3 THEN %s END)",
                SQL.identifier("snapshot", f"forecast_{prefix}_month_1"),
                SQL.identifier("snapshot", f"forecast_{prefix}_month_2"),
                SQL.identifier("snapshot", f"forecast_{prefix}_month_3"),
            )

        return SQL(
            """
            WITH forecast_month AS (
                SELECT DISTINCT snapshot.company_id,
                       (date_trunc('month', snapshot.snapshot_date)
                        + make_interval(months => offsets.month_offset))::date AS month
                  FROM crm_pipeline_snapshot snapshot
                 CROSS JOIN generate_series(1, 3) AS offsets(month_offset)
            ),
            chosen_date AS (
                SELECT forecast_month.company_id, forecast_month.month,
                       (SELECT MAX(snapshot.snapshot_date)
                          FROM crm_pipeline_snapshot snapshot
                         WHERE COALESCE(snapshot.company_id, 0)
                               = COALESCE(forecast_month.company_id, 0)
                           AND snapshot.snapshot_date <= forecast_month.month
                               - 7 * %(lead_weeks)s
                       ) AS snapshot_date
                  FROM forecast_month
                  LEFT JOIN res_company company
                         ON company.id = forecast_month.company_id
                 WHERE forecast_month.month < date_trunc('month', %(today)s::date)
            ),
            chosen AS (
                SELECT company_id, month, snapshot_date,
                       (EXTRACT(YEAR FROM month) * 12 + EXTRACT(MONTH FROM month))
                       - (EXTRACT(YEAR FROM snapshot_date) * 12
                          + EXTRACT(MONTH FROM snapshot_date)) AS month_offset
                  FROM chosen_date
                 WHERE snapshot_date IS NOT NULL
            ),
            forecast AS (
                SELECT chosen.company_id, chosen.month, chosen.snapshot_date,
                       snapshot.team_id, snapshot.user_id,
                       %(prorated)s AS prorated, %(historical)s AS historical
                  FROM chosen
                  JOIN crm_pipeline_snapshot snapshot
                    ON COALESCE(snapshot.company_id, 0) = COALESCE(chosen.company_id, 0)
                   AND snapshot.snapshot_date = chosen.snapshot_date
                 WHERE chosen.month_offset BETWEEN 1 AND 3
                 GROUP BY chosen.company_id, chosen.month, chosen.snapshot_date,
                          snapshot.team_id, snapshot.user_id
            ),
            actual AS (
                SELECT chosen.company_id, chosen.month, chosen.snapshot_date,
                       lead.team_id, lead.user_id,
                       SUM(lead.expected_revenue) AS revenue
                  FROM crm_lead lead
                  JOIN crm_stage stage ON stage.id = lead.stage_id
                  JOIN chosen
                    ON COALESCE(chosen.company_id, 0) = COALESCE(lead.company_id, 0)
                   AND chosen.month = date_trunc('month', lead.date_closed)::date
                   AND chosen.month_offset BETWEEN 1 AND 3
                 WHERE %(won)s AND lead.type = 'opportunity'
                 GROUP BY chosen.company_id, chosen.month, chosen.snapshot_date,
                          lead.team_id, lead.user_id
            ),
            joined AS (
                SELECT COALESCE(forecast.company_id, actual.company_id) AS company_id,
                       COALESCE(forecast.month, actual.month) AS month,
                       COALESCE(forecast.snapshot_date, actual.snapshot_date)
                           AS snapshot_date,
                       COALESCE(forecast.team_id, actual.team_id) AS team_id,
                       COALESCE(forecast.user_id, actual.user_id) AS user_id,
                       COALESCE(forecast.prorated, 0) AS prorated,
                       COALESCE(forecast.historical, 0) AS historical,
                       COALESCE(actual.revenue, 0) AS actual_revenue
                  FROM forecast
                  FULL JOIN actual
                    ON COALESCE(actual.company_id, 0) = COALESCE(forecast.company_id, 0)
                   AND actual.month = forecast.month
                   AND COALESCE(actual.team_id, 0) = COALESCE(forecast.team_id, 0)
                   AND COALESCE(actual.user_id, 0) = COALESCE(forecast.user_id, 0)
            ),
            by_method AS (
                SELECT joined.*, methods.method,
                       CASE methods.method WHEN 'prorated' THEN joined.prorated
                            ELSE joined.historical END AS forecast_revenue
                  FROM joined
                 CROSS JOIN (VALUES ('prorated'), ('historical')) AS methods(method)
            )
            SELECT ROW_NUMBER() OVER (
                       ORDER BY month, company_id, team_id, user_id, method) AS id,
                   month, snapshot_date, method, company_id, team_id, user_id,
                   forecast_revenue, actual_revenue,
                   forecast_revenue - actual_revenue AS error_revenue,
                   CASE WHEN actual_revenue <> 0
                        THEN 100.0 * (forecast_revenue - actual_revenue)
                             / actual_revenue END AS error_percent
              FROM by_method
            """,
            today=self.env.cr.now().date(),
            prorated=pick("prorated"),
            historical=pick("historical"),
            lead_weeks=self.env["res.company"]._get_forecast_setting_sql(
                "forecast_accuracy_lead_weeks"
            ),
            won=self.env["crm.lead"]._pipeline_state_sql()[0],
        )
