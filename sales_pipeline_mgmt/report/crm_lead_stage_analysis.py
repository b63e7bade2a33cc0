# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import bisect
import functools
from contextlib import contextmanager
from datetime import datetime, timezone

import pytz

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools import SQL, frozendict

from ..models.crm_lead_stage_history import MOVE_TYPES

# What crm.lead.stage.analysis.summary can answer (see _summary_can_group)
SUMMARY_GROUPBYS = {"stage_id", "date_in:month", "date_in:quarter", "date_in:year"}
SUMMARY_AGGREGATES = {
    "__count",
    "duration_days:avg",
    "duration_days:sum",
    "duration_total_days:avg",
    "duration_total_days:sum",
}
# field: the operators allowed (None: any), for the fields the summary keeps
# as they are on the stays; the lead's salesperson and company are integers
# there, compared to ids only
SUMMARY_DOMAIN_FIELDS = {
    "stage_id": None,
    "lead_type": None,
    "lead_user_id": ("=", "!=", "in", "not in"),
    "lead_company_id": ("=", "!=", "in", "not in"),
}

LEAD_STATES = [
    ("open", "Open"),
    ("won", "Won"),
    ("lost", "Lost"),
]


@functools.lru_cache(maxsize=64)
def _whole_hour_timezone(tz_name):
    """Whether the timezone ``tz_name`` (UTC when unset or unknown, as
    read_group takes it) has been a whole number of hours from UTC since
    1970: its months then start on an hour of UTC."""
    if tz_name not in pytz.all_timezones_set:
        return True
    tz = pytz.timezone(tz_name)
    infos = getattr(tz, "_transition_info", None)
    if infos is None:
        offsets = [tz.utcoffset(datetime(2000, 1, 1))]
    else:
        start = bisect.bisect_right(tz._utc_transition_times, datetime(1970, 1, 1))
        offsets = [info[0] for info in infos[max(start - 1, 0) :]]
    return all(offset.total_seconds() % 3600 == 0 for offset in offsets)


class CrmLeadStageAnalysis(models.Model):
    """Stage history as managers analyse it: every stay, the current ones
    counted up to now, with the outcome of the lead it belongs to."""

    _name = "crm.lead.stage.analysis"
    _description = "Stage Analysis"
    _auto = False
    _order = "date_in desc, id desc"
    _rec_name = "stage_id"
    # what the query reads: pending ORM writes to it are flushed first
    _depends = frozendict(
        {
            "crm.lead.stage.history": [
                "company_id",
                "date_in",
                "date_out",
                "duration_days",
                "lead_id",
                "move_type",
                "previous_stage_id",
                "skipped_stage_count",
                "stage_id",
                "standard_stage_id",
                "team_id",
                "user_id",
                "lead_user_id",
                "lead_company_id",
                "lead_type",
            ],
            # the lead's salesperson, company and type reach its stays when
            # they are flushed (see crm_lead_stage_analysis.py)
            "crm.lead": [
                "active",
                "company_id",
                "probability",
                "stage_id",
                "type",
                "user_id",
            ],
            "crm.stage": ["is_won"],
        }
    )

    # Stay
    lead_id = fields.Many2one("crm.lead", readonly=True)
    stage_id = fields.Many2one("crm.stage", readonly=True)
    standard_stage_id = fields.Many2one("crm.standard.stage", readonly=True)
    previous_stage_id = fields.Many2one(
        "crm.stage",
        readonly=True,
        help="Stage the lead left to enter this one (empty for its first stage).",
    )
    move_type = fields.Selection(
        MOVE_TYPES,
        string="Move",
        readonly=True,
        help="How the lead entered this stage: its first stage (initial), the next "
        "stage of its pipeline (forward), a later stage jumping over at least one"
        " stage (skip) or an earlier stage (backward).",
    )
    skipped_stage_count = fields.Integer(
        string="Skipped Stages", readonly=True, aggregator="sum"
    )
    # Dates and durations
    date_in = fields.Datetime(string="Entered On", readonly=True)
    date_out = fields.Datetime(
        string="Left On",
        readonly=True,
        help="When the lead left the stage; empty while it is still there.",
    )
    is_current = fields.Boolean(
        string="Current Stay",
        readonly=True,
        help="The lead is still in this stage; its days in stage run up to now.",
    )
    duration_days = fields.Float(
        string="Average Days in Stage",
        readonly=True,
        aggregator="avg",
        help="Average length of the stays in days; a current stay counts up to now.",
    )
    duration_total_days = fields.Float(
        string="Total Days in Stage",
        readonly=True,
        aggregator="sum",
        help="Sum of the lengths of the stays in days; a current stay counts up "
        "to now.",
    )
    # Context
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    lead_user_id = fields.Many2one(
        "res.users",
        string="Lead's Salesperson",
        readonly=True,
        help="The lead's salesperson now (the stay keeps the one at entry).",
    )
    lead_company_id = fields.Many2one(
        "res.company", string="Lead's Company", readonly=True
    )
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        string="Type",
        readonly=True,
    )
    lead_state = fields.Selection(
        LEAD_STATES,
        string="Outcome",
        readonly=True,
        help="What became of the lead: still open, won (active, in a won "
        "stage) or lost (archived with probability 0).",
    )

    @api.model
    def _get_duration_sql(self, alias="stay"):
        """Days of the stay ``alias`` (a crm_lead_stage_history row): its
        length once it ended, up to now while it goes on."""
        return SQL(
            "COALESCE(%s, GREATEST(EXTRACT(EPOCH FROM (%s - %s)) / 86400.0, 0))",
            SQL.identifier(alias, "duration_days"),
            self.env.cr.now(),
            SQL.identifier(alias, "date_in"),
        )

    @api.model
    def _read_group(
        self,
        domain,
        groupby=(),
        aggregates=(),
        having=(),
        offset=0,
        limit=None,
        order=None,
    ):
        if (
            not having
            and not offset
            and limit is None
            and self._summary_can_group(domain, groupby, aggregates, order)
        ):
            return self._read_group_summary(domain, groupby, aggregates, order)
        with self._aggregation_settings():
            return super()._read_group(
                domain,
                groupby=groupby,
                aggregates=aggregates,
                having=having,
                offset=offset,
                limit=limit,
                order=order,
            )

    # ------------------------------------------------------------
    # SUMMARY
    # ------------------------------------------------------------

    def _summary_can_group(self, domain, groupby, aggregates, order):
        """Whether the groups asked for can be summed from the summary
        (crm.lead.stage.analysis.summary) instead of every stay: groups by
        stage and month, quarter or year of entry in a timezone of whole
        hours, the count and days measures, a domain on the summary's
        columns only, and no current stay entered after now (a stay counts
        at least 0 days, which a sum of entry times cannot state)."""
        if not set(groupby) <= SUMMARY_GROUPBYS:
            return False
        if not set(aggregates) <= SUMMARY_AGGREGATES:
            return False
        if order and not all(
            term.split()[0] in groupby for term in order.split(",") if term.strip()
        ):
            return False
        for leaf in expression.normalize_domain(list(domain)):
            if not expression.is_leaf(leaf) or leaf in (
                expression.TRUE_LEAF,
                expression.FALSE_LEAF,
            ):
                continue
            fname, operator, value = leaf
            if fname not in SUMMARY_DOMAIN_FIELDS:
                return False
            allowed = SUMMARY_DOMAIN_FIELDS[fname]
            if allowed and operator not in allowed:
                return False
            values = value if isinstance(value, list | tuple) else [value]
            if allowed and not all(
                isinstance(item, int) or item is False for item in values
            ):
                return False
        if "date_in:" in ",".join(groupby) and not _whole_hour_timezone(
            self.env.context.get("tz")
        ):
            return False
        # the summary is kept by the stays' triggers: pending writes of the
        # stays, and of the lead's columns they repeat, are flushed first
        self.env["crm.lead"].flush_model(["company_id", "type", "user_id"])
        self.env["crm.lead.stage.history"].flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT EXISTS (SELECT FROM crm_lead_stage_history
                                WHERE date_in > %s AND duration_days IS NULL)
                """,
                self.env.cr.now(),
            )
        )
        return not self.env.cr.fetchone()[0]

    def _read_group_summary(self, domain, groupby, aggregates, order):
        """``_read_group`` of the stays, summed from the summary: the same
        groups, in the same order, with the same values (the days of the
        current stays up to now, from their count and summed entry times)."""
        self.browse().check_access("read")
        summary_model = self.env["crm.lead.stage.analysis.summary"]
        rows = summary_model._read_group(
            domain,
            groupby,
            [
                "stay_count:sum",
                "current_count:sum",
                "current_epoch:sum",
                "finished_days:sum",
            ],
            # rows of deleted stays whose merge is pending sum to nothing
            having=[("stay_count:sum", ">", 0)] if groupby else (),
            order=order or None,
        )
        now = self.env.cr.now().replace(tzinfo=timezone.utc).timestamp()
        result = []
        for row in rows:
            keys = row[: len(groupby)]
            count, current, epochs, finished = row[len(groupby) :]
            if not count:
                if groupby:
                    continue
                result.append(
                    tuple(self._read_group_empty_value(spec) for spec in aggregates)
                )
                continue
            total = (finished or 0.0) + (current * now - (epochs or 0.0)) / 86400
            values = {
                "__count": count,
                "duration_days:sum": total,
                "duration_total_days:sum": total,
                "duration_days:avg": total / count,
                "duration_total_days:avg": total / count,
            }
            result.append((*keys, *(values[spec] for spec in aggregates)))
        return result

    @contextmanager
    def _aggregation_settings(self, value_sql=None):
        """Run a grouping of the stays without JIT compilation and with a
        larger work_mem, then put both settings back. ``value_sql``, an SQL
        expression, is read in the statement that changes the settings and
        its value yielded: a caller with one value to read first saves a
        round trip.

        Every group of the pivot reads all the stays of the period: at a
        million leads the plan's cost makes PostgreSQL compile it (about a
        second per call, more than the aggregation itself), and with the
        default work_mem the aggregation of millions of rows is sorted on
        disk instead of hashed in memory. The settings are local to the
        transaction and restored after the query (the ORM's own queries that
        follow in the same request run as configured)."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                SELECT current_setting('jit'), current_setting('work_mem'),
                       set_config('jit', 'off', TRUE),
                       set_config('work_mem', %s, TRUE), %s
                """,
                self._get_aggregation_work_mem(),
                value_sql or SQL("NULL"),
            )
        )
        jit, work_mem, _jit, _work_mem, value = cr.fetchone()
        yield value
        # not in a finally: after an error the transaction is aborted, and
        # its rollback (or the caller's savepoint's) restores both settings
        cr.execute(
            SQL(
                "SELECT set_config('jit', %s, TRUE), set_config('work_mem', %s, TRUE)",
                jit,
                work_mem,
            )
        )

    @api.model
    def _get_aggregation_work_mem(self):
        return "64MB"

    @property
    def _table_query(self):
        # Everything but the outcome is on the stay, the lead's type and the
        # columns of the record rules included. The outer joins read the
        # lead only for the outcome: PostgreSQL drops them (join removal)
        # when a query does not use it, so the pivot's default load reads
        # the stays alone.
        return SQL(
            """
            SELECT stay.id, stay.lead_id, stay.stage_id, stay.standard_stage_id,
                   stay.previous_stage_id, stay.move_type, stay.skipped_stage_count,
                   stay.date_in, stay.date_out, stay.date_out IS NULL AS is_current,
                   %(duration)s AS duration_days,
                   %(duration)s AS duration_total_days,
                   stay.user_id, stay.team_id, stay.company_id,
                   stay.lead_user_id, stay.lead_company_id,
                   stay.lead_type,
                   %(outcome)s AS lead_state
              FROM crm_lead_stage_history stay
         LEFT JOIN crm_lead lead ON lead.id = stay.lead_id
         LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
            """,
            duration=self._get_duration_sql(),
            outcome=self.env["crm.lead"]._pipeline_outcome_sql(),
        )
