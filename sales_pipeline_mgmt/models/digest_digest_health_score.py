# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import format_amount

from .crm_lead_health_score import HEALTH_SCORE_AT_RISK

# How many deals at risk the digest lists
DIGEST_DEALS_AT_RISK_LIMIT = 5


class DigestDigest(models.Model):
    """The deal health part of the digest: a KPI (the number of deals at risk
    of the recipient's teams) and, below the KPIs, the riskiest of those deals
    and the week's pipeline changes (see the template in
    views/digest_digest_health_score_views.xml)."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "digest.digest"  # pylint: disable=consider-merging-classes-inherited

    kpi_spm_deals_at_risk = fields.Boolean(
        string="Deals at Risk",
        help="Open opportunities of the recipient's teams whose health score is "
        "below the at-risk band, at the time of the digest; the digest also lists "
        "the riskiest of them and the week's pipeline changes.",
    )
    kpi_spm_deals_at_risk_value = fields.Integer(
        compute="_compute_kpi_spm_deals_at_risk_value"
    )

    def _compute_kpi_spm_deals_at_risk_value(self):
        if not self.env.user.has_group("sales_team.group_sale_salesman"):
            raise AccessError(
                self.env._("Do not have access, skip this data for user's digest email")
            )
        user = self.env.user
        teams = self._get_spm_recipient_teams(user)
        domain = self.env["crm.lead"]._get_deals_at_risk_domain(
            team_ids=teams.ids, user_id=False if teams else user.id
        )
        count = self.env["crm.lead"].search_count(
            [*domain, ("health_score", "<", HEALTH_SCORE_AT_RISK)]
        )
        for digest in self:
            digest.kpi_spm_deals_at_risk_value = count

    def _compute_kpis_actions(self, company, user):
        res = super()._compute_kpis_actions(company, user)
        menu_id = self.env.ref("crm.crm_menu_root").id
        res["kpi_spm_deals_at_risk"] = (
            f"sales_pipeline_mgmt.crm_lead_action_deals_at_risk&menu_id={menu_id}"
        )
        return res

    @api.model
    def _get_spm_recipient_teams(self, user):
        """The teams ``user`` leads or belongs to: the digest reports on their
        deals, or on the user's own when there is none."""
        return self.env["crm.team"].search(
            ["|", ("user_id", "=", user.id), ("member_ids", "in", user.ids)]
        )

    def _get_spm_digest_sections(self, user):
        """What the digest shows below its KPIs for ``user``, read with their
        rights: {"deals_at_risk": dict of crm.lead.get_deals_at_risk or None,
        "pipeline_changes": dict or None}. Empty when the digest does not
        include the Deals at Risk KPI or the user is no salesperson."""
        self.ensure_one()
        if not self.kpi_spm_deals_at_risk or not user.has_group(
            "sales_team.group_sale_salesman"
        ):
            return {}
        digest = self.with_user(user).with_company(user.company_id)
        lead_model = digest.env["crm.lead"]
        teams = digest._get_spm_recipient_teams(user)
        deals = lead_model.get_deals_at_risk(
            team_ids=teams.ids,
            user_id=False if teams else user.id,
            limit=DIGEST_DEALS_AT_RISK_LIMIT,
        )
        return {
            "deals_at_risk": deals if deals["deals"] else None,
            "pipeline_changes": digest._get_spm_digest_pipeline_changes(teams),
        }

    def _get_spm_digest_pipeline_changes(self, teams):
        """The pipeline changes of the last 7 days (the waterfall's figures)
        for ``teams``, or the user's own deals when they are in no team:
        {"rows": [{label, count, amount}]} from the open pipeline at the start
        to the one at the end, the empty bars left out."""
        lead_model = self.env["crm.lead"]
        changes = lead_model.get_pipeline_changes(
            {"team_ids": teams.ids, "user_id": False if teams else self.env.uid}
        )
        currency = self.env["res.currency"].browse(changes["currency_id"])
        labels = lead_model._get_pipeline_change_labels()

        def row(label, count, amount):
            return {
                "label": label,
                "count": count,
                "amount": format_amount(self.env, amount, currency),
            }

        return {
            "rows": [
                row(labels["start"], **changes["start"]),
                *(
                    row(bar["label"], bar["count"], bar["amount"])
                    for bar in changes["bars"]
                    if bar["count"] or bar["amount"]
                ),
                row(labels["end"], **changes["end"]),
            ]
        }
