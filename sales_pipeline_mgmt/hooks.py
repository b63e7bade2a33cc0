# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo.tools import SQL

# Odoo's default stages and the standard stage each one stands for. "Decision"
# has no counterpart among Odoo's defaults: admins map their own stage onto it.
DEFAULT_STAGE_MAPPING = {
    "crm.stage_lead1": "sales_pipeline_mgmt.standard_stage_awareness",
    "crm.stage_lead2": "sales_pipeline_mgmt.standard_stage_interest",
    "crm.stage_lead3": "sales_pipeline_mgmt.standard_stage_consideration",
    "crm.stage_lead4": "sales_pipeline_mgmt.standard_stage_purchase",
}


def _map_default_stages(env):
    """Map Odoo's default stages, and any other won stage, onto the standard
    stages. Stages that were deleted or renamed away are left alone; other
    stages stay unmapped until an admin maps them."""
    stage_model = env["crm.stage"]
    purchase = env.ref("sales_pipeline_mgmt.standard_stage_purchase")
    for stage_xmlid, standard_xmlid in DEFAULT_STAGE_MAPPING.items():
        stage = env.ref(stage_xmlid, raise_if_not_found=False)
        if stage and not stage.standard_stage_id:
            # Written in SQL: the ORM would recompute every lead of the stage
            # one by one; _fill_standard_stages does it in one query.
            env.cr.execute(
                SQL(
                    "UPDATE crm_stage SET standard_stage_id = %s WHERE id = %s",
                    env.ref(standard_xmlid).id,
                    stage.id,
                )
            )
    env.cr.execute(
        SQL(
            """UPDATE crm_stage SET standard_stage_id = %s
                WHERE is_won AND standard_stage_id IS NULL""",
            purchase.id,
        )
    )
    stage_model.invalidate_model(["standard_stage_id"])
    # The stage's pipeline health days default from its standard stage: the
    # SQL above bypassed their recompute (which leaves them at 0, the jobs
    # off). Recomputed for the stages only, not through modified(), which
    # would also recompute every lead's stored standard stage in Python.
    stages = stage_model.with_context(active_test=False).search([])
    for fname in ("stall_days", "follow_up_days"):
        env.add_to_compute(stage_model._fields[fname], stages)
    stage_model.flush_model(["stall_days", "follow_up_days"])


def _fill_standard_stages(env, model_name):
    """Leads and stays recorded before the mapping (existing leads; demo stays,
    loaded before this hook) take the standard stage of their stage, like the
    stored related field would."""
    model = env[model_name]
    env.cr.execute(
        SQL(
            """
            UPDATE %(table)s rec
               SET standard_stage_id = stage.standard_stage_id
              FROM crm_stage stage
             WHERE stage.id = rec.stage_id
               AND rec.standard_stage_id IS DISTINCT FROM stage.standard_stage_id
            """,
            table=SQL.identifier(model._table),
        )
    )
    model.invalidate_model(["standard_stage_id"])


def post_init_hook(env):
    _map_default_stages(env)
    # the stage keys cached by crm.stage._get_pipeline_stage_keys are stale
    env.registry.clear_cache()
    _fill_standard_stages(env, "crm.lead.stage.history")
    # before the lead fill: the rebuild sets the standard stage of the leads
    # whose counters it writes, so that no lead row is rewritten twice
    env["crm.lead.stage.history"]._rebuild_from_tracking()
    env["crm.lead.deal.history"]._rebuild_from_tracking()
    _fill_standard_stages(env, "crm.lead")
    # the forecast of the existing leads, and its statistics
    env["crm.lead"]._refresh_historical_forecast()
    # the last contact of the existing leads, which the follow-up job reads
    env["crm.lead"]._recompute_last_contact()
    # the indexes of the pipeline figures, built once the columns are filled
    env["crm.lead"]._create_pipeline_figures_indexes()
