/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";

/**
 * An administrator maps a stage of a team to a standard stage from the stage
 * form (CRM > Configuration > Stages). Data: tests/test_ui.py (stage
 * "SPM Demo Review", not mapped).
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_admin_stage_mapping", {
    url: "/odoo/action-crm.crm_stage_action",
    steps: () => [
        {
            content: "Open the unmapped stage",
            trigger: ".o_list_view .o_data_row:contains('SPM Demo Review') td[name=name]",
            run: "click",
        },
        {
            content: "Choose its standard stage",
            trigger: ".o_form_view .o_field_widget[name=standard_stage_id] input",
            run: "edit Consideration",
        },
        {
            content: "Pick Consideration",
            trigger: ".o-autocomplete--dropdown-item:contains('Consideration')",
            run: "click",
        },
        {
            content: "The guidance of the standard stage shows",
            trigger: ".o_form_view div[name=standard_stage_guidance]",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Wait for the save to complete",
            trigger: ".o_form_view .o_form_status_indicator_buttons.invisible:not(:visible)",
        },
        {
            content: "Back to the stage list",
            trigger: ".o_breadcrumb .o_back_button",
            run: "click",
        },
        {
            content: "The list shows the mapping",
            trigger:
                ".o_list_view .o_data_row:contains('SPM Demo Review') td[name=standard_stage_id]:contains('Consideration')",
        },
    ],
});
