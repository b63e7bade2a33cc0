# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models, tools
from odoo.tools import SQL

from .crm_lead_deal_history import DEAL_HISTORY_TRIGGERS

# the leads whose values a stage move has just recorded (see write)
MOVED_DEALS_KEY = "sales_pipeline_mgmt.deal_history_moved_ids"
# the recorded values, with their column types, in the order of the INSERT
DEAL_HISTORY_COLUMNS = (
    ("stage_id", "int4"),
    ("expected_revenue", "numeric"),
    ("date_deadline", "date"),
    ("probability", "float8"),
    ("user_id", "int4"),
    ("team_id", "int4"),
    ("company_id", "int4"),
    ("state", "varchar"),
)


class CrmLead(models.Model):
    """Deal history: every create, and every write that touches a recorded
    value, marks the leads; when the transaction commits, the new values of
    those that changed are recorded in one statement
    (crm.lead.deal.history._record_deal_changes), like mail tracking. A stage
    move records its leads' new values in the statement that saves the move
    instead, from the ORM cache. A write that touches none of them costs
    nothing."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    deal_history_ids = fields.One2many(
        "crm.lead.deal.history",
        "lead_id",
        readonly=True,
        help="The opportunity's stage, expected revenue, expected closing, "
        "probability, salesperson, team and state after each change.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        deals = leads.filtered(lambda lead: lead.type == "opportunity")
        if deals:
            self.env["crm.lead.deal.history"]._record_deal_changes_at_commit(deals.ids)
        return leads

    def write(self, vals):
        res = super().write(vals)
        if self and self._get_deal_history_write_triggers().intersection(vals):
            # the leads that changed stage were recorded with their move, after
            # crm's write: a write nested in the move that changes them again
            # marks them itself
            moved_ids = self.env.cr.precommit.data.pop(MOVED_DEALS_KEY, set())
            lead_ids = [lead_id for lead_id in self.ids if lead_id not in moved_ids]
            if lead_ids:
                self.env["crm.lead.deal.history"]._record_deal_changes_at_commit(
                    lead_ids
                )
        return res

    # ------------------------------------------------------------
    # STAGE MOVES
    # ------------------------------------------------------------

    def _get_stage_move_extra_statements(self, now):
        """Record the deal history of the moved leads with the stays: close
        the current row of each (a lead that is no longer an opportunity only
        gets it closed) and insert a row with its new values, or, when the
        current row was written in the same transaction, replace its values
        (drop it, for a lead that is no longer an opportunity), as
        _record_deal_changes does at commit from crm_lead. The values are
        those crm's write left in the cache, so that the statement joins no
        table and plans quickly."""
        statements = super()._get_stage_move_extra_statements(now)
        if not self:
            return statements
        self.env["crm.lead.deal.history"].flush_model()
        statements += self._get_deal_history_move_statements(now)
        self.env.cr.precommit.data.setdefault(MOVED_DEALS_KEY, set()).update(self.ids)
        return statements

    def _invalidate_stage_move_extra_caches(self):
        res = super()._invalidate_stage_move_extra_caches()
        self.env["crm.lead.deal.history"].invalidate_model()
        return res

    def _get_deal_history_move_values(self):
        """One list per column (lead_id, is_deal, then DEAL_HISTORY_COLUMNS)
        of the leads of ``self``, from the cache."""
        column = self._get_cached_column_values
        stage_ids = column("stage_id")
        won_stage_ids = set(
            self.env["crm.stage"].browse(set(stage_ids) - {None}).filtered("is_won").ids
        )
        states = [
            ("won" if stage_id in won_stage_ids else "open") if active else "lost"
            for active, stage_id in zip(column("active"), stage_ids, strict=True)
        ]
        return [
            column("id"),
            [lead_type == "opportunity" for lead_type in column("type")],
            stage_ids,
            column("expected_revenue"),
            column("date_deadline"),
            column("probability"),
            column("user_id"),
            column("team_id"),
            column("company_id"),
            states,
        ]

    def _get_deal_history_move_statements(self, now):
        values = self._get_deal_history_move_values()
        moved = SQL(
            "unnest(%s) AS moved(lead_id, is_deal, %s)",
            SQL(", ").join(
                SQL("%s::%s[]", column, SQL(column_type))
                for column, column_type in zip(
                    values,
                    ["int4", "bool", *(ctype for _name, ctype in DEAL_HISTORY_COLUMNS)],
                    strict=True,
                )
            ),
            SQL(", ").join(
                SQL.identifier(name) for name, _type in DEAL_HISTORY_COLUMNS
            ),
        )
        history_values = SQL(", ").join(
            SQL.identifier("history", name) for name, _type in DEAL_HISTORY_COLUMNS
        )
        moved_values = SQL(", ").join(
            SQL.identifier("moved", name) for name, _type in DEAL_HISTORY_COLUMNS
        )
        names = SQL(", ").join(
            SQL.identifier(name) for name, _type in DEAL_HISTORY_COLUMNS
        )
        params = {
            "moved": moved,
            "history_values": history_values,
            "moved_values": moved_values,
            "names": names,
            "now": now,
            "uid": self.env.uid,
        }
        return [
            SQL(
                """
                UPDATE crm_lead_deal_history history
                   SET date_to = %(now)s, write_date = %(now)s, write_uid = %(uid)s
                  FROM %(moved)s
                 WHERE history.lead_id = moved.lead_id
                   AND history.date_to IS NULL
                   AND history.date_from <> %(now)s
                   AND (NOT moved.is_deal
                        OR (%(history_values)s) IS DISTINCT FROM (%(moved_values)s))
                """,
                **params,
            ),
            # a row written in the same transaction by a lead that is no longer
            # a deal: the row before it ended at the same moment
            SQL(
                """
                DELETE FROM crm_lead_deal_history history
                 USING %(moved)s
                 WHERE history.lead_id = moved.lead_id
                   AND history.date_to IS NULL
                   AND NOT moved.is_deal AND history.date_from = %(now)s
                """,
                **params,
            ),
            # the writes of one transaction make one row: the last values
            SQL(
                """
                UPDATE crm_lead_deal_history history
                   SET (%(names)s) = (%(moved_values)s),
                       changed_by_id = %(uid)s, write_date = %(now)s,
                       write_uid = %(uid)s
                  FROM %(moved)s
                 WHERE history.lead_id = moved.lead_id
                   AND history.date_to IS NULL
                   AND moved.is_deal AND history.date_from = %(now)s
                   AND (%(history_values)s) IS DISTINCT FROM (%(moved_values)s)
                """,
                **params,
            ),
            SQL(
                """
                INSERT INTO crm_lead_deal_history (
                    lead_id, date_from, changed_by_id, %(names)s,
                    create_uid, create_date, write_uid, write_date)
                SELECT moved.lead_id, %(now)s, %(uid)s, %(moved_values)s,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM %(moved)s
                 WHERE moved.is_deal
                   AND NOT EXISTS (
                       SELECT 1 FROM crm_lead_deal_history history
                        WHERE history.lead_id = moved.lead_id
                          AND history.date_to IS NULL
                          AND (history.date_from = %(now)s
                               OR (%(history_values)s)
                                  IS NOT DISTINCT FROM (%(moved_values)s)))
                """,
                **params,
            ),
        ]

    @api.model
    @tools.ormcache()
    def _get_deal_history_write_triggers(self):
        """The fields whose write may change a recorded value: the recorded
        fields themselves and those they are computed from (the salesperson
        and team from each other, the stage from the team, the probability
        from the predictive lead scoring fields), so that no change escapes
        the history while other writes cost no query."""
        triggers = set(DEAL_HISTORY_TRIGGERS)
        for field in self._fields.values():
            if field.name in triggers or not field.store:
                continue
            dependents = self.pool.get_dependent_fields(field)
            if any(
                dependent.model_name == self._name
                and dependent.name in DEAL_HISTORY_TRIGGERS
                for dependent in dependents
            ):
                triggers.add(field.name)
        return frozenset(triggers)
