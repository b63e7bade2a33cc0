// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { describe, expect, test } from "@odoo/hoot";
import { queryAll, queryOne, select } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import {
    contains,
    defineModels,
    fields,
    getService,
    makeMockEnv,
    models,
    mountWebClient,
    onRpc,
    patchWithCleanup,
} from "@web/../tests/web_test_helpers";
import { crmModels } from "@crm/../tests/crm_test_helpers";
import { router } from "@web/core/browser/router";
import {
    NO_VALUE,
    buildDrillAction,
    filtersFromState,
    filtersToServer,
    filtersToState,
    formatChange,
    formatKpiValue,
    getSourceDrill,
    getTrend,
} from "@sales_pipeline_mgmt/pipeline_dashboard/pipeline_dashboard_utils";

describe.current.tags("desktop");

class CrmTeam extends models.Model {
    _name = "crm.team";
    name = fields.Char();
    _records = [
        { id: 3, name: "Europe" },
        { id: 4, name: "America" },
    ];
}

class UtmSource extends models.Model {
    _name = "utm.source";
    name = fields.Char();
    _records = [{ id: 5, name: "Web" }];
}

defineModels({ ...crmModels, CrmTeam, UtmSource });

const drill = (name) => ({ name, domain: [["name", "=", name]] });

function card(key, kind, direction, value, comparison) {
    return {
        key,
        label: key,
        help: "",
        kind,
        direction,
        figure: "closed_count",
        value,
        count: 4,
        count_label: "closed",
        drill: drill(`${key} now`),
        sparkline: [null, 1, 2, value],
        comparison_value: comparison,
        comparison_count: 2,
        comparison_drill: drill(`${key} before`),
    };
}

function funnelValues(entered, prefix) {
    return {
        entered,
        moved_on: 2,
        lost: 1,
        still: 1,
        conversion: (200 / entered) | 0,
        avg_days: 5.5,
        drills: {
            entered: drill(`${prefix} entered`),
            moved_on: drill(`${prefix} moved on`),
            lost: drill(`${prefix} lost`),
            still: drill(`${prefix} still`),
        },
    };
}

/** What get_pipeline_dashboard returns, for the given filters. */
function makePayload(filters) {
    const quarter = filters.period === "this_quarter";
    return {
        filters: { ...filters, date_from: "2026-03-01", date_to: "2026-03-31" },
        period: { date_from: "2026-03-01", date_to: "2026-03-31" },
        comparison: { date_from: "2026-02-01", date_to: "2026-02-28" },
        sparkline_periods: [
            { date_from: "2025-12-01", date_to: "2025-12-31" },
            { date_from: "2026-01-01", date_to: "2026-01-31" },
            { date_from: "2026-02-01", date_to: "2026-02-28" },
            { date_from: "2026-03-01", date_to: "2026-03-31" },
        ],
        currency_id: 1,
        kpis: [
            card("new_leads", "count", 1, quarter ? 12 : 4, 3),
            card("win_percentage", "percent", 1, 40, 50),
            card("avg_sales_cycle_days", "days", -1, 12.5, 16),
            card("avg_won_revenue", "monetary", 1, 1234.5, 1000),
        ],
        funnel: [
            {
                id: 1,
                name: "Interest",
                next_name: "Consideration",
                stalled_count: 1,
                stalled_drill: drill("stalled in Interest"),
                periods: [funnelValues(4, "Interest now"), funnelValues(3, "Interest before")],
            },
        ],
        bottleneck: {
            stage_id: 1,
            name: "Interest",
            sentence: "Interest: 4 deals entered; conversion to Consideration 50 % (was 66 %).",
            entered: 4,
            stalled_count: 1,
            drill: drill("Interest now entered"),
            stalled_drill: drill("stalled in Interest"),
        },
        sources: {
            months: ["2026-02-01", "2026-03-01"],
            series: [
                { source_id: 5, name: "Web", counts: [1, 2], drills: [drill("web feb"), drill("web mar")] },
                { source_id: false, name: "No Source", counts: [0, 3], drills: [0, drill("none mar")] },
            ],
        },
        pipeline: {
            stages: [
                {
                    stage_id: 7,
                    name: "Qualified",
                    standard_stage_id: 1,
                    count: 2,
                    expected_revenue: 1500,
                    historical_revenue: 600,
                    stalled_count: 1,
                    drill: drill("open in Qualified"),
                    stalled_drill: drill("stalled in Qualified"),
                },
            ],
            count: 2,
            expected_revenue: 1500,
            historical_revenue: 600,
            stalled_count: 1,
        },
    };
}

/**
 * Opens the dashboard in a web client; returns the filters each load sent
 * and the drill-down actions opened.
 */
async function openDashboard(context = {}) {
    const loads = [];
    const opened = [];
    onRpc("crm.lead", "get_pipeline_dashboard", ({ args }) => {
        loads.push(args[0]);
        return makePayload(args[0]);
    });
    // the Deals at Risk section has its own call (static/tests/deals_at_risk.test.js)
    onRpc("crm.lead", "get_deals_at_risk", () => ({
        deals: [],
        at_risk_count: 0,
        at_risk_threshold: 40,
        currency_id: 1,
    }));
    // the pipeline changes' sections load on their own (see pipeline_changes.test.js)
    onRpc("crm.lead", "get_pipeline_changes", () => ({
        filters: { date_from: "2026-03-02", date_to: "2026-03-08", team_ids: [] },
        forecast_period: ["2026-01-01", "2026-03-31"],
        currency_id: 1,
        start: { count: 0, amount: 0 },
        end: { count: 0, amount: 0 },
        bars: [],
    }));
    onRpc("crm.lead", "get_pipeline_over_time", () => ({ points: [], series: [] }));
    await mountWebClient();
    patchWithCleanup(getService("action"), {
        doAction(action, options) {
            if (action.type === "ir.actions.act_window") {
                opened.push([action, options]);
                return;
            }
            return super.doAction(action, options);
        },
    });
    await getService("action").doAction({
        type: "ir.actions.client",
        tag: "sales_pipeline_mgmt.pipeline_dashboard",
        name: "Pipeline Dashboard",
        context,
    });
    await animationFrame();
    return { loads, opened };
}

test("figures read in the user's language and the company's currency", async () => {
    await makeMockEnv();
    expect(formatKpiValue(1234, "count")).toBe("1,234");
    expect(formatKpiValue(66.6667, "percent")).toBe("66.7 %");
    expect(formatKpiValue(12.25, "days")).toBe("12.3 days");
    expect(formatKpiValue(1234.5, "monetary", 1)).toBe("$\u00a01,234.50");
    expect(formatKpiValue(1234.5, "monetary", 2)).toBe("1,234.50\u00a0€");
    // a rate or mean over nothing
    expect(formatKpiValue(null, "percent")).toBe(NO_VALUE);
    expect(formatKpiValue(0, "count")).toBe("0");
});

test("the change: points for a rate, relative otherwise", async () => {
    await makeMockEnv();
    expect(formatChange(40, 50, "percent")).toBe("−10.0 pts");
    expect(formatChange(12, 10, "count")).toBe("+20.0 %");
    expect(formatChange(12.5, 16, "days")).toBe("−21.9 %");
    // nothing to compare with: the difference itself
    expect(formatChange(3, 0, "count")).toBe("+3");
    expect(formatChange(null, 3, "count")).toBe("");
});

test("arrow and colour follow the KPI's direction", () => {
    // more is better: up is good, down is bad
    expect(getTrend(12, 10, 1)).toEqual({ arrow: "up", tone: "success" });
    expect(getTrend(8, 10, 1)).toEqual({ arrow: "down", tone: "danger" });
    // a longer cycle is bad, a shorter one good
    expect(getTrend(20, 16, -1)).toEqual({ arrow: "up", tone: "danger" });
    expect(getTrend(12.5, 16, -1)).toEqual({ arrow: "down", tone: "success" });
    // no change, or nothing to compare with
    expect(getTrend(5, 5, 1)).toEqual({ arrow: false, tone: "muted" });
    expect(getTrend(null, 5, 1)).toEqual({ arrow: false, tone: "muted" });
    expect(getTrend(5, null, -1)).toEqual({ arrow: false, tone: "muted" });
});

test("a drill-down opens the deals with the figure's domain as a facet", () => {
    const [action, options] = buildDrillAction(drill("Won in March"));
    expect(action).toEqual({
        type: "ir.actions.act_window",
        name: "Won in March",
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
    });
    expect(options).toEqual({
        props: {
            dynamicFilters: [{ description: "Won in March", domain: [["name", "=", "Won in March"]] }],
        },
    });
    const sources = makePayload({}).sources;
    expect(getSourceDrill(sources, 1, 1)).toEqual(drill("none mar"));
    // an empty bar opens nothing
    expect(getSourceDrill(sources, 1, 0)).toBe(false);
});

test("filters go to the URL and come back from it", () => {
    const filters = {
        period: "custom",
        compare: "last_year",
        date_from: "2026-01-01",
        date_to: "2026-01-31",
        team_ids: [3, 4],
        user_id: 7,
        source_id: false,
    };
    const state = filtersToState(filters);
    expect(state).toEqual({
        period: "custom",
        compare: "last_year",
        date_from: "2026-01-01",
        date_to: "2026-01-31",
        team_ids: "3,4",
        user_id: 7,
        source_id: undefined,
    });
    // the router gives numbers as numbers, lists as strings
    expect(filtersFromState({ ...state, user_id: "7" })).toEqual(filters);
    expect(filtersFromState({ team_ids: 3, period: "no such period" })).toEqual({
        period: "this_month",
        compare: "previous",
        date_from: false,
        date_to: false,
        team_ids: [3],
        user_id: false,
        source_id: false,
    });
    // the dates of a preset period are the server's to set
    expect(filtersToServer({ ...filters, period: "this_year" })).toEqual({
        period: "this_year",
        compare: "last_year",
        team_ids: [3, 4],
        user_id: 7,
        source_id: false,
    });
});

test("cards show value, change with arrow and colour, comparison", async () => {
    await openDashboard();
    expect(".o_spm_kpi").toHaveCount(4);
    expect(".o_spm_kpi[data-kpi=new_leads] .o_spm_kpi_value").toHaveText("4");
    expect(".o_spm_kpi[data-kpi=new_leads] .o_spm_kpi_change").toHaveClass("text-success");
    expect(".o_spm_kpi[data-kpi=new_leads] .fa-arrow-up").toHaveCount(1);
    expect(".o_spm_kpi[data-kpi=win_percentage] .o_spm_kpi_value").toHaveText("40.0 %");
    expect(".o_spm_kpi[data-kpi=win_percentage] .o_spm_kpi_count").toHaveText("4 closed");
    expect(".o_spm_kpi[data-kpi=win_percentage] .o_spm_kpi_change").toHaveClass("text-danger");
    expect(".o_spm_kpi[data-kpi=win_percentage] .o_spm_kpi_change").toHaveText("−10.0 pts");
    // a shorter cycle: down, and good
    const cycle = ".o_spm_kpi[data-kpi=avg_sales_cycle_days]";
    expect(`${cycle} .o_spm_kpi_change`).toHaveClass("text-success");
    expect(`${cycle} .fa-arrow-down`).toHaveCount(1);
    expect(`${cycle} .o_spm_kpi_comparison_value`).toHaveText("16.0 days");
    expect(queryOne(".o_spm_kpi[data-kpi=avg_won_revenue] .o_spm_kpi_value").textContent).toBe(
        "$\u00a01,234.50"
    );
    // a sparkline per card
    expect(".o_spm_kpi .o_spm_sparkline canvas").toHaveCount(4);
    expect(".o_spm_bottleneck").toHaveAttribute("data-stage", "Interest");
});

test("every element opens the deals behind its figure", async () => {
    const { opened } = await openDashboard();
    const clicks = [
        [".o_spm_kpi[data-kpi=new_leads] .o_spm_kpi_value", "new_leads now"],
        [".o_spm_kpi[data-kpi=win_percentage] .o_spm_kpi_count", "win_percentage now"],
        [".o_spm_kpi[data-kpi=win_percentage] .o_spm_kpi_comparison_value", "win_percentage before"],
        [".o_spm_funnel_entered .o_spm_funnel_current", "Interest now entered"],
        [".o_spm_funnel_moved_on .o_spm_funnel_previous", "Interest before moved on"],
        [".o_spm_funnel_lost .o_spm_funnel_current", "Interest now lost"],
        [".o_spm_funnel_still .o_spm_funnel_current", "Interest now still"],
        [".o_spm_funnel_stalled a", "stalled in Interest"],
        [".o_spm_bottleneck_sentence", "Interest now entered"],
        [".o_spm_bottleneck_stalled", "stalled in Interest"],
        [".o_spm_pipeline_count", "open in Qualified"],
        [".o_spm_pipeline_stalled", "stalled in Qualified"],
    ];
    for (const [selector] of clicks) {
        await contains(selector).click();
    }
    expect(opened.map(([action]) => action.name)).toEqual(clicks.map(([, name]) => name));
    for (const [index, [, name]] of clicks.entries()) {
        expect(opened[index]).toEqual(buildDrillAction(drill(name)));
    }
    // a bar of the stacked chart: the chart's click on the 2nd source, 2nd month
    const chart = window.Chart.getChart(queryOne(".o_spm_stacked_bars canvas"));
    chart.options.onClick({}, [{ datasetIndex: 1, index: 1 }]);
    expect(opened.at(-1)).toEqual(buildDrillAction(drill("none mar")));
});

test("changing the period and the comparison reloads, keeps the filters in the URL and the context", async () => {
    const { loads } = await openDashboard();
    expect(loads).toEqual([
        { period: "this_month", compare: "previous", team_ids: [], user_id: false, source_id: false },
    ]);
    await select("this_quarter", { target: ".o_spm_period" });
    await animationFrame();
    expect(loads.at(-1).period).toBe("this_quarter");
    expect(".o_spm_kpi[data-kpi=new_leads] .o_spm_kpi_value").toHaveText("12");
    await select("last_year", { target: ".o_spm_compare" });
    await animationFrame();
    expect(loads.at(-1)).toEqual({
        period: "this_quarter",
        compare: "last_year",
        team_ids: [],
        user_id: false,
        source_id: false,
    });
    expect(router.current.period).toBe("this_quarter");
    expect(router.current.compare).toBe("last_year");
    const action = getService("action").currentController.action;
    expect(action.context.sales_pipeline_mgmt_dashboard_filters.period).toBe("this_quarter");
});

test("a reload comes back to the filters of the URL", async () => {
    const { loads } = await openDashboard({
        params: { period: "last_12_months", compare: "none", team_ids: "3,4", source_id: 5 },
    });
    expect(loads).toEqual([
        {
            period: "last_12_months",
            compare: "none",
            team_ids: [3, 4],
            user_id: false,
            source_id: 5,
        },
    ]);
    expect(queryAll(".o_spm_teams .o_tag").map((tag) => tag.textContent.trim())).toEqual([
        "Europe",
        "America",
    ]);
    expect(".o_spm_period").toHaveValue("last_12_months");
});

test("the breadcrumbs come back to the filters of the context", async () => {
    const { loads } = await openDashboard({
        sales_pipeline_mgmt_dashboard_filters: {
            period: "custom",
            compare: "previous",
            date_from: "2026-01-05",
            date_to: "2026-01-20",
            team_ids: [4],
            user_id: false,
            source_id: false,
        },
    });
    expect(loads[0]).toEqual({
        period: "custom",
        compare: "previous",
        date_from: "2026-01-05",
        date_to: "2026-01-20",
        team_ids: [4],
        user_id: false,
        source_id: false,
    });
});
