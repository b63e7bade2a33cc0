/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { KeepLast } from "@web/core/utils/concurrency";
import { useService } from "@web/core/utils/hooks";
import { formatMonetary } from "@web/views/fields/formatters";

export const BAND_COLORS = { at_risk: "danger", watch: "warning", healthy: "success" };

/**
 * The open deals with the lowest health score, for the team and salesperson
 * the Pipeline Dashboard is filtered on. It reads the current state of the
 * deals, not the dashboard's period: it loads through its own read-only call
 * (get_deals_at_risk, served by a replica when there is one), beside the
 * dashboard's, and reloads only when the team or the salesperson changes.
 */
export class DealsAtRisk extends Component {
    static template = "sales_pipeline_mgmt.DealsAtRisk";
    static props = {
        teamIds: { type: Array, optional: true },
        userId: { optional: true },
        limit: { type: Number, optional: true },
    };
    static defaultProps = { teamIds: [], userId: false, limit: 10 };

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.keepLast = new KeepLast();
        this.state = useState({ data: null });
        onWillStart(() => this.load(this.props));
        onWillUpdateProps((nextProps) => {
            if (
                nextProps.userId !== this.props.userId ||
                JSON.stringify(nextProps.teamIds) !== JSON.stringify(this.props.teamIds)
            ) {
                // not awaited: the dashboard's own figures do not wait for it
                this.load(nextProps);
            }
        });
    }

    async load({ teamIds, userId, limit }) {
        this.state.data = await this.keepLast.add(
            this.orm.call("crm.lead", "get_deals_at_risk", [], {
                team_ids: teamIds || [],
                user_id: userId || false,
                limit,
            })
        );
    }

    badgeClass(deal) {
        return `text-bg-${BAND_COLORS[deal.band] || "secondary"}`;
    }

    formatAmount(value) {
        return formatMonetary(value, { currencyId: this.state.data.currency_id });
    }

    openDeal(deal) {
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "crm.lead",
            res_id: deal.id,
            views: [[false, "form"]],
            target: "current",
        });
    }

    openList() {
        return this.actionService.doAction("sales_pipeline_mgmt.crm_lead_action_deals_at_risk", {
            additionalContext: { search_default_health_at_risk: 1 },
        });
    }
}
