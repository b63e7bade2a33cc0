/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { Component, onWillStart, onWillUpdateProps, useEffect, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { cookie } from "@web/core/browser/cookie";
import { getColor, hexToRGBA } from "@web/core/colors/colors";
import { DateTimeInput } from "@web/core/datetime/datetime_input";
import { deserializeDate, serializeDate } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { KeepLast } from "@web/core/utils/concurrency";
import { useService } from "@web/core/utils/hooks";
import { formatKpiValue } from "../pipeline_dashboard/pipeline_dashboard_utils";
import { changesFilters, formatStepCount, waterfallSteps } from "./pipeline_changes_utils";

const TONE_COLORS = { total: 0, up: 2, down: 1, none: 0 };

// The dashboard's team and salesperson, which both components follow.
const FILTER_PROPS = { teamIds: { type: Array, optional: true }, userId: { optional: true } };

/**
 * Loads the component (its load(props)) when it starts, and again when the
 * dashboard's team or salesperson change: not when the dashboard renders
 * again for anything else, which would send its RPC again for nothing.
 */
function useLoadForFilters(component) {
    onWillStart(() => component.load(component.props));
    onWillUpdateProps((nextProps) => {
        if (
            JSON.stringify([nextProps.teamIds, nextProps.userId]) !==
            JSON.stringify([component.props.teamIds, component.props.userId])
        ) {
            return component.load(nextProps);
        }
    });
}

/** A Chart.js chart (the web client's, loaded on demand) of props.config. */
class ChangesChart extends Component {
    static template = "sales_pipeline_mgmt.PipelineChangesChart";
    static props = { config: Object, className: String };

    setup() {
        this.canvasRef = useRef("canvas");
        onWillStart(() => loadBundle("web.chartjs_lib"));
        useEffect(
            () => {
                const chart = new window.Chart(this.canvasRef.el, this.props.config);
                return () => chart.destroy();
            },
            () => [this.props.config]
        );
    }
}

/**
 * The pipeline changes between two dates of its own (default: the last 7
 * days), for the dashboard's team and salesperson: a waterfall chart and the
 * same figures as a list; each bar and line opens its deals. Loaded with its
 * own RPC, so that changing its dates does not reload the dashboard.
 */
export class PipelineChanges extends Component {
    static template = "sales_pipeline_mgmt.PipelineChanges";
    static components = { ChangesChart, DateTimeInput };
    static props = FILTER_PROPS;

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.keepLast = new KeepLast();
        this.colorScheme = cookie.get("color_scheme");
        this.state = useState({ dateFrom: false, dateTo: false, result: null });
        useLoadForFilters(this);
    }

    get filters() {
        return changesFilters({
            dateFrom: this.state.dateFrom,
            dateTo: this.state.dateTo,
            teamIds: this.props.teamIds,
            userId: this.props.userId,
        });
    }

    async load(props = this.props) {
        const filters = changesFilters({
            dateFrom: this.state.dateFrom,
            dateTo: this.state.dateTo,
            teamIds: props.teamIds,
            userId: props.userId,
        });
        const result = await this.keepLast.add(
            this.orm.call("crm.lead", "get_pipeline_changes", [filters])
        );
        this.state.dateFrom = result.filters.date_from;
        this.state.dateTo = result.filters.date_to;
        this.state.result = result;
    }

    getDate(key) {
        return this.state[key] ? deserializeDate(this.state[key]) : false;
    }

    onDateChange(key, value) {
        if (value) {
            this.state[key] = serializeDate(value);
            this.load();
        }
    }

    get steps() {
        const result = this.state.result;
        return waterfallSteps({
            ...result,
            start_label: _t("Pipeline at the start"),
            end_label: _t("Pipeline at the end"),
        });
    }

    get note() {
        const [first, last] = this.state.result.forecast_period;
        return _t(
            "The pipeline: the open deals whose expected closing falls in the forecast period (%(period)s) or is not set. Each deal counts in one entry and one exit at most, or in one amount change.",
            {
                period: `${deserializeDate(first).toLocaleString()} – ${deserializeDate(
                    last
                ).toLocaleString()}`,
            }
        );
    }

    formatAmount(value) {
        return formatKpiValue(value, "monetary", this.state.result.currency_id);
    }

    formatCount(step) {
        return formatStepCount(step);
    }

    get chartConfig() {
        const steps = this.steps;
        return {
            type: "bar",
            data: {
                labels: steps.map((step) => step.label),
                datasets: [
                    {
                        data: steps.map((step) => step.range),
                        backgroundColor: steps.map((step) =>
                            hexToRGBA(getColor(TONE_COLORS[step.tone], this.colorScheme), 0.8)
                        ),
                    },
                ],
            },
            options: {
                animation: false,
                maintainAspectRatio: false,
                responsive: true,
                onClick: (event, elements) => {
                    if (elements.length) {
                        this.openStep(steps[elements[0].index]);
                    }
                },
                onHover: (event, elements) => {
                    event.native.target.style.cursor = elements.length ? "pointer" : "";
                },
                plugins: {
                    legend: { display: false },
                    tooltip: {
                        callbacks: {
                            label: (item) => {
                                const step = steps[item.dataIndex];
                                return `${formatStepCount(step)} · ${this.formatAmount(step.amount)}`;
                            },
                        },
                    },
                },
                scales: { x: { grid: { display: false } } },
            },
        };
    }

    async openStep(step) {
        const action = await this.orm.call("crm.lead", "action_open_pipeline_change", [
            this.filters,
            step.key,
        ]);
        return this.actionService.doAction(action);
    }
}

const MEASURES = {
    expected: () => _t("Expected Revenue"),
    historical: () => _t("Historical Revenue"),
    counts: () => _t("Deals"),
};

/**
 * The open pipeline by stage at the end of each week of the last 12 months
 * (or each day of a shorter period), stacked areas, read from the deal
 * history by one RPC of its own.
 */
export class PipelineOverTime extends Component {
    static template = "sales_pipeline_mgmt.PipelineOverTime";
    static components = { ChangesChart };
    static props = FILTER_PROPS;

    setup() {
        this.orm = useService("orm");
        this.keepLast = new KeepLast();
        this.colorScheme = cookie.get("color_scheme");
        this.measures = Object.entries(MEASURES).map(([key, label]) => [key, label()]);
        this.state = useState({ measure: "expected", result: null });
        useLoadForFilters(this);
    }

    async load(props) {
        this.state.result = await this.keepLast.add(
            this.orm.call("crm.lead", "get_pipeline_over_time", [
                { team_ids: props.teamIds || [], user_id: props.userId || false },
            ])
        );
    }

    onMeasureChange(ev) {
        this.state.measure = ev.target.value;
    }

    get chartConfig() {
        const { points, series, currency_id } = this.state.result;
        const measure = this.state.measure;
        const kind = measure === "counts" ? "count" : "monetary";
        return {
            type: "line",
            data: {
                labels: points.map((point) => deserializeDate(point).toLocaleString()),
                datasets: series.map((values, index) => {
                    const color = getColor(index, this.colorScheme, series.length);
                    return {
                        label: values.name,
                        data: values[measure],
                        borderColor: color,
                        backgroundColor: hexToRGBA(color, 0.4),
                        fill: index ? "-1" : "origin",
                        pointRadius: 0,
                        pointHitRadius: 6,
                        tension: 0.2,
                    };
                }),
            },
            options: {
                animation: false,
                maintainAspectRatio: false,
                responsive: true,
                interaction: { mode: "index", intersect: false },
                plugins: {
                    legend: { position: "bottom" },
                    tooltip: {
                        callbacks: {
                            label: (item) =>
                                `${item.dataset.label}: ${formatKpiValue(item.raw, kind, currency_id)}`,
                        },
                    },
                },
                scales: { y: { stacked: true, beginAtZero: true } },
            },
        };
    }
}
