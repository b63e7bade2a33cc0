/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";
import { openPipelineDashboardSteps } from "@sales_pipeline_mgmt/../tests/tours/tour_utils";

const newLeads = ".o_spm_kpi[data-kpi=new_leads]";
const openDeals = ".o_spm_kpi[data-kpi=open_opportunity_count]";

/**
 * A salesperson opens the Pipeline Dashboard: the figures are those of their
 * own deals only.
 * Data: tests/test_ui.py: the salesman's a1 (created last month, open) and
 * c1, c2, c3 (four months ago, open); their colleague's a2 and b1.
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_salesman_dashboard", {
    url: "/odoo",
    steps: () => [
        ...openPipelineDashboardSteps(),
        {
            content: "Choose the last 3 months",
            trigger: "select.o_spm_period",
            run: "select last_3_months",
        },
        {
            content: "1 new lead of theirs (a1), against 3 (c1, c2, c3)",
            trigger: `${newLeads}:has(.o_spm_kpi_value:contains('1')):has(.o_spm_kpi_comparison_value:contains('3'))`,
        },
        {
            content: "4 open opportunities of theirs",
            trigger: `${openDeals} .o_spm_kpi_value:contains('4')`,
        },
        {
            content: "The open pipeline lists their deals only: New 1, Qualified 1, Proposal 2",
            trigger: ".o_spm_pipeline tfoot td:contains('4')",
        },
        {
            content: "Open their new lead",
            trigger: `${newLeads} .o_spm_kpi_value`,
            run: "click",
        },
        {
            content: "a1 only",
            trigger: ".o_list_view .o_data_row:contains('SPM Tour a1')",
        },
        {
            content: "1 record",
            trigger: ".o_list_view:not(:has(.o_data_row:nth-child(2)))",
        },
    ],
});
