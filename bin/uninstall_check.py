"""Uninstall check of the test command, run by ``odoo-bin shell`` (``env`` is
given) with the phase in SPM_UNINSTALL_PHASE: "uninstall" removes the addon,
"check" (a new process, so a fresh registry) proves that crm still works."""

import os

ADDON = "sales_pipeline_mgmt"
PHASE = os.environ.get("SPM_UNINSTALL_PHASE", "")


def uninstall(env):
    module = env["ir.module.module"].search([("name", "=", ADDON)])
    module.button_immediate_uninstall()
    env.cr.commit()
    print(f"{ADDON} uninstalled")


def check(env):
    module = env["ir.module.module"].search([("name", "=", ADDON)])
    assert module.state == "uninstalled", module.state
    for table in (
        "crm_lead_stage_history",
        "crm_standard_stage",
        "crm_lead_forecast_stat",
    ):
        env.cr.execute("SELECT to_regclass(%s)", [table])
        assert env.cr.fetchone()[0] is None, f"table {table} left behind"
    env.cr.execute(
        "SELECT stxname FROM pg_statistic_ext WHERE stxname = %s",
        ["crm_lead_create_month_stat"],
    )
    assert not env.cr.fetchall(), "statistics on crm_lead left behind"
    salesman = env.ref("base.user_demo")
    lead_model = env["crm.lead"].with_user(salesman)
    leads = lead_model.search_read([], ["name", "stage_id", "probability"], limit=20)
    assert leads, "no lead readable after uninstall"
    views = lead_model.get_views([(False, "kanban"), (False, "form"), (False, "list")])
    assert set(views["views"]) >= {"kanban", "form", "list"}
    groups = lead_model.web_read_group(
        [("type", "=", "opportunity")], ["stage_id"], ["stage_id"]
    )
    assert groups["groups"], "pipeline kanban has no column"
    lead_model.browse(leads[0]["id"]).write({"priority": "2"})
    print(
        f"crm works without {ADDON}: {len(leads)} leads read, kanban, form and "
        f"list render, {len(groups['groups'])} pipeline columns"
    )
    env.cr.rollback()


{"uninstall": uninstall, "check": check}[PHASE](env)  # noqa: F821
