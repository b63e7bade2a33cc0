/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// Steps and selectors the addon's tours share. Every tour starts from the
// home menu, as a user does, so that the menus themselves are tested too.

/** The pipeline kanban's column of a stage, found by its title. */
export const kanbanColumn = (stageName) =>
    `.o_kanban_group:has(.o_column_title:contains('${stageName}'))`;

/** A card of the pipeline kanban, found by its lead's name. */
export const kanbanCard = (leadName) => `.o_kanban_record:contains('${leadName}')`;

/** From the home menu to the CRM app, which opens on My Pipeline. */
export function openCrmSteps(content = "Open the CRM app") {
    return [
        stepUtils.showAppsMenuItem(),
        {
            content,
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            run: "click",
        },
    ];
}

/** From the home menu to an entry of CRM > Reporting. */
export function openCrmReportSteps(menuXmlid, content) {
    return [
        ...openCrmSteps(),
        {
            content: "Open the Reporting menu",
            trigger: ".dropdown-toggle[data-menu-xmlid='crm.crm_menu_report']",
            run: "click",
        },
        {
            content,
            trigger: `.dropdown-item[data-menu-xmlid='${menuXmlid}']`,
            run: "click",
        },
    ];
}

/** From the home menu to CRM > Reporting > Pipeline Dashboard. */
export function openPipelineDashboardSteps() {
    return openCrmReportSteps(
        "sales_pipeline_mgmt.crm_lead_menu_pipeline_dashboard",
        "Open the Pipeline Dashboard"
    );
}
