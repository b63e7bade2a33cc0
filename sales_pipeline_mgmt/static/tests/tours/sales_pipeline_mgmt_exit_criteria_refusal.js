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
 * A salesperson drags a card into a stage whose exit criteria it does not
 * meet: the error names the missing field and the card goes back.
 * Data: tests/test_ui.py (SPM Qualified requires an email; "SPM Tour
 * Incomplete" in SPM New has none).
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_exit_criteria_refusal", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps("Open the CRM app (My Pipeline)"),
        {
            content: "Drag the card without email to SPM Qualified",
            trigger: `${column("SPM New")} ${card("SPM Tour Incomplete")}`,
            // parentheses: the run string parser drops a trailing ")"
            run: `drag_and_drop (${column("SPM Qualified")})`,
        },
        {
            content: "The move is refused, naming the missing field",
            trigger:
                ".modal .modal-body:contains('SPM Tour Incomplete cannot enter stage SPM Qualified'):contains('Email')",
        },
        {
            content: "Close the message",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The card is back in SPM New",
            trigger: `body:not(:has(.modal)) ${column("SPM New")} ${card("SPM Tour Incomplete")}`,
        },
        {
            content: "and not in SPM Qualified",
            trigger: `${column("SPM Qualified")}:not(:has(${card("SPM Tour Incomplete")}))`,
        },
    ],
});
