# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Take the addon's screenshots from a running Odoo with headless Chromium.

Used by bin/screenshots (which starts Odoo on the demo database); runnable on
its own against any Odoo 18 with the addon and its demo data:

    python bin/_screenshots.py --url http://localhost:8069 --db sales_pipeline_demo \
        --out sales_pipeline_mgmt/static/description

Talks to Chromium through the DevTools protocol (websocket-client), logs in
through Odoo's JSON-RPC, opens each screen, waits for what it must show,
and saves a 1280x800 PNG reduced to a 256-colour palette (Pillow).
"""

import argparse
import base64
import io
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar

import websocket
from PIL import Image

WIDTH, HEIGHT = 1280, 800
# the dashboard's shots show its cards, bottleneck, funnel and charts at once
DASHBOARD_HEIGHT = 1420
CHROME_NAMES = ("chromium", "google-chrome", "chromium-browser", "google-chrome-stable")
CHROME_SWITCHES = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
    f"--window-size={WIDTH},{HEIGHT}",
]


class ScreenshotError(Exception):
    pass


class Odoo:
    """Just enough JSON-RPC to log in and look records up."""

    def __init__(self, url, db):
        self.url = url.rstrip("/")
        self.db = db
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )
        self._ids = itertools.count(1)

    def call(self, route, params):
        data = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "id": next(self._ids),
                "params": params,
            }
        ).encode()
        request = urllib.request.Request(
            self.url + route, data, {"Content-Type": "application/json"}
        )
        with self.opener.open(request, timeout=60) as response:
            reply = json.load(response)
        if reply.get("error"):
            error = reply["error"].get("data", {}).get("message") or reply["error"]
            raise ScreenshotError(f"{route}: {error}")
        return reply["result"]

    def login(self, login, password):
        self.call(
            "/web/session/authenticate",
            {"db": self.db, "login": login, "password": password},
        )
        for cookie in self.cookies:
            if cookie.name == "session_id":
                return cookie.value
        raise ScreenshotError(f"login as {login} failed")

    def execute(self, model, method, *args, **kwargs):
        return self.call(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def ref(self, xmlid):
        module, name = xmlid.split(".")
        rows = self.execute(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )
        if not rows:
            raise ScreenshotError(f"no record {xmlid}: is the demo data installed?")
        return rows[0]["res_id"]


class Chrome:
    """A headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, executable):
        self.profile = tempfile.mkdtemp(prefix="spm_screenshots_")
        self.process = subprocess.Popen(
            [
                executable,
                *CHROME_SWITCHES,
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        for _ in range(100):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 3:
                break
            time.sleep(0.1)
        else:
            self.close()
            raise ScreenshotError("Chromium did not start (no DevToolsActivePort)")
        with open(port_file) as f:
            port = int(f.readline())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as response:
            targets = json.load(response)
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], suppress_origin=True, timeout=60
        )
        self._ids = itertools.count(1)
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def send(self, method, **params):
        message_id = next(self._ids)
        self.ws.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise ScreenshotError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.send(
            "Runtime.evaluate",
            expression=expression,
            awaitPromise=True,
            returnByValue=True,
        )
        details = result.get("exceptionDetails")
        if details:
            description = details.get("exception", {}).get("description", "")
            raise ScreenshotError(f"script failed: {details.get('text')} {description}")
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=30):
        deadline = time.time() + timeout
        probe = f"!!document.querySelector({json.dumps(selector)})"
        while time.time() < deadline:
            if self.evaluate(probe):
                return
            time.sleep(0.25)
        raise ScreenshotError(f"timeout waiting for {selector}")

    def click(self, selector):
        self.wait_for(selector)
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")

    def set_cookie(self, url, name, value):
        self.send("Network.setCookie", url=url, name=name, value=value)

    def goto(self, url):
        self.send("Page.navigate", url=url)

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
        # a palette image of a UI screenshot is a third of the size, same look
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            path, optimize=True
        )

    def close(self):
        try:
            if getattr(self, "ws", None):
                self.ws.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            shutil.rmtree(self.profile, ignore_errors=True)


# Odoo is "ready" when its web client is mounted and no RPC is pending.
IDLE = ".o_action_manager > .o_action:not(.o_loading)"


def settle(chrome, selector, pause=1.5):
    chrome.wait_for(selector)
    # let the last RPCs and animations finish
    time.sleep(pause)


def open_menu(chrome, base, *menu_xmlids):
    """Open the CRM app, then the given (sub)menus, as a user would: the
    navbar then shows the app's menus."""
    chrome.goto(f"{base}/odoo/crm")
    settle(chrome, ".o_main_navbar .o_menu_brand", pause=0.5)
    for xmlid in menu_xmlids:
        chrome.click(f"[data-menu-xmlid='{xmlid}']")
        time.sleep(0.5)


def remove_facet(chrome, label):
    """Remove a facet of the search bar (e.g. the default "My Pipeline")."""
    chrome.evaluate(
        f"""[...document.querySelectorAll('.o_searchview_facet')]
            .filter((facet) => facet.textContent.includes({json.dumps(label)}))
            .forEach((facet) => facet.querySelector('.o_facet_remove').click())"""
    )
    time.sleep(1)


def shoot_pipeline(chrome, odoo, base, out):
    """The salesperson's pipeline: stalled cards and the columns' counts."""
    open_menu(chrome, base)
    settle(chrome, ".o_kanban_renderer .o_kanban_record")
    return chrome.screenshot(os.path.join(out, "pipeline_kanban.png"))


def shoot_stage_history(chrome, odoo, base, out):
    """A lead that skipped a stage and went back once: its Stage History."""
    leads = odoo.execute(
        "crm.lead",
        "search_read",
        [
            ("type", "=", "opportunity"),
            ("skipped_stage_count", ">", 0),
            ("backward_move_count", ">", 0),
        ],
        ["id"],
        limit=1,
        order="create_date",
    ) or odoo.execute(
        "crm.lead", "search_read", [("type", "=", "opportunity")], ["id"], limit=1
    )
    if not leads:
        raise ScreenshotError("no opportunity in the database")
    chrome.goto(f"{base}/odoo/action-crm.crm_lead_action_pipeline/{leads[0]['id']}")
    settle(chrome, ".o_form_view .o_notebook", pause=0.5)
    chrome.click(".o_notebook .nav-link[name=stage_history]")
    settle(chrome, ".o_field_widget[name=stage_history_ids] .o_data_row")
    chrome.evaluate(
        "document.querySelector('.o_notebook_headers').scrollIntoView({block: 'start'})"
    )
    time.sleep(0.5)
    return chrome.screenshot(os.path.join(out, "lead_stage_history.png"))


def set_viewport(chrome, height):
    chrome.send(
        "Emulation.setDeviceMetricsOverride",
        width=WIDTH,
        height=height,
        deviceScaleFactor=1,
        mobile=False,
    )


def set_language(odoo, lang):
    """Install ``lang`` if needed and make it the logged-in user's."""
    langs = odoo.execute(
        "res.lang",
        "search_read",
        [("code", "=", lang)],
        ["id", "active"],
        context={"active_test": False},
    )
    if not langs:
        raise ScreenshotError(f"no language {lang} in this Odoo")
    if not langs[0]["active"]:
        wizard = odoo.execute(
            "base.language.install", "create", {"lang_ids": [(6, 0, [langs[0]["id"]])]}
        )
        odoo.execute("base.language.install", "lang_install", [wizard])
    uid = odoo.call("/web/session/get_session_info", {})["uid"]
    odoo.execute("res.users", "write", [uid], {"lang": lang})


def open_dashboard(chrome, base):
    """The Pipeline Dashboard over the last 3 months, compared with the 3
    months before (the demo data covers the last six months)."""
    open_menu(
        chrome,
        base,
        "crm.crm_menu_report",
        "sales_pipeline_mgmt.crm_lead_menu_pipeline_dashboard",
    )
    settle(chrome, ".o_spm_dashboard .o_spm_kpi", pause=0.5)
    chrome.evaluate(
        """(() => {
            const select = document.querySelector("select.o_spm_period");
            select.value = "last_3_months";
            select.dispatchEvent(new Event("change", { bubbles: true }));
        })()"""
    )
    time.sleep(1)
    settle(chrome, ".o_spm_dashboard .o_spm_kpi .o_spm_sparkline canvas")


def shoot_dashboard(chrome, odoo, base, out, name="pipeline_dashboard"):
    """The Pipeline Dashboard of a sales manager, in a tall window: cards,
    bottleneck, funnel and leads per source."""
    set_viewport(chrome, DASHBOARD_HEIGHT)
    try:
        open_dashboard(chrome, base)
        return chrome.screenshot(os.path.join(out, f"{name}.png"))
    finally:
        set_viewport(chrome, HEIGHT)


def shoot_pipeline_inspection(chrome, odoo, base, out):
    """Lower on the same dashboard: the pipeline changes of the last 7 days
    as a waterfall, the open pipeline over the last 12 months and the deals
    at risk with their reasons."""
    set_viewport(chrome, DASHBOARD_HEIGHT)
    try:
        open_dashboard(chrome, base)
        settle(chrome, ".o_spm_changes canvas")
        settle(chrome, ".o_spm_over_time canvas")
        settle(chrome, ".o_spm_deals_at_risk")
        chrome.evaluate(
            "document.querySelector('.o_spm_changes').scrollIntoView({block: 'start'})"
        )
        time.sleep(1)
        return chrome.screenshot(os.path.join(out, "pipeline_inspection.png"))
    finally:
        set_viewport(chrome, HEIGHT)


def shoot_dashboard_es(chrome, odoo, base, out):
    """The same in Spanish: the manager's language is switched for the shot."""
    set_language(odoo, "es_ES")
    try:
        return shoot_dashboard(chrome, odoo, base, out, name="pipeline_dashboard_es")
    finally:
        set_language(odoo, "en_US")


def click_text(chrome, selector, text):
    """Click the first element matching selector whose text is ``text``."""
    found = chrome.evaluate(
        f"""(() => {{
            const element = [...document.querySelectorAll({json.dumps(selector)})]
                .find((node) => node.textContent.trim() === {json.dumps(text)});
            if (element) {{ element.click(); }}
            return !!element;
        }})()"""
    )
    if not found:
        raise ScreenshotError(f"no {selector} reading {text!r}")
    time.sleep(0.7)


def shoot_forecast(chrome, odoo, base, out):
    """Odoo's forecast pivot, all teams, per month of expected closing, with
    the measures of the addon beside Odoo's prorated revenue."""
    open_menu(chrome, base, "crm.crm_menu_report", "crm.crm_menu_forecast")
    settle(chrome, ".o_switch_view.o_pivot", pause=0.5)
    chrome.click(".o_switch_view.o_pivot")
    settle(chrome, ".o_pivot_view .o_pivot table", pause=0.5)
    remove_facet(chrome, "My Pipeline")
    # one column per measure rather than per stage and measure
    chrome.click(".o_pivot thead th.o_pivot_header_cell_opened")
    time.sleep(1)
    click_text(chrome, ".o_action_manager button", "Measures")
    for measure in ("Expected Revenue", "Best Case Revenue", "Expected Deals"):
        click_text(chrome, ".o-dropdown--menu .o_menu_item", measure)
    # close the measures menu
    click_text(chrome, ".o_action_manager button", "Measures")
    settle(chrome, ".o_pivot_view .o_pivot table")
    return chrome.screenshot(os.path.join(out, "forecast_pivot.png"))


SHOTS = [
    # (name, function, login role)
    ("pipeline_kanban", shoot_pipeline, "salesperson"),
    ("lead_stage_history", shoot_stage_history, "salesperson"),
    ("pipeline_dashboard", shoot_dashboard, "manager"),
    ("pipeline_dashboard_es", shoot_dashboard_es, "manager"),
    ("pipeline_inspection", shoot_pipeline_inspection, "manager"),
    ("forecast_pivot", shoot_forecast, "manager"),
]


def find_chrome():
    for name in CHROME_NAMES:
        path = shutil.which(name)
        if path:
            return path
    raise ScreenshotError("no Chromium on PATH (apt-get install chromium)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="Odoo's base URL")
    parser.add_argument("--db", required=True, help="database (with demo data)")
    parser.add_argument("--out", required=True, help="folder of the PNG files")
    parser.add_argument(
        "--salesperson",
        default="sofia:sofia",
        help="login:password of the salesperson (default: the demo's sofia)",
    )
    parser.add_argument(
        "--manager",
        default="admin:admin",
        help="login:password of the sales manager (default: admin)",
    )
    parser.add_argument("--only", nargs="*", help="names of the shots to take")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    chrome = Chrome(find_chrome())
    try:
        sessions = {}
        for name, shoot, role in SHOTS:
            if args.only and name not in args.only:
                continue
            if role not in sessions:
                odoo = Odoo(args.url, args.db)
                login, password = getattr(args, role).split(":", 1)
                sessions[role] = (odoo, odoo.login(login, password))
            odoo, session_id = sessions[role]
            chrome.set_cookie(args.url, "session_id", session_id)
            shoot(chrome, odoo, args.url.rstrip("/"), args.out)
            path = os.path.join(args.out, f"{name}.png")
            print(f"{path} ({os.path.getsize(path) // 1024} KiB)")
    finally:
        chrome.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ScreenshotError as exc:
        print(f"screenshots: error: {exc}", file=sys.stderr)
        sys.exit(1)
