# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class CrmLead(models.Model):
    """Stage moves: the history of the lead's stays in its stages, and the
    stage rules that can refuse a move (fields required to enter a stage,
    stages that cannot be skipped)."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    # Stage history
    stage_history_ids = fields.One2many(
        "crm.lead.stage.history",
        "lead_id",
        readonly=True,
        help="Every stay of the lead in a stage: when it entered, when it left, how "
        "long it stayed and how it arrived.",
    )
    days_in_stage = fields.Float(
        string="Days in Stage",
        compute="_compute_days_in_stage",
        help="Days since the lead entered its current stage (hours / 24).",
    )
    skipped_stage_count = fields.Integer(
        string="Skipped Stages",
        readonly=True,
        default=0,
        copy=False,
        help="Total number of pipeline stages this lead jumped over when moving "
        "forward, over its whole stage history.",
    )
    backward_move_count = fields.Integer(
        string="Backward Moves",
        readonly=True,
        default=0,
        copy=False,
        help="Number of times this lead was moved back to an earlier stage.",
    )

    def _auto_init(self):
        for column in ("skipped_stage_count", "backward_move_count"):
            self._create_counter_column(column)
        return super()._auto_init()

    @api.depends("date_last_stage_update")
    def _compute_days_in_stage(self):
        now = self.env.cr.now()
        for lead in self:
            since = lead.date_last_stage_update or lead.create_date
            lead.days_in_stage = (
                (now - since).total_seconds() / 86400.0 if since else 0.0
            )

    # ------------------------------------------------------------
    # STAGE MOVE HOOKS
    # ------------------------------------------------------------

    def _check_stage_moves(self, new_stage, previous_stages):
        """Refuse, in one message naming every offending lead, a move into a
        stage whose required fields are empty, and a forward move past a
        stage that cannot be skipped and that the lead has never been in.
        Both rules are read from caches: with the defaults this costs no
        query."""
        self._prefetch_move_stages(new_stage, previous_stages)
        errors = self._get_exit_criteria_errors(new_stage)
        errors += self._get_forbidden_skip_errors(new_stage, previous_stages)
        if errors:
            raise UserError("\n".join(errors))
        return super()._check_stage_moves(new_stage, previous_stages)

    def _on_stage_moved(self, previous_stages):
        """Close the leads' current stays and open the new ones before the
        other features react to the move; note the skipped stages after
        them."""
        history_vals = self._record_stage_moves(previous_stages)
        res = super()._on_stage_moved(previous_stages)
        if any(values["move_type"] == "skip" for values in history_vals):
            self._log_skipped_stages(previous_stages)
        return res

    # ------------------------------------------------------------
    # STAGE RULES
    # ------------------------------------------------------------

    def _prefetch_move_stages(self, new_stage, previous_stages):
        """Read in one query the stages a move involves: those the leads
        leave, the one they enter and those in between. crm's write, its
        tracking and the note on skipped stages read them one by one
        otherwise."""
        stage_keys = self._get_pipeline_stage_keys()
        involved = [
            stage_keys[stage.id][:2]
            for stage in (new_stage, *previous_stages.values())
            if stage and stage.id in stage_keys
        ]
        if not involved:
            return
        low, high = min(involved), max(involved)
        stages = self.env["crm.stage"].browse(
            [sid for sid, key in stage_keys.items() if low <= key[:2] <= high]
        )
        stages.mapped("name")

    def _get_exit_criteria_errors(self, new_stage):
        """Return one message per lead of ``self`` that misses a field
        required by ``new_stage``."""
        field_names = [
            fname
            for fname in self.env["crm.stage"]
            ._get_required_field_names()
            .get(new_stage.id, ())
            if fname in self._fields
        ]
        if not field_names:
            return []
        written = self.env.context.get("sales_pipeline_mgmt_written_fields") or {}
        errors = []
        for lead in self:
            missing = [
                self._fields[fname]._description_string(self.env)
                for fname in field_names
                if not (written[fname] if fname in written else lead[fname])
            ]
            if missing:
                errors.append(
                    self.env._(
                        "%(lead)s cannot enter stage %(stage)s: fill in %(fields)s.",
                        lead=lead.display_name,
                        stage=new_stage.display_name,
                        fields=", ".join(missing),
                    )
                )
        return errors

    def _get_skipped_stage_ids(self, previous_stage, new_stage, stage_keys):
        """Ids of the stages of this lead's pipeline strictly between
        ``previous_stage`` and ``new_stage`` on a forward move, in order."""
        self.ensure_one()
        if not previous_stage or not new_stage:
            return []
        old_key = stage_keys[previous_stage.id][:2]
        new_key = stage_keys[new_stage.id][:2]
        team_id = self.team_id.id
        return [
            stage_id
            for sequence, stage_id, stage_team_id, _standard_id in sorted(
                stage_keys.values()
            )
            if (not stage_team_id or stage_team_id == team_id)
            and old_key < (sequence, stage_id) < new_key
        ]

    def _get_forbidden_skip_errors(self, new_stage, previous_stages):
        """Return one message per lead of ``self`` that would skip a stage it
        has never been in and that cannot be skipped. One query over the
        stage history, and only when some stage forbids skipping."""
        no_skip_ids = self.env["crm.stage"]._get_no_skip_stage_ids()
        if not no_skip_ids:
            return []
        stage_keys = self._get_pipeline_stage_keys()
        guarded = {}
        for lead in self:
            skipped = lead._get_skipped_stage_ids(
                previous_stages.get(lead.id), new_stage, stage_keys
            )
            if blocking := [
                stage_id for stage_id in skipped if stage_id in no_skip_ids
            ]:
                guarded[lead.id] = blocking
        if not guarded:
            return []
        guarded_stage_ids = {sid for stage_ids in guarded.values() for sid in stage_ids}
        # sudo: the check only asks whether the lead the user moves has been
        # in a stage; no stay is read back
        history_model = self.env["crm.lead.stage.history"].sudo()
        visited = {
            (lead.id, stage.id)
            for lead, stage in history_model._read_group(
                [
                    ("lead_id", "in", list(guarded)),
                    ("stage_id", "in", list(guarded_stage_ids)),
                ],
                ["lead_id", "stage_id"],
            )
        }
        errors = []
        for lead in self.filtered(lambda lead: lead.id in guarded):
            stages = self.env["crm.stage"].browse(
                [sid for sid in guarded[lead.id] if (lead.id, sid) not in visited]
            )
            if stages:
                errors.append(
                    self.env._(
                        "%(lead)s cannot skip stage %(stages)s: it must go "
                        "through it first.",
                        lead=lead.display_name,
                        stages=", ".join(stages.mapped("display_name")),
                    )
                )
        return errors

    # ------------------------------------------------------------
    # STAGE HISTORY
    # ------------------------------------------------------------

    def _log_skipped_stages(self, previous_stages):
        """Note on each lead of ``self`` that just moved forward past stages
        which stages it skipped.

        The note is the body of the message that mail tracking logs for the
        stage change at commit, so that a skip costs no message of its own
        (and the note sits beside the stage change it explains). Where the
        write is not tracked, the notes are logged in one batch instead."""
        stage_keys = self._get_pipeline_stage_keys()
        skipped_by_lead = {
            lead.id: lead._get_skipped_stage_ids(
                previous_stages.get(lead.id), lead.stage_id, stage_keys
            )
            for lead in self
        }
        skipped_by_lead = {
            lead_id: stage_ids
            for lead_id, stage_ids in skipped_by_lead.items()
            if stage_ids
        }
        if not skipped_by_lead:
            return
        # one read for the names of every stage skipped in this write
        stages = self.env["crm.stage"].browse(
            {sid for stage_ids in skipped_by_lead.values() for sid in stage_ids}
        )
        names = dict(zip(stages.ids, stages.mapped("name"), strict=True))
        bodies = {
            lead_id: Markup("<p>%s</p>")
            % self.env._(
                "Skipped stages: %(stages)s.",
                stages=", ".join(names[sid] for sid in stage_ids),
            )
            for lead_id, stage_ids in skipped_by_lead.items()
        }
        # the leads whose stage change mail tracking logs at commit: not those
        # of an untracked write, nor those created in the same transaction
        tracked = self.env.cr.precommit.data.get(f"mail.tracking.{self._name}", {})
        untracked = {
            lead_id: body
            for lead_id, body in bodies.items()
            if "stage_id" not in (tracked.get(lead_id) or {})
        }
        if untracked:
            self.browse(list(untracked))._message_log_batch(untracked)
        # mail.thread's own channel for the body of a tracking message (see
        # _track_set_log_message); a lead moved twice in one transaction keeps
        # both notes
        tracking_bodies = self.env.cr.precommit.data.setdefault(
            f"mail.tracking.message.{self._name}", {}
        )
        for lead_id, body in bodies.items():
            if lead_id not in untracked:
                tracking_bodies[lead_id] = tracking_bodies.get(lead_id, Markup()) + body

    def _get_pipeline_stage_keys(self):
        """Return {stage id: (sequence, id, team id, standard stage id)} for
        every stage; (sequence, id) is the order in which pipelines show them.
        Cached per registry: crm.stage clears the cache when stages change."""
        return self.env["crm.stage"]._get_pipeline_stage_keys()

    def _classify_stage_move(self, previous_stage, new_stage, stage_keys):
        """Return (move_type, skipped_stage_count) of this lead moving from
        ``previous_stage`` (may be empty) to ``new_stage``."""
        self.ensure_one()
        if not previous_stage:
            return "initial", 0
        if stage_keys[new_stage.id][:2] < stage_keys[previous_stage.id][:2]:
            return "backward", 0
        skipped = len(
            self._get_skipped_stage_ids(previous_stage, new_stage, stage_keys)
        )
        return ("skip" if skipped else "forward"), skipped

    def _prepare_stage_history_values(
        self, previous_stage, move_type, skipped, now, stage_keys
    ):
        self.ensure_one()
        return {
            "lead_id": self.id,
            "stage_id": self.stage_id.id,
            # given rather than recomputed by the ORM: saves a query per write
            "standard_stage_id": stage_keys[self.stage_id.id][3],
            "previous_stage_id": previous_stage.id or False,
            "date_in": now,
            "user_id": self.user_id.id,
            "team_id": self.team_id.id,
            "company_id": self.company_id.id,
            "move_type": move_type,
            "skipped_stage_count": skipped,
        }

    def _record_stage_moves(self, previous_stages):
        """Close the current stay of each lead of ``self`` and open a new one in
        its (new) stage, in one statement whatever the number of leads; add
        the skipped stages and backward moves to the leads' counters in the
        ORM cache, so that they reach the database with crm's own update of the
        moved leads rather than in an UPDATE of their own.

        :param dict previous_stages: lead id -> crm.stage the lead just left;
            missing or empty for leads that get their first stage.
        :return: the values of the new stays
        """
        now = self.env.cr.now()
        stage_keys = self._get_pipeline_stage_keys()
        stage_model = self.env["crm.stage"]
        vals_list = []
        counters = {}
        # classified once per (previous stage, new stage, team): a batch of
        # leads moved together shares a handful of such moves
        moves = {}
        # a lead whose stage is emptied only ends its stay
        for lead in self.filtered("stage_id"):
            previous_stage = previous_stages.get(lead.id) or stage_model
            key = (previous_stage.id, lead.stage_id.id, lead.team_id.id)
            if key not in moves:
                moves[key] = lead._classify_stage_move(
                    previous_stage, lead.stage_id, stage_keys
                )
            move_type, skipped = moves[key]
            vals_list.append(
                lead._prepare_stage_history_values(
                    previous_stage, move_type, skipped, now, stage_keys
                )
            )
            if skipped or move_type == "backward":
                counters[lead.id] = (skipped, int(move_type == "backward"))
        close_ids = self.ids if any(previous_stages.values()) else []
        self._write_stage_history(close_ids, vals_list, now, bool(previous_stages))
        if counters:
            self._increment_move_counters(counters)
        return vals_list

    def _write_stage_history(self, close_ids, vals_list, now, is_move=True):
        """End at ``now`` the open stays of the leads ``close_ids`` and insert
        the stays ``vals_list``, in one statement (with what the extensions of
        _get_stage_move_statements add when ``is_move``: the leads of
        ``self`` changed stage, rather than got their first one).

        History rows are written by the addon only (users have read access):
        the rows describe the moves the current user was allowed to make."""
        history_model = self.env["crm.lead.stage.history"].sudo()
        history_model.flush_model()
        columns = set().union(*vals_list) if vals_list else set()
        if any(
            field.store and field.compute and field.name not in columns
            for field in history_model._fields.values()
            if field.name not in models.MAGIC_COLUMNS
        ):
            # a stored computed field the values do not give: the ORM computes it
            if close_ids:
                self._close_stays(close_ids, now)
            history_model.create(vals_list)
            return
        statements = self._get_stage_move_statements(close_ids, vals_list, now)
        if is_move:
            statements += self._get_stage_move_extra_statements(now)
        if len(statements) > 1:
            # data-modifying WITHs: all run on the same snapshot, each on rows
            # of its own (the update of the stays touches only those that
            # existed before), in one round trip
            statements = [
                SQL(
                    "WITH %s %s",
                    SQL(", ").join(
                        SQL("%s AS (%s)", SQL.identifier(f"move_{index}"), statement)
                        for index, statement in enumerate(statements[:-1])
                    ),
                    statements[-1],
                )
            ]
        for statement in statements:
            self.env.cr.execute(statement)
        history_model.invalidate_model(["date_out", "duration_days"])
        self.invalidate_recordset(["stage_history_ids"])
        if is_move:
            self._invalidate_stage_move_extra_caches()

    def _get_stage_move_extra_statements(self, now):
        """Data-modifying statements (without RETURNING) that save more of a
        move of the leads of ``self`` (in their new stage, with the values
        crm's write left in the cache) in the same round trip as the stays;
        see _invalidate_stage_move_extra_caches."""
        return []

    def _invalidate_stage_move_extra_caches(self):
        """Invalidate what the statements of _get_stage_move_extra_statements
        wrote, once they ran."""

    def _get_stage_move_statements(self, close_ids, vals_list, now):
        """The data-modifying statements (UPDATE, INSERT or DELETE, without
        RETURNING) that save the stage moves of ``self``: they run as one
        statement. Extend it to save more of a move in the same round trip.

        :param list close_ids: leads whose open stays end at ``now``
        :param list vals_list: values of the new stays
        """
        statements = []
        if close_ids:
            statements.append(self._get_close_stays_sql(close_ids, now))
        if vals_list:
            statements.append(self._get_insert_stays_sql(vals_list, now))
        return statements

    def _get_insert_stays_sql(self, vals_list, now):
        """INSERT of the stays ``vals_list`` (dicts with the same keys, stored
        fields of crm.lead.stage.history), one array per column."""
        history_model = self.env["crm.lead.stage.history"].sudo()
        columns = sorted(set().union(*vals_list))
        return SQL(
            """
            INSERT INTO crm_lead_stage_history
                   (%(columns)s, create_uid, create_date, write_uid, write_date)
            SELECT *, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(arrays)s)
            """,
            columns=SQL(", ").join(map(SQL.identifier, columns)),
            uid=self.env.uid,
            now=now,
            arrays=SQL(", ").join(
                SQL(
                    "%s::%s[]",
                    [
                        field.convert_to_column(
                            values.get(field.name), history_model, validate=False
                        )
                        for values in vals_list
                    ],
                    SQL(field.column_type[1]),
                )
                for field in map(history_model._fields.get, columns)
            ),
        )

    def _get_close_stays_sql(self, lead_ids, now):
        return SQL(
            """
            UPDATE crm_lead_stage_history
               SET date_out = %(now)s,
                   duration_days = GREATEST(
                       EXTRACT(EPOCH FROM (%(now)s - date_in)) / 86400.0, 0)
             WHERE lead_id IN %(lead_ids)s
               AND date_out IS NULL
            """,
            now=now,
            lead_ids=tuple(lead_ids),
        )

    def _close_stays(self, lead_ids, now):
        history_model = self.env["crm.lead.stage.history"]
        history_model.flush_model(["date_out", "duration_days"])
        self.env.cr.execute(self._get_close_stays_sql(lead_ids, now))
        history_model.invalidate_model(["date_out", "duration_days"])

    def _increment_move_counters(self, counters):
        """Add skipped stages and backward moves to the leads' totals.

        ``counters`` maps lead ids to (skipped, backward). The new totals are
        put in the cache as changed values: they are written by the update
        that saves the move itself (the totals read are those of this
        transaction's snapshot, and that update fails on a concurrent change
        of the same lead, as any write of a lead does)."""
        leads = self.browse(list(counters))
        for fname, index in (("skipped_stage_count", 0), ("backward_move_count", 1)):
            field = self._fields[fname]
            self.env.cache.update(
                leads,
                field,
                [(lead[fname] or 0) + counters[lead.id][index] for lead in leads],
                dirty=True,
            )
        leads.modified(["skipped_stage_count", "backward_move_count"])
