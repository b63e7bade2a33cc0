# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import logging

from odoo import SUPERUSER_ID, api

_logger = logging.getLogger(__name__)

# The record rules of the stage history and of the Stage Analysis read the
# salesperson and company each stay repeats instead of the lead's (one table
# instead of every stay joined to its lead). The rules are noupdate: an
# upgraded database keeps the domains it was installed with. {xml id: (the
# former default, the current default)}
RULE_DOMAINS = {
    f"sales_pipeline_mgmt.{model}_rule_personal": (
        "['|', ('lead_id.user_id', '=', user.id), ('lead_id.user_id', '=', False)]",
        "['|', ('lead_user_id', '=', user.id), ('lead_user_id', '=', False)]",
    )
    for model in ("crm_lead_stage_history", "crm_lead_stage_analysis")
} | {
    f"sales_pipeline_mgmt.{model}_rule_company": (
        "[('lead_id.company_id', 'in', company_ids + [False])]",
        "[('lead_company_id', 'in', company_ids + [False])]",
    )
    for model in ("crm_lead_stage_history", "crm_lead_stage_analysis")
}


def _same_domain(domain, other):
    return "".join((domain or "").split()) == "".join(other.split())


def update_rule_domains(env):
    """Give the rules that still hold their former default domain the current
    one; a rule an administrator changed is left as it is, and logged. Safe to
    run twice.

    :return: the xml ids of the rules rewritten
    """
    updated = []
    for xmlid, (former, current) in RULE_DOMAINS.items():
        rule = env.ref(xmlid, raise_if_not_found=False)
        if not rule or _same_domain(rule.domain_force, current):
            continue
        if _same_domain(rule.domain_force, former):
            rule.write({"domain_force": current})
            updated.append(xmlid)
        else:
            _logger.warning(
                "Record rule %s keeps its customised domain %s; the default "
                "one is now %s (faster: it reads the stay's own columns).",
                xmlid,
                rule.domain_force,
                current,
            )
    return updated


def migrate(cr, version):
    update_rule_domains(api.Environment(cr, SUPERUSER_ID, {}))
