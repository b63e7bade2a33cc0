// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { describe, expect, test } from "@odoo/hoot";
import { queryAllTexts } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import {
    contains,
    defineModels,
    getService,
    mountWithCleanup,
    onRpc,
    patchWithCleanup,
} from "@web/../tests/web_test_helpers";
import { crmModels } from "@crm/../tests/crm_test_helpers";
import { WebClient } from "@web/webclient/webclient";
import { PipelineChanges } from "@sales_pipeline_mgmt/pipeline_changes/pipeline_changes";
import {
    changesFilters,
    formatStepCount,
    waterfallSteps,
} from "@sales_pipeline_mgmt/pipeline_changes/pipeline_changes_utils";

describe.current.tags("desktop");
defineModels(crmModels);

// start 1000, +300 new, -200 decrease, -400 won: end 700
const RESULT = {
    filters: { date_from: "2026-03-02", date_to: "2026-03-08", team_ids: [3], user_id: false },
    forecast_period: ["2026-01-01", "2026-03-31"],
    currency_id: 1,
    start: { count: 4, amount: 1000 },
    end: { count: 4, amount: 700 },
    bars: [
        { key: "new", label: "New", count: 1, amount: 300, sign: 1 },
        { key: "decrease", label: "Decreased", count: 1, amount: -200, sign: 0 },
        { key: "won", label: "Won", count: 1, amount: -400, sign: -1 },
    ],
};

test("each bar floats from the running total to the running total plus its amount", () => {
    const steps = waterfallSteps({ ...RESULT, start_label: "Start", end_label: "End" });
    expect(steps.map((step) => [step.key, step.range, step.tone])).toEqual([
        ["start", [0, 1000], "total"],
        ["new", [1000, 1300], "up"],
        ["decrease", [1100, 1300], "down"],
        ["won", [700, 1100], "down"],
        ["end", [0, 700], "total"],
    ]);
});

test("deal counts are signed for entries and exits only", () => {
    expect(formatStepCount({ count: 2, sign: 1 })).toBe("+2");
    expect(formatStepCount({ count: 3, sign: -1 })).toBe("−3");
    expect(formatStepCount({ count: 1, sign: 0 })).toBe("1");
    expect(formatStepCount({ count: 0, sign: -1 })).toBe("0");
    expect(
        changesFilters({ dateFrom: "2026-03-02", dateTo: false, teamIds: [3], userId: 7 })
    ).toEqual({ team_ids: [3], user_id: 7, date_from: "2026-03-02" });
});

test("a line of the list opens the deals of its bar", async () => {
    const calls = [];
    onRpc("crm.lead", "get_pipeline_changes", ({ args }) => {
        calls.push(["load", args[0]]);
        return RESULT;
    });
    onRpc("crm.lead", "action_open_pipeline_change", ({ args }) => {
        calls.push(["open", ...args]);
        return { type: "ir.actions.act_window", res_model: "crm.lead", views: [[false, "list"]] };
    });
    await mountWithCleanup(WebClient);
    const opened = [];
    patchWithCleanup(getService("action"), {
        doAction(action) {
            opened.push(action.res_model);
        },
    });
    await mountWithCleanup(PipelineChanges, { props: { teamIds: [3], userId: false } });
    await animationFrame();
    expect(queryAllTexts(".o_spm_changes_table .o_spm_changes_count")).toEqual([
        "4",
        "+1",
        "1",
        "−1",
        "4",
    ]);
    await contains(".o_spm_changes_table tr[data-key=won] .o_spm_changes_count").click();
    expect(calls).toEqual([
        ["load", { team_ids: [3], user_id: false }],
        ["open", { team_ids: [3], user_id: false, date_from: "2026-03-02", date_to: "2026-03-08" }, "won"],
    ]);
    expect(opened).toEqual(["crm.lead"]);
});
