# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

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
        one with the ORM under its own savepoint, log and skip the failing
        ones.

        :return: the set of keys whose activity was created
        """
        if not vals_by_key:
            return set()
        try:
            with self.env.cr.savepoint():
                self._insert_pipeline_health_activities(list(vals_by_key.values()))
            return set(vals_by_key)
        except Exception:  # noqa: BLE001 - retried record per record below
            _logger.info("Pipeline health: batch failed, retrying one by one")
            self.env["mail.activity"].invalidate_model()
        activity_model = self.env["mail.activity"].with_context(
            mail_activity_quick_update=True, mail_create_nosubscribe=True
        )
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

    @api.model
    def _insert_pipeline_health_activities(self, vals_list):
        """Insert the activities of ``vals_list`` (values for records of this
        model) and subscribe their assignees to the records, in two
        statements, with what ``mail.activity.create`` stores and sends: the
        stored computes (model, record name, assignee's timezone), the
        defaults, the assignee as a follower with the model's default
        subtypes, one "activity created" bus notification per assignee.

        A job plans up to two activities per lead for 1,000 leads a batch:
        the ORM's create costs about 1 ms per activity (a follower created
        per record for the team leader, defaults and precomputes per
        record), 300 s for the stall detection's 300,000 activities at
        1,000,000 leads. The values are those the ORM would store:
        each goes through its field's column conversion.

        :return: the ids of the new activities
        """
        activity_model = self.env["mail.activity"]
        fields_ = activity_model._fields
        # the stored computes mail.activity.create fills, set here
        computed = {"res_model", "res_name", "user_tz", "date_done"}
        keys = set().union(*vals_list)
        defaults = activity_model.default_get(
            [
                fname
                for fname, field in fields_.items()
                if field.store
                and field.column_type
                and not field.compute
                and fname not in keys
                and fname not in models.MAGIC_COLUMNS
            ]
        )
        records = self.browse({vals["res_id"] for vals in vals_list})
        names = {record.id: record.display_name for record in records}
        users = self.env["res.users"].browse({vals["user_id"] for vals in vals_list})
        tzs = {user.id: user.tz for user in users}
        now = self.env.cr.now()
        columns = sorted(
            (keys | set(defaults)) - computed - {"id", *models.MAGIC_COLUMNS}
        )
        rows = []
        for vals in vals_list:
            vals = {**defaults, **vals}
            row = [
                fields_[fname].convert_to_column_insert(
                    vals.get(fname), activity_model, vals
                )
                for fname in columns
            ]
            computes = {
                "res_model": self._name,
                "res_name": names[vals["res_id"]],
                "user_tz": tzs[vals["user_id"]],
                "date_done": False,
            }
            row += [
                fields_[fname].convert_to_column_insert(value, activity_model, vals)
                for fname, value in computes.items()
            ]
            row += [self.env.uid, now, self.env.uid, now]
            rows.append(SQL("(%s)", SQL(", ").join(row)))
        all_columns = [
            *columns,
            "res_model",
            "res_name",
            "user_tz",
            "date_done",
            "create_uid",
            "create_date",
            "write_uid",
            "write_date",
        ]
        self.env.cr.execute(
            SQL(
                "INSERT INTO mail_activity (%s) VALUES %s RETURNING id",
                SQL(", ").join(map(SQL.identifier, all_columns)),
                SQL(", ").join(rows),
            )
        )
        activity_ids = [row[0] for row in self.env.cr.fetchall()]
        self._subscribe_pipeline_health_assignees(
            {(vals["res_id"], vals["user_id"]) for vals in vals_list}, users
        )
        activity_model.invalidate_model()
        records.invalidate_recordset()
        activities = activity_model.browse(activity_ids)
        # what depends on activities elsewhere is recomputed as after a
        # create; their own stored computes were inserted above
        activities.modified(all_columns, create=True)
        for fname in computed:
            self.env.remove_to_compute(fields_[fname], activities)
        today = fields.Date.context_today(self)
        due_users = users.browse(
            {
                vals["user_id"]
                for vals in vals_list
                if fields.Date.to_date(vals.get("date_deadline") or today) <= today
            }
        )
        due_users._bus_send("mail.activity/updated", {"activity_created": True})
        return activity_ids

    @api.model
    def _subscribe_pipeline_health_assignees(self, pairs, users):
        """Make the user of each (record id, user id) of ``pairs`` a follower
        of the record, as mail.activity.create does through message_subscribe:
        active partners only, the model's default subtypes (the external ones
        for a partner that is not an employee's), existing followers kept as
        they are. One statement for the followers and their subtypes."""
        self.env["mail.followers"].flush_model()
        partners = {
            user.id: user.partner_id for user in users if user.partner_id.active
        }
        default, _internal, external = self.env[
            "mail.message.subtype"
        ].default_subtypes(self._name)
        values = [
            SQL(
                "(%s, %s, %s::int[])",
                res_id,
                partners[user_id].id,
                list(external.ids if partners[user_id].partner_share else default.ids),
            )
            for res_id, user_id in sorted(pairs)
            if user_id in partners
        ]
        if not values:
            return
        self.env.cr.execute(
            SQL(
                """
                WITH wanted(res_id, partner_id, subtype_ids) AS (VALUES %(values)s),
                     added AS (
                        INSERT INTO mail_followers (res_model, res_id, partner_id)
                        SELECT %(model)s, res_id, partner_id FROM wanted
                        ON CONFLICT (res_model, res_id, partner_id) DO NOTHING
                        RETURNING id, res_id, partner_id)
                INSERT INTO mail_followers_mail_message_subtype_rel
                            (mail_followers_id, mail_message_subtype_id)
                SELECT added.id, UNNEST(wanted.subtype_ids)
                  FROM added
                  JOIN wanted USING (res_id, partner_id)
                """,
                values=SQL(", ").join(values),
                model=self._name,
            )
        )
        self.env["mail.followers"].invalidate_model()
