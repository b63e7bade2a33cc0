/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { patch } from "@web/core/utils/patch";

/**
 * Pipeline columns show how many of their cards are stalled: when a kanban
 * view of opportunities lists the field stalled_count (1 on a stalled card),
 * its sum is read with the column groups, in the same read_group as the
 * progress bar's sum, and the column header shows it (see the template).
 */
patch(KanbanController.prototype, {
    get progressBarAggregateFields() {
        const res = super.progressBarAggregateFields;

        const { archInfo, fields, resModel } = this.props;
        if (
            resModel === "crm.lead" &&
            fields.stalled_count &&
            Object.values(archInfo.fieldNodes || {}).some(
                (node) => node.name === "stalled_count"
            ) &&
            !res.some((field) => field.name === "stalled_count")
        ) {
            return [...res, fields.stalled_count];
        }
        return res;
    },
});
