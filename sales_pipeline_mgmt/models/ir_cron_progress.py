# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import fields, models


class IrCronProgress(models.Model):
    """Where a pipeline health or health score job's pass stopped: the
    keyset cursor of its last committed batch. A pass stopped by a crash or
    by the time limit resumes from the last progress record that holds
    one."""

    _inherit = "ir.cron.progress"

    pipeline_health_after_date = fields.Datetime(
        string="Pipeline Health Cursor Date",
        readonly=True,
        help="Sort key (last contact, or start of the stay) of the last lead "
        "the batch examined.",
    )
    pipeline_health_after_id = fields.Integer(
        string="Pipeline Health Cursor",
        readonly=True,
        help="Id of the last lead the batch examined; -1 when it found none "
        "left; empty when the batch was not a pipeline health job's or did not "
        "complete.",
    )
    pipeline_health_pass_started = fields.Datetime(
        readonly=True,
        help="When the pass this batch belongs to started.",
    )
    pipeline_health_pass_full = fields.Boolean(
        string="Pipeline Health Full Pass",
        readonly=True,
        help="Whether the pass walks every candidate from the oldest (the "
        "first pass of the day) or only those that may have become due since "
        "the previous pass started.",
    )

    def _get_completed_batches_domain(self):
        """The progress records of the earlier batches of the same job that
        completed: a batch that crashed left its record without a cursor."""
        self.ensure_one()
        return [
            ("cron_id", "=", self.cron_id.id),
            ("id", "<", self.id),
            "|",
            ("pipeline_health_after_id", ">", 0),
            ("pipeline_health_after_id", "=", -1),
        ]

    def _get_last_completed_batch(self):
        """The progress record of the job's last batch that completed."""
        return self.search(
            self._get_completed_batches_domain(), order="id desc", limit=1
        )
