/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";
import { openPipelineDashboardSteps } from "@sales_pipeline_mgmt/../tests/tours/tour_utils";

const newLeads = ".o_spm_kpi[data-kpi=new_leads]";

/**
 * A sales manager opens CRM > Reporting > Pipeline Dashboard, changes the
 * period and the team, sees the comparison change, and opens the deals of
 * the bottleneck.
 * Data: tests/test_ui.py: last month, SPM Team's a1 and a2 entered Qualified
 * and stay there, Other Team's b1 was created; four months ago SPM Team's c1
 * and c2 went through Qualified to Proposal, c3 stayed in New.
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_manager_dashboard", {
    url: "/odoo",
    steps: () => [
        ...openPipelineDashboardSteps(),
        {
            content: "This month: no new lead, against 3 last month (a1, a2, b1)",
            trigger: `${newLeads}:has(.o_spm_kpi_value:contains('0')):has(.o_spm_kpi_comparison_value:contains('3'))`,
        },
        {
            content: "Choose the last 3 months",
            trigger: "select.o_spm_period",
            run: "select last_3_months",
        },
        {
            content: "3 new leads, against 3 in the 3 months before (c1, c2, c3)",
            trigger: `${newLeads}:has(.o_spm_kpi_value:contains('3')):has(.o_spm_kpi_comparison_value:contains('3'))`,
        },
        {
            content: "Narrow to SPM Team",
            trigger: ".o_spm_teams input",
            run: "edit SPM Team",
        },
        {
            content: "Pick SPM Team",
            trigger: ".o-autocomplete--dropdown-item:contains('SPM Team')",
            run: "click",
        },
        {
            content: "2 new leads against 3: down, in red",
            trigger: `${newLeads}:has(.o_spm_kpi_value:contains('2')) .o_spm_kpi_change.text-danger:has(.fa-arrow-down)`,
        },
        {
            content: "The bottleneck is Interest: a1 and a2 stay there, c1 and c2 moved on",
            trigger: ".o_spm_bottleneck[data-stage='Interest'] .o_spm_bottleneck_sentence:contains('Interest: 2 deals entered')",
            run: "click",
        },
        {
            content: "Its deals open, behind a facet naming them",
            trigger: ".o_searchview_facet:contains('Interest: entered')",
        },
        {
            content: "a1",
            trigger: ".o_list_view .o_data_row:contains('SPM Tour a1')",
        },
        {
            content: "a2",
            trigger: ".o_list_view .o_data_row:contains('SPM Tour a2')",
        },
        {
            content: "2 records",
            trigger: ".o_list_view:not(:has(.o_data_row:nth-child(3)))",
        },
        {
            content: "Back to the dashboard through the breadcrumbs",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Pipeline Dashboard')",
            run: "click",
        },
        {
            content: "It comes back with the same period",
            trigger: "select.o_spm_period:value(last_3_months)",
        },
        {
            content: "and the same team",
            trigger: ".o_spm_teams .o_tag:contains('SPM Team')",
        },
        {
            content: "and the same figures",
            trigger: `${newLeads} .o_spm_kpi_value:contains('2')`,
        },
    ],
});
