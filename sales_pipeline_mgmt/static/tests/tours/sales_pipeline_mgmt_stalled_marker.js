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
 * A salesperson sees which cards of the pipeline are stalled (a badge with a
 * text, not a colour alone) and how many per column.
 * Data: tests/test_ui.py ("SPM Tour Stalled", 20 days in SPM Proposal whose
 * threshold is 10 days, flagged by the stall detection; "SPM Tour Fresh"
 * in the same stage, not stalled).
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_stalled_marker", {
    url: "/odoo",
    steps: () => [
        ...openCrmSteps("Open the CRM app (My Pipeline)"),
        {
            content: "The stalled card carries a Stalled badge with its days in stage",
            trigger: `${column("SPM Proposal")} ${card("SPM Tour Stalled")} .o_spm_stalled_badge:contains('Stalled'):contains('20 days')`,
        },
        {
            content: "The other card of the column carries none",
            trigger: `${column("SPM Proposal")} ${card("SPM Tour Fresh")}:not(:has(.o_spm_stalled_badge))`,
        },
        {
            content: "The column header counts 1 stalled card",
            trigger: `${column("SPM Proposal")} .o_spm_column_stalled:contains('1 stalled')`,
        },
        {
            content: "The other columns count none",
            trigger: `${column("SPM New")}:not(:has(.o_spm_column_stalled))`,
        },
    ],
});
