# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
from contextlib import contextmanager
from datetime import datetime
from unittest.mock import patch

import psycopg2.errors
from freezegun import freeze_time

from odoo.tests import TransactionCase
from odoo.tools import SQL

from odoo.addons.mail.tests.common import mail_new_test_user

# A fixed "now" for tests: a Monday, so that day arithmetic reads easily.
T0 = datetime(2026, 3, 2, 9, 0, 0)


class SalesPipelineCommon(TransactionCase):
    """Role users, a team with its own five stages and a second company.

    Pipeline of ``cls.team`` in sequence order (the shared stages that already
    exist are pushed after them so they never count as skipped):
    stage_new (1) -> stage_qualified (2) -> stage_proposal (3)
    -> stage_negotiation (4) -> stage_won (5, won)
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company_2 = cls.env["res.company"].create({"name": "SPM Other Company"})
        cls.user_salesman = cls._new_user(
            "spm_salesman", "Sally Salesman", "sales_team.group_sale_salesman"
        )
        cls.user_salesman_2 = cls._new_user(
            "spm_salesman_2", "Sam Salesman", "sales_team.group_sale_salesman"
        )
        cls.user_salesman_all = cls._new_user(
            "spm_salesman_all",
            "Alice All Leads",
            "sales_team.group_sale_salesman_all_leads",
        )
        cls.user_manager = cls._new_user(
            "spm_manager", "Martha Manager", "sales_team.group_sale_manager"
        )
        cls.user_other_company = cls._new_user(
            "spm_other_company",
            "Oscar Other Company",
            "sales_team.group_sale_manager",
            company=cls.company_2,
        )
        cls.env["crm.stage"].search([]).write({"sequence": 9999})
        cls.team = cls.env["crm.team"].create(
            {
                "name": "SPM Team",
                "use_opportunities": True,
                "use_leads": True,
                "company_id": cls.company.id,
                "user_id": cls.user_manager.id,
                "member_ids": [(6, 0, (cls.user_salesman | cls.user_salesman_2).ids)],
            }
        )
        standard = cls.env["crm.standard.stage"]
        cls.standard_awareness = standard.search([("code", "=", "awareness")])
        cls.standard_interest = standard.search([("code", "=", "interest")])
        cls.standard_consideration = standard.search([("code", "=", "consideration")])
        cls.standard_decision = standard.search([("code", "=", "decision")])
        cls.standard_purchase = standard.search([("code", "=", "purchase")])
        stage_model = cls.env["crm.stage"]
        cls.stage_new = stage_model.create(
            cls._stage_values("SPM New", 1, cls.standard_awareness)
        )
        cls.stage_qualified = stage_model.create(
            cls._stage_values("SPM Qualified", 2, cls.standard_interest)
        )
        cls.stage_proposal = stage_model.create(
            cls._stage_values("SPM Proposal", 3, cls.standard_consideration)
        )
        cls.stage_negotiation = stage_model.create(
            cls._stage_values("SPM Negotiation", 4, cls.standard_decision)
        )
        cls.stage_won = stage_model.create(
            dict(cls._stage_values("SPM Won", 5, cls.standard_purchase), is_won=True)
        )
        cls.team_stages = (
            cls.stage_new
            | cls.stage_qualified
            | cls.stage_proposal
            | cls.stage_negotiation
            | cls.stage_won
        )

    @classmethod
    def _new_user(cls, login, name, groups, company=None):
        """A user of ``company`` alone (default: the test company) with the
        comma-separated ``groups``."""
        company = company or cls.company
        return mail_new_test_user(
            cls.env,
            login=login,
            name=name,
            groups=groups,
            company_id=company.id,
            company_ids=[(6, 0, company.ids)],
        )

    @contextmanager
    def _lock_refused(self, lead, locks=None):
        """PostgreSQL refusing to lock ``lead`` (a user changed it since the
        batch's transaction began) as a serialization failure. The code of
        every lock statement is appended to ``locks`` when given."""
        cursor = self.env.cr
        origin = cursor.execute

        def execute(query, params=None, log_exceptions=True):
            if isinstance(query, SQL) and "FOR NO KEY UPDATE" in query.code:
                if locks is not None:
                    locks.append(query.code)
                flat = [
                    item
                    for param in query.params
                    for item in (param if isinstance(param, tuple) else (param,))
                ]
                if lead.id in flat:
                    raise psycopg2.errors.SerializationFailure(
                        "could not serialize access due to concurrent update"
                    )
            return origin(query, params, log_exceptions)

        with patch.object(cursor, "execute", execute):
            yield

    @classmethod
    def _stage_values(cls, name, sequence, standard_stage):
        return {
            "name": name,
            "sequence": sequence,
            "team_id": cls.team.id,
            "standard_stage_id": standard_stage.id,
        }

    @contextmanager
    def _pinned(self, when):
        """Pin both clocks model code reads: cr.now() and datetime.now()."""
        with freeze_time(when), patch.object(self.env.cr, "now", lambda: when):
            yield
            # the deal history is recorded at commit: at the pinned time
            self.env["crm.lead.deal.history"]._record_pending_changes()

    def _create_opportunity(self, env=None, **values):
        env = env or self.env
        lead = env["crm.lead"].create(
            dict(
                {
                    "name": "SPM Opportunity",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "user_id": self.user_salesman.id,
                    "stage_id": self.stage_new.id,
                },
                **values,
            )
        )
        # stored computes (date_last_stage_update) are computed at flush: do it
        # now, while the clock may be pinned
        lead.flush_recordset()
        return lead

    def _stays(self, lead):
        """The lead's stays, oldest first."""
        return (
            self.env["crm.lead.stage.history"]
            .sudo()
            .search([("lead_id", "=", lead.id)], order="date_in, id")
        )
