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
        """Post a note on each lead of ``self`` that just moved forward past
        stages, naming them (one batched insert)."""
        stage_keys = self._get_pipeline_stage_keys()
        bodies = {}
        for lead in self:
            skipped = self.env["crm.stage"].browse(
                lead._get_skipped_stage_ids(
                    previous_stages.get(lead.id), lead.stage_id, stage_keys
                )
            )
            if skipped:
                bodies[lead.id] = Markup("<p>%s</p>") % self.env._(
                    "Skipped stages: %(stages)s.",
                    stages=", ".join(skipped.mapped("name")),
                )
        if bodies:
            self.browse(list(bodies))._message_log_batch(bodies)

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
        its (new) stage, in a constant number of queries.

        :param dict previous_stages: lead id -> crm.stage the lead just left;
            missing or empty for leads that get their first stage.
        """
        now = self.env.cr.now()
        # History rows are written by the addon only (users have read access):
        # the rows describe the moves the current user was allowed to make.
        history_model = self.env["crm.lead.stage.history"].sudo()
        if any(previous_stages.values()):
            history_model.flush_model(["date_out", "duration_days"])
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE crm_lead_stage_history
                       SET date_out = %(now)s,
                           duration_days = GREATEST(
                               EXTRACT(EPOCH FROM (%(now)s - date_in)) / 86400.0, 0)
                     WHERE lead_id IN %(lead_ids)s
                       AND date_out IS NULL
                    """,
                    now=now,
                    lead_ids=tuple(self.ids),
                )
            )
            history_model.invalidate_model(["date_out", "duration_days"])
        stage_keys = self._get_pipeline_stage_keys()
        vals_list = []
        counters = []
        # a lead whose stage is emptied only ends its stay
        for lead in self.filtered("stage_id"):
            previous_stage = previous_stages.get(lead.id) or self.env["crm.stage"]
            move_type, skipped = lead._classify_stage_move(
                previous_stage, lead.stage_id, stage_keys
            )
            vals_list.append(
                lead._prepare_stage_history_values(
                    previous_stage, move_type, skipped, now, stage_keys
                )
            )
            if skipped or move_type == "backward":
                counters.append((lead.id, skipped, int(move_type == "backward")))
        if vals_list:
            history_model.create(vals_list)
        if counters:
            self._increment_move_counters(counters)
        return vals_list

    def _increment_move_counters(self, counters):
        """Add skipped stages and backward moves to the leads' totals in one
        query. ``counters`` is a list of (lead id, skipped, backward)."""
        self.flush_model(["skipped_stage_count", "backward_move_count"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead
                   SET skipped_stage_count = COALESCE(crm_lead.skipped_stage_count, 0)
                                             + moves.skipped,
                       backward_move_count = COALESCE(crm_lead.backward_move_count, 0)
                                             + moves.backward
                  FROM (VALUES %s) AS moves(lead_id, skipped, backward)
                 WHERE crm_lead.id = moves.lead_id
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s)", lead_id, skipped, backward)
                    for lead_id, skipped, backward in counters
                ),
            )
        )
        self.invalidate_model(["skipped_stage_count", "backward_move_count"])
