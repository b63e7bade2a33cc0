/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";
import { openCrmReportSteps } from "@sales_pipeline_mgmt/../tests/tours/tour_utils";

/**
 * A sales manager opens the forecast pivot with the historical revenue.
 * Data: tests/test_ui.py (2 opportunities of the manager, prorated and
 * historical revenue 5,000.00).
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_manager_forecast", {
    url: "/odoo",
    steps: () => [
        ...openCrmReportSteps("crm.crm_menu_forecast", "Open the forecast"),
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
