# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Build (or reuse) a benchmark database, install the addon on it (timed), run
the measurements and print the table. See docs/BENCHMARKS.md."""

import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# Set by bench/bin/bench, which finds (or installs) Odoo like bin/test.
ODOO = os.environ["ODOO_DIR"]
PYTHON = os.environ["ODOO_PYTHON"]
ADDONS_PATH = f"{ODOO}/addons,{ODOO}/odoo/addons,{REPO}"
BASE_DB = "spm_bench_crm"
MEASURE_SECTIONS = "write,kanban,kpis,dashboard,pivots"


def label(scale):
    if scale % 1_000_000 == 0:
        return f"{scale // 1_000_000}m"
    if scale % 1000 == 0:
        return f"{scale // 1000}k"
    return str(scale)


def psql(db, sql):
    out = subprocess.run(
        ["psql", "-X", "-At", "-d", db, "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def db_exists(name):
    return (
        psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"
    )


def addon_installed(db):
    return (
        psql(
            db,
            "SELECT 1 FROM ir_module_module WHERE name = 'sales_pipeline_mgmt' "
            "AND state = 'installed'",
        )
        == "1"
    )


def run(cmd, log=None, env=None):
    print("  $", " ".join(cmd), flush=True)
    started = time.monotonic()
    if log:
        with open(log, "w") as file:
            subprocess.run(
                cmd, check=True, stdout=file, stderr=subprocess.STDOUT, env=env
            )
    else:
        subprocess.run(cmd, check=True, env=env)
    return time.monotonic() - started


def odoo_bin(db, *args):
    return [
        PYTHON,
        f"{ODOO}/odoo-bin",
        f"--addons-path={ADDONS_PATH}",
        "-d",
        db,
        "--stop-after-init",
        "--without-demo=all",
        "--http-port=8077",
        "--workers=0",
        *args,
    ]


def script_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ODOO + (
        ":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    return env


def drop(db):
    subprocess.run(["dropdb", "--if-exists", db], check=True)
    filestore = os.path.expanduser(f"~/.local/share/Odoo/filestore/{db}")
    if os.path.isdir(filestore):
        subprocess.run(["rm", "-rf", filestore], check=True)


def build_template(template, scale, logs):
    """crm alone, then the generated pipeline; kept as a createdb template."""
    if not db_exists(BASE_DB):
        print(f"* {BASE_DB}: installing crm (no demo data)", flush=True)
        run(odoo_bin(BASE_DB, "-i", "crm", "--log-level=warn"), f"{logs}/{BASE_DB}.log")
    drop(template)
    subprocess.run(["createdb", "-T", BASE_DB, template], check=True)
    print(f"* {template}: generating {scale} leads", flush=True)
    seconds = run(
        [PYTHON, f"{HERE}/generate.py", "--db", template, "--scale", str(scale)],
        env=script_env(),
    )
    run(["vacuumdb", "--analyze", "-q", template])
    print(f"  generated in {seconds:.0f} s", flush=True)
    return seconds


def install(db, template, logs):
    """Copy the template and install the addon on the copy, timed."""
    drop(db)
    subprocess.run(["createdb", "-T", template, db], check=True)
    log = f"{logs}/install_{db}.log"
    print(f"* {db}: installing sales_pipeline_mgmt", flush=True)
    seconds = run(odoo_bin(db, "-i", "sales_pipeline_mgmt", "--log-level=info"), log)
    stamps = {}
    pattern = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ")
    with open(log) as file:
        for line in file:
            match = pattern.match(line)
            if not match:
                continue
            when = datetime.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f")
            if "Loading module sales_pipeline_mgmt" in line:
                stamps.setdefault("module_start", when)
            elif "Stage history rebuilt from tracking" in line:
                stamps["rebuild_end"] = when
                stamps["rebuilt"] = line.split(": ", 1)[-1].strip()
            elif "Deal history rebuilt from tracking" in line:
                stamps["deal_rebuild_end"] = when
            elif "Lead columns filled" in line:
                stamps["fill_end"] = when
            elif "Modules loaded." in line:
                stamps["hook_end"] = when
    result = {"wall_s": seconds}
    if "module_start" in stamps and "hook_end" in stamps:
        # the addon's tables, data and install hook
        result["module_s"] = (
            stamps["hook_end"] - stamps["module_start"]
        ).total_seconds()
    if "module_start" in stamps and "rebuild_end" in stamps:
        # ... of which until the stage history is rebuilt
        result["until_rebuilt_s"] = (
            stamps["rebuild_end"] - stamps["module_start"]
        ).total_seconds()
        result["rebuilt"] = stamps["rebuilt"]
    if "rebuild_end" in stamps and "deal_rebuild_end" in stamps:
        result["deal_rebuild_s"] = (
            stamps["deal_rebuild_end"] - stamps["rebuild_end"]
        ).total_seconds()
    if "deal_rebuild_end" in stamps and "fill_end" in stamps:
        # ... then the one rewrite of the leads (see hooks.py)
        result["fill_s"] = (
            stamps["fill_end"] - stamps["deal_rebuild_end"]
        ).total_seconds()
    run(["vacuumdb", "--analyze", "-q", db])
    print(f"  installed in {seconds:.1f} s", flush=True)
    return result


def machine():
    def read(cmd):
        try:
            return subprocess.run(
                cmd, check=False, capture_output=True, text=True, shell=True
            ).stdout.strip()
        except OSError:
            return ""

    return {
        "nproc": read("nproc"),
        "ram": read("free -g | awk '/Mem:/ {print $2\" GiB\"}'"),
        "cpu": read("lscpu | sed -n 's/^Model name: *//p' | head -1"),
        "postgresql": psql("postgres", "SHOW server_version"),
        "pg_settings": psql(
            "postgres",
            "SELECT string_agg(name || '=' || setting || COALESCE(unit, ''), ', ') "
            "FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', "
            "'effective_cache_size', 'max_parallel_workers_per_gather')",
        ),
        "load_before": read("cat /proc/loadavg"),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=100_000, help="number of leads")
    parser.add_argument("--db", help="benchmark database (default spm_bench_<scale>)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the database if the addon is installed on it, else the "
        "crm-only template if it exists (no generation)",
    )
    parser.add_argument(
        "--template",
        help="crm-only template (default spm_bench_<scale>_crm, so that a "
        "database of another name reuses the generated one)",
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement")
    parser.add_argument(
        "--install-runs", type=int, default=1, help="times the install is measured"
    )
    parser.add_argument(
        "--sections",
        default=MEASURE_SECTIONS + ",crons",
        help="what to measure after the install; 'install' alone measures the "
        "install (again, with --reuse) and nothing else",
    )
    parser.add_argument(
        "--write-sizes", help="leads per measured stage write (default 1,100,10000)"
    )
    parser.add_argument(
        "--write-kinds", help="stage moves measured (default forward,skip,backward)"
    )
    parser.add_argument(
        "--big-write-runs", help="runs of the 10,000-lead writes (default 2)"
    )
    parser.add_argument("--no-docs", action="store_true", help="do not update docs")
    args = parser.parse_args()
    db = args.db or f"spm_bench_{label(args.scale)}"
    template = args.template or f"spm_bench_{label(args.scale)}_crm"
    logs = f"{HERE}/logs"
    os.makedirs(logs, exist_ok=True)
    os.makedirs(f"{HERE}/results", exist_ok=True)
    out = f"{HERE}/results/{db}.json"
    results = {}
    if os.path.exists(out):
        with open(out) as file:
            results = json.load(file)
    results["scale"] = args.scale
    results["db"] = db
    results["template"] = template

    if not (args.reuse and db_exists(template)):
        results["generate_s"] = build_template(template, args.scale, logs)
    sections = [section for section in args.sections.split(",") if section]
    # "install" measures the install again even when --reuse finds it done
    if "install" in sections or not (
        args.reuse and db_exists(db) and addon_installed(db)
    ):
        installs = [install(db, template, logs) for _ in range(args.install_runs)]
        walls = sorted(item["wall_s"] for item in installs)
        results["install"] = dict(installs[-1], runs=[i["wall_s"] for i in installs])
        results["install"]["wall_s"] = walls[len(walls) // 2]
    results["machine"] = machine()
    with open(out, "w") as file:
        json.dump(results, file, indent=1, default=str)

    plain = [s for s in sections if s not in ("crons", "install")]
    if plain:
        print(f"* measuring {','.join(plain)} on {db}", flush=True)
        run(
            [
                PYTHON,
                f"{HERE}/measure.py",
                "--db",
                db,
                "--runs",
                str(args.runs),
                "--sections",
                ",".join(plain),
                "--out",
                out,
                *(
                    arg
                    for option in ("write_sizes", "write_kinds", "big_write_runs")
                    if getattr(args, option)
                    for arg in (
                        "--" + option.replace("_", "-"),
                        str(getattr(args, option)),
                    )
                ),
            ],
            env=script_env(),
        )
    if "crons" in sections:
        # every scheduled action of the addon, each in a process of its own so
        # that its peak memory is its own
        crons = psql(
            db,
            "SELECT string_agg(module || '.' || name, ',' ORDER BY name) "
            "FROM ir_model_data WHERE module = 'sales_pipeline_mgmt' "
            "AND model = 'ir.cron'",
        )
        for xmlid in filter(None, crons.split(",")):
            print(f"* full pass of {xmlid}", flush=True)
            run(
                [
                    PYTHON,
                    f"{HERE}/measure.py",
                    "--db",
                    db,
                    "--sections",
                    f"cron:{xmlid}",
                    "--out",
                    out,
                ],
                env=script_env(),
            )
    sys.path.insert(0, HERE)
    import report

    with open(out) as file:
        print(report.render_scale(json.load(file)))
    if not args.no_docs:
        report.write_docs()


if __name__ == "__main__":
    main()
