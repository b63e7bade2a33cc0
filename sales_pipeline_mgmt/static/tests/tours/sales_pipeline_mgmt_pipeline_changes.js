/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";
import { openPipelineDashboardSteps } from "@sales_pipeline_mgmt/../tests/tours/tour_utils";

const won = ".o_spm_changes_table tr[data-key=won]";

/**
 * A sales manager opens the Pipeline Dashboard, finds the pipeline changes
 * of the last 7 days, clicks "Won" and lands on the deals won in the period,
 * as many as the line showed, with what changed in each.
 * Data: tests/test_pipeline_changes_ui.py: two deals opened before the
 * period and won in it.
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_pipeline_changes", {
    url: "/odoo",
    steps: () => [
        ...openPipelineDashboardSteps(),
        {
            content: "The waterfall is drawn",
            trigger: ".o_spm_changes .o_spm_waterfall canvas",
        },
        {
            content: "Won: 2 deals left the pipeline, click them",
            trigger: `${won} .o_spm_changes_count:contains('−2')`,
            run: "click",
        },
        {
            content: "The won deals open, with what changed",
            trigger: ".o_list_view .o_data_row:contains('SPM Won Deal 1'):contains('Won')",
        },
        {
            content: "both of them, and no other",
            trigger: ".o_list_view .o_data_row:contains('SPM Won Deal 2')",
            run() {
                const rows = document.querySelectorAll(".o_list_view .o_data_row");
                if (rows.length !== 2) {
                    throw new Error(`2 won deals expected, ${rows.length} shown`);
                }
            },
        },
    ],
});
