# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL, frozendict

from ..models.crm_lead_stage_history import MOVE_TYPES

LEAD_STATES = [
    ("open", "Open"),
    ("won", "Won"),
    ("lost", "Lost"),
]


class CrmLeadStageAnalysis(models.Model):
    """Stage history as managers analyse it: every stay, the current ones
    counted up to now, with the outcome of the lead it belongs to."""

    _name = "crm.lead.stage.analysis"
    _description = "Stage Analysis"
    _auto = False
    _order = "date_in desc, id desc"
    _rec_name = "stage_id"
    # what the query reads: pending ORM writes to it are flushed first
    _depends = frozendict(
        {
            "crm.lead.stage.history": [
                "company_id",
                "date_in",
                "date_out",
                "duration_days",
                "lead_id",
                "move_type",
                "previous_stage_id",
                "skipped_stage_count",
                "stage_id",
                "standard_stage_id",
                "team_id",
                "user_id",
                "lead_user_id",
                "lead_company_id",
                "lead_type",
            ],
            # the lead's salesperson, company and type reach its stays when
            # they are flushed (see crm_lead_stage_analysis.py)
            "crm.lead": [
                "active",
                "company_id",
                "probability",
                "stage_id",
                "type",
                "user_id",
            ],
            "crm.stage": ["is_won"],
        }
    )

    # Stay
    lead_id = fields.Many2one("crm.lead", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    standard_stage_id = fields.Many2one("crm.standard.stage", readonly=True)
    previous_stage_id = fields.Many2one(
        "crm.stage",
        readonly=True,
        help="Stage the lead left to enter this one (empty for its first stage).",
    )
    move_type = fields.Selection(
        MOVE_TYPES,
        string="Move",
        readonly=True,
        help="How the lead entered this stage: its first stage (initial), the next "
        "stage of its pipeline (forward), a later stage jumping over at least one"
        " stage (skip) or an earlier stage (backward).",
    )
    skipped_stage_count = fields.Integer(
        string="Skipped Stages", readonly=True, aggregator="sum"
    )
    # Dates and durations
    date_in = fields.Datetime(string="Entered On", readonly=True)
    date_out = fields.Datetime(
        string="Left On",
        readonly=True,
        help="When the lead left the stage; empty while it is still there.",
    )
    is_current = fields.Boolean(
        string="Current Stay",
        readonly=True,
        help="The lead is still in this stage; its days in stage run up to now.",
    )
    duration_days = fields.Float(
        string="Average Days in Stage",
        readonly=True,
        aggregator="avg",
        help="Average length of the stays in days; a current stay counts up to now.",
    )
    duration_total_days = fields.Float(
        string="Total Days in Stage",
        readonly=True,
        aggregator="sum",
        help="Sum of the lengths of the stays in days; a current stay counts up "
        "to now.",
    )
    # Context
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    lead_user_id = fields.Many2one(
        "res.users",
        string="Lead's Salesperson",
        readonly=True,
        help="The lead's salesperson now (the stay keeps the one at entry).",
    )
    lead_company_id = fields.Many2one(
        "res.company", string="Lead's Company", readonly=True
    )
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        string="Type",
        readonly=True,
    )
    lead_state = fields.Selection(
        LEAD_STATES,
        string="Outcome",
        readonly=True,
        help="What became of the lead: still open, won (active, in a won "
        "stage) or lost (archived with probability 0).",
    )

    @api.model
    def _get_duration_sql(self, alias="stay"):
        """Days of the stay ``alias`` (a crm_lead_stage_history row): its
        length once it ended, up to now while it goes on."""
        return SQL(
            "COALESCE(%s, GREATEST(EXTRACT(EPOCH FROM (%s - %s)) / 86400.0, 0))",
            SQL.identifier(alias, "duration_days"),
            self.env.cr.now(),
            SQL.identifier(alias, "date_in"),
        )

    @property
    def _table_query(self):
        # Everything but the outcome is on the stay, the lead's type and the
        # columns of the record rules included. The outer joins read the
        # lead only for the outcome: PostgreSQL drops them (join removal)
        # when a query does not use it, so the pivot's default load reads
        # the stays alone.
        return SQL(
            """
            SELECT stay.id, stay.lead_id, stay.stage_id, stay.standard_stage_id,
                   stay.previous_stage_id, stay.move_type, stay.skipped_stage_count,
                   stay.date_in, stay.date_out, stay.date_out IS NULL AS is_current,
                   %(duration)s AS duration_days,
                   %(duration)s AS duration_total_days,
                   stay.user_id, stay.team_id, stay.company_id,
                   stay.lead_user_id, stay.lead_company_id,
                   stay.lead_type,
                   %(outcome)s AS lead_state
              FROM crm_lead_stage_history stay
         LEFT JOIN crm_lead lead ON lead.id = stay.lead_id
         LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
            """,
            duration=self._get_duration_sql(),
            outcome=self.env["crm.lead"]._pipeline_outcome_sql(),
        )
