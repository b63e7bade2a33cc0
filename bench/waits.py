"""Wait events of Odoo's sessions on the topology's primary, sampled during a
load run: which PostgreSQL waits the cron worker's jobs and the HTTP workers'
calls spend their time in, and on which statement."""

import collections
import re
import threading
import time

# the statement's first words, enough to tell the addon's and crm's apart
STATEMENT = re.compile(r"\s+")


def _statement(query, width=90):
    return STATEMENT.sub(" ", query or "").strip()[:width]


class WaitSampler:
    """Samples pg_stat_activity of ``db`` every ``interval`` seconds in a
    thread of its own, per side (the database being measured), per Odoo
    process kind (WorkerCron, WorkerHTTP) and wait event ("CPU" for an
    active session that waits on nothing)."""

    def __init__(self, topo, db_names, interval=0.1):
        self.topo = topo
        self.db_names = tuple(db_names)
        self.interval = interval
        self.counts = collections.Counter()
        self.statements = collections.Counter()
        self.samples = 0
        self._kinds = {}
        self._stop = threading.Event()
        self._thread = None

    def _kind(self, port):
        # Odoo keeps its connections open: one /proc walk per new connection
        if port not in self._kinds:
            pid = self.topo.process_of_backend(port)
            self._kinds[port] = self.topo.odoo_processes().get(pid, "other")
        return self._kinds[port]

    def _sample(self, cr):
        cr.execute(
            """SELECT datname, client_port, wait_event_type, wait_event, query
                 FROM pg_stat_activity
                WHERE datname = ANY(%s) AND state = 'active'
                  AND client_port IS NOT NULL AND pid <> pg_backend_pid()""",
            (list(self.db_names),),
        )
        for datname, port, wait_type, wait_event, query in cr.fetchall():
            kind = self._kind(port)
            wait = f"{wait_type}:{wait_event}" if wait_type else "CPU"
            self.counts[(datname, kind, wait)] += 1
            if wait_type == "Lock":
                self.statements[(datname, kind, wait, _statement(query))] += 1
        self.samples += 1

    def _run(self):
        conn = self.topo.connect("postgres")
        conn.autocommit = True
        try:
            with conn.cursor() as cr:
                while not self._stop.is_set():
                    began = time.monotonic()
                    self._sample(cr)
                    self._stop.wait(
                        max(0.0, self.interval - (time.monotonic() - began))
                    )
        finally:
            conn.close()

    def start(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(10)
        return self.result()

    def result(self):
        return {
            "interval_s": self.interval,
            "samples": self.samples,
            "waits": [
                {"db": db, "process": kind, "wait": wait, "samples": count}
                for (db, kind, wait), count in self.counts.most_common()
            ],
            "lock_statements": [
                {
                    "db": db,
                    "process": kind,
                    "wait": wait,
                    "statement": statement,
                    "samples": count,
                }
                for (db, kind, wait, statement), count in self.statements.most_common(
                    20
                )
            ],
        }


def render(result, names):
    """Text table: per database (``names``: db -> side), the samples of each
    process kind by wait event, then the statements that waited on a lock."""
    if not result or not result.get("samples"):
        return ""
    lines = [
        (
            f"Wait events on the primary ({result['samples']} samples every "
            f"{result['interval_s']} s of active sessions; CPU = active, no wait):"
        ),
        "| side | process | wait event | samples |",
        "|---|---|---|---|",
    ]
    for row in result["waits"]:
        lines.append(
            f"| {names.get(row['db'], row['db'])} | {row['process']} "
            f"| {row['wait']} | {row['samples']} |"
        )
    if result["lock_statements"]:
        lines += ["", "Statements waiting on a lock:"]
        for row in result["lock_statements"]:
            lines.append(
                f"  {names.get(row['db'], row['db'])} {row['process']} "
                f"{row['wait']} x{row['samples']}: {row['statement']}"
            )
    return "\n".join(lines)
