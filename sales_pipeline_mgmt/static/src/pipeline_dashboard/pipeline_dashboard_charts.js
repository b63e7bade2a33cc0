/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { Component, onWillStart, useEffect, useRef } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { cookie } from "@web/core/browser/cookie";
import { getColor, hexToRGBA } from "@web/core/colors/colors";

/**
 * Charts drawn with the web client's own Chart.js, loaded on demand as the
 * graph view does (web.chartjs_lib).
 */
class ChartComponent extends Component {
    static template = "sales_pipeline_mgmt.PipelineDashboardChart";
    static props = ["*"];

    setup() {
        this.canvasRef = useRef("canvas");
        this.colorScheme = cookie.get("color_scheme");
        onWillStart(() => loadBundle("web.chartjs_lib"));
        useEffect(
            () => {
                this.chart = new window.Chart(this.canvasRef.el, this.getConfig());
                return () => this.chart.destroy();
            },
            () => [this.props]
        );
    }

    get className() {
        return "";
    }

    getConfig() {
        throw new Error("not implemented");
    }
}

/**
 * A KPI's sparkline: its value over the last periods, without axes.
 */
export class Sparkline extends ChartComponent {
    static props = {
        values: Array,
        labels: Array,
        formatValue: Function,
    };

    get className() {
        return "o_spm_sparkline";
    }

    getConfig() {
        const color = getColor(0, this.colorScheme);
        return {
            type: "line",
            data: {
                labels: this.props.labels,
                datasets: [
                    {
                        data: this.props.values.map((value) => (value === false ? null : value)),
                        borderColor: color,
                        backgroundColor: hexToRGBA(color, 0.15),
                        borderWidth: 2,
                        fill: true,
                        pointRadius: 0,
                        pointHitRadius: 6,
                        spanGaps: true,
                        tension: 0.3,
                    },
                ],
            },
            options: {
                animation: false,
                maintainAspectRatio: false,
                responsive: true,
                layout: { padding: 2 },
                plugins: {
                    legend: { display: false },
                    tooltip: {
                        displayColors: false,
                        callbacks: {
                            label: (item) => this.props.formatValue(item.raw),
                        },
                    },
                },
                scales: { x: { display: false }, y: { display: false } },
            },
        };
    }
}

/**
 * Stacked bars: one dataset per series, a click calls onClick(dataset, index).
 */
export class StackedBarChart extends ChartComponent {
    static props = {
        labels: Array,
        series: Array,
        onClick: Function,
    };

    get className() {
        return "o_spm_stacked_bars";
    }

    getConfig() {
        const count = this.props.series.length;
        return {
            type: "bar",
            data: {
                labels: this.props.labels,
                datasets: this.props.series.map((series, index) => ({
                    label: series.name,
                    data: series.counts,
                    backgroundColor: getColor(index, this.colorScheme, count),
                })),
            },
            options: {
                animation: false,
                maintainAspectRatio: false,
                responsive: true,
                onClick: (event, elements) => {
                    if (elements.length) {
                        this.props.onClick(elements[0].datasetIndex, elements[0].index);
                    }
                },
                onHover: (event, elements) => {
                    event.native.target.style.cursor = elements.length ? "pointer" : "";
                },
                plugins: { legend: { position: "bottom" } },
                scales: {
                    x: { stacked: true, grid: { display: false } },
                    y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
                },
            },
        };
    }
}
