# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL
from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

# days of closed opportunities the dashboard's rates and means look back on
DASHBOARD_PERIOD_DAYS = 90


class CrmTeam(models.Model):
    _inherit = "crm.team"

    # Pipeline KPIs (dashboard card)
    pipeline_win_percentage = fields.Float(
        string="Win Percentage",
        compute="_compute_pipeline_kpis",
        digits=(16, 1),
        help="Share won among the team's opportunities closed in the last 90 days.",
    )
    pipeline_avg_days_to_win = fields.Float(
        string="Average Days to Win",
        compute="_compute_pipeline_kpis",
        digits=(16, 1),
        help="Mean days from opportunity start to won date over the team's "
        "opportunities won in the last 90 days.",
    )
    pipeline_has_closed = fields.Boolean(compute="_compute_pipeline_kpis")
    pipeline_has_won = fields.Boolean(compute="_compute_pipeline_kpis")
    pipeline_sales_velocity = fields.Monetary(
        string="Sales Velocity (per Day)",
        compute="_compute_pipeline_kpis",
        currency_field="currency_id",
        help="Open opportunities x average won deal x win percentage / average "
        "days to win, over the last 90 days.",
    )

    def _get_pipeline_dashboard_period(self):
        """[date_from, date_to) of the dashboard's win percentage, days to win
        and velocity."""
        now = self.env.cr.now()
        return now - timedelta(days=DASHBOARD_PERIOD_DAYS), now

    def _compute_pipeline_kpis(self):
        """One grouped query for all the teams of ``self``."""
        lead_model = self.env["crm.lead"]
        date_from, date_to = self._get_pipeline_dashboard_period()
        figures_per_team = lead_model._read_pipeline_figures(
            [("team_id", "in", self._origin.ids)], date_from, date_to, "team_id"
        )
        empty = lead_model._empty_pipeline_figures()
        for team in self:
            figures = figures_per_team.get(team._origin.id, empty)
            win_percentage = lead_model._pipeline_rate(
                figures["won_count"], figures["closed_count"]
            )
            team.pipeline_has_closed = win_percentage is not None
            team.pipeline_has_won = figures["avg_days_to_win"] is not None
            team.pipeline_win_percentage = win_percentage or 0.0
            team.pipeline_avg_days_to_win = figures["avg_days_to_win"] or 0.0
            team.pipeline_sales_velocity = (
                lead_model._get_sales_velocity(figures) or 0.0
            )

    # Pipeline health
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

    @api.constrains("max_open_opportunities")
    def _check_max_open_opportunities(self):
        for team in self:
            if team.max_open_opportunities < 0:
                raise ValidationError(
                    self.env._(
                        "%(field)s cannot be negative (team %(team)s).",
                        field=self._fields[
                            "max_open_opportunities"
                        ]._description_string(self.env),
                        team=team.display_name,
                    )
                )

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
    # ACTIONS
    # ------------------------------------------------------------

    def action_apply_standard_pipeline(self):
        """Create, for each team, one stage per standard stage that the team's
        own stages do not cover yet. Existing stages and their leads are left
        as they are."""
        self._apply_standard_pipeline()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._("The standard pipeline stages are in place."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _apply_standard_pipeline(self):
        self.env["crm.stage"].check_access("create")
        standard_stages = self.env["crm.standard.stage"].search([])
        existing = self.env["crm.stage"]._read_group(
            [("team_id", "in", self.ids), ("standard_stage_id", "!=", False)],
            ["team_id", "standard_stage_id"],
        )
        covered = {(team.id, standard.id) for team, standard in existing}
        vals_list = [
            self._prepare_standard_stage_values(standard_stage) | {"team_id": team.id}
            for team in self
            for standard_stage in standard_stages
            if (team.id, standard_stage.id) not in covered
        ]
        return self.env["crm.stage"].create(vals_list)

    def _prepare_standard_stage_values(self, standard_stage):
        purchase = self.env.ref(
            "sales_pipeline_mgmt.standard_stage_purchase", raise_if_not_found=False
        )
        return {
            # read in the admin's language: the stage is named as they read it
            "name": standard_stage.name,
            "sequence": standard_stage.sequence,
            "standard_stage_id": standard_stage.id,
            "is_won": standard_stage == purchase,
            "fold": False,
        }

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
        done_ids = self.env["crm.lead"]._create_pipeline_health_activities(vals_by_key)
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
        activity_type = self.env["crm.lead"]._get_pipeline_health_activity_type()
        return {
            "res_model_id": self.env["ir.model"]._get_id(self._name),
            "res_id": self.id,
            "activity_type_id": activity_type.id,
            "summary": self.env._(
                "Overloaded: %(users)s",
                users=", ".join(user.name for user, *_ in users),
            ),
            "note": ", ".join(
                self.env._(
                    "%(user)s: %(count)s open opportunities (limit %(limit)s)",
                    user=user.name,
                    count=count,
                    limit=limit,
                )
                for user, count, limit in users
            ),
            "date_deadline": fields.Date.context_today(self),
            "user_id": self.user_id.id,
            "pipeline_health_kind": "overload",
        }
