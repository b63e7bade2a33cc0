# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging
from contextlib import contextmanager, nullcontext

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

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


# from this many leads, the install's rewrite of the leads rebuilds their
# indexes afterwards instead of updating them row by row
BULK_FILL_LEADS = 10000


@contextmanager
def _indexes_suspended(cr, table):
    """Drop the plain indexes of ``table`` (neither unique nor behind a
    constraint) for a rewrite of all its rows, then create them again from
    their own definitions (same names, columns, methods and conditions).

    A row rewritten by an UPDATE gets a new entry in every index of its table:
    crm_lead carries some 30 indexes, 7 of them GIN trigram indexes (an entry
    per trigram of the name, e-mails, phone...), so updating them cost most of
    the install (100,000 leads: about 55 s, against 3 s for the rows alone and
    8 s to build all the indexes again from the table). The indexes are gone
    only inside the install's transaction; if it fails, they are back with
    the rollback. Dropping them locks the table against readers too until the
    install commits (the UPDATE alone locks its rows against writers).
    """
    cr.execute(
        SQL(
            """
            SELECT index_class.relname, pg_get_indexdef(pg_index.indexrelid)
              FROM pg_index
              JOIN pg_class index_class ON index_class.oid = pg_index.indexrelid
             WHERE pg_index.indrelid = %s::regclass
               AND NOT pg_index.indisunique AND NOT pg_index.indisprimary
               AND NOT EXISTS (SELECT 1 FROM pg_constraint
                                WHERE pg_constraint.conindid = pg_index.indexrelid)
             ORDER BY index_class.relname
            """,
            table,
        )
    )
    indexes = cr.fetchall()
    for name, _definition in indexes:
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
    yield
    for _name, definition in indexes:
        # PostgreSQL's own text of the index it just dropped
        cr.execute(SQL(definition))


def _lead_rewrite_indexes_suspended(cr):
    """_indexes_suspended on crm_lead for a statement that rewrites every lead,
    from BULK_FILL_LEADS leads (below, updating the indexes costs less)."""
    cr.execute(SQL("SELECT COUNT(*) FROM crm_lead"))
    if cr.fetchone()[0] >= BULK_FILL_LEADS:
        return _indexes_suspended(cr, "crm_lead")
    return nullcontext()


def _fill_lead_columns(env):
    """Fill every column the addon adds to the existing leads in one UPDATE:
    the stored standard stage, the move counters (from the rebuilt stays),
    the historical forecast (and its statistics) and the last contact.

    Each of them used to rewrite the leads on its own. crm_lead carries some
    30 indexes, and a row rewritten a second time in the same transaction
    also runs every foreign-key check of the table, so the later passes cost
    more and more: at 100,000 leads the four passes took 73 s, where one
    rewrite of every row is a fraction of that. The values are those of the
    passes it replaces: the forecast is the same SQL
    (crm.lead._get_forecast_new_value_sql), read from a relation that gives
    each lead the standard stage this UPDATE stores; the last contact is
    crm.lead._recompute_last_contact's.

    :return: the number of leads updated
    """
    lead_model = env["crm.lead"]
    lead_model.flush_model()
    lead_model._flush_forecast_inputs()
    env["mail.message"].flush_model(
        ["model", "res_id", "date", "message_type", "mail_activity_type_id"]
    )
    # the columns of crm_lead the forecast reads (those a stage move gives
    # it), with the standard stage of the stage
    lead_relation = SQL(
        """(SELECT %(columns)s
              FROM crm_lead fill_lead
         LEFT JOIN crm_stage fill_stage ON fill_stage.id = fill_lead.stage_id
           ) AS lead""",
        columns=SQL(", ").join(
            SQL("fill_stage.standard_stage_id")
            if column == "standard_stage_id"
            else SQL.identifier("fill_lead", column)
            for column in lead_model._get_moved_lead_input_columns()
        ),
    )
    new_value = lead_model._get_forecast_new_value_sql(
        lead_model._get_forecast_leads_sql(lead_relation),
        SQL("TRUE"),
        env["crm.lead.forecast.stat"]._get_statistics_sql(env.cr.now(), recompute=True),
    )
    forecast_fnames = lead_model._get_forecast_fields()
    fnames = [
        "standard_stage_id",
        "skipped_stage_count",
        "backward_move_count",
        *forecast_fnames,
        "date_last_message_contact",
        "date_last_contact",
    ]
    with _lead_rewrite_indexes_suspended(env.cr):
        count = _update_lead_columns(env, new_value, forecast_fnames, fnames)
    lead_model.invalidate_model(fnames)
    env["crm.lead.forecast.stat"].invalidate_model()
    _logger.info("Lead columns filled: %s leads.", count)
    return count


def _update_lead_columns(env, new_value, forecast_fnames, fnames):
    """The UPDATE of _fill_lead_columns: the columns ``fnames`` of every lead,
    the forecast ones (``forecast_fnames``) from the CTE ``new_value``.

    :return: the number of leads updated
    """
    lead_model = env["crm.lead"]
    env.cr.execute(
        SQL(
            """
            %(new_value)s,
            stay_total AS (
                SELECT lead_id, SUM(skipped_stage_count) AS skipped,
                       COUNT(*) FILTER (WHERE move_type = 'backward') AS backward
                  FROM crm_lead_stage_history
              GROUP BY lead_id
            ),
            last_contact AS (%(last_contacts)s),
            filled AS (
                SELECT fill_lead.id,
                       fill_stage.standard_stage_id,
                       COALESCE(stay_total.skipped, 0)::int4 AS skipped_stage_count,
                       COALESCE(stay_total.backward, 0)::int4 AS backward_move_count,
                       %(forecast_values)s,
                       last_contact.date AS date_last_message_contact,
                       GREATEST(fill_lead.create_date, fill_lead.date_last_stage_update,
                                last_contact.date) AS date_last_contact
                  FROM crm_lead fill_lead
                  JOIN new_value ON new_value.id = fill_lead.id
             LEFT JOIN crm_stage fill_stage ON fill_stage.id = fill_lead.stage_id
             LEFT JOIN stay_total ON stay_total.lead_id = fill_lead.id
             LEFT JOIN last_contact ON last_contact.res_id = fill_lead.id
            )
            UPDATE crm_lead lead
               SET (%(columns)s) = (%(filled_columns)s)
              FROM filled
             WHERE lead.id = filled.id
               -- rows already right are left alone: safe to run twice
               AND (%(lead_columns)s) IS DISTINCT FROM (%(filled_columns)s)
            """,
            new_value=new_value,
            last_contacts=lead_model._get_last_message_contacts_sql(),
            forecast_values=SQL(", ").join(
                SQL.identifier("new_value", fname) for fname in forecast_fnames
            ),
            columns=SQL(", ").join(SQL.identifier(fname) for fname in fnames),
            filled_columns=SQL(", ").join(
                SQL.identifier("filled", fname) for fname in fnames
            ),
            lead_columns=SQL(", ").join(
                SQL.identifier("lead", fname) for fname in fnames
            ),
        )
    )
    return env.cr.rowcount


def post_init_hook(env):
    _map_default_stages(env)
    # the stage keys cached by crm.stage._get_pipeline_stage_keys are stale
    env.registry.clear_cache()
    _fill_standard_stages(env, "crm.lead.stage.history")
    # the leads' counters are left to _fill_lead_columns, which rewrites
    # each lead once
    env["crm.lead.stage.history"]._rebuild_from_tracking(update_leads=False)
    env["crm.lead.deal.history"]._rebuild_from_tracking()
    # the standard stage, counters, forecast (and its statistics) and last
    # contact (which the follow-up job reads) of the existing leads
    _fill_lead_columns(env)
    # the indexes of the pipeline figures, built once the columns are filled
    env["crm.lead"]._create_pipeline_figures_indexes()


def uninstall_hook(env):
    # the stage history's table goes with the addon, its triggers with it;
    # the functions they ran stay unless dropped
    env["crm.lead.stage.analysis.summary"]._drop_functions()
    env["crm.lead"]._drop_pipeline_figures_statistics()
