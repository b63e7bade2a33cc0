# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Time to first paint of the Pipeline Dashboard in headless Chromium.

    python bench/tools/dashboard_first_paint.py --url http://localhost:8069 \\
        --db sales_pipeline_demo [--login admin --password admin] [--runs 5]

Against a running Odoo (e.g. bin/run on the demo database): logs in, opens
/odoo/crm-pipeline-dashboard ``runs + 1`` times in one browser and reports,
from the navigation start, the browser's first contentful paint (the web
client's shell) and the first frame painted after the dashboard's KPI cards
and their sparklines are in the page (the dashboard's first paint). The first
load fills the browser's cache (assets); the median is over the others.
"""

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "bin"))

import _screenshots

# Installed before each load: records when the cards, then their
# sparklines, appear, and the frame painted after them.
PROBE = """
window.__spm = {};
new MutationObserver((mutations, observer) => {
    const marks = window.__spm;
    if (!marks.cards && document.querySelector(".o_spm_kpi .o_spm_kpi_value")) {
        marks.cards = performance.now();
        requestAnimationFrame(() => requestAnimationFrame(() => {
            marks.cardsPainted = performance.now();
        }));
    }
    if (!marks.charts && document.querySelector(".o_spm_kpi .o_spm_sparkline canvas")
        && document.querySelector(".o_spm_pipeline")) {
        marks.charts = performance.now();
        requestAnimationFrame(() => requestAnimationFrame(() => {
            marks.chartsPainted = performance.now();
            observer.disconnect();
        }));
    }
}).observe(document, { childList: true, subtree: true });
"""

READ = """(() => {
    const fcp = performance.getEntriesByName("first-contentful-paint")[0];
    return { ...window.__spm, fcp: fcp && fcp.startTime };
})()"""


def load(chrome, url, timeout=60):
    chrome.goto(url)
    deadline = time.time() + timeout
    while time.time() < deadline:
        marks = chrome.evaluate(READ) or {}
        if marks.get("chartsPainted") and marks.get("fcp"):
            return marks
        time.sleep(0.1)
    raise _screenshots.ScreenshotError(f"the dashboard did not paint in {timeout} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    base = args.url.rstrip("/")
    odoo = _screenshots.Odoo(base, args.db)
    session_id = odoo.login(args.login, args.password)
    chrome = _screenshots.Chrome(_screenshots.find_chrome())
    try:
        chrome.send("Page.addScriptToEvaluateOnNewDocument", source=PROBE)
        chrome.set_cookie(base, "session_id", session_id)
        results = [
            load(chrome, f"{base}/odoo/crm-pipeline-dashboard")
            for _index in range(args.runs + 1)
        ]
    finally:
        chrome.close()
    keys = (
        ("fcp", "first contentful paint (web client)"),
        ("cardsPainted", "KPI cards painted"),
        ("chartsPainted", "whole dashboard painted (sparklines, tables)"),
    )
    print(f"Pipeline Dashboard, {args.db}, {args.login}, 1280x800 headless Chromium")
    for key, label in keys:
        warm = [result[key] for result in results[1:]]
        print(
            f"  {label}: first load {results[0][key]:.0f} ms; then median "
            f"{statistics.median(warm):.0f} ms (min {min(warm):.0f}, max "
            f"{max(warm):.0f}, {len(warm)} loads)"
        )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except _screenshots.ScreenshotError as exc:
        print(f"dashboard_first_paint: error: {exc}", file=sys.stderr)
        sys.exit(1)
