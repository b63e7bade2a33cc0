# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
{
    "name": "Sales Pipeline Management",
    "summary": "Standard stages, stage history, pipeline KPIs, forecast and "
    "pipeline health jobs for Odoo CRM",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "author": "sales_pipeline_mgmt contributors",
    "website": "https://github.com/sales-pipeline-mgmt/sales_pipeline_mgmt",
    "license": "LGPL-3",
    "depends": ["crm"],
    "data": [
        "security/ir.model.access.csv",
        "security/sales_pipeline_mgmt_security.xml",
        "data/crm_standard_stage_data.xml",
        "views/crm_standard_stage_views.xml",
        "views/crm_stage_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_team_views.xml",
        "views/crm_lead_stage_history_views.xml",
        "report/crm_lead_stage_analysis_views.xml",
        "report/crm_lead_funnel_views.xml",
        "wizard/crm_pipeline_kpi_views.xml",
        "views/digest_digest_views.xml",
        "views/sales_pipeline_mgmt_menus.xml",
    ],
    "demo": ["demo/sales_pipeline_mgmt_demo.xml"],
    "development_status": "Beta",
    "maintainers": [],
    "application": False,
    "installable": True,
    "post_init_hook": "post_init_hook",
}
