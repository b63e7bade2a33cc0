// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { describe, expect, test } from "@odoo/hoot";
import { click, queryAllTexts } from "@odoo/hoot-dom";
import { animationFrame } from "@odoo/hoot-mock";
import {
    defineModels,
    mockService,
    mountWithCleanup,
    onRpc,
} from "@web/../tests/web_test_helpers";
import { crmModels } from "@crm/../tests/crm_test_helpers";
import { DealsAtRisk } from "@sales_pipeline_mgmt/deals_at_risk/deals_at_risk";

describe.current.tags("desktop");

defineModels(crmModels);

const DEALS = [
    {
        id: 7,
        name: "Big Deal",
        partner: "Azure",
        stage: "Decision",
        salesperson: "Sally",
        expected_revenue: 9000,
        score: 35,
        band: "at_risk",
        reasons: "in Decision 3× longer than usual · closing date moved twice",
    },
    {
        id: 8,
        name: "Small Deal",
        partner: "",
        stage: "Interest",
        salesperson: "Sam",
        expected_revenue: 100,
        score: 55,
        band: "watch",
        reasons: "stalled",
    },
];

function mockDealsAtRisk() {
    const calls = [];
    onRpc("crm.lead", "get_deals_at_risk", ({ kwargs }) => {
        const { team_ids, user_id, limit } = kwargs;
        calls.push({ team_ids, user_id, limit });
        return { deals: DEALS, at_risk_count: 1, at_risk_threshold: 40, currency_id: 1 };
    });
    return calls;
}

test("lists the deals with their score, band colour and reasons", async () => {
    const calls = mockDealsAtRisk();
    await mountWithCleanup(DealsAtRisk, { props: { teamIds: [3], userId: 5 } });
    expect(calls).toEqual([{ team_ids: [3], user_id: 5, limit: 10 }]);
    expect(queryAllTexts(".o_spm_deal_at_risk .badge")).toEqual(["35", "55"]);
    expect(".o_spm_deal_at_risk:first .badge").toHaveClass("text-bg-danger");
    expect(".o_spm_deal_at_risk:last .badge").toHaveClass("text-bg-warning");
    expect(queryAllTexts(".o_spm_deal_reasons")).toEqual([
        "in Decision 3× longer than usual · closing date moved twice",
        "stalled",
    ]);
    expect(".o_spm_deals_at_risk_count").toHaveText("1 below 40");
});

test("a row opens its deal", async () => {
    mockDealsAtRisk();
    const opened = [];
    mockService("action", {
        doAction(action) {
            opened.push(action);
        },
    });
    await mountWithCleanup(DealsAtRisk, { props: {} });
    await click(".o_spm_deal_at_risk[data-id='8']");
    await animationFrame();
    expect(opened).toEqual([
        {
            type: "ir.actions.act_window",
            res_model: "crm.lead",
            res_id: 8,
            views: [[false, "form"]],
            target: "current",
        },
    ]);
});
