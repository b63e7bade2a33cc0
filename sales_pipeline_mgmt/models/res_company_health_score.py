# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

# The weight of each signal of the deal health score, in points, and the days
# without contact the score tolerates: for new companies, and in the SQL of the
# score for the leads without a company.
HEALTH_SCORE_SETTING_DEFAULTS = {
    "health_weight_slow_stage": 25,
    "health_weight_stalled": 15,
    "health_weight_close_date_slip": 10,
    "health_weight_overdue": 20,
    "health_weight_predicted_late": 10,
    "health_weight_no_contact": 15,
    "health_weight_skipped_stage": 5,
    "health_weight_amount_decrease": 10,
    "health_weight_stage_probability": 20,
    "health_contact_days": 14,
}
HEALTH_SCORE_MAX_WEIGHT = 100


class ResCompany(models.Model):
    """Settings of the deal health score, per company: one weight per signal
    (see crm_lead_health_score.py for the rule)."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    health_weight_slow_stage = fields.Integer(
        string="Health: Slow Stage Weight",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_weight_slow_stage"],
        help="Points lost by an opportunity that stays in its stage twice the "
        "stage's usual time or longer; proportionally less between once and twice.",
    )
    health_weight_stalled = fields.Integer(
        string="Health: Stalled Weight",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_weight_stalled"],
        help="Points lost by a stalled opportunity.",
    )
    health_weight_close_date_slip = fields.Integer(
        string="Health: Closing Date Slip Weight",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_weight_close_date_slip"],
        help="Points lost each time the expected closing date was moved later "
        "(three times at most).",
    )
    health_weight_overdue = fields.Integer(
        string="Health: Closing Date Passed Weight",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_weight_overdue"],
        help="Points lost by an open opportunity whose expected closing date has "
        "passed.",
    )
    health_weight_predicted_late = fields.Integer(
        string="Health: Predicted Late Weight",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_weight_predicted_late"],
        help="Points lost by an opportunity whose predicted closing is later than "
        "its expected closing by more than the optimistic margin.",
    )
    health_weight_no_contact = fields.Integer(
        string="Health: No Contact Weight",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_weight_no_contact"],
        help="Points lost by an opportunity without contact for twice the "
        "tolerated days or longer; proportionally less in between.",
    )
    health_contact_days = fields.Integer(
        string="Health: Days Without Contact Tolerated",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_contact_days"],
        help="An opportunity loses no point for lack of contact during these days.",
    )
    health_weight_skipped_stage = fields.Integer(
        string="Health: Skipped Stage Weight",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_weight_skipped_stage"],
        help="Points lost per stage the opportunity skipped (three at most).",
    )
    health_weight_amount_decrease = fields.Integer(
        string="Health: Amount Decrease Weight",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_weight_amount_decrease"],
        help="Points lost each time the expected revenue was lowered (three times "
        "at most).",
    )
    health_weight_stage_probability = fields.Integer(
        string="Health: Stage Probability Weight",
        default=HEALTH_SCORE_SETTING_DEFAULTS["health_weight_stage_probability"],
        help="Points lost by an opportunity whose historical probability is 0 %; "
        "proportionally less up to 100 %, which loses none.",
    )

    @api.model
    def _get_health_score_setting_fields(self):
        return list(HEALTH_SCORE_SETTING_DEFAULTS)

    @api.model
    def _get_health_score_weight_fields(self):
        return [
            fname
            for fname in HEALTH_SCORE_SETTING_DEFAULTS
            if fname.startswith("health_weight_")
        ]

    @api.model
    def _get_health_score_setting_sql(self, fname, company_alias="company"):
        """The setting ``fname`` of the company ``company_alias`` (res_company,
        LEFT JOINed), or its default when there is none."""
        return SQL(
            "COALESCE(%s, %s)",
            SQL.identifier(company_alias, fname),
            HEALTH_SCORE_SETTING_DEFAULTS[fname],
        )

    @api.model
    def _get_non_negative_setting_fields(self):
        return [
            *super()._get_non_negative_setting_fields(),
            *self._get_health_score_weight_fields(),
        ]

    @api.model
    def _get_positive_setting_fields(self):
        return [*super()._get_positive_setting_fields(), "health_contact_days"]

    @api.constrains(lambda self: self._get_health_score_weight_fields())
    def _check_health_score_weights(self):
        for company in self:
            for fname in self._get_health_score_weight_fields():
                if company[fname] > HEALTH_SCORE_MAX_WEIGHT:
                    raise ValidationError(
                        self.env._(
                            "%(field)s cannot exceed %(max)s points (%(company)s).",
                            field=self._fields[fname]._description_string(self.env),
                            max=HEALTH_SCORE_MAX_WEIGHT,
                            company=company.display_name,
                        )
                    )

    def write(self, vals):
        res = super().write(vals)
        if set(self._get_health_score_setting_fields()).intersection(vals):
            self.env["crm.lead"]._refresh_health_scores(
                SQL("lead.company_id IN %s", tuple(self.ids))
            )
        return res
