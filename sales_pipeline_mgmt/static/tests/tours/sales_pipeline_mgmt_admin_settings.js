/** @odoo-module **/
// Copyright 2026 sales_pipeline_mgmt contributors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
import { registry } from "@web/core/registry";

/**
 * An administrator changes thresholds of the addon in CRM Settings: turns
 * stall detection on with a default of 9 days (Pipeline Health block) and
 * sets the optimistic close date margin to 21 days (Pipeline Forecast block).
 */
registry.category("web_tour.tours").add("sales_pipeline_mgmt_admin_settings", {
    url: "/odoo/action-crm.crm_config_settings_action",
    steps: () => [
        {
            content: "The Pipeline Forecast block is there",
            trigger: ".o_setting_container h2:contains('Pipeline Forecast')",
        },
        {
            content: "The Pipeline Health block is there",
            trigger: ".o_setting_container h2:contains('Pipeline Health')",
        },
        {
            content: "Turn stall detection on",
            trigger: ".o_field_widget[name=pipeline_stall_enabled] input",
            run: "check",
        },
        {
            content: "Set the default stall threshold to 9 days",
            trigger: ".o_field_widget[name=pipeline_stall_days] input",
            run: "edit 9 && press Tab",
        },
        {
            content: "Set the optimistic close date margin to 21 days",
            trigger: ".o_field_widget[name=forecast_optimistic_margin_days] input",
            run: "edit 21 && press Tab",
        },
        {
            content: "The settings know they have changed",
            trigger: ".o_dirty_warning",
        },
        {
            content: "Save the settings",
            trigger: ".o_control_panel .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: the settings show the new margin, nothing left to save",
            trigger:
                "body:not(:has(.o_dirty_warning)) .o_field_widget[name=forecast_optimistic_margin_days] input:value(21)",
        },
        {
            content: "and the new stall threshold",
            trigger: ".o_field_widget[name=pipeline_stall_days] input:value(9)",
        },
    ],
});
