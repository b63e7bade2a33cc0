# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)


class CrmTeam(models.Model):
    """Overloaded salespeople: the team's limit of open opportunities per
    salesperson, and the job that warns the team leader."""

    _name = "crm.team"
    _inherit = (
        "crm.team",
        "crm.pipeline.health.mixin",
        "crm.pipeline.setting.mixin",
    )

    max_open_opportunities = fields.Integer(
        string="Max Open Opportunities per Salesperson",
        default=lambda self: self._default_max_open_opportunities(),
        help="A salesperson with more open opportunities in this team is "
        "overloaded: the dashboard shows it and the team leader gets an "
        "activity (at most one a day). 0 turns it off.",
    )
    overload_notified_on = fields.Date(
        readonly=True,
        copy=False,
        help="Last day the team leader was warned about overloaded salespeople (at "
        "most once a day).",
    )
    overloaded_user_count = fields.Integer(
        string="# Overloaded Salespeople",
        compute="_compute_overloaded_users",
        help="Salespeople of the team with more open opportunities in it than the "
        "team's maximum.",
    )
    overloaded_user_summary = fields.Char(
        string="Overloaded Salespeople",
        compute="_compute_overloaded_users",
        help="Each overloaded salesperson with the number of open opportunities above "
        "the maximum.",
    )

    def _auto_init(self):
        # Existing teams start with no limit (0 = off), set in SQL: the default
        # reads a company column that may not exist yet at install.
        if not column_exists(self.env.cr, "crm_team", "max_open_opportunities"):
            self.env.cr.execute(
                SQL(
                    "ALTER TABLE crm_team ADD COLUMN max_open_opportunities int4 "
                    "DEFAULT 0"
                )
            )
        return super()._auto_init()

    def _default_max_open_opportunities(self):
        return self.env.company.pipeline_max_open_opportunities

    @api.depends("max_open_opportunities")
    def _compute_overloaded_users(self):
        overloaded = self._get_overloaded_users()
        for team in self:
            users = overloaded.get(team, [])
            team.overloaded_user_count = len(users)
            team.overloaded_user_summary = ", ".join(
                self.env._(
                    "%(user)s (+%(excess)s)", user=user.name, excess=count - limit
                )
                for user, count, limit in users
            )

    @api.model
    def _get_non_negative_setting_fields(self):
        return [*super()._get_non_negative_setting_fields(), "max_open_opportunities"]

    def _get_overloaded_users(self):
        """Return {team: [(user, open opportunities, limit)]} for the teams of
        ``self`` (all teams when empty) whose limit some salesperson exceeds,
        in one grouped query."""
        teams = self or self.search([("max_open_opportunities", ">", 0)])
        teams = teams.filtered("max_open_opportunities")
        if not teams:
            return {}
        groups = self.env["crm.lead"]._read_group(
            self.env["crm.lead"]._get_open_opportunity_domain()
            + [("team_id", "in", teams.ids), ("user_id", "!=", False)],
            ["team_id", "user_id"],
            ["__count"],
        )
        result = {}
        for team, user, count in groups:
            if count > team.max_open_opportunities:
                result.setdefault(team, []).append(
                    (user, count, team.max_open_opportunities)
                )
        return result

    # ------------------------------------------------------------
    # OVERLOAD JOB
    # ------------------------------------------------------------

    @api.model
    def _cron_check_overload(self):
        result = self._notify_overloaded_teams()
        self.env["ir.cron"]._notify_progress(
            done=result["done"], remaining=result["remaining"]
        )

    @api.model
    def _notify_overloaded_teams(self):
        """Plan, for the leader of each team with overloaded salespeople, one
        activity naming them, at most once a day and never while the previous
        one is still open. Runs as base.user_root, like crm's crons.

        :return: dict with done, remaining, failed
        """
        today = fields.Date.context_today(self)
        teams = self.search(
            [
                ("max_open_opportunities", ">", 0),
                ("user_id", "!=", False),
                ("user_id.active", "=", True),
                "|",
                ("overload_notified_on", "=", False),
                ("overload_notified_on", "<", today),
            ]
        )
        overloaded = teams._get_overloaded_users() if teams else {}
        if overloaded:
            open_team_ids = {
                activity.res_id
                for activity in self.env["mail.activity"].search(
                    [
                        ("res_model", "=", self._name),
                        ("res_id", "in", [team.id for team in overloaded]),
                        ("pipeline_health_kind", "=", "overload"),
                    ]
                )
            }
            overloaded = {
                team: users
                for team, users in overloaded.items()
                if team.id not in open_team_ids
            }
        vals_by_key = {}
        for team, users in overloaded.items():
            try:
                vals_by_key[team.id] = team._prepare_overload_activity_values(users)
            except Exception:  # a bad record never blocks the rest
                _logger.warning("Overload: team %s skipped", team.id, exc_info=True)
        done_ids = self._create_pipeline_health_activities(vals_by_key)
        if done_ids:
            self.browse(sorted(done_ids)).write({"overload_notified_on": today})
        _logger.info(
            "Overload: %s team leaders notified, %s failed",
            len(done_ids),
            len(overloaded) - len(done_ids),
        )
        return {
            "done": len(done_ids),
            "remaining": 0,
            "failed": len(overloaded) - len(done_ids),
        }

    def _prepare_overload_activity_values(self, users):
        self.ensure_one()
        return self._prepare_pipeline_health_activity_values(
            "overload",
            self.user_id,
            self._get_pipeline_health_activity_type(),
            self.env._(
                "Overloaded: %(users)s",
                users=", ".join(user.name for user, *_ in users),
            ),
            note=", ".join(
                self.env._(
                    "%(user)s: %(count)s open opportunities (limit %(limit)s)",
                    user=user.name,
                    count=count,
                    limit=limit,
                )
                for user, count, limit in users
            ),
        )
