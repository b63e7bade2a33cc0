# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models, tools
from odoo.tools import SQL


class CrmLeadForecastStat(models.Model):
    """Statistics of the historical forecast: per company, team and stage, and
    per company and stage over all its teams (no team), the closed leads that
    stayed in the stage during the company's history window, how many were won
    and the median number of days they took to be won after entering it.

    A cache, like crm's crm.lead.scoring.frequency: the full refresh of the
    forecast (crm.lead._refresh_historical_forecast) rewrites it in the same
    statement as the leads' figures, and refreshing single leads (a stage move,
    new leads) reads it instead of scanning their stage's whole history."""

    _name = "crm.lead.forecast.stat"
    _description = "Forecast Statistics"
    _order = "company_id, stage_id, team_id, id"
    _log_access = False

    company_id = fields.Many2one("res.company", readonly=True, ondelete="cascade")
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        readonly=True,
        ondelete="cascade",
        help="Empty on the line of all the teams of the company.",
    )
    stage_id = fields.Many2one(
        "crm.stage", required=True, readonly=True, ondelete="cascade"
    )
    sample_size = fields.Integer(
        readonly=True,
        help="Closed leads (won or lost) that were in the stage during the "
        "history window.",
    )
    won_count = fields.Integer(string="Won", readonly=True)
    median_days = fields.Float(
        string="Median Days to Win",
        readonly=True,
        help="Median number of days the won leads of the sample took to be won "
        "after (last) entering the stage.",
    )

    def init(self):
        # One line per company, team and stage: a refresh running at the same
        # time as another one waits for it, then fails on its lines (and is
        # retried) instead of adding them a second time.
        tools.create_unique_index(
            self.env.cr,
            "crm_lead_forecast_stat_key_uniq",
            self._table,
            ["COALESCE(company_id, 0)", "COALESCE(team_id, 0)", "stage_id"],
        )

    @api.model
    def _get_statistics_sql(self, now, recompute):
        """The CTEs ``team_stat`` and ``company_stat`` of the forecast refresh.

        :param bool recompute: compute them from the whole stage history and
            save them in this model (full refresh), rather than read the saved
            ones (refresh of given leads)
        """
        if not recompute:
            return SQL(
                """
                team_stat AS (
                    SELECT company_id, team_id, stage_id, sample_size, won_count,
                           median_days
                      FROM crm_lead_forecast_stat
                     WHERE team_id IS NOT NULL
                ),
                company_stat AS (
                    SELECT company_id, stage_id, sample_size, won_count, median_days
                      FROM crm_lead_forecast_stat
                     WHERE team_id IS NULL
                ),
                """
            )
        won, lost = self.env["crm.lead"]._pipeline_state_sql()
        return SQL(
            """
                closed_lead AS (
                    SELECT lead.id, lead.date_closed, %(won)s AS is_won
                      FROM crm_lead lead
                      LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                     WHERE %(won)s OR %(lost)s
                ),
                sample_stay AS (
                    SELECT history.company_id, history.team_id, history.stage_id,
                           history.lead_id, history.date_in,
                           closed_lead.is_won, closed_lead.date_closed
                      FROM crm_lead_stage_history history
                      JOIN closed_lead ON closed_lead.id = history.lead_id
                      LEFT JOIN res_company company ON company.id = history.company_id
                     WHERE history.date_in <= %(now)s
                       AND (history.date_out IS NULL
                            OR history.date_out
                               >= %(now)s - make_interval(months => %(months)s))
                ),
                team_sample AS (
                    SELECT company_id, team_id, stage_id, lead_id,
                           bool_or(is_won) AS is_won,
                           CASE WHEN bool_or(is_won) THEN GREATEST(EXTRACT(EPOCH FROM (
                               MAX(date_closed) - MAX(date_in))) / 86400.0, 0)
                           END AS remaining_days
                      FROM sample_stay
                     WHERE team_id IS NOT NULL
                     GROUP BY company_id, team_id, stage_id, lead_id
                ),
                company_sample AS (
                    SELECT company_id, stage_id, lead_id,
                           bool_or(is_won) AS is_won,
                           CASE WHEN bool_or(is_won) THEN GREATEST(EXTRACT(EPOCH FROM (
                               MAX(date_closed) - MAX(date_in))) / 86400.0, 0)
                           END AS remaining_days
                      FROM sample_stay
                     GROUP BY company_id, stage_id, lead_id
                ),
                team_stat AS (
                    SELECT company_id, team_id, stage_id, COUNT(*) AS sample_size,
                           COUNT(*) FILTER (WHERE is_won) AS won_count,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY remaining_days)
                               AS median_days
                      FROM team_sample
                     GROUP BY company_id, team_id, stage_id
                ),
                company_stat AS (
                    SELECT company_id, stage_id, COUNT(*) AS sample_size,
                           COUNT(*) FILTER (WHERE is_won) AS won_count,
                           percentile_cont(0.5) WITHIN GROUP (ORDER BY remaining_days)
                               AS median_days
                      FROM company_sample
                     GROUP BY company_id, stage_id
                ),
                new_stat AS (
                    SELECT company_id, team_id, stage_id, sample_size, won_count,
                           median_days
                      FROM team_stat
                     UNION ALL
                    SELECT company_id, NULL, stage_id, sample_size, won_count,
                           median_days
                      FROM company_stat
                ),
                -- the lines of the keys that have no sample any more go; the
                -- others are inserted or updated in place, so that no key is
                -- ever deleted and inserted in the same statement
                stat_cleared AS (
                    DELETE FROM crm_lead_forecast_stat stat
                     WHERE NOT EXISTS (
                           SELECT 1 FROM new_stat
                            WHERE COALESCE(new_stat.company_id, 0)
                                  = COALESCE(stat.company_id, 0)
                              AND COALESCE(new_stat.team_id, 0)
                                  = COALESCE(stat.team_id, 0)
                              AND new_stat.stage_id = stat.stage_id)
                ),
                stat_saved AS (
                    INSERT INTO crm_lead_forecast_stat AS stat (
                        company_id, team_id, stage_id, sample_size, won_count,
                        median_days)
                    SELECT company_id, team_id, stage_id, sample_size, won_count,
                           median_days
                      FROM new_stat
                    ON CONFLICT ((COALESCE(company_id, 0)), (COALESCE(team_id, 0)),
                                 stage_id)
                    DO UPDATE SET sample_size = EXCLUDED.sample_size,
                                  won_count = EXCLUDED.won_count,
                                  median_days = EXCLUDED.median_days
                     WHERE (stat.sample_size, stat.won_count, stat.median_days)
                           IS DISTINCT FROM (EXCLUDED.sample_size,
                                             EXCLUDED.won_count,
                                             EXCLUDED.median_days)
                ),
            """,
            now=now,
            won=won,
            lost=lost,
            months=self.env["res.company"]._get_forecast_setting_sql(
                "forecast_history_months"
            ),
        )
