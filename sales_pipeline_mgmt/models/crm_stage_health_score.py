# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL


class CrmStage(models.Model):
    """The usual time in the stage that the deal health score compares each
    opportunity's stay with."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.stage"  # pylint: disable=consider-merging-classes-inherited

    health_usual_days = fields.Float(
        string="Usual Days in Stage",
        readonly=True,
        copy=False,
        digits=(16, 1),
        help="Average length in days of the finished stays in this stage, every "
        "salesperson's, as the daily health score job last measured it. Empty "
        "until a stay in the stage ended.",
    )

    @api.model
    def _refresh_health_usual_days(self):
        """Store the average finished stay of every stage in one statement.
        It is the Avg. Days in Stage figure measured over every stay, so that
        scoring an opportunity reads one column instead of aggregating the
        stage history on each write. Unchanged stages are not rewritten.

        :return: number of stages updated
        """
        self.env["crm.lead.stage.history"].flush_model(
            ["stage_id", "date_out", "duration_days"]
        )
        self.flush_model(["health_usual_days"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_stage stage
                   SET health_usual_days = figures.avg_days
                  FROM (SELECT s.id,
                               ROUND(AVG(stay.duration_days)::numeric, 2)
                                   AS avg_days
                          FROM crm_stage s
                          LEFT JOIN crm_lead_stage_history stay
                                 ON stay.stage_id = s.id
                                AND stay.date_out IS NOT NULL
                         GROUP BY s.id) figures
                 WHERE stage.id = figures.id
                   AND stage.health_usual_days IS DISTINCT FROM figures.avg_days
                """
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model(["health_usual_days"])
        return count
