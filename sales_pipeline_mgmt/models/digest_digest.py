# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.exceptions import AccessError


class DigestDigest(models.Model):
    _inherit = "digest.digest"

    # Pipeline KPIs
    kpi_spm_win_percentage = fields.Boolean(
        string="Win Percentage",
        help="Among the opportunities closed in the period (won or lost), the share "
        "won.",
    )
    kpi_spm_win_percentage_value = fields.Float(
        compute="_compute_kpi_spm_pipeline_values"
    )
    kpi_spm_avg_days_to_win = fields.Boolean(
        string="Average Days to Win",
        help="Mean number of days from the start of the opportunity to its win, over "
        "the opportunities won in the period.",
    )
    kpi_spm_avg_days_to_win_value = fields.Float(
        compute="_compute_kpi_spm_pipeline_values"
    )
    kpi_spm_open_opportunities = fields.Boolean(
        string="Open Opportunities",
        help="Active opportunities that are not won, at the time of the digest.",
    )
    kpi_spm_open_opportunities_value = fields.Integer(
        compute="_compute_kpi_spm_pipeline_values"
    )

    def _compute_kpi_spm_pipeline_values(self):
        """The digest's period and companies, seen with the recipient's rights.
        An empty population shows as 0: a digest has no room for "–"."""
        if not self.env.user.has_group("sales_team.group_sale_salesman"):
            raise AccessError(
                self.env._("Do not have access, skip this data for user's digest email")
            )
        start, end, companies = self._get_kpi_compute_parameters()
        kpis = self.env["crm.lead"].get_pipeline_kpis(
            [("company_id", "in", companies.ids)], start, end
        )
        for digest in self:
            digest.kpi_spm_win_percentage_value = kpis["win_percentage"] or 0.0
            digest.kpi_spm_avg_days_to_win_value = kpis["avg_days_to_win"] or 0.0
            digest.kpi_spm_open_opportunities_value = kpis["open_opportunity_count"]

    def _compute_kpis_actions(self, company, user):
        res = super()._compute_kpis_actions(company, user)
        menu_id = self.env.ref("crm.crm_menu_root").id
        action = (
            f"sales_pipeline_mgmt.crm_lead_action_pipeline_dashboard&menu_id={menu_id}"
        )
        for kpi in (
            "kpi_spm_win_percentage",
            "kpi_spm_avg_days_to_win",
        ):
            res[kpi] = action
        res["kpi_spm_open_opportunities"] = (
            f"crm.crm_lead_action_pipeline&menu_id={menu_id}"
        )
        return res
