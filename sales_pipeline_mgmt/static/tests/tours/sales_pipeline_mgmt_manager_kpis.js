/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * A sales manager opens CRM > Reporting > Pipeline KPIs and narrows them to
 * one team, then the forecast pivot with the historical revenue.
 * Data: tests/test_ui.py (SPM Team: 1 won, 1 lost, 3 open of which 2 are the
 * manager's, prorated and historical revenue 5,000.00).
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_manager_kpis", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            content: "Open the CRM app",
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            run: "click",
        },
        {
            content: "Open the Reporting menu",
            trigger: ".dropdown-toggle[data-menu-xmlid='crm.crm_menu_report']",
            run: "click",
        },
        {
            content: "Open Pipeline KPIs",
            trigger:
                ".dropdown-item[data-menu-xmlid='sales_pipeline_mgmt.crm_pipeline_kpi_menu']",
            run: "click",
        },
        {
            content: "Narrow the KPIs to SPM Team",
            trigger: ".o_field_widget[name=team_id] input",
            run: "edit SPM Team",
        },
        {
            content: "Pick SPM Team",
            trigger: ".o-autocomplete--dropdown-item:contains('SPM Team')",
            run: "click",
        },
        {
            content: "5 new leads this month",
            trigger: ".o_field_widget[name=lead_count]:contains('5')",
        },
        {
            content: "1 won of 2 closed: 50.0 %",
            trigger: ".o_field_widget[name=win_percentage]:contains('50.0 %')",
        },
        {
            content: "3 opportunities still open",
            trigger: ".o_field_widget[name=open_opportunity_count]:contains('3')",
        },
        {
            content: "Open Reporting > Forecast",
            trigger: ".dropdown-toggle[data-menu-xmlid='crm.crm_menu_report']",
            run: "click",
        },
        {
            content: "Open the forecast",
            trigger: ".dropdown-item[data-menu-xmlid='crm.crm_menu_forecast']",
            run: "click",
        },
        {
            content: "Switch to the pivot view",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "The forecast pivot shows Odoo's prorated revenue",
            trigger: ".o_pivot_view .o_pivot th:contains('Prorated Revenue')",
        },
        {
            content: "and the historical revenue of the addon",
            trigger: ".o_pivot_view .o_pivot th:contains('Historical Revenue')",
        },
        {
            content: "My pipeline totals 5,000.00 by both methods",
            trigger:
                ".o_pivot_view .o_pivot tbody tr:first-child:has(td:contains('5,000.00') + td:contains('5,000.00'))",
        },
    ],
});
