# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models
from odoo.tools import SQL, frozendict

from .crm_lead_stage_analysis import LEAD_STATES


class CrmLeadFunnel(models.Model):
    """The sales funnel: one row per lead and standard stage it reached.

    A lead reached a standard stage when it stayed in a stage mapped onto it or
    onto a later one (a lead that skipped a step still went past it), so the
    counts never grow from one step to the next. ``next_reached_rate`` is 100
    when the lead also reached the next standard stage, 0 otherwise: its
    average per standard stage is the conversion to the next stage."""

    _name = "crm.lead.funnel"
    _description = "Sales Funnel"
    _auto = False
    _order = "standard_stage_sequence, lead_id"
    _rec_name = "standard_stage_id"
    # what the query reads: pending ORM writes to it are flushed first
    _depends = frozendict(
        {
            "crm.lead": [
                "active",
                "company_id",
                "create_date",
                "probability",
                "source_id",
                "stage_id",
                "team_id",
                "user_id",
            ],
            "crm.lead.stage.history": ["lead_id", "standard_stage_id"],
            "crm.stage": ["is_won"],
            "crm.standard.stage": ["active", "sequence"],
        }
    )

    # Funnel step
    lead_id = fields.Many2one("crm.lead", readonly=True)
    standard_stage_id = fields.Many2one("crm.standard.stage", readonly=True)
    standard_stage_sequence = fields.Integer(
        string="Step Sequence",
        readonly=True,
        help="Position of the standard stage in the sales process (Awareness first, "
        "Purchase last).",
    )
    next_reached_rate = fields.Float(
        string="Conversion to Next Stage (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the leads that reached this standard stage and went on "
        "to reach the next one.",
    )
    # Lead
    create_date = fields.Datetime(string="Created On", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    source_id = fields.Many2one("utm.source", readonly=True)
    lead_state = fields.Selection(
        LEAD_STATES,
        string="Outcome",
        readonly=True,
        help="What became of the lead: still open, won (active, in a won "
        "stage) or lost (archived with probability 0).",
    )

    @property
    def _table_query(self):
        return SQL(
            """
            WITH steps AS (
                SELECT standard.id, standard.sequence,
                       LEAD(standard.sequence) OVER (
                           ORDER BY standard.sequence, standard.id
                       ) AS next_sequence
                  FROM crm_standard_stage standard
                 WHERE standard.active
            )
            SELECT lead.id::int8 * 1000 + steps.id AS id,
                   lead.id AS lead_id,
                   steps.id AS standard_stage_id,
                   steps.sequence AS standard_stage_sequence,
                   CASE WHEN steps.next_sequence IS NULL THEN NULL
                        WHEN reached.max_sequence >= steps.next_sequence THEN 100.0
                        ELSE 0.0 END AS next_reached_rate,
                   lead.create_date, lead.user_id, lead.team_id, lead.company_id,
                   lead.source_id,
                   %(outcome)s AS lead_state
              FROM crm_lead lead
             CROSS JOIN LATERAL (
                   -- per lead, so that filters on the lead (team, dates)
                   -- narrow the work before the history is read
                   SELECT MAX(standard.sequence) AS max_sequence
                     FROM crm_lead_stage_history stay
                     JOIN crm_standard_stage standard
                       ON standard.id = stay.standard_stage_id
                    WHERE stay.lead_id = lead.id
                   ) reached
              LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
              JOIN steps ON steps.sequence <= reached.max_sequence
            """,
            outcome=self.env["crm.lead"]._pipeline_outcome_sql(),
        )
