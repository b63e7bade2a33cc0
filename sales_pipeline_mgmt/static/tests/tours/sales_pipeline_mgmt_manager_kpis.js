/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

/**
 * A sales manager opens CRM > Reporting > Pipeline KPIs and narrows them to
 * one team. Data: tests/test_ui.py (SPM Team: 1 won, 1 lost, 1 open).
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
            content: "3 new leads this month",
            trigger: ".o_field_widget[name=lead_count]:contains('3')",
        },
        {
            content: "1 won of 2 closed: 50.0 %",
            trigger: ".o_field_widget[name=win_percentage]:contains('50.0 %')",
        },
        {
            content: "1 opportunity still open",
            trigger: ".o_field_widget[name=open_opportunity_count]:contains('1')",
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
            content: "The forecast pivot shows its measures",
            trigger: ".o_pivot_view .o_pivot th:contains('Prorated Revenue')",
        },
    ],
});
