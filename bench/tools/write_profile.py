# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Where a stage move's time goes: one move of SIZE leads of the shared
pipeline's first stage (forward: to the second stage, skip: to the third;
backward: from the third to the second), run three times (RUNS in the
environment) in a rolled-back transaction with the flush and precommit hooks
(mail tracking), as the addon's write or as crm alone; prints each run's time
and query count, the statements of the last run grouped by text with their
total duration, and a cProfile of the last run. EXPLAIN=<text> in the
environment also prints the plan (EXPLAIN ANALYZE, run once more) of the
statements containing <text>; PROFILE_OUT=<file> saves the last run's profile
(pstats) there.

    PYTHONPATH=$ODOO_DIR $ODOO_PYTHON bench/tools/write_profile.py \
        DB KIND SIZE [addon|crm]
"""

import collections
import cProfile
import io
import os
import pstats
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api
from odoo.sql_db import Cursor

ODOO_DIR = os.environ["ODOO_DIR"]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXPLAIN = os.environ.get("EXPLAIN")
# more runs than three, to see the spread of a kind of move on a busy machine
RUNS = int(os.environ.get("RUNS", "3"))
MOVES = {"forward": (0, 1), "skip": (0, 2), "backward": (2, 1)}

statements = []
_execute = Cursor.execute


def _text(query):
    return " ".join((query.code if hasattr(query, "code") else str(query)).split())


def execute(self, query, params=None, log_exceptions=True):
    """Cursor.execute, logging each statement's duration (and plan)."""
    text = _text(query)
    if EXPLAIN and EXPLAIN in text and not getattr(self, "_spm_explaining", False):
        self._spm_explaining = True
        try:
            if hasattr(query, "code"):
                _execute(self, "EXPLAIN (ANALYZE, BUFFERS) " + query.code, query.params)
            else:
                _execute(self, "EXPLAIN (ANALYZE, BUFFERS) " + query, params)
            print("\n".join(row[0] for row in self.fetchall()))
        finally:
            self._spm_explaining = False
    started = time.perf_counter()
    try:
        return _execute(self, query, params, log_exceptions)
    finally:
        statements.append((time.perf_counter() - started, text[:110]))


def main():
    db, kind, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mode = sys.argv[4] if len(sys.argv) > 4 else "addon"
    odoo.tools.config.parse_config(
        [
            "-d",
            db,
            "--log-level=warn",
            f"--addons-path={ODOO_DIR}/addons,{ODOO_DIR}/odoo/addons,{REPO}",
        ]
    )
    registry = odoo.modules.registry.Registry(db)
    Cursor.execute = execute
    from odoo.addons.sales_pipeline_mgmt.models.crm_lead import CrmLead

    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        manager = env["res.users"].search([("login", "=", "bench_sales_05")])
        stages = env["crm.stage"].search(
            [("team_id", "=", False), ("is_won", "=", False)], order="sequence, id"
        )
        source, target = (stages[index] for index in MOVES[kind])
        ids = (
            env["crm.lead"]
            .search(
                [
                    ("type", "=", "opportunity"),
                    ("stage_id", "=", source.id),
                    ("probability", "<", 100),
                ],
                order="id",
                limit=size,
            )
            .ids
        )
        print(f"{len(ids)} leads from {source.name} to {target.name}, {mode}")
        profile = None
        for run in range(RUNS):
            cr.rollback()
            env.invalidate_all()
            env.transaction.reset()
            statements.clear()
            leads = env["crm.lead"].with_user(manager).browse(ids)
            profile = cProfile.Profile() if run == RUNS - 1 else None
            started = time.perf_counter()
            if profile:
                profile.enable()
            if mode == "addon":
                leads.write({"stage_id": target.id})
            else:
                super(CrmLead, leads).write({"stage_id": target.id})
            cr.flush()  # flush and precommit hooks (mail tracking)
            if profile:
                profile.disable()
            elapsed = time.perf_counter() - started
            sql = sum(duration for duration, _text in statements)
            print(
                f"run {run}: {elapsed * 1000:.1f} ms, {len(statements)} queries, "
                f"{sql * 1000:.1f} ms in PostgreSQL"
            )
        cr.rollback()
    grouped = collections.defaultdict(lambda: [0, 0.0])
    for duration, text in statements:
        grouped[text][0] += 1
        grouped[text][1] += duration
    for text, (count, duration) in sorted(grouped.items(), key=lambda i: -i[1][1]):
        print(f"{duration * 1000:9.2f} ms {count:6d}x  {text}")
    if os.environ.get("PROFILE_OUT"):
        profile.dump_stats(os.environ["PROFILE_OUT"])
    stream = io.StringIO()
    pstats.Stats(profile, stream=stream).sort_stats("cumulative").print_stats(40)
    print(stream.getvalue())


if __name__ == "__main__":
    main()
