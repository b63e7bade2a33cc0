# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class CrmPipelineHealthMixin(models.AbstractModel):
    """The activities the pipeline health jobs plan on a record (follow-ups
    and stalls on leads, overloads on teams): their type, their values and
    their creation in one batch."""

    _name = "crm.pipeline.health.mixin"
    _description = "Pipeline Health Activities"

    def _get_pipeline_health_activity_type(self, activity_type=None):
        """The given activity type, else To-Do; raise when none is left."""
        if not activity_type:
            # cached lookup, no query per record (unlike env.ref)
            todo_id = self.env["ir.model.data"]._xmlid_to_res_id(
                "mail.mail_activity_data_todo", raise_if_not_found=False
            )
            activity_type = self.env["mail.activity.type"].browse(todo_id)
        if not activity_type:
            raise UserError(self.env._("No activity type is available."))
        return activity_type

    def _prepare_pipeline_health_activity_values(
        self, kind, user, activity_type, summary, note=False
    ):
        self.ensure_one()
        return {
            "res_model_id": self.env["ir.model"]._get_id(self._name),
            "res_id": self.id,
            "activity_type_id": activity_type.id,
            "summary": summary,
            "note": note,
            "date_deadline": fields.Date.context_today(self),
            "user_id": user.id,
            "pipeline_health_kind": kind,
        }

    @api.model
    def _create_pipeline_health_activities(self, vals_by_key):
        """Create the activities of ``vals_by_key`` ({key: vals}) in one batch,
        without one assignment e-mail each. If the batch fails, retry each
        one under its own savepoint, log and skip the failing ones.

        :return: the set of keys whose activity was created
        """
        activity_model = self.env["mail.activity"].with_context(
            mail_activity_quick_update=True, mail_create_nosubscribe=True
        )
        if not vals_by_key:
            return set()
        try:
            with self.env.cr.savepoint():
                activity_model.create(list(vals_by_key.values()))
            return set(vals_by_key)
        except Exception:  # noqa: BLE001 - retried record per record below
            _logger.info("Pipeline health: batch failed, retrying one by one")
        done = set()
        for key, vals in vals_by_key.items():
            try:
                with self.env.cr.savepoint():
                    activity_model.create([vals])
                done.add(key)
            except Exception:  # a bad record never blocks the rest
                _logger.warning(
                    "Pipeline health: activity skipped for %s", key, exc_info=True
                )
        return done
