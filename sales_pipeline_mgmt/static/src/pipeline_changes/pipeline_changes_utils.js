/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).

/**
 * The steps of the waterfall of crm.lead.get_pipeline_changes: the start,
 * each bar floating from the running total to the running total plus its
 * amount, then the end. ``range`` is [low, high] as Chart.js draws floating
 * bars; ``tone`` says how to colour it.
 */
export function waterfallSteps(result) {
    const steps = [
        {
            key: "start",
            label: result.start_label,
            count: result.start.count,
            amount: result.start.amount,
            range: [0, result.start.amount],
            tone: "total",
        },
    ];
    let running = result.start.amount;
    for (const bar of result.bars) {
        const next = running + bar.amount;
        steps.push({
            key: bar.key,
            label: bar.label,
            count: bar.count,
            sign: bar.sign,
            amount: bar.amount,
            range: [Math.min(running, next), Math.max(running, next)],
            tone: bar.amount > 0 ? "up" : bar.amount < 0 ? "down" : "none",
        });
        running = next;
    }
    steps.push({
        key: "end",
        label: result.end_label,
        count: result.end.count,
        amount: result.end.amount,
        range: [0, result.end.amount],
        tone: "total",
    });
    return steps;
}

/**
 * The deal count of a step as the list shows it: signed for the bars that
 * bring deals in (+) or take them out (−), plain for the totals and the
 * amount changes.
 */
export function formatStepCount(step) {
    if (!step.sign || !step.count) {
        return String(step.count);
    }
    return `${step.sign > 0 ? "+" : "−"}${step.count}`;
}

/** The server's filters of the pipeline changes from the dashboard's. */
export function changesFilters({ dateFrom, dateTo, teamIds, userId }) {
    const filters = { team_ids: teamIds || [], user_id: userId || false };
    if (dateFrom) {
        filters.date_from = dateFrom;
    }
    if (dateTo) {
        filters.date_to = dateTo;
    }
    return filters;
}
