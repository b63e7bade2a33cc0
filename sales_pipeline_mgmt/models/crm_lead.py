# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column


class CrmLead(models.Model):
    """What the features of the addon share on a lead: the standard stage, the
    won, lost and open conditions, and the one place where a change of stage
    is detected. create and write hand the leads that get a new stage to
    _check_stage_moves (before) and _on_stage_moved (after), which each
    feature extends in its own file, like mail's mail_thread_*.py:

    - crm_lead_stage_move.py: stage history and stage rules;
    - crm_lead_kpi.py: pipeline KPIs;
    - crm_lead_forecast.py: historical forecast;
    - crm_lead_pipeline_health.py: pause, stall, follow-up and overload.
    """

    # one class per feature, like mail's mail_thread_*.py (see above)
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    # Standard process
    standard_stage_id = fields.Many2one(
        related="stage_id.standard_stage_id",
        store=True,
        index="btree_not_null",
    )
    standard_stage_description = fields.Text(
        related="stage_id.standard_stage_id.description",
        string="Stage Guidance",
    )

    def _auto_init(self):
        # Created here, before the ORM sees the field, so that installing on a
        # large database does not recompute every lead in Python: the column is
        # filled in SQL by the install hook (see hooks.py).
        if not column_exists(self.env.cr, "crm_lead", "standard_stage_id"):
            create_column(self.env.cr, "crm_lead", "standard_stage_id", "int4")
        return super()._auto_init()

    @api.model
    def _create_counter_column(self, column):
        """Add the int4 column ``column`` with a constant default of 0 unless it
        exists: PostgreSQL fills the existing rows without rewriting them,
        where the ORM would update every row to write the field's default."""
        if not column_exists(self.env.cr, "crm_lead", column):
            self.env.cr.execute(
                SQL(
                    "ALTER TABLE crm_lead ADD COLUMN %s int4 DEFAULT 0",
                    SQL.identifier(column),
                )
            )

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        staged_leads = leads.filtered("stage_id")
        if staged_leads:
            staged_leads._on_stage_moved({})
        return leads

    def write(self, vals):
        moving_leads = self._get_stage_moving_leads(vals)
        if not moving_leads:
            return super().write(vals)
        previous_stages = {lead.id: lead.stage_id for lead in moving_leads}
        if vals["stage_id"]:
            # the values written with the stage count for the exit criteria
            moving_leads.with_context(
                sales_pipeline_mgmt_written_fields={
                    fname: bool(value) for fname, value in vals.items()
                }
            )._check_stage_moves(
                self.env["crm.stage"].browse(vals["stage_id"]), previous_stages
            )
        res = super().write(vals)
        moving_leads._on_stage_moved(previous_stages)
        return res

    # ------------------------------------------------------------
    # STAGE MOVES
    # ------------------------------------------------------------

    def _get_stage_moving_leads(self, vals):
        """The leads of ``self`` whose stage the write of ``vals`` changes.

        Same test as crm's own write (date_last_stage_update): only leads whose
        stage really changes start a new stay. The stages are in cache for
        crm's check, so this costs no query."""
        if "stage_id" not in vals:
            return self.browse()
        new_stage_id = vals["stage_id"] or False
        return self.filtered(lambda lead: lead.stage_id.id != new_stage_id)

    def _check_stage_moves(self, new_stage, previous_stages):
        """Hook called before the leads of ``self`` move to ``new_stage``;
        raise to refuse the move. ``previous_stages`` maps lead ids to their
        current stage. The context key ``sales_pipeline_mgmt_written_fields``
        tells which fields the same write fills ({field name: bool})."""
        return True

    def _on_stage_moved(self, previous_stages):
        """Hook called once the leads of ``self`` are in their new stage, with
        one call per create or write whatever the number of leads.

        :param dict previous_stages: lead id -> crm.stage the lead just left
            (empty for a lead that had no stage); an empty dict when the leads
            were just created with their first stage.
        """

    def _get_cached_column_values(self, fname):
        """The values of the stored field ``fname`` for the leads of ``self``,
        in their order, as SQL parameters (ids for a many2one, None for an
        empty value). Read in bulk from the cache, what it misses being
        computed or fetched first: a move reads a dozen columns of each moved
        lead, and going through a record per lead and column costs more than
        the statements that save the move."""
        if fname == "id":
            return list(self._ids)
        field = self._fields[fname]
        field.mapped(self)
        values = self.env.cache.get_values(self, field)
        if field.type in ("boolean", "integer", "float", "monetary"):
            return list(values)
        return [value or None for value in values]

    # ------------------------------------------------------------
    # LEAD STATES
    # ------------------------------------------------------------

    @api.model
    def _pipeline_state_sql(self):
        """(won, lost) SQL conditions on the aliases ``lead`` and ``stage``:
        won is active in a won stage at 100 %, lost is archived at 0 %."""
        won = SQL("(lead.active AND stage.is_won IS TRUE AND lead.probability = 100)")
        lost = SQL("(NOT lead.active AND lead.probability = 0)")
        return won, lost

    @api.model
    def _pipeline_outcome_sql(self):
        """The lead's outcome, 'won', 'lost' or 'open', on the same aliases."""
        won, lost = self._pipeline_state_sql()
        return SQL(
            "(CASE WHEN %s THEN 'won' WHEN %s THEN 'lost' ELSE 'open' END)", won, lost
        )

    # Open opportunity: active, an opportunity, not in a won stage. One
    # condition in the three forms its readers need: a domain, SQL, Python.

    @api.model
    def _get_open_opportunity_domain(self):
        return [
            ("active", "=", True),
            ("type", "=", "opportunity"),
            "|",
            ("stage_id", "=", False),
            ("stage_id.is_won", "=", False),
        ]

    @api.model
    def _get_open_opportunity_sql(self, lead_alias="lead", stage_alias="stage"):
        """On the aliases of crm_lead and of crm_stage joined on its stage."""
        return SQL(
            "(%s AND %s = 'opportunity' AND NOT COALESCE(%s, FALSE))",
            SQL.identifier(lead_alias, "active"),
            SQL.identifier(lead_alias, "type"),
            SQL.identifier(stage_alias, "is_won"),
        )

    def _is_open_opportunity(self):
        self.ensure_one()
        return self.active and self.type == "opportunity" and not self.stage_id.is_won
