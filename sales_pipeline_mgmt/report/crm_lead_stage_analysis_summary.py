# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from odoo import api, fields, models
from odoo.tools import SQL

# The stays' columns that the summary is keyed on, besides the entry bucket
KEY_COLUMNS = ("stage_id", "lead_user_id", "lead_company_id", "lead_type")


class CrmLeadStageAnalysisSummary(models.Model):
    """The stays of the stage history summed per stage, entry period and the
    columns of the record rules (the lead's salesperson, company and type),
    so that the Stage Analysis pivot reads a few thousand rows instead of
    every stay (see crm.lead.stage.analysis ``_read_group``).

    Entry period: the month in UTC, except on the hours where a month begins
    in some timezone (from 14 hours before the UTC month start to 12 hours
    after it), which are kept per hour. Any timezone whose offset is a whole
    number of hours then puts every row in the month, quarter and year of
    each of its stays.

    Current stays are summed as their count and the sum of their entry times
    (epoch seconds), so that their days "up to now" are exact whenever the
    report is read: count * now - sum of entries.

    The table is kept by PostgreSQL triggers on crm_lead_stage_history that
    append the changes of each statement as signed rows (no row is ever
    updated, so concurrent moves never wait on each other): every path that
    writes stays, the ORM, raw SQL and the cascade of a lead's deletion,
    keeps it exact. The daily job merges the rows of each key."""

    _name = "crm.lead.stage.analysis.summary"
    _description = "Stage Analysis Summary"
    _log_access = False
    _order = "id"

    stage_id = fields.Many2one("crm.stage", readonly=True, ondelete="cascade")
    date_in = fields.Datetime(
        string="Entry Period",
        readonly=True,
        help="Start of the stays' entry period: noon of the first day of the "
        "month in UTC, or the hour near a month's start.",
    )
    # plain integers: the stays' own foreign keys keep them, and a deleted
    # salesperson or company reaches the summary through the stays' trigger
    lead_user_id = fields.Integer(string="Lead's Salesperson", readonly=True)
    lead_company_id = fields.Integer(string="Lead's Company", readonly=True)
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        string="Type",
        readonly=True,
    )
    stay_count = fields.Integer(string="Stays", readonly=True)
    current_count = fields.Integer(
        string="Current Stays",
        readonly=True,
        help="Stays without a length yet (counted up to now).",
    )
    current_epoch = fields.Float(
        string="Entry Times of Current Stays",
        digits=(32, 6),
        readonly=True,
        help="Sum of the entry times of the current stays, in epoch seconds.",
    )
    finished_days = fields.Float(
        string="Days of Ended Stays",
        readonly=True,
        help="Sum of the lengths of the ended stays, in days.",
    )

    def init(self):
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                CREATE OR REPLACE FUNCTION spm_stage_analysis_period(date_in timestamp)
                RETURNS timestamp LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
                    SELECT CASE
                      WHEN date_in >= date_trunc('month', date_in) + interval '12 hours'
                       AND date_in < date_trunc('month', date_in)
                                     + interval '1 month' - interval '14 hours'
                      THEN date_trunc('month', date_in) + interval '12 hours'
                      ELSE date_trunc('hour', date_in)
                    END
                $$
                """
            )
        )
        first = not self._triggers_exist()
        for event, tables in (
            ("insert", "NEW TABLE AS new_rows"),
            ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("delete", "OLD TABLE AS old_rows"),
        ):
            cr.execute(
                SQL(
                    """
                    CREATE OR REPLACE FUNCTION %(function)s() RETURNS trigger
                    LANGUAGE plpgsql AS $$
                    BEGIN
                        %(insert)s;
                        RETURN NULL;
                    END
                    $$;
                    DROP TRIGGER IF EXISTS %(trigger)s ON crm_lead_stage_history;
                    CREATE TRIGGER %(trigger)s
                        AFTER %(event)s ON crm_lead_stage_history
                        REFERENCING %(tables)s
                        FOR EACH STATEMENT EXECUTE FUNCTION %(function)s()
                    """,
                    function=SQL.identifier(f"spm_stage_analysis_summary_{event}"),
                    trigger=SQL.identifier(f"spm_stage_analysis_summary_{event}"),
                    event=SQL(event.upper()),
                    tables=SQL(tables),
                    insert=self._summary_insert_sql(self._changes_sql(event)),
                )
            )
        if first:
            # a database whose stays existed before the summary
            cr.execute(SQL("DELETE FROM crm_lead_stage_analysis_summary"))
            cr.execute(
                self._summary_insert_sql(
                    SQL("SELECT 1 AS sign, * FROM crm_lead_stage_history")
                )
            )

    def _drop_functions(self):
        """Drop the triggers' functions (and with them the triggers)."""
        self.env.cr.execute(
            SQL(
                """
                DROP FUNCTION IF EXISTS spm_stage_analysis_summary_insert() CASCADE;
                DROP FUNCTION IF EXISTS spm_stage_analysis_summary_update() CASCADE;
                DROP FUNCTION IF EXISTS spm_stage_analysis_summary_delete() CASCADE;
                DROP FUNCTION IF EXISTS spm_stage_analysis_period(timestamp);
                """
            )
        )

    def _triggers_exist(self):
        self.env.cr.execute(
            SQL(
                """
                SELECT COUNT(*) FROM pg_trigger
                 WHERE tgrelid = 'crm_lead_stage_history'::regclass
                   AND tgname LIKE 'spm_stage_analysis_summary_%%'
                """
            )
        )
        return self.env.cr.fetchone()[0] == 3

    @api.model
    def _changes_sql(self, event):
        """The signed stays of a trigger's transition tables: +1 for a row
        as it is now, -1 for a row as it was. An update counts every row
        twice, which sums to nothing for the rows whose summed columns did
        not change (joining the two transition tables, which have no index,
        would cost a nested loop on large updates)."""
        if event == "insert":
            return SQL("SELECT 1 AS sign, * FROM new_rows")
        if event == "delete":
            return SQL("SELECT -1 AS sign, * FROM old_rows")
        return SQL(
            """
            SELECT 1 AS sign, * FROM new_rows
             UNION ALL
            SELECT -1 AS sign, * FROM old_rows
            """
        )

    @api.model
    def _summary_insert_sql(self, changes):
        """Append the sums of the signed stays ``changes`` (a query of
        crm_lead_stage_history rows with a ``sign`` column) per key."""
        keys = SQL(", ").join(map(SQL.identifier, KEY_COLUMNS))
        return SQL(
            """
            INSERT INTO crm_lead_stage_analysis_summary (
                %(keys)s, date_in,
                stay_count, current_count, current_epoch, finished_days)
            SELECT %(keys)s, spm_stage_analysis_period(changes.date_in),
                   SUM(sign),
                   COALESCE(SUM(sign) FILTER (WHERE duration_days IS NULL), 0),
                   COALESCE(SUM(sign * EXTRACT(EPOCH FROM changes.date_in))
                            FILTER (WHERE duration_days IS NULL), 0),
                   COALESCE(SUM(sign * duration_days)
                            FILTER (WHERE duration_days IS NOT NULL), 0)
              FROM (%(changes)s) changes
             GROUP BY %(keys)s, spm_stage_analysis_period(changes.date_in)
            -- an update that changed none of a key's sums appends nothing
            HAVING SUM(sign) <> 0
                OR SUM(sign) FILTER (WHERE duration_days IS NULL) <> 0
                OR SUM(sign * EXTRACT(EPOCH FROM changes.date_in))
                   FILTER (WHERE duration_days IS NULL) <> 0
                OR SUM(sign * duration_days)
                   FILTER (WHERE duration_days IS NOT NULL) <> 0
            """,
            keys=keys,
            changes=changes,
        )

    # ------------------------------------------------------------
    # JOB
    # ------------------------------------------------------------

    @api.model
    def _cron_merge(self):
        """Merge the rows of each key into one, dropping the keys whose stays
        are all gone. One statement: rows appended meanwhile by other
        transactions are not in its snapshot and stay as they are."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                WITH merged AS (
                    DELETE FROM crm_lead_stage_analysis_summary
                 RETURNING *
                )
                INSERT INTO crm_lead_stage_analysis_summary (
                    %(keys)s, date_in,
                    stay_count, current_count, current_epoch, finished_days)
                SELECT %(keys)s, date_in, SUM(stay_count), SUM(current_count),
                       SUM(current_epoch), SUM(finished_days)
                  FROM merged
                 GROUP BY %(keys)s, date_in
                HAVING SUM(stay_count) <> 0
                """,
                keys=SQL(", ").join(map(SQL.identifier, KEY_COLUMNS)),
            )
        )
        merged = self.env.cr.rowcount
        self.invalidate_model()
        self.env["ir.cron"]._notify_progress(done=merged, remaining=0)
