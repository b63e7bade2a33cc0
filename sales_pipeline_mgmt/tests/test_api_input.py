# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Bad input through the API: every public method and every setting of the
addon, called as an RPC client would, answers a wrong argument with a
UserError or ValidationError naming it, and the failed call writes nothing."""

from datetime import date, datetime

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users
from odoo.tools import SQL

from .common import SalesPipelineCommon

# Wrong domains, each refused naming the argument: not a list, malformed
# conditions, unknown field, unknown operator, a dangling operator.
BAD_DOMAINS = (
    "[('name', '=', 'x')]",
    {"name": "x"},
    42,
    ["abc"],
    [("name", "=")],
    [["name", "=", "x", "y"]],
    [(1, 2, 3)],
    [("no_such_field", "=", 1)],
    [("name", "no such operator", "x")],
    ["|", ("name", "=", "x")],
)
# Values that are not dates
NOT_DATES = ("abc", "2026-13-45", "2026/03/01", "", 20260301, 1.5, True, ["2026"])
# Dates out of what the figures support (1900 to 2999)
ABSURD_DATES = ("0001-01-01", "9999-12-31", date(1899, 12, 31), datetime(3000, 1, 1))
# The day settings of stages and standard stages, with their labels
DAY_SETTINGS = (
    ("stall_days", "Stalled After (Days)"),
    ("follow_up_days", "Follow-up After (Days)"),
)


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestApiInput(SalesPipelineCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_admin_settings = cls._new_user(
            "spm_settings_admin",
            "Sid Settings",
            "base.group_system,sales_team.group_sale_manager",
        )
        cls.team_2 = cls.env["crm.team"].create(
            {"name": "SPM Team 2", "company_id": cls.company_2.id}
        )
        cls.lead = cls._create_opportunity(cls, env=cls.env)
        cls.partner_template = cls.env["mail.template"].create(
            {
                "name": "SPM Partner Template",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
            }
        )
        cls.partner_activity_type = cls.env["mail.activity.type"].create(
            {"name": "SPM Partner Call", "res_model": "res.partner"}
        )

    # Helpers -----------------------------------------------------------

    def _db_state(self):
        """What a failed call must leave as it was, read in SQL: the
        settings of stages, standard stages, teams and companies, the
        addon's system parameters, the snapshot schedule and the counts of
        leads, stages, stays and deal history rows."""
        # the cursor's flush also records the deal history of the fixtures,
        # as the savepoint of the call would
        self.env.cr.flush()
        queries = (
            SQL(
                "SELECT id, stall_days, follow_up_days, follow_up_activity_type_id,"
                " follow_up_mail_template_id FROM crm_stage ORDER BY id"
            ),
            SQL(
                "SELECT rel.stage_id, rel.field_id FROM crm_stage_required_field_rel"
                " rel ORDER BY 1, 2"
            ),
            SQL(
                "SELECT id, stall_days, follow_up_days FROM crm_standard_stage"
                " ORDER BY id"
            ),
            SQL("SELECT id, max_open_opportunities FROM crm_team ORDER BY id"),
            SQL(
                "SELECT id, forecast_history_months, forecast_min_sample,"
                " forecast_optimistic_margin_days, forecast_accuracy_lead_weeks,"
                " pipeline_follow_up_days, pipeline_stall_days,"
                " pipeline_max_open_opportunities FROM res_company ORDER BY id"
            ),
            SQL(
                "SELECT key, value FROM ir_config_parameter WHERE key LIKE %s"
                " ORDER BY key",
                "sales_pipeline_mgmt.%",
            ),
            SQL("SELECT interval_number, interval_type FROM ir_cron ORDER BY id"),
            SQL(
                "SELECT (SELECT COUNT(*) FROM crm_lead),"
                " (SELECT COUNT(*) FROM crm_stage),"
                " (SELECT COUNT(*) FROM crm_lead_stage_history),"
                " (SELECT COUNT(*) FROM crm_lead_deal_history),"
                " (SELECT MAX(write_date) FROM crm_lead)"
            ),
        )
        state = []
        for query in queries:
            self.env.cr.execute(query)
            state.append(self.env.cr.fetchall())
        return state

    def _refused(self, call, name, exception=UserError):
        """``call`` raises ``exception`` whose message starts with ``name:``
        (an argument) or contains ``name`` (a field's label); it is rolled
        back as an RPC would be, and the database is as it was."""
        before = self._db_state()
        with self.assertRaises(exception) as caught, self.env.cr.savepoint():
            call()
        message = str(caught.exception)
        if name.isidentifier():
            self.assertTrue(message.startswith(f"{name}:"), message)
        else:
            self.assertIn(name, message)
        self.assertEqual(self._db_state(), before, f"written by {call}: {message}")
        return message

    def _spanish_lead_model(self):
        """crm.lead in Spanish, with the addon's translations loaded."""
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"].search(
            [("name", "=", "sales_pipeline_mgmt")]
        )._update_translations(["es_ES"], overwrite=True)
        return self.env["crm.lead"].with_context(lang="es_ES")

    def _bad_team_and_user_filters(self):
        """(filters, the argument named) for teams or a salesperson given
        wrongly: not a list of ids, not ids, another company's team, ids that
        do not exist."""
        return [
            ({"team_ids": self.team.id}, "team_ids"),
            ({"team_ids": [str(self.team.id)]}, "team_ids"),
            ({"team_ids": [True]}, "team_ids"),
            ({"user_id": [self.user_salesman.id]}, "user_id"),
            ({"user_id": 1.0}, "user_id"),
            ({"team_ids": [self.team_2.id]}, "team_ids"),
            ({"team_ids": [self.team.id, 2**31]}, "team_ids"),
            ({"user_id": 2**31}, "user_id"),
        ]

    def _assert_names_the_other_companys_team_only(self, message):
        self.assertIn(str(self.team_2.id), message)
        self.assertNotIn(str(self.team.id) + ",", message)

    # Pipeline KPIs -----------------------------------------------------

    @users("spm_salesman")
    def test_kpis_refuse_bad_domains(self):
        lead_model = self.env["crm.lead"]
        for domain in BAD_DOMAINS:
            with self.subTest(domain=domain):
                self._refused(
                    lambda d=domain: lead_model.get_pipeline_kpis(d), "domain"
                )

    @users("spm_salesman")
    def test_kpis_refuse_values_that_are_not_dates(self):
        lead_model = self.env["crm.lead"]
        for value in NOT_DATES:
            with self.subTest(value=value):
                self._refused(
                    lambda v=value: lead_model.get_pipeline_kpis(None, v), "date_from"
                )
                self._refused(
                    lambda v=value: lead_model.get_pipeline_kpis(None, None, v),
                    "date_to",
                )

    @users("spm_salesman")
    def test_kpis_refuse_absurd_and_reversed_periods(self):
        lead_model = self.env["crm.lead"]
        for value in ABSURD_DATES:
            with self.subTest(value=value):
                self._refused(
                    lambda v=value: lead_model.get_pipeline_kpis(None, v), "date_from"
                )
        # the end is excluded: a period ending when it starts is empty
        for date_from, date_to in (
            ("2026-03-01", "2026-02-01"),
            ("2026-03-01", "2026-03-01"),
            ("2026-03-01 12:00:00", "2026-03-01 11:59:59"),
        ):
            with self.subTest(period=(date_from, date_to)):
                message = self._refused(
                    lambda f=date_from, t=date_to: lead_model.get_pipeline_kpis(
                        None, f, t
                    ),
                    "date_to",
                )
                self.assertIn("end after it starts", message)

    @users("spm_salesman")
    def test_kpis_accept_every_documented_form(self):
        lead_model = self.env["crm.lead"]
        domain = [("team_id", "=", self.team.id)]
        expected = lead_model.get_pipeline_kpis(domain, "2026-03-01", "2026-04-01")
        for date_from, date_to in (
            (date(2026, 3, 1), date(2026, 4, 1)),
            (datetime(2026, 3, 1), datetime(2026, 4, 1)),
            ("2026-03-01 00:00:00", "2026-04-01 00:00:00"),
        ):
            self.assertEqual(
                lead_model.get_pipeline_kpis(tuple(domain), date_from, date_to),
                expected,
            )

    def test_kpi_errors_are_translated(self):
        lead_model = self._spanish_lead_model()
        message = self._refused(
            lambda: lead_model.get_pipeline_kpis(None, "2026-03-01", "2026-02-01"),
            "date_to",
        )
        self.assertIn("debe terminar después", message)

    @users("spm_manager")
    def test_the_checks_cost_no_query(self):
        # the KPIs keep their two queries, and a write of a setting or of
        # anything else on a team, stage or company pays nothing for them
        lead_model = self.env["crm.lead"]
        team = self.env["crm.team"].browse(self.team.id)
        team.fetch(["max_open_opportunities"])  # in the cache, as after a read
        domain = [
            "|",
            ("team_id", "=", self.team.id),
            ("stage_id.name", "ilike", "x"),
        ]
        # a path through stages reads their record rules once (cached after)
        lead_model._check_pipeline_api_domain("domain", domain)
        with self.assertQueryCount(spm_manager=0):
            lead_model._check_pipeline_api_domain("domain", domain)
            lead_model._check_pipeline_api_period("2026-03-01", datetime(2026, 4, 1))
            team._check_setting_input({"max_open_opportunities": 5, "name": "x"})
            team._check_setting_values()

    # Pipeline dashboard ------------------------------------------------

    @users("spm_salesman")
    def test_dashboard_refuses_bad_filters(self):
        lead_model = self.env["crm.lead"]

        def dashboard(**filters):
            return lambda: lead_model.get_pipeline_dashboard(filters)

        for domain in BAD_DOMAINS:
            with self.subTest(domain=domain):
                self._refused(dashboard(domain=domain), "domain")
        for value in (*NOT_DATES, *ABSURD_DATES):
            with self.subTest(value=value):
                self._refused(
                    dashboard(period="custom", date_from=value, date_to="2026-03-01"),
                    "date_from",
                )
        cases = [
            (
                dashboard(
                    period="custom", date_from="2026-03-10", date_to="2026-03-01"
                ),
                "date_to",
            ),
            (
                dashboard(
                    period="custom", date_from="2000-01-01", date_to="2026-03-01"
                ),
                "date_to",
            ),
            (dashboard(period=5), "period"),
            (dashboard(compare=["previous"]), "compare"),
            (dashboard(source_id="web"), "source_id"),
            (dashboard(source_id=2**31), "source_id"),
            (dashboard(colour="blue"), "colour"),
            (lambda: lead_model.get_pipeline_dashboard(["period"]), "filters"),
        ]
        cases += [
            (dashboard(**filters), name)
            for filters, name in self._bad_team_and_user_filters()
        ]
        for call, name in cases:
            with self.subTest(name=name):
                self._refused(call, name)

    @users("spm_manager")
    def test_dashboard_refuses_another_companys_team_to_a_manager(self):
        message = self._refused(
            lambda: self.env["crm.lead"].get_pipeline_dashboard(
                {"team_ids": [self.team.id, self.team_2.id]}
            ),
            "team_ids",
        )
        self._assert_names_the_other_companys_team_only(message)

    # Pipeline changes and pipeline over time ---------------------------

    @users("spm_salesman")
    def test_pipeline_changes_refuse_bad_filters(self):
        lead_model = self.env["crm.lead"]
        for method in (
            lead_model.get_pipeline_changes,
            lead_model.get_pipeline_over_time,
        ):

            def changes(method=method, **filters):
                return lambda: method(filters)

            # an empty date is the default one
            for value in (*NOT_DATES, *ABSURD_DATES):
                if not value:
                    continue
                with self.subTest(method=method.__name__, value=value):
                    self._refused(
                        changes(date_from=value, date_to="2026-03-01"), "date_from"
                    )
                    self._refused(
                        changes(date_from="2026-03-01", date_to=value), "date_to"
                    )
            cases = [
                (changes(date_from="2026-03-10", date_to="2026-03-01"), "date_to"),
                (changes(colour="blue"), "colour"),
                (lambda method=method: method(["date_from"]), "filters"),
            ]
            cases += [
                (changes(**filters), name)
                for filters, name in self._bad_team_and_user_filters()
            ]
            for call, name in cases:
                with self.subTest(method=method.__name__, name=name):
                    self._refused(call, name)
        message = self._refused(
            lambda: lead_model.get_pipeline_changes(
                {"date_from": "2026-03-10", "date_to": "2026-03-01"}
            ),
            "date_to",
        )
        self.assertIn("cannot end", message)
        over_time = lead_model.get_pipeline_over_time
        for call, name in (
            (lambda: over_time({"interval": "month"}), "interval"),
            (
                lambda: over_time({"interval": "day", "date_from": "2000-01-01"}),
                "date_from",
            ),
        ):
            with self.subTest(name=name):
                self._refused(call, name)

    @users("spm_salesman")
    def test_pipeline_at_refuses_bad_moments_and_domains(self):
        lead_model = self.env["crm.lead"]
        for value in (None, False, *NOT_DATES, *ABSURD_DATES):
            with self.subTest(value=value):
                self._refused(lambda v=value: lead_model._get_pipeline_at(v), "moment")
        for domain in BAD_DOMAINS:
            with self.subTest(domain=domain):
                self._refused(
                    lambda d=domain: lead_model._get_pipeline_at("2026-03-01", d),
                    "domain",
                )

    @users("spm_salesman")
    def test_pipeline_changes_accept_every_documented_form(self):
        lead_model = self.env["crm.lead"]
        expected = lead_model.get_pipeline_changes(
            {"date_from": "2026-03-01", "date_to": "2026-03-07"}
        )
        self.assertEqual(
            lead_model.get_pipeline_changes(
                {"date_from": date(2026, 3, 1), "date_to": datetime(2026, 3, 7)}
            ),
            expected,
        )
        domain = [("state", "=", "open"), ("team_id", "=", self.team.id)]
        expected = lead_model._get_pipeline_at("2026-03-01", domain)
        for moment in (
            date(2026, 3, 1),
            datetime(2026, 3, 1),
            "2026-03-01 00:00:00",
        ):
            with self.subTest(moment=moment):
                self.assertEqual(
                    lead_model._get_pipeline_at(moment, tuple(domain)), expected
                )

    # Deals at risk -----------------------------------------------------

    @users("spm_salesman")
    def test_deals_at_risk_refuse_bad_arguments(self):
        lead_model = self.env["crm.lead"]
        for limit in (0, 101, -1, 10**12, "5", 5.0, True, None, [5]):
            with self.subTest(limit=limit):
                message = self._refused(
                    lambda v=limit: lead_model.get_deals_at_risk(limit=v), "limit"
                )
                self.assertIn("whole number from 1 to 100", message)
        for kwargs, name in (
            *self._bad_team_and_user_filters(),
            ({"team_ids": "1"}, "team_ids"),
            ({"user_id": "me"}, "user_id"),
        ):
            with self.subTest(**kwargs):
                self._refused(lambda k=kwargs: lead_model.get_deals_at_risk(**k), name)

    @users("spm_manager")
    def test_changes_and_deals_at_risk_refuse_another_companys_team(self):
        lead_model = self.env["crm.lead"]
        team_ids = [self.team.id, self.team_2.id]
        for call in (
            lambda: lead_model.get_pipeline_changes({"team_ids": team_ids}),
            lambda: lead_model.get_pipeline_over_time({"team_ids": team_ids}),
            lambda: lead_model.get_deals_at_risk(team_ids=team_ids),
        ):
            self._assert_names_the_other_companys_team_only(
                self._refused(call, "team_ids")
            )

    def test_changes_and_deals_at_risk_errors_are_translated(self):
        lead_model = self._spanish_lead_model()
        message = self._refused(
            lambda: lead_model.get_pipeline_changes(
                {"date_from": "2026-03-10", "date_to": "2026-03-01"}
            ),
            "date_to",
        )
        self.assertIn("no puede terminar", message)
        message = self._refused(lambda: lead_model.get_deals_at_risk(limit=0), "limit")
        self.assertIn("no es un número entero", message)

    # Actions -----------------------------------------------------------

    @users("spm_salesman")
    def test_actions_refuse_users_who_may_not_run_them(self):
        team = self.env["crm.team"].browse(self.team.id)
        self._refused(team.action_apply_standard_pipeline, "crm.team", AccessError)
        settings = self.env["res.config.settings"].browse(
            self.env["res.config.settings"].sudo().create({}).id
        )
        self._refused(
            settings.action_refresh_historical_forecast,
            "res.config.settings",
            AccessError,
        )

    @users("spm_manager")
    def test_standard_pipeline_refuses_another_companys_team(self):
        team_2 = self.env["crm.team"].browse(self.team_2.id)
        self._refused(team_2.action_apply_standard_pipeline, "crm.team", AccessError)

    # Settings of stages, standard stages and teams ---------------------

    def _bad_numbers(self, maximum, minimum=0):
        """(value, what the message says) for a setting from ``minimum`` to
        ``maximum``; 10**12 is what PostgreSQL refused as "integer out of
        range" before the check."""
        cases = [
            (maximum + 1, "more than"),
            (10**12, "more than"),
            ("ten", "not a whole number"),
            (2.5, "not a whole number"),
            (True, "not a whole number"),
            ([3], "not a whole number"),
        ]
        cases.append((minimum - 1, "greater than zero" if minimum else "negative"))
        return cases

    def _assert_bad_numbers_refused(self, label, maximum, *calls, minimum=0):
        """Each of ``calls``, given a value, writes it to a setting from
        ``minimum`` to ``maximum``: every bad value is refused naming the
        setting's ``label`` and saying what is wrong with it."""
        for value, says in self._bad_numbers(maximum, minimum):
            for call in calls:
                with self.subTest(label=label, value=value):
                    message = self._refused(
                        lambda c=call, v=value: c(v), label, ValidationError
                    )
                    self.assertIn(says, message)

    @users("spm_manager")
    def test_stage_settings_are_checked(self):
        stage = self.env["crm.stage"].browse(self.stage_new.id)
        stage_model = self.env["crm.stage"]
        for fname, label in DAY_SETTINGS:
            self._assert_bad_numbers_refused(
                label,
                3650,
                lambda v, f=fname: stage.write({f: v}),
                lambda v, f=fname: stage_model.create(
                    {"name": "SPM Bad", "team_id": self.team.id, f: v}
                ),
            )
        stage.write({"stall_days": 3650, "follow_up_days": 0})  # the bounds pass
        for vals, label in (
            (
                {"follow_up_mail_template_id": self.partner_template.id},
                "Follow-up E-mail",
            ),
            (
                {"follow_up_activity_type_id": self.partner_activity_type.id},
                "Follow-up Activity Type",
            ),
            (
                {
                    "required_field_ids": [
                        (
                            6,
                            0,
                            self.env["ir.model.fields"]._get("res.partner", "ref").ids,
                        )
                    ]
                },
                "Required to Enter",
            ),
        ):
            with self.subTest(vals=vals):
                self._refused(lambda v=vals: stage.write(v), label, ValidationError)

    @users("spm_manager")
    def test_standard_stage_settings_are_checked(self):
        standard = self.env["crm.standard.stage"].browse(self.standard_interest.id)
        for fname, label in DAY_SETTINGS:
            self._assert_bad_numbers_refused(
                label, 3650, lambda v, f=fname: standard.write({f: v})
            )

    @users("spm_manager")
    def test_team_settings_are_checked(self):
        team = self.env["crm.team"].browse(self.team.id)
        self._assert_bad_numbers_refused(
            "Max Open Opportunities per Salesperson",
            100000,
            lambda v: team.write({"max_open_opportunities": v}),
            lambda v: self.env["crm.team"].create(
                {"name": "SPM Bad Team", "max_open_opportunities": v}
            ),
        )

    # Company settings (CRM > Configuration > Settings) -----------------

    @users("spm_settings_admin")
    def test_company_settings_are_checked(self):
        settings_model = self.env["res.config.settings"]
        cases = {
            "forecast_history_months": ("Forecast History Window (Months)", 240, 1),
            "forecast_min_sample": ("Forecast Minimum Sample", 1000000, 1),
            "forecast_optimistic_margin_days": (
                "Optimistic Close Date Margin (Days)",
                3650,
                1,
            ),
            "forecast_accuracy_lead_weeks": (
                "Forecast Accuracy Lead Time (Weeks)",
                520,
                1,
            ),
            "pipeline_follow_up_days": ("Default Follow-up Days", 3650, 0),
            "pipeline_stall_days": ("Default Stall Days", 3650, 0),
            "pipeline_max_open_opportunities": ("Default Overload Limit", 100000, 0),
        }
        for fname, (label, maximum, minimum) in cases.items():
            self._assert_bad_numbers_refused(
                label,
                maximum,
                lambda v, f=fname: settings_model.create({f: v}).execute(),
                minimum=minimum,
            )
        for value, says in (
            (0, "greater than zero"),
            (-1, "greater than zero"),
            (367, "more than"),
            (10**12, "more than"),
            ("weekly", "not a whole number"),
        ):
            with self.subTest(field="forecast_snapshot_interval_number", value=value):
                message = self._refused(
                    lambda v=value: settings_model.create(
                        {"forecast_snapshot_interval_number": v}
                    ).execute(),
                    "Snapshot Frequency",
                    ValidationError,
                )
                self.assertIn(says, message)

    @users("spm_settings_admin")
    def test_system_parameters_are_checked(self):
        parameters = self.env["ir.config_parameter"]
        for key, maximum in (
            ("sales_pipeline_mgmt.bottleneck_min_sample", 1000000),
            ("sales_pipeline_mgmt.pipeline_health_batch_size", 100000),
        ):
            for value in ("abc", "0", "-3", "2.5", str(maximum + 1), str(10**12)):
                with self.subTest(key=key, value=value):
                    self._refused(
                        lambda k=key, v=value: parameters.set_param(k, v),
                        key,
                        ValidationError,
                    )
            parameters.set_param(key, str(maximum))  # the bound passes
