# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import datetime

from odoo import api, fields, models, tools
from odoo.tools import SQL

HISTORICAL_LEVELS = [
    ("team", "Team"),
    ("company", "All Teams"),
    ("lead", "Lead's Own Probability"),
]
# Fields of a lead that its forecast measures (historical and best case
# revenues, expected deals, optimistic flag) are computed from, besides its
# stage and its historical probability and predicted closing
FORECAST_MEASURE_INPUTS = {"expected_revenue", "date_deadline", "active", "company_id"}


class CrmLead(models.Model):
    """Historical forecast: each lead's probability, revenue and closing date
    as the closed leads that went through its stage predict them.

    The forecast fields are plain stored columns, so that pivots sum them and
    filters search them, with one writer: _write_historical_forecast, one SQL
    statement that computes them all for any number of leads. It runs for
    every lead every day (and from the settings), for the leads that change
    stage or are created, and for those whose other inputs change."""

    # one class per feature, like mail's mail_thread_*.py (see crm_lead.py)
    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    date_deadline = fields.Date(tracking=True)
    close_date_slip_count = fields.Integer(
        string="Close Date Slips",
        readonly=True,
        default=0,
        copy=False,
        help="Number of times the expected closing date was moved later.",
    )
    historical_probability = fields.Float(
        readonly=True,
        copy=False,
        aggregator="avg",
        help="Share of won leads, in percent, among the closed leads that were in "
        "this stage during the history window: the lead's team first, then all "
        "teams of the company, then the lead's own probability when the sample "
        "is too small.",
    )
    historical_sample_size = fields.Integer(
        string="Historical Sample",
        readonly=True,
        copy=False,
        aggregator=None,
        help="Number of closed leads behind the historical probability; at the "
        "'lead's own probability' level, the number of closed leads found for all "
        "teams, below the minimum sample.",
    )
    historical_level = fields.Selection(
        HISTORICAL_LEVELS,
        readonly=True,
        copy=False,
        help="Which history the historical probability comes from. Team: the "
        "closed leads of the lead's team that were in its stage, when they reach "
        "the minimum sample. All Teams: those of every team of the company, when "
        "the team's sample is too small. Lead's Own Probability: neither sample "
        "is large enough, so Odoo's probability of the lead is used.",
    )
    historical_revenue = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        copy=False,
        help="Expected revenue x historical probability / 100.",
    )
    expected_deal_count = fields.Float(
        string="Expected Deals",
        readonly=True,
        copy=False,
        help="Historical probability / 100: summed, the number of deals expected "
        "to close.",
    )
    best_case_revenue = fields.Monetary(
        currency_field="company_currency",
        readonly=True,
        copy=False,
        help="Expected revenue of the deals in the Decision standard stage or later.",
    )
    predicted_close_date = fields.Date(
        string="Predicted Closing",
        readonly=True,
        copy=False,
        help="Today + the median number of days the won leads of the same history "
        "took to be won after entering this stage. The expected closing date when "
        "there is no such history.",
    )
    is_close_date_optimistic = fields.Boolean(
        string="Optimistic Close Date",
        readonly=True,
        copy=False,
        help="The expected closing date is earlier than the predicted closing by "
        "more than the margin set in the settings.",
    )

    def _auto_init(self):
        self._create_counter_column("close_date_slip_count")
        return super()._auto_init()

    @api.model
    def _get_forecast_fields(self):
        """The fields _write_historical_forecast writes."""
        return [
            "historical_probability",
            "historical_sample_size",
            "historical_level",
            "historical_revenue",
            "expected_deal_count",
            "best_case_revenue",
            "predicted_close_date",
            "is_close_date_optimistic",
        ]

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    def write(self, vals):
        if "date_deadline" in vals:
            self._count_close_date_slips(vals["date_deadline"])
        measure_leads = self.browse()
        if FORECAST_MEASURE_INPUTS.intersection(vals):
            # the leads that change stage get their whole forecast refreshed
            # by _on_stage_moved
            measure_leads = self - self._get_stage_moving_leads(vals)
        res = super().write(vals)
        if measure_leads:
            self._refresh_forecast_measures(
                SQL("lead.id IN %s", tuple(measure_leads.ids))
            )
        return res

    def _on_stage_moved(self, previous_stages):
        res = super()._on_stage_moved(previous_stages)
        if previous_stages:
            self._refresh_moved_leads_forecast()
        else:
            self._refresh_historical_forecast_at_commit()
        return res

    # ------------------------------------------------------------
    # FORECAST
    # ------------------------------------------------------------

    def _refresh_historical_forecast_at_commit(self):
        """Refresh the forecast of new leads just before the transaction
        commits. Refreshing in create itself would compute the stored fields of
        crm (probabilities) before crm's own create flow has settled them."""
        lead_ids = self.env.cr.precommit.data.setdefault(
            "sales_pipeline_mgmt.forecast_lead_ids", set()
        )
        if not lead_ids:
            self.env.cr.precommit.add(self._refresh_pending_historical_forecast)
        lead_ids.update(self.ids)

    def _refresh_pending_historical_forecast(self):
        lead_ids = self.env.cr.precommit.data.pop(
            "sales_pipeline_mgmt.forecast_lead_ids", set()
        )
        existing = self.browse(lead_ids).exists()
        if existing:
            self._refresh_historical_forecast(existing.ids)

    def _count_close_date_slips(self, new_date):
        """Add one slip to the leads of ``self`` whose expected closing date
        moves later than it was (called by write, before the write)."""
        new_date = fields.Date.to_date(new_date)
        if not new_date:
            return
        slipping_leads = self.filtered(
            lambda lead: lead.date_deadline and lead.date_deadline < new_date
        )
        if not slipping_leads:
            return
        self.flush_model(["close_date_slip_count"])
        self.env.cr.execute(
            SQL(
                """
                UPDATE crm_lead
                   SET close_date_slip_count = COALESCE(close_date_slip_count, 0) + 1
                 WHERE id IN %s
                """,
                tuple(slipping_leads.ids),
            )
        )
        self.invalidate_model(["close_date_slip_count"])

    @api.model
    def _get_best_case_standard_stage(self):
        """The standard stage from which a deal counts in the best case
        (Decision); empty if that stage was deleted."""
        # ormcached lookup: no query (env.ref would check the record exists)
        stage_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "sales_pipeline_mgmt.standard_stage_decision", raise_if_not_found=False
        )
        return self.env["crm.standard.stage"].browse(stage_id)

    @api.model
    def _cron_refresh_historical_forecast(self):
        count = self._refresh_historical_forecast()
        self.env["ir.cron"]._notify_progress(done=count, remaining=0)

    @api.model
    def _refresh_historical_forecast(self, lead_ids=None):
        """Recompute the historical forecast fields of the given leads (all
        leads when ``lead_ids`` is None) in one set-based UPDATE.

        For each (team, stage) and each (company, stage), the sample is the
        closed leads (won, or lost) with a stay in that stage overlapping the
        company's history window; its won share gives the probability and the
        median number of days from (last) entering the stage to winning gives
        the predicted closing. A lead uses its team's figures when the sample
        reaches the company's minimum, else all teams', else its own probability
        (and its expected closing date). Won leads get 100 and their closing
        date, lost leads 0. Rows whose values do not change are not rewritten.

        :return: number of leads updated
        """
        if lead_ids is not None and not lead_ids:
            return 0
        statistics = self.env["crm.lead.forecast.stat"]._get_statistics_sql(
            self.env.cr.now(), recompute=lead_ids is None
        )
        lead_filter = (
            SQL("TRUE") if lead_ids is None else SQL("lead.id IN %s", tuple(lead_ids))
        )
        return self._write_historical_forecast(lead_filter, statistics)

    @api.model
    def _refresh_forecast_measures(self, lead_filter):
        """Recompute the forecast measures of the leads matching
        ``lead_filter`` (SQL on ``lead``) from their stored historical
        probability and predicted closing, after a change of their other
        inputs (revenue, closing date, company settings, stage mapping).

        :return: number of leads updated
        """
        return self._write_historical_forecast(lead_filter)

    def _flush_forecast_inputs(self):
        """Flush what the forecast reads besides the leads themselves."""
        self.env["crm.lead.stage.history"].flush_model()
        self.env["crm.lead.forecast.stat"].flush_model()
        self.env["crm.stage"].flush_model(["is_won"])
        self.env["crm.standard.stage"].flush_model(["sequence"])
        self.env["res.company"].flush_model(
            self.env["res.company"]._get_forecast_setting_fields()
        )

    @api.model
    def _get_forecast_leads_sql(self, lead_relation=None):
        """The FROM clause the forecast reads leads from: ``lead_relation``
        (SQL of a relation with the columns of crm_lead the forecast reads,
        aliased ``lead``; crm_lead itself when None) joined to the lead's
        stage, standard stage and company."""
        return SQL(
            """
                      %(lead)s
                      LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
                      LEFT JOIN crm_standard_stage standard
                             ON standard.id = lead.standard_stage_id
                      LEFT JOIN res_company company ON company.id = lead.company_id
            """,
            lead=lead_relation or SQL("crm_lead lead"),
        )

    @api.model
    def _get_forecast_new_value_sql(
        self, leads, lead_filter, statistics=None, materialized=False
    ):
        """``WITH ... new_value AS (...)``: the forecast fields of the leads of
        ``leads`` (see _get_forecast_leads_sql) matching ``lead_filter``, one
        row per lead with its ``id`` and a column per forecast field. The only
        place they are computed.

        :param SQL statistics: the CTEs ``team_stat`` and ``company_stat`` of
            crm.lead.forecast.stat._get_statistics_sql, from which each lead's
            probability, sample, level and predicted closing are recomputed;
            None keeps the stored ones and recomputes only the measures
            derived from them.
        """
        now = self.env.cr.now()
        measure_inputs = SQL(
            """
                           lead.id, lead.expected_revenue, lead.date_deadline,
                           lead.active AND NOT COALESCE(stage.is_won, FALSE)
                               AS is_active_open,
                           %(margin_days)s AS margin_days,
                           COALESCE(standard.sequence >= (
                               SELECT best_case.sequence
                                 FROM crm_standard_stage best_case
                                WHERE best_case.id = %(best_case_stage_id)s), FALSE)
                               AS is_best_case
            """,
            best_case_stage_id=self._get_best_case_standard_stage().id,
            margin_days=self.env["res.company"]._get_forecast_setting_sql(
                "forecast_optimistic_margin_days"
            ),
        )
        if statistics is None:
            forecast = SQL(
                """
                forecast AS (
                    SELECT %(measure_inputs)s,
                           lead.historical_probability AS probability,
                           lead.historical_sample_size AS sample_size,
                           lead.historical_level AS level,
                           lead.predicted_close_date AS predicted_date
                      FROM %(leads)s
                     WHERE %(lead_filter)s
                ),
                """,
                measure_inputs=measure_inputs,
                leads=leads,
                lead_filter=lead_filter,
            )
        else:
            forecast = self._get_historical_forecast_sql(
                statistics, measure_inputs, leads, lead_filter, now, materialized
            )
        return SQL(
            """
                WITH %(forecast)s
                new_value AS (
                    SELECT id,
                           probability::float8 AS historical_probability,
                           sample_size::int4 AS historical_sample_size,
                           CASE WHEN level IN ('won', 'lost') THEN NULL
                                ELSE level END AS historical_level,
                           ROUND(COALESCE(expected_revenue, 0)
                                 * COALESCE(probability, 0)::numeric / 100.0, 2)
                               AS historical_revenue,
                           (COALESCE(probability, 0) / 100.0)::float8
                               AS expected_deal_count,
                           CASE WHEN is_best_case THEN COALESCE(expected_revenue, 0)
                                ELSE 0 END AS best_case_revenue,
                           predicted_date AS predicted_close_date,
                           COALESCE(is_active_open
                                    AND predicted_date - date_deadline > margin_days,
                                    FALSE) AS is_close_date_optimistic
                      FROM forecast
                )
            """,
            forecast=forecast,
        )

    @api.model
    def _write_historical_forecast(self, lead_filter, statistics=None):
        """Write the forecast fields of the leads matching ``lead_filter``
        (SQL on the alias ``lead``) in one UPDATE (see
        _get_forecast_new_value_sql). Rows whose values do not change are not
        rewritten.

        :return: number of leads updated
        """
        self.flush_model()
        self._flush_forecast_inputs()
        new_value = self._get_forecast_new_value_sql(
            self._get_forecast_leads_sql(), lead_filter, statistics
        )
        self.env.cr.execute(
            SQL(
                """
                %(new_value)s
                UPDATE crm_lead lead
                   SET historical_probability = new_value.historical_probability,
                       historical_sample_size = new_value.historical_sample_size,
                       historical_level = new_value.historical_level,
                       historical_revenue = new_value.historical_revenue,
                       expected_deal_count = new_value.expected_deal_count,
                       best_case_revenue = new_value.best_case_revenue,
                       predicted_close_date = new_value.predicted_close_date,
                       is_close_date_optimistic = new_value.is_close_date_optimistic
                  FROM new_value
                 WHERE lead.id = new_value.id
                   AND (lead.historical_probability, lead.historical_sample_size,
                        lead.historical_level, lead.historical_revenue,
                        lead.expected_deal_count, lead.best_case_revenue,
                        lead.predicted_close_date, lead.is_close_date_optimistic)
                       IS DISTINCT FROM
                       (new_value.historical_probability,
                        new_value.historical_sample_size, new_value.historical_level,
                        new_value.historical_revenue, new_value.expected_deal_count,
                        new_value.best_case_revenue, new_value.predicted_close_date,
                        new_value.is_close_date_optimistic)
                """,
                new_value=new_value,
            )
        )
        count = self.env.cr.rowcount
        self.invalidate_model(self._get_forecast_fields())
        self.env["crm.lead.forecast.stat"].invalidate_model()
        return count

    @api.model
    def _get_moved_lead_input_columns(self):
        """{crm_lead column: SQL type} of the moved leads' values that the
        statement of _refresh_moved_leads_forecast reads from the cache (the
        relation ``moved``); extend it with what an extension of
        _get_moved_leads_values_sql reads."""
        return {
            "id": "int4",
            "active": "bool",
            "company_id": "int4",
            "date_closed": "timestamp",
            "date_deadline": "date",
            "expected_revenue": "numeric",
            "probability": "float8",
            "stage_id": "int4",
            "standard_stage_id": "int4",
            "team_id": "int4",
        }

    def _get_moved_lead_input_rows(self, columns):
        """The values of ``columns`` for each lead of ``self``, from the cache
        (a stored computed field such as crm's probability is computed here
        from the new stage rather than at the flush), one list per column."""
        return [self._get_cached_column_values(fname) for fname in columns]

    @api.model
    def _get_moved_lead_relation_columns(self):
        """{alias: (many2one field of crm.lead, {column: SQL type})}: the
        columns of the lead's stage and company that the SELECT of
        _get_moved_leads_values_sql reads through these aliases, given from
        the cache as columns of ``moved`` (named ``<alias>__<column>``) rather
        than joined: joins to crm_stage and res_company cost more to plan than
        the rest of a one-lead move's SELECT to run. Extend it with what an
        extension of _get_moved_leads_values_sql reads."""
        company_model = self.env["res.company"]
        return {
            "stage": ("stage_id", {"is_won": "bool"}),
            "company": (
                "company_id",
                {
                    fname: company_model._fields[fname].column_type[1]
                    for fname in company_model._get_forecast_setting_fields()
                },
            ),
        }

    def _get_moved_lead_relation_rows(self, relation_columns):
        """The values of the columns ``relation_columns`` (see
        _get_moved_lead_relation_columns) for each lead of ``self``, one list
        per column, in the same order; None where the lead has no such
        record. The stages and companies are in the cache: crm's write read
        them."""
        values = []
        for fname, columns in relation_columns.values():
            record_ids = self._get_cached_column_values(fname)
            records = self.env[self._fields[fname].comodel_name].browse(
                set(record_ids) - {None}
            )
            for column in columns:
                by_id = dict(zip(records.ids, records.mapped(column), strict=True))
                values.append([by_id.get(record_id) for record_id in record_ids])
        return values

    @api.model
    def _get_moved_lead_relations_sql(self, aliases):
        """The aliases ``aliases`` (of _get_moved_lead_relation_columns) of the
        moved lead aliased ``lead``, as LATERAL subqueries on its columns,
        which the planner pulls up for free."""
        relation_columns = self._get_moved_lead_relation_columns()
        return SQL(" ").join(
            SQL(
                "CROSS JOIN LATERAL (SELECT %s) AS %s",
                SQL(", ").join(
                    SQL(
                        "%s AS %s",
                        SQL.identifier("lead", f"{alias}__{column}"),
                        SQL.identifier(column),
                    )
                    for column in relation_columns[alias][1]
                ),
                SQL.identifier(alias),
            )
            for alias in aliases
        )

    def _get_moved_leads_values_sql(self):
        """The SELECT of the values the moved leads of ``self`` get (``id``,
        then one column per field name returned), reading their new values
        from the relation ``moved`` (see _get_moved_lead_input_columns):
        (SQL, field names). Extend it to compute more of a move in the same
        statement. It is composed once per registry (see
        _get_moved_leads_values_template): its parameters may depend on the
        transaction's time and day, not on the leads, the user or the
        context; an extension that needs more adds columns to ``moved``."""
        statistics = self.env["crm.lead.forecast.stat"]._get_statistics_sql(
            self.env.cr.now(), recompute=False
        )
        new_value = self._get_forecast_new_value_sql(
            SQL(
                """
                      moved lead
                      %(stage)s
                      LEFT JOIN crm_standard_stage standard
                             ON standard.id = lead.standard_stage_id
                      %(company)s
                """,
                stage=self._get_moved_lead_relations_sql(["stage"]),
                company=self._get_moved_lead_relations_sql(["company"]),
            ),
            SQL("TRUE"),
            statistics,
            materialized=True,
        )
        fnames = self._get_forecast_fields()
        return SQL(
            "%s SELECT id, %s FROM new_value",
            new_value,
            SQL(", ").join(map(SQL.identifier, fnames)),
        ), fnames

    def _refresh_moved_leads_forecast(self):
        """Recompute the forecast of the leads of ``self`` (which just changed
        stage) from the saved statistics of their new stage, and put it in the
        cache as changed values, with what the extensions of
        _get_moved_leads_values_sql compute in the same statement.

        The forecast is read by one SELECT over the leads' new values, taken
        from the cache, with the same SQL as the full refresh: the fields then
        reach the database with crm's own update of the moved leads. Writing
        them with an UPDATE of their own after that one would rewrite each
        moved lead's row a second time, with every index of crm_lead (most of
        a one-lead move's cost)."""
        if not self:
            return
        self._flush_moved_leads_values_inputs()
        columns = self._get_moved_lead_input_columns()
        relation_columns = self._get_moved_lead_relation_columns()
        types = [
            *columns.values(),
            *(
                column_type
                for _fname, relation in relation_columns.values()
                for column_type in relation.values()
            ),
        ]
        names = [
            *columns,
            *(
                f"{alias}__{column}"
                for alias, (_fname, relation) in relation_columns.items()
                for column in relation
            ),
        ]
        rows = [
            *self._get_moved_lead_input_rows(columns),
            *self._get_moved_lead_relation_rows(relation_columns),
        ]
        moved = SQL(
            "unnest(%s) AS moved(%s)",
            SQL(", ").join(
                SQL("%s::%s[]", values, SQL(column_type))
                for values, column_type in zip(rows, types, strict=True)
            ),
            SQL(", ").join(map(SQL.identifier, names)),
        )
        query, fnames = self._get_moved_leads_values_query()
        self.env.cr.execute(
            SQL(
                "WITH moved AS (SELECT * FROM %s) SELECT * FROM (%s) moved_value",
                moved,
                query,
            )
        )
        values = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        leads = self.browse(list(values))
        for index, fname in enumerate(fnames):
            field = self._fields[fname]
            self.env.cache.update(
                leads,
                field,
                [
                    field.convert_to_cache(
                        values[lead_id][index], leads, validate=False
                    )
                    for lead_id in leads.ids
                ],
                dirty=True,
            )
        leads.modified(fnames)

    def _flush_moved_leads_values_inputs(self):
        """Flush what the statement of _get_moved_leads_values_sql reads
        besides the moved leads; extend it with what an extension of that
        statement reads."""
        self._flush_forecast_inputs()

    def _get_moved_leads_values_query(self):
        """_get_moved_leads_values_sql, from a template kept per registry:
        the statement is the same for every move but for the transaction's
        time, and composing it costs more Python than the rest of a one-lead
        move's own (about 0.4 ms)."""
        now = self.env.cr.now()
        best_case = self._get_best_case_standard_stage()
        template = self._get_moved_leads_values_template(best_case.id)
        if not template:
            return self._get_moved_leads_values_sql()
        code, params, fnames, now_indexes, today_indexes = template
        params = list(params)
        for index in now_indexes:
            params[index] = now
        for index in today_indexes:
            params[index] = now.date()
        # the code of an SQL object, with its parameters again
        return SQL(code, *params), list(fnames)

    @tools.ormcache("best_case_id")
    def _get_moved_leads_values_template(self, best_case_id):
        """(code, parameters, field names, indexes of the transaction's time,
        indexes of its day) of _get_moved_leads_values_sql, or None when the
        statement has a time or a day among its parameters that is not the
        transaction's own (derived from it, so not safe to keep)."""
        now = self.env.cr.now()
        query, fnames = self._get_moved_leads_values_sql()
        params = query.params
        now_indexes, today_indexes = [], []
        for index, param in enumerate(params):
            if isinstance(param, datetime.datetime):
                if param != now:
                    return None
                now_indexes.append(index)
            elif isinstance(param, datetime.date):
                if param != now.date():
                    return None
                today_indexes.append(index)
        return (
            query.code,
            tuple(params),
            tuple(fnames),
            tuple(now_indexes),
            tuple(today_indexes),
        )

    @api.model
    def _get_historical_forecast_sql(
        self, statistics, measure_inputs, leads, lead_filter, now, materialized=False
    ):
        """The CTEs ``target`` and ``forecast`` of _write_historical_forecast:
        each lead's level (won, lost, team, all teams or its own), probability,
        sample and predicted closing, from the statistics of its stage.

        :param bool materialized: compute each CTE once rather than inline it
            where it is read, for a few leads: inlined, the expressions of the
            level and probability are repeated in every column that reads
            them, which costs more to plan than to run"""
        won, lost = self._pipeline_state_sql()
        return SQL(
            """
                %(statistics)s
                target AS %(materialized)s (
                    SELECT %(measure_inputs)s,
                           lead.date_closed,
                           CASE WHEN %(won)s THEN 'won'
                                WHEN %(lost)s THEN 'lost'
                                WHEN team_stat.sample_size >= %(min_sample)s
                                     THEN 'team'
                                WHEN company_stat.sample_size >= %(min_sample)s
                                     THEN 'company'
                                ELSE 'lead' END AS level,
                           COALESCE(lead.probability, 0) AS own_probability,
                           team_stat.sample_size AS team_size,
                           team_stat.won_count AS team_won,
                           team_stat.median_days AS team_median,
                           company_stat.sample_size AS company_size,
                           company_stat.won_count AS company_won,
                           company_stat.median_days AS company_median
                      FROM %(leads)s
                      LEFT JOIN team_stat
                             ON team_stat.stage_id = lead.stage_id
                            AND team_stat.team_id = lead.team_id
                            AND COALESCE(team_stat.company_id, 0)
                                = COALESCE(lead.company_id, 0)
                      LEFT JOIN company_stat
                             ON company_stat.stage_id = lead.stage_id
                            AND COALESCE(company_stat.company_id, 0)
                                = COALESCE(lead.company_id, 0)
                     WHERE %(lead_filter)s
                ),
                forecast AS %(materialized)s (
                    SELECT target.*,
                           CASE level
                                WHEN 'won' THEN 100.0
                                WHEN 'lost' THEN 0.0
                                WHEN 'team' THEN 100.0 * team_won / team_size
                                WHEN 'company' THEN 100.0 * company_won / company_size
                                ELSE own_probability END AS probability,
                           CASE level
                                WHEN 'team' THEN team_size
                                WHEN 'company' THEN company_size
                                WHEN 'lead' THEN COALESCE(company_size, 0)
                                ELSE 0 END AS sample_size,
                           CASE level
                                WHEN 'won' THEN date_closed::date
                                WHEN 'lost' THEN NULL
                                ELSE COALESCE(
                                    %(today)s::date + ROUND((CASE level
                                        WHEN 'team' THEN team_median
                                        WHEN 'company' THEN company_median
                                    END)::numeric)::int,
                                    date_deadline)
                           END AS predicted_date
                      FROM target
                ),
            """,
            statistics=statistics,
            measure_inputs=measure_inputs,
            leads=leads,
            lead_filter=lead_filter,
            today=now.date(),
            won=won,
            lost=lost,
            materialized=SQL("MATERIALIZED" if materialized else ""),
            min_sample=self.env["res.company"]._get_forecast_setting_sql(
                "forecast_min_sample"
            ),
        )
