# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from contextlib import nullcontext
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

from .crm_lead_stage_history import CrmLeadStageHistory

_logger = logging.getLogger(__name__)

DEAL_STATES = [("open", "Open"), ("won", "Won"), ("lost", "Lost")]

# The fields of crm.lead whose change writes a row; ``type`` because only
# opportunities are deals: a lead converted into one starts its history.
DEAL_HISTORY_TRIGGERS = frozenset(
    {
        "stage_id",
        "expected_revenue",
        "date_deadline",
        "probability",
        "user_id",
        "team_id",
        "company_id",
        "active",
        "type",
    }
)

RETENTION_PARAM = "sales_pipeline_mgmt.deal_history_retention_days"


class CrmLeadDealHistory(models.Model):
    """The forecast state of an opportunity over time: one row per
    transaction that changes any of its stage, expected revenue, expected closing date,
    probability, salesperson, team, company or state, holding the values after
    the change, from ``date_from`` until the next row takes over
    (``date_to``, empty for the current row).

    Rows are written by the addon only, in SQL, one statement per write
    whatever the number of leads (see crm_lead_deal_tracking.py), so that the
    state of every deal at any past moment is one indexed range scan."""

    _name = "crm.lead.deal.history"
    _description = "Deal History"
    _order = "date_from desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Opportunity",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    # Period
    date_from = fields.Datetime(string="From", required=True, readonly=True, index=True)
    date_to = fields.Datetime(
        string="Until",
        readonly=True,
        help="When the next change took over; empty for the current values.",
    )
    changed_by_id = fields.Many2one("res.users", readonly=True)
    # Values after the change
    stage_id = fields.Many2one("crm.stage", readonly=True, ondelete="set null")
    expected_revenue = fields.Monetary(currency_field="company_currency", readonly=True)
    company_currency = fields.Many2one(related="company_id.currency_id")
    date_deadline = fields.Date(string="Expected Closing", readonly=True)
    probability = fields.Float(readonly=True, aggregator="avg")
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", readonly=True, ondelete="set null"
    )
    company_id = fields.Many2one("res.company", readonly=True, ondelete="set null")
    state = fields.Selection(
        DEAL_STATES,
        required=True,
        readonly=True,
        help="Open: active and not in a won stage. Won: active in a won stage. "
        "Lost: archived.",
    )

    def _auto_init(self):
        res = super()._auto_init()
        # the current row of a lead is closed on every write that changes it
        tools.create_index(
            self.env.cr,
            "crm_lead_deal_history_current_idx",
            self._table,
            ["lead_id"],
            where="date_to IS NULL",
        )
        # the rows in effect at a moment: date_from <= t < date_to
        tools.create_index(
            self.env.cr,
            "crm_lead_deal_history_period_idx",
            self._table,
            ["date_from", "date_to"],
        )
        return res

    # ------------------------------------------------------------
    # RECORDING
    # ------------------------------------------------------------

    @api.model
    def _deal_state_sql(self):
        """The state of the lead on the aliases ``lead`` and ``stage``, by the
        addon's definition of an open opportunity (crm_lead.py)."""
        return SQL(
            "(CASE WHEN NOT lead.active THEN 'lost' "
            "WHEN stage.is_won IS TRUE THEN 'won' ELSE 'open' END)"
        )

    @api.model
    def _record_deal_changes_at_commit(self, lead_ids):
        """Record the changes of ``lead_ids`` just before the transaction
        commits (or when the cursor is flushed), once for all the writes of
        the transaction: recording in write would flush the leads at every
        write, which breaks crm's batching (lead assignment writes lead by
        lead) and computes stored fields before crm's flows settle them."""
        pending = self.env.cr.precommit.data.setdefault(
            "sales_pipeline_mgmt.deal_history_lead_ids", {}
        )
        if not pending:
            self.env.cr.precommit.add(self._record_pending_changes)
        pending.setdefault(self.env.uid, set()).update(lead_ids)

    @api.model
    def _record_pending_changes(self):
        """Record the changes marked by _record_deal_changes_at_commit now;
        the readers call it so that they see the transaction's own writes."""
        pending = self.env.cr.precommit.data.pop(
            "sales_pipeline_mgmt.deal_history_lead_ids", {}
        )
        for uid, lead_ids in pending.items():
            self.with_user(uid)._record_deal_changes(sorted(lead_ids))

    @api.model
    def _record_deal_changes(self, lead_ids):
        """Write a row for each opportunity of ``lead_ids`` whose tracked
        values differ from its current row (or that has none), and close that
        row: one statement, whatever the number of leads. A lead that is no
        longer an opportunity only gets its current row closed."""
        if not lead_ids:
            return
        lead_model = self.env["crm.lead"]
        lead_model.flush_model(
            [fname for fname in DEAL_HISTORY_TRIGGERS if fname in lead_model._fields]
        )
        self.env["crm.stage"].flush_model(["is_won"])
        self.flush_model()
        now = self.env.cr.now()
        self.env.cr.execute(
            SQL(
                """
                WITH changed AS (
                    SELECT lead.id AS lead_id, last_row.id AS current_id,
                           lead.type = 'opportunity' AS is_deal,
                           last_row.date_from = %(now)s AS same_moment,
                           lead.stage_id, lead.expected_revenue,
                           lead.date_deadline, lead.probability, lead.user_id,
                           lead.team_id, lead.company_id, %(state)s AS state
                      FROM crm_lead lead
                      LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                      LEFT JOIN crm_lead_deal_history last_row
                             ON last_row.lead_id = lead.id
                            AND last_row.date_to IS NULL
                     WHERE lead.id IN %(lead_ids)s
                       AND (last_row.id IS NOT NULL OR lead.type = 'opportunity')
                       AND (lead.type IS DISTINCT FROM 'opportunity'
                            OR last_row.id IS NULL
                            OR (last_row.stage_id, last_row.expected_revenue,
                                last_row.date_deadline, last_row.probability,
                                last_row.user_id, last_row.team_id,
                                last_row.company_id, last_row.state)
                               IS DISTINCT FROM
                               (lead.stage_id, lead.expected_revenue,
                                lead.date_deadline, lead.probability,
                                lead.user_id, lead.team_id, lead.company_id,
                                %(state)s))
                ),
                closed AS (
                    UPDATE crm_lead_deal_history history
                       SET date_to = %(now)s, write_date = %(now)s,
                           write_uid = %(uid)s
                      FROM changed
                     WHERE history.id = changed.current_id
                       AND NOT changed.same_moment
                ),
                -- a row written in the same transaction by a lead that is no
                -- longer a deal: the row before it ended at the same moment
                dropped AS (
                    DELETE FROM crm_lead_deal_history history
                     USING changed
                     WHERE history.id = changed.current_id
                       AND changed.same_moment AND NOT changed.is_deal
                ),
                -- the writes of one transaction (an action writing several
                -- times, as marking lost does) make one row: the last values
                replaced AS (
                    UPDATE crm_lead_deal_history history
                       SET stage_id = changed.stage_id,
                           expected_revenue = changed.expected_revenue,
                           date_deadline = changed.date_deadline,
                           probability = changed.probability,
                           user_id = changed.user_id, team_id = changed.team_id,
                           company_id = changed.company_id, state = changed.state,
                           changed_by_id = %(uid)s, write_date = %(now)s,
                           write_uid = %(uid)s
                      FROM changed
                     WHERE history.id = changed.current_id
                       AND changed.same_moment AND changed.is_deal
                )
                INSERT INTO crm_lead_deal_history (
                    lead_id, date_from, changed_by_id, stage_id,
                    expected_revenue, date_deadline, probability, user_id,
                    team_id, company_id, state,
                    create_uid, create_date, write_uid, write_date)
                SELECT lead_id, %(now)s, %(uid)s, stage_id, expected_revenue,
                       date_deadline, probability, user_id, team_id, company_id,
                       state, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM changed
                 WHERE is_deal AND (current_id IS NULL OR NOT same_moment)
                """,
                state=self._deal_state_sql(),
                lead_ids=tuple(lead_ids),
                now=now,
                uid=self.env.uid,
            )
        )
        self.invalidate_model()

    # ------------------------------------------------------------
    # REBUILD
    # ------------------------------------------------------------

    @api.model
    def _get_rebuild_tracked_fields(self):
        """{column: (tracking column, SQL cast)} of the values rebuilt from
        mail tracking; the others (probability, company) are the lead's
        current ones on every rebuilt row."""
        return {
            "stage_id": ("value_integer", "int4"),
            "expected_revenue": ("value_float", "numeric"),
            "date_deadline": ("value_datetime", "date"),
            "user_id": ("value_integer", "int4"),
            "team_id": ("value_integer", "int4"),
            "active": ("value_integer", "bool"),
        }

    @api.model
    def _rebuild_from_tracking(self, lead_ids=None):
        """Rebuild the history of the opportunities that have none yet, from
        Odoo's mail tracking, in one set-based statement.

        Each tracking message that changed a rebuilt value is one row, dated
        by the message and ordered by message date then message id (so that
        changes made within the same second keep their order). The first row
        holds the values at creation: for each value, the old value of its
        first tracking, else the lead's current value. When the values the
        tracking leads to are not the lead's current ones (tracking switched
        off, messages deleted), a last row with the current values starts at
        the lead's last write, so that the current row always equals the lead.
        Consecutive rows with the same values are merged.

        :param lead_ids: restrict to these leads (all leads when None)
        :return: the number of rows written
        """
        cr = self.env.cr
        self.env["crm.lead"].flush_model()
        self.env["mail.message"].flush_model()
        self.env["mail.tracking.value"].flush_model()
        self.flush_model()
        tracked = self._get_rebuild_tracked_fields()
        field_ids = {
            fname: self.env["ir.model.fields"]._get("crm.lead", fname).id
            for fname in tracked
        }
        lead_filter = (
            SQL("AND lead.id IN %s", tuple(lead_ids or [0]))
            if lead_ids is not None
            else SQL()
        )

        def tracked_value(fname, side):
            column, cast = tracked[fname]
            value = SQL.identifier("value", f"{side}_{column}")
            if cast == "int4":
                value = SQL("NULLIF(%s, 0)", value)
            elif cast == "bool":
                value = SQL("(%s <> 0)", value)
            return SQL(
                "%s(%s::%s) FILTER (WHERE value.field_id = %s)",
                SQL("BOOL_OR" if cast == "bool" else "MAX"),
                value,
                SQL(cast),
                field_ids[fname],
            )

        columns = list(tracked)
        per_message = SQL(", ").join(
            SQL(
                "BOOL_OR(value.field_id = %(field_id)s) AS %(has)s, "
                "%(old)s AS %(old_name)s, %(new)s AS %(new_name)s",
                field_id=field_ids[fname],
                has=SQL.identifier(f"has_{fname}"),
                old=tracked_value(fname, "old"),
                old_name=SQL.identifier(f"old_{fname}"),
                new=tracked_value(fname, "new"),
                new_name=SQL.identifier(f"new_{fname}"),
            )
            for fname in columns
        )
        # the value at creation: the old value of the field's first tracking
        initial = SQL(", ").join(
            SQL(
                "BOOL_OR(%(has)s) AS %(tracked)s, "
                "(ARRAY_AGG(%(old)s ORDER BY rank) FILTER (WHERE %(has)s))[1] "
                "AS %(initial)s",
                has=SQL.identifier(f"has_{fname}"),
                old=SQL.identifier(f"old_{fname}"),
                tracked=SQL.identifier(f"tracked_{fname}"),
                initial=SQL.identifier(f"initial_{fname}"),
            )
            for fname in columns
        )
        at_creation = SQL(", ").join(
            SQL(
                "CASE WHEN firsts.%(tracked)s THEN firsts.%(initial)s "
                "ELSE targets.%(fname)s END",
                tracked=SQL.identifier(f"tracked_{fname}"),
                initial=SQL.identifier(f"initial_{fname}"),
                fname=SQL.identifier(fname),
            )
            for fname in columns
        )
        # after a message: the last tracked new value so far, else the value
        # at creation
        carried = SQL(", ").join(
            SQL(
                "CASE WHEN COUNT(*) FILTER (WHERE ranked.%(has)s) OVER steps > 0 "
                "THEN (ARRAY_AGG(ranked.%(new)s) FILTER (WHERE ranked.%(has)s) "
                "OVER steps)[COUNT(*) FILTER (WHERE ranked.%(has)s) OVER steps] "
                "WHEN firsts.%(tracked)s THEN firsts.%(initial)s "
                "ELSE targets.%(fname)s END",
                has=SQL.identifier(f"has_{fname}"),
                new=SQL.identifier(f"new_{fname}"),
                tracked=SQL.identifier(f"tracked_{fname}"),
                initial=SQL.identifier(f"initial_{fname}"),
                fname=SQL.identifier(fname),
            )
            for fname in columns
        )
        # the untracked closing of an archived deal, as a message would hold it
        closing = SQL(", ").join(
            SQL("TRUE, TRUE, FALSE")
            if fname == "active"
            else SQL(
                "FALSE, NULL::%(cast)s, NULL::%(cast)s", cast=SQL(tracked[fname][1])
            )
            for fname in columns
        )
        names = SQL(", ").join(SQL.identifier(fname) for fname in columns)
        current = SQL(", ").join(
            SQL("targets.%s", SQL.identifier(fname)) for fname in columns
        )
        previous = SQL(", ").join(
            SQL("LAG(%s) OVER by_rank", SQL.identifier(fname)) for fname in columns
        )
        cr.execute(
            SQL(
                "SELECT COUNT(*) FROM crm_lead lead WHERE lead.type = 'opportunity' %s",
                lead_filter,
            )
        )
        # the install rebuild of a large database inserts millions of rows:
        # its foreign keys are then checked once each, after the insert
        bulk = lead_ids is None and cr.fetchone()[0] >= 10000
        with (
            CrmLeadStageHistory._foreign_keys_suspended(self) if bulk else nullcontext()
        ):
            count = self._insert_rebuilt_rows(
                lead_filter=lead_filter,
                names=names,
                field_ids=tuple(field_ids.values()),
                per_message=per_message,
                closing=closing,
                initial=initial,
                at_creation=at_creation,
                carried=carried,
                current=current,
                previous=previous,
            )
        self.invalidate_model()
        _logger.info("Deal history rebuilt from tracking: %s rows.", count)
        return count

    def _insert_rebuilt_rows(self, **fragments):
        """Insert the rebuilt rows (see _rebuild_from_tracking) in one
        statement; ``fragments`` are the SQL pieces of its template, by the
        name the template gives them:

        - ``lead_filter``: the condition on the leads to rebuild;
        - ``names``: the rebuilt columns, in their order;
        - ``field_ids``: the ids of their fields, for the tracking values;
        - ``per_message``: per tracking message, whether it changed each
          value, and its old and new value;
        - ``closing``: the same columns for the untracked closing of an
          archived deal;
        - ``initial``: per lead, whether each value was tracked, and its
          old value at its first tracking;
        - ``at_creation``: the values at creation;
        - ``carried``: the values after a message;
        - ``current``: the lead's current values;
        - ``previous``: the values of the previous row.

        :return: the number of rows inserted
        """
        cr = self.env.cr
        cr.execute(
            SQL(
                """
            WITH targets AS (
                SELECT lead.id, lead.create_date, lead.write_date,
                       lead.date_closed, %(names)s
                  FROM crm_lead lead
                 WHERE lead.type = 'opportunity'
                   AND NOT EXISTS (SELECT 1 FROM crm_lead_deal_history history
                                    WHERE history.lead_id = lead.id)
                   %(lead_filter)s
            ),
            tracked_messages AS (
                SELECT message.res_id AS lead_id, message.id AS message_id,
                       GREATEST(message.date, targets.create_date) AS changed_at,
                       %(per_message)s
                  FROM mail_tracking_value value
                  JOIN mail_message message ON message.id = value.mail_message_id
                  JOIN targets ON targets.id = message.res_id
                 WHERE message.model = 'crm.lead'
                   AND value.field_id IN %(field_ids)s
                 GROUP BY message.res_id, message.id, targets.create_date
            ),
            messages AS (
                SELECT * FROM tracked_messages
                 UNION ALL
                -- a deal archived without tracking of it was open until it
                -- closed: crm stamps the closing date when it marks it lost
                SELECT targets.id, NULL,
                       GREATEST(targets.date_closed, targets.create_date),
                       %(closing)s
                  FROM targets
                 WHERE NOT targets.active AND targets.date_closed IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM tracked_messages tracked
                                    WHERE tracked.lead_id = targets.id
                                      AND tracked.has_active)
            ),
            ranked AS (
                SELECT messages.*,
                       ROW_NUMBER() OVER (PARTITION BY lead_id
                                          ORDER BY changed_at, message_id) AS rank
                  FROM messages
            ),
            firsts AS (
                SELECT lead_id, MAX(changed_at) AS last_change, %(initial)s
                  FROM ranked GROUP BY lead_id
            ),
            steps AS (
                SELECT targets.id AS lead_id, 0::int8 AS rank,
                       targets.create_date AS date_from, %(at_creation)s
                  FROM targets
                  LEFT JOIN firsts ON firsts.lead_id = targets.id
                 UNION ALL
                SELECT ranked.lead_id, ranked.rank, ranked.changed_at, %(carried)s
                  FROM ranked
                  JOIN targets ON targets.id = ranked.lead_id
                  JOIN firsts ON firsts.lead_id = ranked.lead_id
                WINDOW steps AS (PARTITION BY ranked.lead_id ORDER BY ranked.rank
                                 ROWS UNBOUNDED PRECEDING)
                 UNION ALL
                -- the current values, kept only where tracking does not lead
                -- to them
                SELECT targets.id, 9223372036854775807,
                       GREATEST(targets.write_date, firsts.last_change,
                                targets.create_date),
                       %(current)s
                  FROM targets
                  LEFT JOIN firsts ON firsts.lead_id = targets.id
            ),
            compared AS (
                SELECT steps.*,
                       rank = 0 OR ROW(%(names)s) IS DISTINCT FROM ROW(%(previous)s)
                           AS is_change
                  FROM steps
                WINDOW by_rank AS (PARTITION BY lead_id ORDER BY rank)
            ),
            changes AS (
                SELECT compared.*,
                       LEAD(date_from) OVER (PARTITION BY lead_id ORDER BY rank)
                           AS date_to
                  FROM compared
                 WHERE is_change
            )
            INSERT INTO crm_lead_deal_history (
                lead_id, date_from, date_to, changed_by_id, stage_id,
                expected_revenue, date_deadline, probability, user_id, team_id,
                company_id, state, create_uid, create_date, write_uid, write_date)
            SELECT changes.lead_id, changes.date_from, changes.date_to, NULL,
                   stage.id, changes.expected_revenue, changes.date_deadline,
                   lead.probability, salesperson.id, team.id, lead.company_id,
                   CASE WHEN NOT changes.active THEN 'lost'
                        WHEN stage.is_won IS TRUE THEN 'won' ELSE 'open' END,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM changes
              JOIN crm_lead lead ON lead.id = changes.lead_id
              -- stages, users and teams deleted since are left empty
              LEFT JOIN crm_stage stage ON stage.id = changes.stage_id
              LEFT JOIN res_users salesperson ON salesperson.id = changes.user_id
              LEFT JOIN crm_team team ON team.id = changes.team_id
             -- ids in the order of the changes: rows of the same second are
             -- read back in their order
             ORDER BY changes.lead_id, changes.rank
                """,
                uid=self.env.uid,
                now=cr.now(),
                **fragments,
            )
        )
        return cr.rowcount

    # ------------------------------------------------------------
    # RETENTION
    # ------------------------------------------------------------

    @api.model
    def _get_retention_days(self):
        """The retention setting in days (0: keep everything); a value that is
        not a non-negative integer keeps everything, and is logged."""
        value = self.env["ir.config_parameter"].sudo().get_param(RETENTION_PARAM, "0")
        try:
            days = int(value or 0)
        except ValueError:
            days = -1
        if days < 0:
            _logger.warning(
                "%s: %r is not a number of days; the deal history is kept.",
                RETENTION_PARAM,
                value,
            )
            return 0
        return days

    @api.model
    def _cron_purge(self):
        """Delete the rows replaced before the retention period, one batch
        per call: the scheduler commits and calls again while rows remain."""
        days = self._get_retention_days()
        if not days:
            self.env["ir.cron"]._notify_progress(done=0, remaining=0)
            return
        batch_size = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("sales_pipeline_mgmt.deal_history_purge_batch", 50000)
        )
        done, remaining = self._purge_before(
            self.env.cr.now() - timedelta(days=days), batch_size
        )
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    @api.model
    def _purge_before(self, limit_date, batch_size):
        """Delete up to ``batch_size`` rows that ended before ``limit_date``
        (the current rows never end): (deleted, remaining)."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                DELETE FROM crm_lead_deal_history
                 WHERE id IN (SELECT id FROM crm_lead_deal_history
                               WHERE date_to < %(limit_date)s
                               ORDER BY date_to LIMIT %(batch)s)
                """,
                limit_date=limit_date,
                batch=batch_size,
            )
        )
        done = self.env.cr.rowcount
        self.invalidate_model()
        remaining = 0
        if done == batch_size:
            self.env.cr.execute(
                SQL(
                    "SELECT COUNT(*) FROM crm_lead_deal_history WHERE date_to < %s",
                    limit_date,
                )
            )
            remaining = self.env.cr.fetchone()[0]
        return done, remaining
