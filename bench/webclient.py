# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What Odoo's web client derives from a kanban arch before it sends its
RPCs: the fields spec of web_search_read / web_save, and the progress bar of
read_progress_bar. Shared by bench/measure.py (in-process) and bench/load.py
(over HTTP)."""

import json


def kanban_spec(arch, fields):
    """The fields spec the web client derives from a kanban arch (an lxml
    element) and the fields description of get_views."""
    spec = {}
    for node in arch.iter("field"):
        if any(parent.tag == "field" for parent in node.iterancestors()):
            continue
        name = node.get("name")
        if name not in fields:
            continue
        field = fields[name]
        if field["type"] == "many2one":
            spec[name] = {"fields": {"display_name": {}}}
        elif field["type"] in ("many2many", "one2many"):
            sub = {}
            if node.get("widget") == "many2many_tags":
                sub = {"display_name": {}}
                options = node.get("options") or ""
                if "color_field" in options:
                    sub["color"] = {}
            spec[name] = {"fields": sub}
        else:
            spec[name] = {}
    progressbar = arch.find(".//progressbar")
    if progressbar is not None:
        spec.setdefault(progressbar.get("field"), {})
    if arch.get("highlight_color"):
        spec.setdefault(arch.get("highlight_color"), {})
    return spec


def kanban_progressbar(arch):
    """The progress_bar argument of read_progress_bar."""
    node = arch.find(".//progressbar")
    return {
        "field": node.get("field"),
        "colors": json.loads(node.get("colors")),
        "sum_field": node.get("sum_field"),
        "recurring_revenue_sum_field": node.get("recurring_revenue_sum_field"),
    }


def kanban_aggregates(progressbar, spec):
    """The aggregates of the kanban's web_read_group: the progress bar's sums,
    and the addon's stalled count when its kanban shows it
    (static/src/views/kanban_stalled_count.js)."""
    aggregates = [
        f"{name}:sum"
        for name in (
            progressbar["sum_field"],
            progressbar["recurring_revenue_sum_field"],
        )
        if name
    ]
    if "stalled_count" in spec:
        aggregates.append("stalled_count:sum")
    return aggregates
