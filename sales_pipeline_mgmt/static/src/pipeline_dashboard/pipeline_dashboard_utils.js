/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { _t } from "@web/core/l10n/translation";
import { formatFloat, formatInteger, formatMonetary } from "@web/views/fields/formatters";

/** Shown instead of a rate or mean over nothing. */
export const NO_VALUE = "–";

export const PERIODS = [
    ["this_month", _t("This Month")],
    ["this_quarter", _t("This Quarter")],
    ["this_year", _t("This Year")],
    ["last_3_months", _t("Last 3 Months")],
    ["last_12_months", _t("Last 12 Months")],
    ["custom", _t("Custom")],
];

export const COMPARISONS = [
    ["previous", _t("Previous Period")],
    ["last_year", _t("Same Period Last Year")],
    ["none", _t("No Comparison")],
];

export const DEFAULT_FILTERS = Object.freeze({
    period: "this_month",
    compare: "previous",
    date_from: false,
    date_to: false,
    team_ids: [],
    user_id: false,
    source_id: false,
});

// the keys the filters take in the URL (router state)
const STATE_KEYS = Object.keys(DEFAULT_FILTERS);

function isEmpty(value) {
    return value === null || value === undefined || value === false;
}

/**
 * A figure as the user reads it, in the user's language and the company's
 * currency.
 *
 * @param {number|null} value
 * @param {"count"|"percent"|"days"|"monetary"} kind
 * @param {number} [currencyId]
 * @returns {string}
 */
export function formatKpiValue(value, kind, currencyId) {
    if (isEmpty(value)) {
        return NO_VALUE;
    }
    switch (kind) {
        case "count":
            return formatInteger(value);
        case "percent":
            return _t("%(value)s %", { value: formatFloat(value, { digits: [16, 1] }) });
        case "days":
            return _t("%(value)s days", { value: formatFloat(value, { digits: [16, 1] }) });
        case "monetary":
            return formatMonetary(value, { currencyId, digits: [16, 2] });
    }
    return formatFloat(value);
}

/**
 * The arrow and the colour of a change: up or down, good (success) or bad
 * (danger) by the KPI's direction (1: higher is better, -1: lower is better);
 * no arrow and a muted colour when either value is missing or nothing
 * changed.
 *
 * @param {number|null} value
 * @param {number|null} previous
 * @param {1|-1} direction
 * @returns {{arrow: "up"|"down"|false, tone: "success"|"danger"|"muted"}}
 */
export function getTrend(value, previous, direction) {
    if (isEmpty(value) || isEmpty(previous) || value === previous) {
        return { arrow: false, tone: "muted" };
    }
    const up = value > previous;
    return { arrow: up ? "up" : "down", tone: up === direction > 0 ? "success" : "danger" };
}

/**
 * The change between two values: in percentage points for a rate, else
 * relative to the comparison value (absolute when that one is 0).
 *
 * @returns {string} e.g. "+12.5 %", "−3.0 pts", "" when a value is missing
 */
export function formatChange(value, previous, kind, currencyId) {
    if (isEmpty(value) || isEmpty(previous)) {
        return "";
    }
    const sign = (number) => (number > 0 ? "+" : number < 0 ? "−" : "");
    if (kind === "percent") {
        const points = value - previous;
        return _t("%(sign)s%(points)s pts", {
            sign: sign(points),
            points: formatFloat(Math.abs(points), { digits: [16, 1] }),
        });
    }
    if (previous === 0) {
        const difference = value - previous;
        return sign(difference) + formatKpiValue(Math.abs(difference), kind, currencyId);
    }
    const change = ((value - previous) / Math.abs(previous)) * 100;
    return _t("%(sign)s%(change)s %", {
        sign: sign(change),
        change: formatFloat(Math.abs(change), { digits: [16, 1] }),
    });
}

/**
 * The action that opens the deals behind a figure: the list (then kanban)
 * of opportunities, filtered by the figure's exact domain shown as one
 * readable facet that the user can remove.
 *
 * @param {{name: string, domain: Array}} drill as the server gives it
 * @returns {[Object, Object]} the action and the options of doAction
 */
export function buildDrillAction(drill) {
    return [
        {
            type: "ir.actions.act_window",
            name: drill.name,
            res_model: "crm.lead",
            views: [
                [false, "list"],
                [false, "kanban"],
                [false, "form"],
            ],
            domain: [],
            context: {
                create: false,
                list_view_ref: "crm.crm_case_tree_view_oppor",
                kanban_view_ref: "crm.crm_case_kanban_view_leads",
                search_view_ref: "crm.view_crm_case_opportunities_filter",
            },
        },
        {
            props: {
                dynamicFilters: [{ description: drill.name, domain: drill.domain }],
            },
        },
    ];
}

/**
 * The drill-down of a bar of the stacked chart of leads per source.
 *
 * @param {Object} sources the payload's "sources"
 * @param {number} datasetIndex the source (series)
 * @param {number} index the month
 * @returns {Object|false}
 */
export function getSourceDrill(sources, datasetIndex, index) {
    return sources.series[datasetIndex]?.drills[index] || false;
}

/**
 * Filters read back from the router's state (the URL after a reload), where
 * numbers come as numbers or strings and lists as "1,2".
 */
export function filtersFromState(state = {}) {
    const filters = { ...DEFAULT_FILTERS, team_ids: [] };
    if (PERIODS.some(([key]) => key === state.period)) {
        filters.period = state.period;
    }
    if (COMPARISONS.some(([key]) => key === state.compare)) {
        filters.compare = state.compare;
    }
    for (const key of ["date_from", "date_to"]) {
        if (typeof state[key] === "string" && /^\d{4}-\d{2}-\d{2}$/.test(state[key])) {
            filters[key] = state[key];
        }
    }
    if (!isEmpty(state.team_ids) && state.team_ids !== "") {
        filters.team_ids = String(state.team_ids)
            .split(",")
            .map(Number)
            .filter((id) => Number.isInteger(id) && id > 0);
    }
    for (const key of ["user_id", "source_id"]) {
        const id = Number(state[key]);
        if (Number.isInteger(id) && id > 0) {
            filters[key] = id;
        }
    }
    return filters;
}

/**
 * Filters as router state (the URL): only the keys that differ from the
 * defaults, lists as "1,2".
 */
export function filtersToState(filters) {
    const state = {};
    for (const key of STATE_KEYS) {
        const value = filters[key];
        if (key === "team_ids") {
            state[key] = value.length ? value.join(",") : undefined;
        } else if ((key === "date_from" || key === "date_to") && filters.period !== "custom") {
            state[key] = undefined;
        } else {
            state[key] = value === DEFAULT_FILTERS[key] ? undefined : value;
        }
    }
    return state;
}

/** Filters as get_pipeline_dashboard takes them. */
export function filtersToServer(filters) {
    const result = {
        period: filters.period,
        compare: filters.compare,
        team_ids: filters.team_ids,
        user_id: filters.user_id || false,
        source_id: filters.source_id || false,
    };
    if (filters.period === "custom") {
        result.date_from = filters.date_from;
        result.date_to = filters.date_to;
    }
    return result;
}
