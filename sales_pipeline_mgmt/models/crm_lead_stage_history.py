# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from contextlib import contextmanager, nullcontext

from odoo import api, fields, models, tools
from odoo.tools import SQL, sql

_logger = logging.getLogger(__name__)

MOVE_TYPES = [
    ("initial", "Initial"),
    ("forward", "Forward"),
    ("skip", "Forward, skipping stages"),
    ("backward", "Backward"),
]


class CrmLeadStageHistory(models.Model):
    """One stay of a lead in a stage, from the moment it entered the stage until
    the moment it left it. Rows are written only by the addon itself, on every
    path that sets or changes a lead's stage (see crm.lead), so that time in
    stage, skipped and backward moves can be reported with plain SQL."""

    _name = "crm.lead.stage.history"
    _description = "Lead Stage History"
    _order = "date_in desc, id desc"
    _rec_name = "stage_id"

    # Stay
    lead_id = fields.Many2one(
        "crm.lead",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    stage_id = fields.Many2one(
        "crm.stage",
        required=True,
        readonly=True,
        index=True,
        ondelete="restrict",
    )
    standard_stage_id = fields.Many2one(
        related="stage_id.standard_stage_id",
        store=True,
        index="btree_not_null",
    )
    previous_stage_id = fields.Many2one(
        "crm.stage",
        readonly=True,
        ondelete="set null",
        help="Stage the lead left to enter this one (empty for its first stage).",
    )
    # Dates
    date_in = fields.Datetime(
        string="Entered On", required=True, readonly=True, index=True
    )
    date_out = fields.Datetime(
        string="Left On",
        readonly=True,
        help="Empty while the lead is still in this stage.",
    )
    duration_days = fields.Float(
        string="Days in Stage",
        readonly=True,
        aggregator="avg",
        help="Length of the stay in days (hours / 24), set when the stay ends. "
        "Reports count a current stay up to now.",
    )
    is_current = fields.Boolean(
        string="Current Stay",
        compute="_compute_is_current",
        search="_search_is_current",
        help="The lead is still in this stage (no exit date yet).",
    )
    # Context at entry
    user_id = fields.Many2one(
        "res.users", string="Salesperson", readonly=True, index="btree_not_null"
    )
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", readonly=True, index="btree_not_null"
    )
    company_id = fields.Many2one("res.company", readonly=True, index="btree_not_null")
    # The lead as it is now, kept on each of its stays by the writes that
    # change it (see crm_lead_stage_analysis.py): the record rules and the
    # Stage Analysis read them here instead of joining every stay to its lead
    lead_user_id = fields.Many2one(
        "res.users",
        string="Lead's Salesperson",
        readonly=True,
        index="btree_not_null",
        help="The lead's salesperson now (the stay keeps the one at entry).",
    )
    lead_company_id = fields.Many2one(
        "res.company",
        string="Lead's Company",
        readonly=True,
        help="The lead's company now (the stay keeps the one at entry).",
    )
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        string="Type",
        readonly=True,
        help="Whether the lead is a lead or an opportunity now.",
    )
    # Move
    move_type = fields.Selection(
        MOVE_TYPES,
        string="Move",
        required=True,
        readonly=True,
        help="How the lead entered this stage: its first stage (initial), the "
        "next stage of its pipeline (forward), a later stage jumping over at "
        "least one stage (skip) or an earlier stage (backward).",
    )
    skipped_stage_count = fields.Integer(
        string="Skipped Stages",
        readonly=True,
        aggregator="sum",
        help="On a forward move, how many stages of the lead's pipeline lie "
        "strictly between the previous stage and this one.",
    )

    def _auto_init(self):
        # the lead's values on the stays, filled once for the stays of a
        # database that had the history before they existed
        fill = sql.table_exists(self.env.cr, self._table) and not sql.column_exists(
            self.env.cr, self._table, "lead_type"
        )
        res = super()._auto_init()
        if fill:
            self.env.cr.execute(
                SQL(
                    """
                UPDATE crm_lead_stage_history stay
                   SET lead_user_id = lead.user_id,
                       lead_company_id = lead.company_id,
                       lead_type = lead.type
                  FROM crm_lead lead
                 WHERE lead.id = stay.lead_id
                    """
                )
            )
        # The "current stay" of a lead is looked up on every stage change.
        tools.create_index(
            self.env.cr,
            "crm_lead_stage_history_current_idx",
            self._table,
            ["lead_id"],
            where="date_out IS NULL",
        )
        return res

    @api.depends("date_out")
    def _compute_is_current(self):
        for stay in self:
            stay.is_current = not stay.date_out

    def _search_is_current(self, operator, value):
        current = (operator == "=") == bool(value)
        return [("date_out", "=" if current else "!=", False)]

    # ------------------------------------------------------------
    # REBUILD
    # ------------------------------------------------------------

    @api.model
    def _rebuild_from_tracking(self, lead_ids=None):
        """Rebuild the stays of leads that have none yet, from Odoo's mail
        tracking of stage_id plus each lead's creation, in set-based SQL.

        A lead with k tracked stage changes gets k + 1 stays, the last one
        current. A lead without tracking gets its current stay, from its last
        stage update; so does a lead whose last tracked stage is not its
        current stage (tracking switched off, messages deleted).

        :param lead_ids: restrict to these leads (all leads when None)
        :return: (number of leads rebuilt fully, number rebuilt partially)
        """
        cr = self.env.cr
        self.env["crm.lead"].flush_model()
        self.env["mail.message"].flush_model()
        self.env["mail.tracking.value"].flush_model()
        self.flush_model()
        stage_field = self.env["ir.model.fields"]._get("crm.lead", "stage_id")
        lead_filter = (
            SQL("AND lead.id IN %s", tuple(lead_ids or [0]))
            if lead_ids is not None
            else SQL()
        )
        cr.execute(
            SQL(
                """
            CREATE TEMPORARY TABLE spm_rebuild_stays ON COMMIT DROP AS
            WITH targets AS (
                SELECT lead.id, lead.stage_id, lead.create_date,
                       COALESCE(lead.date_last_stage_update, lead.create_date)
                           AS date_last_stage_update,
                       lead.user_id, lead.team_id, lead.company_id
                  FROM crm_lead lead
                 WHERE lead.stage_id IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM crm_lead_stage_history stay
                                    WHERE stay.lead_id = lead.id)
                   %(lead_filter)s
            ),
            changes AS (
                SELECT message.res_id AS lead_id,
                       value.old_value_integer AS old_stage_id,
                       value.new_value_integer AS new_stage_id,
                       message.date AS changed_at,
                       ROW_NUMBER() OVER (PARTITION BY message.res_id
                                          -- the messages' order within a second
                                          ORDER BY message.date, message.id,
                                                   value.id) AS rank
                  FROM mail_tracking_value value
                  JOIN mail_message message ON message.id = value.mail_message_id
                  JOIN targets ON targets.id = message.res_id
                 WHERE message.model = 'crm.lead'
                   AND value.field_id = %(field_id)s
            ),
            tracked AS (
                -- the stay that each change opened, up to the next change
                SELECT lead_id, rank, new_stage_id AS stage_id,
                       old_stage_id AS previous_stage_id, changed_at AS date_in,
                       LEAD(changed_at) OVER (PARTITION BY lead_id ORDER BY rank)
                           AS date_out,
                       COUNT(*) OVER (PARTITION BY lead_id) = rank AS is_last
                  FROM changes
                UNION ALL
                -- the stay before the first change, from the lead's creation
                SELECT changes.lead_id, 0, changes.old_stage_id, NULL,
                       targets.create_date, changes.changed_at, FALSE
                  FROM changes
                  JOIN targets ON targets.id = changes.lead_id
                 WHERE changes.rank = 1 AND changes.old_stage_id IS NOT NULL
            ),
            consistent AS (
                SELECT tracked.lead_id
                  FROM tracked
                  JOIN targets ON targets.id = tracked.lead_id
                 WHERE tracked.is_last AND tracked.stage_id = targets.stage_id
            ),
            last_change AS (
                SELECT lead_id, MAX(date_in) AS date_in,
                       (ARRAY_AGG(stage_id ORDER BY rank DESC))[1] AS stage_id
                  FROM tracked GROUP BY lead_id
            )
            SELECT tracked.lead_id, tracked.stage_id, tracked.previous_stage_id,
                   tracked.date_in,
                   CASE WHEN tracked.is_last AND consistent.lead_id IS NULL
                        THEN GREATEST(tracked.date_in, targets.date_last_stage_update)
                        ELSE tracked.date_out END AS date_out,
                   consistent.lead_id IS NOT NULL AS full_rebuild
              FROM tracked
              JOIN targets ON targets.id = tracked.lead_id
         LEFT JOIN consistent ON consistent.lead_id = tracked.lead_id
             UNION ALL
            -- current stay of leads whose tracking is missing or incomplete
            SELECT targets.id, targets.stage_id, last_change.stage_id,
                   GREATEST(last_change.date_in, targets.date_last_stage_update),
                   NULL, FALSE
              FROM targets
         LEFT JOIN last_change ON last_change.lead_id = targets.id
         LEFT JOIN consistent ON consistent.lead_id = targets.id
             WHERE consistent.lead_id IS NULL
                """,
                lead_filter=lead_filter,
                field_id=stage_field.id,
            )
        )
        cr.execute(
            SQL(
                """
            SELECT COUNT(DISTINCT lead_id) FILTER (WHERE full_rebuild),
                   COUNT(DISTINCT lead_id) FILTER (WHERE NOT full_rebuild)
              FROM spm_rebuild_stays
                """
            )
        )
        full_count, partial_count = cr.fetchone()
        # the install rebuild of a large database inserts millions of rows:
        # its foreign keys are then checked once each, after the insert
        bulk = lead_ids is None and full_count + partial_count >= 10000
        with self._foreign_keys_suspended() if bulk else nullcontext():
            self._insert_rebuilt_stays()
        cr.execute(
            SQL(
                """
            UPDATE crm_lead lead
               SET skipped_stage_count = totals.skipped,
                   backward_move_count = totals.backward,
                   -- the row is rewritten anyway: its stored standard stage
                   -- with it, which spares the install hook a second rewrite
                   standard_stage_id = stage.standard_stage_id
              FROM crm_stage stage,
                   (SELECT stay.lead_id,
                           SUM(stay.skipped_stage_count) AS skipped,
                           COUNT(*) FILTER (WHERE stay.move_type = 'backward')
                               AS backward
                      FROM crm_lead_stage_history stay
                     WHERE stay.lead_id IN (SELECT lead_id FROM spm_rebuild_stays)
                     GROUP BY stay.lead_id) totals
             WHERE lead.id = totals.lead_id
               AND stage.id = lead.stage_id
               -- most leads never skip nor go back: leaving their rows alone
               -- spares rewriting the whole table on install
               AND (lead.skipped_stage_count, lead.backward_move_count)
                   IS DISTINCT FROM (totals.skipped, totals.backward)
                """
            )
        )
        cr.execute(SQL("DROP TABLE spm_rebuild_stays"))
        self.invalidate_model()
        self.env["crm.lead"].invalidate_model(
            ["skipped_stage_count", "backward_move_count", "standard_stage_id"]
        )
        _logger.info(
            "Stage history rebuilt from tracking: %s leads fully, %s partially "
            "(current stay only or incomplete tracking).",
            full_count,
            partial_count,
        )
        return full_count, partial_count

    def _insert_rebuilt_stays(self):
        """Insert the stays of the temporary table spm_rebuild_stays (see
        _rebuild_from_tracking), with their move type and skipped stages."""
        self.env.cr.execute(
            SQL(
                """
            INSERT INTO crm_lead_stage_history (
                lead_id, stage_id, standard_stage_id, previous_stage_id,
                date_in, date_out, duration_days, user_id, team_id, company_id,
                lead_user_id, lead_company_id, lead_type,
                move_type, skipped_stage_count,
                create_uid, create_date, write_uid, write_date)
            SELECT stay.lead_id, stage.id, stage.standard_stage_id, previous.id,
                   stay.date_in, stay.date_out,
                   CASE WHEN stay.date_out IS NOT NULL
                        THEN GREATEST(EXTRACT(EPOCH FROM (stay.date_out - stay.date_in))
                                      / 86400.0, 0) END,
                   lead.user_id, lead.team_id, lead.company_id,
                   lead.user_id, lead.company_id, lead.type,
                   CASE WHEN previous.id IS NULL THEN 'initial'
                        WHEN (stage.sequence, stage.id)
                             < (previous.sequence, previous.id) THEN 'backward'
                        WHEN skipped.count > 0 THEN 'skip'
                        ELSE 'forward' END,
                   CASE WHEN previous.id IS NOT NULL
                         AND (stage.sequence, stage.id)
                             > (previous.sequence, previous.id)
                        THEN skipped.count ELSE 0 END,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM spm_rebuild_stays stay
              JOIN crm_lead lead ON lead.id = stay.lead_id
              -- stays in stages deleted since are dropped
              JOIN crm_stage stage ON stage.id = stay.stage_id
         LEFT JOIN crm_stage previous ON previous.id = stay.previous_stage_id
         LEFT JOIN LATERAL (
                SELECT COUNT(*) AS count
                  FROM crm_stage other
                 WHERE (other.team_id IS NULL OR other.team_id = lead.team_id)
                   AND (other.sequence, other.id) > (previous.sequence, previous.id)
                   AND (other.sequence, other.id) < (stage.sequence, stage.id)
              ) skipped ON TRUE
                """,
                uid=self.env.uid,
                now=self.env.cr.now(),
            )
        )

    @contextmanager
    def _foreign_keys_suspended(self):
        """Drop the table's foreign keys for a bulk insert, then add them back.

        PostgreSQL checks a foreign key on every inserted row (a lookup and a
        row lock on the referenced row, for each of the 9 keys); added back
        after the insert, each key is checked once over the whole table (one
        join), which makes the install rebuild of a large database several
        times faster. The keys are the ORM's (same names and ON DELETE rules);
        only for the install path, whose transaction holds the new table.
        """
        cr = self.env.cr
        foreign_keys = []
        for field in self._fields.values():
            if field.type != "many2one" or not field.store or not field.column_type:
                continue
            comodel_table = self.env[field.comodel_name]._table
            # the ORM's default, as in fields.Many2one.update_db_foreign_key
            ondelete = field.ondelete or "set null"
            names = sql.get_foreign_keys(
                cr, self._table, field.name, comodel_table, "id", ondelete
            )
            for name in names:
                sql.drop_constraint(cr, self._table, name)
            if names:
                foreign_keys.append((field.name, comodel_table, ondelete))
        yield
        for column, comodel_table, ondelete in foreign_keys:
            sql.add_foreign_key(cr, self._table, column, comodel_table, "id", ondelete)

    # ------------------------------------------------------------
    # STAGE FIGURES
    # ------------------------------------------------------------

    @api.model
    def _read_stage_figures(self, groupby, group_ids):
        """Velocity and conversion of stages, in one query over the stays the
        user may read: {group id: {figure: value}} for ``groupby`` in
        ("stage_id", "standard_stage_id"). Figures: avg_days (finished stays),
        current_count (active leads staying there now), forward_rate (percent
        of finished stays that ended by a forward move), win_rate (percent won
        among the leads that entered it and are now closed); None when empty.
        """
        assert groupby in ("stage_id", "standard_stage_id")
        if not group_ids:
            return {}
        self.flush_model()
        self.env["crm.lead"].flush_model(["active", "probability", "stage_id"])
        self.env["crm.stage"].flush_model(["is_won"])
        query = self._search([(groupby, "in", list(group_ids))])
        won, lost = self.env["crm.lead"]._pipeline_state_sql()
        self.env.cr.execute(
            SQL(
                """
                WITH visible AS %(visible)s,
                stays AS (
                    SELECT stay.id, stay.lead_id, stay.date_out, stay.duration_days,
                           stay.%(groupby)s AS group_id,
                           LEAD(stay.move_type) OVER (
                               PARTITION BY stay.lead_id ORDER BY stay.date_in, stay.id
                           ) AS next_move
                      FROM crm_lead_stage_history stay
                     WHERE stay.lead_id IN (
                         SELECT lead_id FROM crm_lead_stage_history
                          WHERE id IN (SELECT id FROM visible))
                )
                SELECT stays.group_id,
                       AVG(stays.duration_days) FILTER (
                           WHERE stays.date_out IS NOT NULL),
                       COUNT(*) FILTER (WHERE stays.date_out IS NULL AND lead.active),
                       COUNT(*) FILTER (WHERE stays.date_out IS NOT NULL),
                       COUNT(*) FILTER (WHERE stays.date_out IS NOT NULL
                                        AND stays.next_move IN ('forward', 'skip')),
                       COUNT(DISTINCT stays.lead_id) FILTER (WHERE %(won)s OR %(lost)s),
                       COUNT(DISTINCT stays.lead_id) FILTER (WHERE %(won)s)
                  FROM stays
                  JOIN crm_lead lead ON lead.id = stays.lead_id
                  LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                 WHERE stays.id IN (SELECT id FROM visible)
                 GROUP BY stays.group_id
                """,
                visible=query.subselect(),
                groupby=SQL.identifier(groupby),
                won=won,
                lost=lost,
            )
        )
        rate = self.env["crm.lead"]._pipeline_rate
        result = {}
        for (
            group_id,
            avg_days,
            current,
            ended,
            forward,
            closed,
            won_count,
        ) in self.env.cr.fetchall():
            result[group_id] = {
                "avg_days": float(avg_days) if avg_days is not None else None,
                "current_count": current,
                "forward_rate": rate(forward, ended),
                "win_rate": rate(won_count, closed),
            }
        return result
