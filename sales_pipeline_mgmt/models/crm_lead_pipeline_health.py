# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import timedelta

import psycopg2.errors
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL
from odoo.tools.sql import column_exists, create_column

_logger = logging.getLogger(__name__)

# A batch of the pipeline health jobs reads a page of the index this many
# times its batch size, to find its candidates among them.
PAGE_FACTOR = 5


class CrmLead(models.Model):
    """Pipeline health: reminders paused until a date, stalled opportunities,
    follow-up activities and overloaded salespeople, and the scheduled jobs
    that flag them."""

    _name = "crm.lead"
    _inherit = ("crm.lead", "crm.pipeline.health.mixin")

    # Pipeline health
    is_stalled = fields.Boolean(
        string="Stalled",
        readonly=True,
        copy=False,
        help="Set by the stall detection job when the opportunity stays in its "
        "stage longer than the stage allows; cleared when it changes stage.",
    )
    stalled_since = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the current stay went past its stage's stall threshold (set by the "
        "stall detection, cleared by a stage change).",
    )
    stalled_count = fields.Integer(
        string="# Stalled",
        readonly=True,
        copy=False,
        default=0,
        aggregator="sum",
        help="1 when the opportunity is stalled: summed in pipeline columns.",
    )
    stall_escalated_on = fields.Datetime(
        readonly=True,
        copy=False,
        help="When the team leader was warned that the opportunity stays stalled past "
        "twice its stage's threshold.",
    )
    pipeline_pause_until = fields.Date(
        string="Pause Reminders Until",
        copy=False,
        tracking=True,
        help="Until this date (excluded), no follow-up activity is planned and "
        "stall detection ignores this opportunity. The pause ends by itself.",
    )
    pipeline_pause_reason = fields.Char(
        string="Pause Reason",
        copy=False,
        help="Why reminders are paused, e.g. customer on holiday until the 15th.",
    )
    is_pipeline_paused = fields.Boolean(
        string="Reminders Paused",
        compute="_compute_is_pipeline_paused",
        help="Follow-ups and stall detection leave this lead alone until the pause "
        "date.",
    )
    is_user_overloaded = fields.Boolean(
        string="Overloaded Salesperson",
        compute="_compute_is_user_overloaded",
        search="_search_is_user_overloaded",
        help="The salesperson has more open opportunities in this team than the "
        "team allows.",
    )

    def _auto_init(self):
        cr = self.env.cr
        for column, column_type in (
            ("is_stalled", "bool"),
            ("stalled_since", "timestamp"),
            ("stall_escalated_on", "timestamp"),
        ):
            # pipeline health columns start empty: no lead is stalled yet
            if not column_exists(cr, "crm_lead", column):
                create_column(cr, "crm_lead", column, column_type)
        self._create_counter_column("stalled_count")
        return super()._auto_init()

    @api.depends("pipeline_pause_until")
    def _compute_is_pipeline_paused(self):
        today = fields.Date.context_today(self)
        for lead in self:
            lead.is_pipeline_paused = bool(
                lead.pipeline_pause_until and lead.pipeline_pause_until > today
            )

    @api.depends("user_id", "team_id", "stage_id", "active", "type")
    def _compute_is_user_overloaded(self):
        overloaded = {
            (team.id, user.id)
            for team, users in self.env["crm.team"]._get_overloaded_users().items()
            for user, _count, _limit in users
        }
        for lead in self:
            lead.is_user_overloaded = bool(
                lead._is_open_opportunity()
                and (lead.team_id.id, lead.user_id.id) in overloaded
            )

    def _search_is_user_overloaded(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Unsupported search on Overloaded Salesperson."))
        pairs = [
            [("team_id", "=", team.id), ("user_id", "=", user.id)]
            for team, users in self.env["crm.team"]._get_overloaded_users().items()
            for user, _count, _limit in users
        ]
        domain = (
            expression.AND([self._get_open_opportunity_domain(), expression.OR(pairs)])
            if pairs
            else expression.FALSE_DOMAIN
        )
        if (operator == "=") != value:
            return ["!", *domain] if pairs else expression.TRUE_DOMAIN
        return domain

    # ------------------------------------------------------------
    # STAGE MOVE HOOK
    # ------------------------------------------------------------

    def _on_stage_moved(self, previous_stages):
        # new leads are not stalled; the moved ones' flags are in the cache
        # crm's own write filled. Cleared before the other reactions, which
        # read the flag from the cache (the health score of the moved leads);
        # the activities are marked done after them, as their messages update
        # the last contact of the leads in SQL, which flushes them
        stalled_leads = self.filtered(
            lambda lead: lead.id in previous_stages and lead.is_stalled
        )
        if stalled_leads:
            stalled_leads._reset_stall()
        res = super()._on_stage_moved(previous_stages)
        if stalled_leads:
            stalled_leads._mark_stall_activities_done()
        return res

    # ------------------------------------------------------------
    # PIPELINE HEALTH: PAUSE AND STALL RESET
    # ------------------------------------------------------------

    def _reset_stall(self):
        """Clear the stall flag of ``self`` (leads that just changed stage).

        The cleared values are put in the cache as changed values: they reach
        the database with crm's own update of the moved leads, as the rest of
        the move does, rather than through a write of their own."""
        values = self._get_stall_reset_values()
        for fname, value in values.items():
            field = self._fields[fname]
            self.env.cache.update(
                self,
                field,
                [field.convert_to_cache(value, self)] * len(self),
                dirty=True,
            )
        self.modified(list(values))

    def _mark_stall_activities_done(self):
        """Mark the addon's open stall activities on ``self`` (leads that just
        changed stage) as done, in one batch (mail.activity's
        _action_done_batch) rather than one message post each: a mass move of
        stalled opportunities costs the same handful of queries as one."""
        activities = (
            self.env["mail.activity"]
            # the activities may be assigned to the team leader: marking them
            # done is part of the move the user was allowed to make
            .sudo()
            .search(self._get_stall_activity_domain())
        )
        if activities:
            activities._action_done_batch(
                feedback=self.env._("The opportunity changed stage.")
            )

    @api.model
    def _get_stall_reset_values(self):
        """The values a stage move gives the stall fields of a lead."""
        return {
            "is_stalled": False,
            "stalled_since": False,
            "stalled_count": 0,
            "stall_escalated_on": False,
        }

    def _get_stall_activity_domain(self):
        return [
            ("res_model", "=", "crm.lead"),
            ("res_id", "in", self.ids),
            ("pipeline_health_kind", "in", ("stall", "escalation")),
        ]

    # ------------------------------------------------------------
    # PIPELINE HEALTH: JOBS
    # ------------------------------------------------------------
    # The jobs run as base.user_root, like crm's own crons: they read every
    # company's opportunities and plan activities for other users. A pass
    # walks the candidates in the order of an index (the follow-up by last
    # contact, the stall detection by the start of the stay) with a keyset
    # cursor: each call takes the next batch after the cursor, locks its
    # leads, processes them and reports its progress; the framework commits
    # and calls again. The cursor is kept on the cron's progress record, so
    # that a pass stopped by a crash or the time limit resumes where its last
    # committed batch ended. A processed lead leaves the candidates (it has
    # an activity, or its flag), so a second pass finds nothing; after the
    # day's first pass, a pass walks only the keys recent enough to have
    # become due since the previous one started (the jobs run often under
    # load, and a walk over every open opportunity costs a heap read each).

    @api.model
    def _get_pipeline_health_batch_size(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("sales_pipeline_mgmt.pipeline_health_batch_size")
        )
        try:
            return max(int(value), 1) if value else 1000
        except ValueError:
            return 1000

    @api.model
    def _cron_follow_up(self):
        self._run_pipeline_health_batch(
            self._plan_follow_up_activities,
            lambda: self._get_pipeline_health_max_days("follow_up_days"),
        )

    @api.model
    def _cron_detect_stalls(self):
        # an escalation is due at twice the stage's threshold
        self._run_pipeline_health_batch(
            self._detect_stalls,
            lambda: 2 * self._get_pipeline_health_max_days("stall_days"),
        )

    @api.model
    def _get_pipeline_health_max_days(self, days_field):
        self.env["crm.stage"].flush_model([days_field])
        self.env.cr.execute(
            SQL("SELECT MAX(%s) FROM crm_stage", SQL.identifier(days_field))
        )
        return self.env.cr.fetchone()[0] or 0

    @api.model
    def _run_pipeline_health_batch(self, job, window_days):
        """Run one batch of ``job`` from where the pass stands, keep the new
        cursor on the cron's progress record and report the progress: done
        counts the leads examined, so that a batch whose leads were all
        skipped still lets the pass go on.

        :param window_days: function() -> the longest delay after which a
            lead's sort key makes it due (see _get_pipeline_health_cursor)
        """
        progress = (
            self.env["ir.cron.progress"]
            .sudo()
            .browse(self.env.context.get("ir_cron_progress_id"))
        )
        cursor = self._get_pipeline_health_cursor(progress, window_days)
        result = job(cursor=cursor)
        if progress:
            # -1: the batch found nothing left, the next call starts a pass
            after_date, after_id = result["cursor"] or (False, -1)
            progress.write(
                {
                    "pipeline_health_after_date": after_date,
                    "pipeline_health_after_id": after_id,
                    "pipeline_health_pass_started": cursor["started"],
                    "pipeline_health_pass_full": cursor["full"],
                }
            )
        self.env["ir.cron"]._notify_progress(
            done=result["examined"], remaining=result["remaining"]
        )

    @api.model
    def _get_pipeline_health_cursor(self, progress, window_days=None):
        """Where the job of ``progress`` resumes: the cursor of its last
        batch that completed (a batch that crashed left its progress record
        without one), if that batch left leads to examine; else where a new
        pass starts. None without a progress record (a call outside the
        scheduler: a whole pass from the oldest).

        The first pass of the day walks every candidate from the oldest. A
        later pass the same day walks only the leads that may have become
        due since the last pass started: a lead is due when its key is
        older than its stage's delay, so those whose key is older than that
        start minus the longest delay (``window_days()``) were due then and
        were planned or skipped by that pass. What makes an old lead a
        candidate without moving its key (an activity deleted, a pause that
        ends, a salesperson assigned, the job switched on for a company) is
        seen by the next day's first pass, as it was by a daily job.
        """
        if not progress:
            return None
        previous = progress._get_last_completed_batch()
        if previous.remaining and previous.pipeline_health_after_id > 0:
            return {
                "after": (
                    previous.pipeline_health_after_date,
                    previous.pipeline_health_after_id,
                ),
                "remaining": previous.remaining,
                "started": previous.pipeline_health_pass_started,
                "full": previous.pipeline_health_pass_full,
            }
        now = self.env.cr.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        # a pass ends with a batch that leaves nothing remaining
        full_pass_today = progress.search_count(
            [
                *progress._get_completed_batches_domain(),
                ("remaining", "=", 0),
                ("pipeline_health_pass_full", "=", True),
                ("pipeline_health_pass_started", ">=", midnight),
            ],
            limit=1,
        )
        if not (full_pass_today and previous.pipeline_health_pass_started):
            return {"after": None, "remaining": None, "started": now, "full": True}
        since = previous.pipeline_health_pass_started - timedelta(
            days=window_days() if window_days else 0
        )
        return {
            "after": (since, 0),
            "remaining": None,
            "started": now,
            "full": False,
        }

    def _pipeline_health_common_sql(self, enabled_column):
        """WHERE clauses shared by the jobs: open opportunity, not paused,
        company using the job. Tables: crm_lead l, crm_stage s, res_company c."""
        return SQL(
            """
                %(open)s
            AND (l.pipeline_pause_until IS NULL OR l.pipeline_pause_until <= %(today)s)
            AND (l.company_id IS NULL OR c.%(enabled)s)
            """,
            open=self._get_open_opportunity_sql("l", "s"),
            today=fields.Date.context_today(self),
            enabled=SQL.identifier(enabled_column),
        )

    def _pipeline_health_user_can_read_sql(self):
        """Whether the salesperson (res_users u) may still see the lead's
        company; a lead of a company they left gets no activity."""
        return SQL(
            """(l.company_id IS NULL OR EXISTS (
                    SELECT 1 FROM res_company_users_rel cu
                     WHERE cu.user_id = l.user_id AND cu.cid = l.company_id))"""
        )

    def _get_pipeline_health_page_sql(self, sort_key, days_field, now, cursor, limit):
        """The next ``limit`` open opportunities after ``cursor`` ((sort key,
        id) or None) in the order of the index on (``sort_key``, id), among
        those whose key is older than the shortest delay of the stages
        (``days_field``): a range scan of the index that stops after
        ``limit`` entries. Without ``limit``, their count.

        The page holds only what the index knows: the candidate conditions
        (stage threshold, company, activities, flags) are applied to the
        page's leads by id afterwards, so that PostgreSQL cannot choose to
        collect every remaining candidate stage by stage and sort them."""
        where = SQL(
            """
             WHERE l.active AND l.type = 'opportunity'
               AND %(key)s <= %(now)s - make_interval(
                       days => (SELECT MIN(%(days)s) FROM crm_stage
                                 WHERE %(days)s > 0))
               %(after)s
            """,
            key=sort_key,
            now=now,
            days=SQL.identifier(days_field),
            after=SQL(" AND (%s, l.id) > (%s::timestamp, %s)", sort_key, *cursor)
            if cursor
            else SQL(),
        )
        if not limit:
            return SQL("SELECT COUNT(*) FROM crm_lead l %s", where)
        return SQL(
            "SELECT l.id, %(key)s AS sort_key FROM crm_lead l %(where)s "
            "ORDER BY %(key)s, l.id LIMIT %(limit)s",
            key=sort_key,
            where=where,
            limit=limit,
        )

    @api.model
    def _fetch_pipeline_health_batch(
        self, sort_key, days_field, candidates_sql, now, cursor, batch_size
    ):
        """The next batch of the pass: at most ``batch_size`` candidates,
        from a page of the index ``PAGE_FACTOR`` times larger (most open
        opportunities of a page are not candidates, and each batch has a
        fixed cost); the batch ends at its last candidate when the page holds
        more.

        :param candidates_sql: function(lead ids) -> the candidate query
            restricted to these leads
        :param cursor: the previous batch's cursor dict, None for a new pass
        :return: dict with examined (open opportunities of the page up to
            the batch's end), remaining (left in the pass after it), cursor
            (where the next batch starts), rows (the candidates, dicts in
            the page's order) and locked_ids (the candidates locked for this
            transaction: those being edited right now, or changed since it
            began, are left to the next pass)
        """
        after = cursor and cursor["after"]
        if cursor and cursor["remaining"] is not None:
            todo = cursor["remaining"]
        else:
            # a new pass: what it will walk, from its start
            self.env.cr.execute(
                self._get_pipeline_health_page_sql(
                    sort_key, days_field, now, after, None
                )
            )
            todo = self.env.cr.fetchone()[0]
        page_size = batch_size * PAGE_FACTOR
        self.env.cr.execute(
            self._get_pipeline_health_page_sql(
                sort_key, days_field, now, after, page_size + 1
            )
        )
        page = self.env.cr.fetchall()
        more = len(page) > page_size
        page = page[:page_size]
        rows = []
        if page:
            order = {lead_id: index for index, (lead_id, _key) in enumerate(page)}
            self.env.cr.execute(candidates_sql([lead_id for lead_id, _key in page]))
            rows = sorted(self.env.cr.dictfetchall(), key=lambda row: order[row["id"]])
            if len(rows) > batch_size:
                rows = rows[:batch_size]
                page = page[: order[rows[-1]["id"]] + 1]
                more = True
        return {
            "examined": len(page),
            "remaining": max(todo - len(page), 1) if more else 0,
            "cursor": (page[-1][1], page[-1][0]) if page else None,
            "rows": rows,
            "locked_ids": self._lock_pipeline_health_leads([row["id"] for row in rows]),
        }

    @api.model
    def _lock_pipeline_health_leads(self, lead_ids):
        """Lock the leads ``lead_ids`` against concurrent writes until the
        batch commits, skipping those another transaction holds. A lead that
        a user changed after this transaction's snapshot cannot be locked nor
        written here (PostgreSQL refuses the whole lock): the leads are then
        locked by halves, down to that lead, which is skipped and logged.

        :return: the set of ids locked
        """
        if not lead_ids:
            return set()
        lead_ids = sorted(lead_ids)
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM crm_lead WHERE id IN %s ORDER BY id "
                        "FOR NO KEY UPDATE SKIP LOCKED",
                        tuple(lead_ids),
                    )
                )
                return {lead_id for (lead_id,) in self.env.cr.fetchall()}
        except psycopg2.errors.SerializationFailure:
            if len(lead_ids) == 1:
                _logger.warning(
                    "Pipeline health: lead %s skipped, changed by another user "
                    "during the batch",
                    lead_ids[0],
                )
                return set()
        # by halves rather than one by one: under load a batch of thousands
        # meets a few moved leads, and one statement per lead kept the leads
        # already locked, and the users moving them, waiting for seconds
        middle = len(lead_ids) // 2
        return self._lock_pipeline_health_leads(
            lead_ids[:middle]
        ) | self._lock_pipeline_health_leads(lead_ids[middle:])

    # Follow-ups -----------------------------------------------------

    def _get_follow_up_candidates_sql(self, now, lead_ids=None):
        """Open opportunities without any open activity and without any
        interaction (message or e-mail, activity done, stage change, creation:
        date_last_contact) for their stage's follow_up_days; among
        ``lead_ids`` when given."""
        return SQL(
            """
            SELECT l.id, l.user_id, u.active AS user_active,
                   %(user_can_read)s AS user_can_read,
                   l.date_last_contact AS last_touch
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id
         LEFT JOIN res_company c ON c.id = l.company_id
         LEFT JOIN res_users u ON u.id = l.user_id
             WHERE %(common)s
               AND s.follow_up_days > 0
               AND l.date_last_contact
                   <= %(now)s - make_interval(days => s.follow_up_days)
               AND NOT EXISTS (
                    SELECT 1 FROM mail_activity a
                     WHERE a.res_model = 'crm.lead' AND a.res_id = l.id
                       AND a.active)
               %(ids)s
            """,
            common=self._pipeline_health_common_sql("pipeline_follow_up_enabled"),
            user_can_read=self._pipeline_health_user_can_read_sql(),
            now=now,
            ids=SQL("AND l.id IN %s", tuple(lead_ids)) if lead_ids else SQL(),
        )

    @api.model
    def _plan_follow_up_activities(self, batch_size=None, cursor=None):
        """Plan one follow-up activity, due today, for the salesperson of each
        open opportunity left without contact for its stage's follow_up_days,
        and send the stage's e-mail template if any. One batch per call, after
        ``cursor`` (from the previous batch's result; None starts a pass).

        :return: dict with done (activities planned), examined (open
            opportunities looked at), remaining, failed, cursor (to give the
            next call), and the counts of skipped leads of the batch:
            unassigned, inactive_user, no_access, busy (edited by a user
            right now)
        """
        batch_size = batch_size or self._get_pipeline_health_batch_size()
        now = self.env.cr.now()
        self.env.flush_all()
        batch = self._fetch_pipeline_health_batch(
            SQL("l.date_last_contact"),
            "follow_up_days",
            lambda lead_ids: self._get_follow_up_candidates_sql(now, lead_ids),
            now,
            cursor,
            batch_size,
        )
        rows, locked_ids = batch["rows"], batch["locked_ids"]
        counts = dict.fromkeys(("unassigned", "inactive_user", "no_access", "busy"), 0)
        last_touches = {}
        for row in rows:
            if not row["user_id"]:
                counts["unassigned"] += 1
            elif not row["user_active"]:
                counts["inactive_user"] += 1
            elif not row["user_can_read"]:
                counts["no_access"] += 1
            elif row["id"] not in locked_ids:
                counts["busy"] += 1
            else:
                last_touches[row["id"]] = row["last_touch"]
        leads = self.browse(list(last_touches))
        vals_by_key = {}
        for lead in leads:
            try:
                days = (now - last_touches[lead.id]).days
                vals_by_key[lead.id] = lead._prepare_follow_up_activity_values(days)
            except Exception:  # a bad record never blocks the rest
                _logger.warning("Follow-up: lead %s skipped", lead.id, exc_info=True)
        done_ids = self._create_pipeline_health_activities(vals_by_key)
        self.browse(sorted(done_ids))._send_follow_up_mails()
        failed = len(leads) - len(done_ids)
        remaining = batch["remaining"]
        _logger.info(
            "Follow-up: %s activities planned, %s failed, %s remaining; "
            "skipped: %s without salesperson, %s with an archived salesperson, "
            "%s of a company their salesperson left, %s being edited",
            len(done_ids),
            failed,
            remaining,
            counts["unassigned"],
            counts["inactive_user"],
            counts["no_access"],
            counts["busy"],
        )
        return {
            "done": len(done_ids),
            "examined": batch["examined"],
            "remaining": remaining,
            "failed": failed,
            "cursor": batch["cursor"],
            **counts,
        }

    def _prepare_follow_up_activity_values(self, days):
        self.ensure_one()
        stage = self.stage_id
        return self._prepare_pipeline_health_activity_values(
            "follow_up",
            self.user_id,
            self._get_pipeline_health_activity_type(stage.follow_up_activity_type_id),
            self.env._(
                "Follow up: %(days)s days without contact in %(stage)s",
                days=days,
                stage=stage.name,
            ),
        )

    def _send_follow_up_mails(self):
        """Queue the stage's follow-up e-mail of each lead of ``self`` (the mail
        queue sends it) and log it in the chatter, grouped per template."""
        by_template = self.grouped(
            lambda lead: lead.stage_id.follow_up_mail_template_id
        )
        for template, leads in by_template.items():
            if not template:
                continue
            try:
                with self.env.cr.savepoint():
                    template.send_mail_batch(leads.ids, force_send=False)
                    leads._message_log_batch(
                        {
                            lead.id: Markup("<p>%s</p>")
                            % self.env._(
                                "Follow-up e-mail queued: %(template)s.",
                                template=template.name,
                            )
                            for lead in leads
                        }
                    )
            except Exception:  # a bad template never blocks the rest
                _logger.warning(
                    "Follow-up: e-mail %s not sent", template.id, exc_info=True
                )

    # Stalls ---------------------------------------------------------

    def _get_stall_candidates_sql(self, now, lead_ids=None):
        """Open opportunities in their stage for longer than its stall_days
        that are not flagged yet, or flagged and past twice the threshold with
        a team leader to warn and no escalation yet; among ``lead_ids`` when
        given."""
        since = SQL("COALESCE(l.date_last_stage_update, l.create_date)")
        return SQL(
            """
            SELECT l.id, l.is_stalled, l.user_id,
                   u.active AND %(user_can_read)s AS user_active,
                   t.user_id AS leader_id, s.stall_days, %(since)s AS since
              FROM crm_lead l
              JOIN crm_stage s ON s.id = l.stage_id
         LEFT JOIN res_company c ON c.id = l.company_id
         LEFT JOIN res_users u ON u.id = l.user_id
         LEFT JOIN crm_team t ON t.id = l.team_id
         LEFT JOIN res_users leader ON leader.id = t.user_id
             WHERE %(common)s
               AND s.stall_days > 0
               AND %(since)s <= %(now)s - make_interval(days => s.stall_days)
               AND (NOT COALESCE(l.is_stalled, FALSE)
                    OR (l.stall_escalated_on IS NULL
                        AND leader.active
                        AND %(since)s
                            <= %(now)s - make_interval(days => 2 * s.stall_days)))
               %(ids)s
            """,
            common=self._pipeline_health_common_sql("pipeline_stall_enabled"),
            user_can_read=self._pipeline_health_user_can_read_sql(),
            since=since,
            now=now,
            ids=SQL("AND l.id IN %s", tuple(lead_ids)) if lead_ids else SQL(),
        )

    @api.model
    def _detect_stalls(self, batch_size=None, cursor=None):
        """Flag the open opportunities that stay in their stage longer than its
        stall_days, plan one "Stalled opportunity" activity for the
        salesperson, and past twice the threshold one escalation activity for
        the team leader. One batch per call, after ``cursor`` (from the
        previous batch's result; None starts a pass).

        :return: dict with done (leads flagged or escalated), examined,
            remaining, failed, busy (skipped: edited by a user right now) and
            cursor (to give the next call)
        """
        batch_size = batch_size or self._get_pipeline_health_batch_size()
        now = self.env.cr.now()
        self.env.flush_all()
        batch = self._fetch_pipeline_health_batch(
            SQL("COALESCE(l.date_last_stage_update, l.create_date)"),
            "stall_days",
            lambda lead_ids: self._get_stall_candidates_sql(now, lead_ids),
            now,
            cursor,
            batch_size,
        )
        locked_ids = batch["locked_ids"]
        busy = len(batch["rows"]) - len(locked_ids)
        rows = [row for row in batch["rows"] if row["id"] in locked_ids]
        leads = self.browse([row["id"] for row in rows])
        stalled_type = self.env.ref(
            "sales_pipeline_mgmt.mail_activity_type_stalled", raise_if_not_found=False
        )
        vals_by_key = {}
        flags = {}  # lead id -> (stalled_since, escalated_on or None)
        failed = 0
        for row, lead in zip(rows, leads, strict=True):
            try:
                threshold = timedelta(days=row["stall_days"])
                days = (now - row["since"]).days
                if not row["is_stalled"]:
                    flags[lead.id] = (row["since"] + threshold, None)
                    if row["user_id"] and row["user_active"]:
                        vals_by_key[(lead.id, "stall")] = (
                            lead._prepare_stall_activity_values(stalled_type, days)
                        )
                    elif row["user_id"]:
                        _logger.warning(
                            "Stall detection: lead %s flagged, its salesperson "
                            "is archived or left its company",
                            lead.id,
                        )
                if row["leader_id"] and now - row["since"] >= 2 * threshold:
                    flags[lead.id] = (
                        flags.get(lead.id, (None,))[0] or lead.stalled_since,
                        now,
                    )
                    vals_by_key[(lead.id, "escalation")] = (
                        lead._prepare_stall_escalation_values(stalled_type, days)
                    )
            except Exception:  # a bad record never blocks the rest
                failed += 1
                flags.pop(lead.id, None)
                vals_by_key.pop((lead.id, "stall"), None)
                _logger.warning(
                    "Stall detection: lead %s skipped", lead.id, exc_info=True
                )
        done_keys = self._create_pipeline_health_activities(vals_by_key)
        # a lead whose activity could not be created is left as it was: the
        # next pass tries again
        failed_ids = {lead_id for lead_id, _kind in set(vals_by_key) - done_keys}
        failed += len(failed_ids)
        updates = [
            (lead_id, since, escalated)
            for lead_id, (since, escalated) in flags.items()
            if lead_id not in failed_ids
        ]
        if updates:
            self._write_stall_flags(updates)
        remaining = batch["remaining"]
        _logger.info(
            "Stall detection: %s opportunities flagged or escalated, %s failed, "
            "%s being edited, %s remaining",
            len(updates),
            failed,
            busy,
            remaining,
        )
        return {
            "done": len(updates),
            "examined": batch["examined"],
            "remaining": remaining,
            "failed": failed,
            "busy": busy,
            "cursor": batch["cursor"],
        }

    def _write_stall_flags(self, updates):
        """Set the stall flags in one query. ``updates`` is a list of
        (lead id, stalled since, escalated on or None)."""
        self.flush_model(
            ["is_stalled", "stalled_since", "stalled_count", "stall_escalated_on"]
        )
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead
                   SET is_stalled = TRUE,
                       stalled_count = 1,
                       stalled_since = flags.since,
                       stall_escalated_on = COALESCE(
                           flags.escalated, crm_lead.stall_escalated_on)
                  FROM (VALUES %s) AS flags(lead_id, since, escalated)
                 WHERE crm_lead.id = flags.lead_id
                """,
                SQL(", ").join(
                    SQL("(%s, %s::timestamp, %s::timestamp)", lead_id, since, escalated)
                    for lead_id, since, escalated in updates
                ),
            )
        )
        self.invalidate_model(
            ["is_stalled", "stalled_since", "stalled_count", "stall_escalated_on"]
        )

    def _prepare_stall_activity_values(self, activity_type, days):
        self.ensure_one()
        return self._prepare_pipeline_health_activity_values(
            "stall",
            self.user_id,
            self._get_pipeline_health_activity_type(activity_type),
            self.env._(
                "Stalled: %(days)s days in %(stage)s",
                days=days,
                stage=self.stage_id.name,
            ),
        )

    def _prepare_stall_escalation_values(self, activity_type, days):
        self.ensure_one()
        return self._prepare_pipeline_health_activity_values(
            "escalation",
            self.team_id.user_id,
            self._get_pipeline_health_activity_type(activity_type),
            self.env._(
                "Escalation: %(days)s days in %(stage)s (%(salesperson)s)",
                days=days,
                stage=self.stage_id.name,
                salesperson=self.user_id.name or self.env._("no salesperson"),
            ),
        )
