/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { Component, onMounted, onWillStart, useState } from "@odoo/owl";
import { DateTimeInput } from "@web/core/datetime/datetime_input";
import { _t } from "@web/core/l10n/translation";
import { deserializeDate, serializeDate } from "@web/core/l10n/dates";
import { MultiRecordSelector } from "@web/core/record_selectors/multi_record_selector";
import { RecordSelector } from "@web/core/record_selectors/record_selector";
import { registry } from "@web/core/registry";
import { KeepLast } from "@web/core/utils/concurrency";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";
import { DealsAtRisk } from "@sales_pipeline_mgmt/deals_at_risk/deals_at_risk";
import { Sparkline, StackedBarChart } from "./pipeline_dashboard_charts";
import { PipelineChanges, PipelineOverTime } from "../pipeline_changes/pipeline_changes";
import {
    COMPARISONS,
    DEFAULT_FILTERS,
    PERIODS,
    buildDrillAction,
    filtersFromState,
    filtersToServer,
    filtersToState,
    formatChange,
    formatKpiValue,
    getSourceDrill,
    getTrend,
} from "./pipeline_dashboard_utils";

// where the filters are kept in the action's context: coming back through
// the breadcrumbs restores them
export const CONTEXT_KEY = "sales_pipeline_mgmt_dashboard_filters";

/**
 * One KPI: its value (opening the deals it is computed on), the comparison
 * value with the change, and a sparkline of the last periods.
 */
export class KpiCard extends Component {
    static template = "sales_pipeline_mgmt.PipelineDashboardKpiCard";
    static components = { Sparkline };
    static props = {
        card: Object,
        currencyId: { type: Number, optional: true },
        hasComparison: Boolean,
        sparklineLabels: Array,
        onDrill: Function,
    };

    format(value) {
        return formatKpiValue(value, this.props.card.kind, this.props.currencyId);
    }

    get value() {
        return this.format(this.props.card.value);
    }

    get comparisonValue() {
        return this.format(this.props.card.comparison_value);
    }

    get trend() {
        const { value, comparison_value, direction } = this.props.card;
        return getTrend(value, comparison_value, direction);
    }

    get change() {
        const { value, comparison_value, kind } = this.props.card;
        return formatChange(value, comparison_value, kind, this.props.currencyId);
    }

    /** "4 closed": the population the value is computed on. */
    get countLabel() {
        const { count, count_label } = this.props.card;
        return `${formatKpiValue(count, "count")} ${count_label}`;
    }

    get comparisonCountLabel() {
        const { comparison_count, count_label } = this.props.card;
        return `${formatKpiValue(comparison_count, "count")} ${count_label}`;
    }

    get isCount() {
        return this.props.card.kind === "count";
    }
}

export class PipelineDashboard extends Component {
    static template = "sales_pipeline_mgmt.PipelineDashboard";
    static components = {
        DateTimeInput,
        DealsAtRisk,
        KpiCard,
        Layout,
        MultiRecordSelector,
        PipelineChanges,
        PipelineOverTime,
        RecordSelector,
        StackedBarChart,
    };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.keepLast = new KeepLast();
        this.periods = PERIODS;
        this.comparisons = COMPARISONS;
        this.display = { controlPanel: {} };
        this.state = useState({ filters: this.getInitialFilters(), data: null });
        onWillStart(() => this.load(this.state.filters));
        onMounted(() => this.saveFilters(this.state.filters));
    }

    /**
     * The filters of the action's context (kept there when they change: the
     * breadcrumbs come back to them), else of the URL (a reload), else the
     * defaults.
     */
    getInitialFilters() {
        const context = this.props.action.context || {};
        if (context[CONTEXT_KEY]) {
            return { ...DEFAULT_FILTERS, ...context[CONTEXT_KEY] };
        }
        return filtersFromState(context.params || this.props.action.params || {});
    }

    saveFilters(filters) {
        this.props.action.context ||= {};
        this.props.action.context[CONTEXT_KEY] = filters;
        this.props.updateActionState?.(filtersToState(filters));
    }

    async load(filters) {
        const data = await this.keepLast.add(
            this.orm.call("crm.lead", "get_pipeline_dashboard", [filtersToServer(filters)])
        );
        // the server resolves the period into its first and last day
        this.state.filters = {
            ...filters,
            date_from: data.filters.date_from,
            date_to: data.filters.date_to,
        };
        this.state.data = data;
    }

    async applyFilters(changes) {
        const filters = { ...this.state.filters, ...changes };
        await this.load(filters);
        this.saveFilters(this.state.filters);
    }

    // Filters ---------------------------------------------------------

    onPeriodChange(ev) {
        this.applyFilters({ period: ev.target.value });
    }

    onCompareChange(ev) {
        this.applyFilters({ compare: ev.target.value });
    }

    onDateChange(key, value) {
        if (value) {
            this.applyFilters({ period: "custom", [key]: serializeDate(value) });
        }
    }

    getDate(key) {
        return this.state.filters[key] ? deserializeDate(this.state.filters[key]) : false;
    }

    // Figures ---------------------------------------------------------

    get data() {
        return this.state.data;
    }

    get hasComparison() {
        return Boolean(this.data.comparison);
    }

    get comparisonLabel() {
        return COMPARISONS.find(([key]) => key === this.state.filters.compare)?.[1] || "";
    }

    get funnelNote() {
        if (!this.hasComparison) {
            return _t(
                "The deals that entered each stage in the period, and where they are now."
            );
        }
        return _t(
            "The deals that entered each stage in the period (bold) and in the comparison period (%(comparison)s, below), and where they are now.",
            { comparison: this.comparisonLabel }
        );
    }

    get sparklineLabels() {
        return this.data.sparkline_periods.map(({ date_from, date_to }) =>
            this.formatPeriod(date_from, date_to)
        );
    }

    get sourceLabels() {
        return this.data.sources.months.map((month) =>
            deserializeDate(month).toFormat("MMM yyyy")
        );
    }

    get maxEntered() {
        return Math.max(1, ...this.data.funnel.map((step) => step.periods[0].entered));
    }

    formatPeriod(dateFrom, dateTo) {
        const start = deserializeDate(dateFrom);
        const end = deserializeDate(dateTo);
        if (start.hasSame(end, "month") && start.day === 1 && end.plus({ days: 1 }).day === 1) {
            return start.toFormat("MMMM yyyy");
        }
        return `${start.toLocaleString()} – ${end.toLocaleString()}`;
    }

    formatCount(value) {
        return formatKpiValue(value, "count");
    }

    formatPercent(value) {
        return formatKpiValue(value, "percent");
    }

    formatDays(value) {
        return formatKpiValue(value, "days");
    }

    formatAmount(value) {
        return formatKpiValue(value, "monetary", this.data.currency_id);
    }

    funnelWidth(step) {
        return `${Math.round((100 * step.periods[0].entered) / this.maxEntered)}%`;
    }

    // Drill-down ------------------------------------------------------

    openDrill(drill) {
        if (drill) {
            const [action, options] = buildDrillAction(drill);
            return this.actionService.doAction(action, options);
        }
    }

    onSourceBarClick(datasetIndex, index) {
        return this.openDrill(getSourceDrill(this.data.sources, datasetIndex, index));
    }
}

registry.category("actions").add("sales_pipeline_mgmt.pipeline_dashboard", PipelineDashboard);
