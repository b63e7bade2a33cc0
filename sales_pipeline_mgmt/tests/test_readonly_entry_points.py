# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The addon's read-only entry points run in a read-only transaction, as they
do on a read replica (Odoo sends an RPC whose method is ``@api.readonly`` to
``--db_replica_host``): same figures, and nothing tries to write."""

import inspect
from contextlib import contextmanager
from datetime import date

from psycopg2.errors import ReadOnlySqlTransaction

from odoo.tests import tagged, users
from odoo.tools import SQL, mute_logger

from .test_pipeline_dashboard import NOW, PipelineDashboardCommon

ADDON_MODULE = "odoo.addons.sales_pipeline_mgmt."
# Public get_* methods of the addon that are not read-only entry points, each
# with the reason. Keep this list short: a getter that writes is a smell.
NOT_READONLY_GETTERS = {
    # Odoo's settings read their values while the form is being edited
    # (default_get, onchange), in read/write calls; Odoo's own get_values is
    # not read-only either
    ("res.config.settings", "get_values"),
}
# Odoo's read methods that the addon's reports and history are read through
BASE_READ_METHODS = (
    "read",
    "search_read",
    "web_read",
    "web_search_read",
    "read_group",
    "web_read_group",
    "search_count",
)
REPORT_MODELS = (
    "crm.lead.stage.analysis",
    "crm.lead.funnel",
    "crm.pipeline.forecast.accuracy",
    "crm.pipeline.snapshot",
    "crm.lead.stage.history",
)


def is_readonly(model_class, method_name):
    """Whether an RPC of ``method_name`` runs on the replica: the lookup of
    Odoo's /web/dataset/call_kw (DataSet._call_kw_readonly), the first class
    of the MRO whose method carries the marker decides."""
    for cls in model_class.mro():
        method = getattr(cls, method_name, None)
        if method is not None and hasattr(method, "_readonly"):
            return method._readonly
    return False


def addon_get_methods(env):
    """(model, model class, method name, function) of every public get_*
    method that one of the addon's classes defines or overrides (once per
    class that does)."""
    for model_name in env.registry:
        model_class = type(env[model_name])
        for cls in model_class.mro():
            if not cls.__module__.startswith(ADDON_MODULE):
                continue
            for name, member in vars(cls).items():
                if name.startswith("get_") and inspect.isfunction(member):
                    yield model_name, model_class, name, member


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestReadonlyMarkers(PipelineDashboardCommon):
    def _addon_getters(self):
        """{(model, method name)} of the public get_* methods that one of the
        addon's classes defines or overrides."""
        return {
            (model_name, name)
            for model_name, _class, name, _function in addon_get_methods(self.env)
        }

    def test_every_public_getter_of_the_addon_is_readonly(self):
        getters = self._addon_getters()
        # the two entry points of the figures are found, so the walk works
        self.assertIn(("crm.lead", "get_pipeline_kpis"), getters)
        self.assertIn(("crm.lead", "get_pipeline_dashboard"), getters)
        self.assertLessEqual(NOT_READONLY_GETTERS, getters, "stale exception")
        missing = sorted(
            f"{model_name}.{name}"
            for model_name, name in getters - NOT_READONLY_GETTERS
            if not is_readonly(type(self.env[model_name]), name)
        )
        self.assertEqual(missing, [], "public getters without @api.readonly")

    def test_the_reports_are_read_through_readonly_methods(self):
        # the reports and the history override none of Odoo's read methods:
        # the read-only markers of Odoo 18 apply to them as they are
        for model_name in REPORT_MODELS:
            model_class = type(self.env[model_name])
            for name in BASE_READ_METHODS:
                self.assertTrue(is_readonly(model_class, name), (model_name, name))

    def test_write_entry_points_are_not_readonly(self):
        # the actions and the stage moves must run on the primary
        self.assertFalse(is_readonly(type(self.env["crm.lead"]), "write"))
        self.assertFalse(
            is_readonly(type(self.env["crm.team"]), "action_apply_standard_pipeline")
        )
        self.assertFalse(
            is_readonly(
                type(self.env["res.config.settings"]),
                "action_refresh_historical_forecast",
            )
        )


@tagged("post_install", "-at_install", "sales_pipeline_mgmt")
class TestReadonlyEntryPoints(PipelineDashboardCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a snapshot, so that the trend and accuracy reports have rows
        with cls._pinned_cls(NOW):
            cls.env["crm.pipeline.snapshot"]._take_snapshot(date(2026, 3, 16))
        cls.env.flush_all()

    @contextmanager
    def _read_only_transaction(self):
        """A read-only transaction, as on a replica: PostgreSQL refuses any
        write ("cannot execute ... in a read-only transaction"), the ORM's
        pending writes included (flushed before leaving). Rolled back after,
        so that the test transaction goes on read/write."""
        self.env.flush_all()
        self.env.invalidate_all()
        cr = self.env.cr
        cr.execute(SQL("SAVEPOINT spm_read_only"))
        cr.execute(SQL("SET TRANSACTION READ ONLY"))
        try:
            yield
            self.env.flush_all()
        finally:
            self.env.invalidate_all()
            cr.execute(SQL("ROLLBACK TO SAVEPOINT spm_read_only"))
            cr.execute(SQL("RELEASE SAVEPOINT spm_read_only"))

    def _same_read_only(self, call):
        """Run ``call`` normally, then in a read-only transaction: it must
        succeed there and return the same result."""
        with self._pinned(NOW):
            expected = call()
            with self._read_only_transaction():
                result = call()
        self.assertEqual(result, expected)
        return result

    def test_the_read_only_transaction_refuses_writes(self):
        # the harness itself: a write in it fails as on a replica
        with (
            self.assertRaises(ReadOnlySqlTransaction),
            mute_logger("odoo.sql_db"),
            self._read_only_transaction(),
        ):
            self.o1.name = "renamed"
        self.assertEqual(self.o1.name, "o1")

    @users("spm_salesman", "spm_manager")
    def test_kpis(self):
        lead_model = self.env["crm.lead"]
        kpis = self._same_read_only(
            lambda: lead_model.get_pipeline_kpis(
                [("team_id", "=", self.team.id)], "2026-03-01", "2026-04-01"
            )
        )
        self.assertTrue(kpis["leads_by_source_month"])
        self._same_read_only(lead_model.get_pipeline_kpis)

    @users("spm_salesman", "spm_manager")
    def test_dashboard(self):
        lead_model = self.env["crm.lead"]
        for filters in (
            {},
            {"period": "last_3_months", "compare": "last_year"},
            {
                "period": "custom",
                "date_from": "2026-02-01",
                "date_to": "2026-03-20",
                "team_ids": [self.team.id],
                "source_id": self.source_web.id,
                "domain": [("type", "=", "opportunity")],
            },
        ):
            dashboard = self._same_read_only(
                lambda filters=filters: lead_model.get_pipeline_dashboard(filters)
            )
            self.assertTrue(dashboard["funnel"], filters)

    @users("spm_salesman", "spm_manager")
    def test_every_getter_runs_read_only_with_its_defaults(self):
        # new public getters are run here too, as the web client may call
        # them without arguments
        getters = self._readonly_getters_without_arguments()
        self.assertIn(("crm.lead", "get_pipeline_dashboard"), getters)
        for model_name, name in sorted(getters):
            with self.subTest(method=f"{model_name}.{name}"):
                self._same_read_only(getattr(self.env[model_name], name))

    def _readonly_getters_without_arguments(self):
        getters = set()
        for model_name, model_class, name, member in addon_get_methods(self.env):
            if not (
                is_readonly(model_class, name)
                and getattr(member, "_api", None) == "model"
            ):
                continue
            parameters = list(inspect.signature(member).parameters.values())
            if all(p.default is not p.empty for p in parameters[1:]):
                getters.add((model_name, name))
        return getters

    @users("spm_manager")
    def test_stage_figures(self):
        fields_spec = {
            "avg_days_in_stage": {},
            "current_lead_count": {},
            "forward_rate": {},
            "stage_win_rate": {},
        }
        stages = self._same_read_only(
            lambda: self.env["crm.stage"].web_search_read(
                [("id", "in", self.team_stages.ids)], fields_spec
            )
        )
        self.assertTrue(any(row["current_lead_count"] for row in stages["records"]))
        self._same_read_only(
            lambda: self.env["crm.standard.stage"].web_search_read([], fields_spec)
        )

    @users("spm_salesman", "spm_manager")
    def test_team_dashboard_cards(self):
        fields_spec = {
            "pipeline_win_percentage": {},
            "pipeline_avg_days_to_win": {},
            "pipeline_sales_velocity": {},
            "overloaded_user_summary": {},
        }
        self._same_read_only(
            lambda: self.env["crm.team"].web_search_read(
                [("id", "=", self.team.id)], fields_spec
            )
        )

    @users("spm_salesman", "spm_manager")
    def test_pipeline_searches_and_forecast(self):
        lead_model = self.env["crm.lead"]
        self._same_read_only(
            lambda: lead_model.web_search_read(
                [("is_user_overloaded", "=", True)], {"display_name": {}}
            )
        )
        self._same_read_only(
            lambda: lead_model.web_read_group(
                [("type", "=", "opportunity")],
                [
                    "historical_revenue:sum",
                    "best_case_revenue:sum",
                    "expected_deal_count:sum",
                ],
                ["standard_stage_id", "predicted_close_date:month"],
                lazy=False,
            )
        )

    @users("spm_salesman", "spm_manager")
    def test_reports(self):
        groupbys = {
            "crm.lead.stage.analysis": ["stage_id", "date_in:month"],
            "crm.lead.funnel": ["standard_stage_id"],
            "crm.pipeline.forecast.accuracy": ["month:month"],
            "crm.pipeline.snapshot": ["snapshot_date:week"],
            "crm.lead.stage.history": ["stage_id"],
        }
        for model_name, groupby in groupbys.items():
            with self.subTest(model=model_name):
                report_model = self.env[model_name]
                self._same_read_only(
                    lambda report_model=report_model, groupby=groupby: (
                        report_model.web_read_group([], ["__count"], groupby)
                    )
                )
                self._same_read_only(
                    lambda report_model=report_model: report_model.search_read(
                        [], ["display_name"]
                    )
                )
