/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";
import {
    kanbanCard as card,
    kanbanColumn as column,
    openCrmSteps,
} from "@sales_pipeline_mgmt/../tests/tours/tour_utils";

/**
 * A salesperson drags a card of the pipeline kanban to the next stage, opens
 * the lead and finds the new stay in its Stage History tab.
 * Data: tests/test_ui.py (team SPM Team, lead "SPM Tour Drag" in SPM New).
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_drag_to_next_stage", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps("Open the CRM app (My Pipeline)"),
        {
            content: "The lead waits in SPM New",
            trigger: `${column("SPM New")} ${card("SPM Tour Drag")}`,
        },
        {
            content: "Drag the card to the next stage, SPM Qualified",
            trigger: `${column("SPM New")} ${card("SPM Tour Drag")}`,
            // parentheses: the run string parser drops a trailing ")"
            run: `drag_and_drop (${column("SPM Qualified")})`,
        },
        {
            content: "The card is now in SPM Qualified",
            trigger: `${column("SPM Qualified")} ${card("SPM Tour Drag")}`,
            run: "click",
        },
        {
            content: "Open the Stage History tab of the lead",
            trigger: ".o_form_view .o_notebook .nav-link:contains('Stage History')",
            run: "click",
        },
        {
            content: "The stay in SPM New is over",
            trigger:
                ".o_field_widget[name=stage_history_ids] .o_data_row:contains('SPM New'):contains('Initial')",
        },
        {
            content: "The new stay in SPM Qualified is a forward move",
            trigger:
                ".o_field_widget[name=stage_history_ids] .o_data_row:contains('SPM Qualified'):contains('Forward')",
        },
    ],
});
