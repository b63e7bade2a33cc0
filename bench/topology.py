# Copyright 2026 sales_pipeline_mgmt contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The scale-out topology on one machine: a PostgreSQL primary of its own, a
streaming replica of it, and Odoo in prefork mode pointed at both.

    bench/bin/topology up [--scale 20000] [--workers 5]
    bench/bin/topology status
    bench/bin/topology proof          # readonly calls are served by the replica
    bench/bin/topology reset          # fresh copies of the load databases
    bench/bin/topology odoo start|stop|restart
    bench/bin/topology down [--purge]

Everything lives in one folder (default /tmp/sales_pipeline_mgmt-topology,
or --dir / $SPM_TOPOLOGY_DIR): the two clusters' data and logs, Odoo's data
dir, its log and pid file, and state.json. The clusters are made with
Debian's PostgreSQL tools (initdb, pg_ctl, pg_basebackup -R) on their own
ports (5440 primary, 5441 replica) and sockets; the machine's own clusters
are never touched. Run as root, the clusters run as the OS user postgres
(PostgreSQL refuses root) and their superuser role is named after the
current user, so that Odoo and psql connect as usual.

The databases (on the primary, hence on the replica):
- spm_load_crm_tpl: crm and the benchmark generator's pipeline
  (bench/generate.py), rep passwords set (bench/topology_prepare.py);
- spm_load_tpl: a copy of it with the addon installed and its pipeline
  health jobs switched on;
- spm_load_crm and spm_load: the copies Odoo serves, made again by reset.
"""

import argparse
import getpass
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
ADDON = "sales_pipeline_mgmt"

ADDON_DB = "spm_load"
CRM_DB = "spm_load_crm"
TEMPLATES = {ADDON_DB: "spm_load_tpl", CRM_DB: "spm_load_crm_tpl"}
REP_PASSWORD = "bench"

DEFAULTS = {
    "primary_port": 5440,
    "replica_port": 5441,
    "http_port": 8440,
    "gevent_port": 8441,
    "workers": 5,
    "scale": 20000,
}
# Settings of both clusters (the replica copies the primary's file). Sized
# like the machine's main cluster; pg_stat_statements for the replica proof.
POSTGRESQL_CONF = """
# --- sales_pipeline_mgmt topology ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '{socket_dir}'
max_connections = 150
shared_buffers = 160MB
work_mem = 4MB
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
hot_standby = on
hot_standby_feedback = on
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.max = 10000
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d %a '
log_lock_waits = on
log_min_messages = warning
"""


def log(message):
    print(f"topology: {message}", flush=True)


def die(message):
    print(f"topology: error: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


class Topology:
    """Paths, ports and processes of one topology folder."""

    def __init__(self, folder=None, **options):
        self.dir = os.path.abspath(
            folder
            or os.environ.get("SPM_TOPOLOGY_DIR")
            or "/tmp/sales_pipeline_mgmt-topology"
        )
        self.state_file = os.path.join(self.dir, "state.json")
        state = dict(DEFAULTS)
        if os.path.exists(self.state_file):
            with open(self.state_file) as file:
                state.update(json.load(file))
        state.update({key: value for key, value in options.items() if value})
        self.state = state
        self.pg_bin = state.get("pg_bin") or self._find_pg_bin()
        self.odoo_dir = os.environ.get("ODOO_DIR", "")
        self.python = os.environ.get("ODOO_PYTHON", sys.executable)
        # PostgreSQL refuses to run as root: the clusters then run as postgres
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self.role = getpass.getuser()

    # ------------------------------------------------------------ paths ---

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def primary_port(self):
        return int(self.state["primary_port"])

    @property
    def replica_port(self):
        return int(self.state["replica_port"])

    @property
    def http_port(self):
        return int(self.state["http_port"])

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def odoo_log(self):
        return self.path("odoo.log")

    def save(self):
        os.makedirs(self.dir, exist_ok=True)
        with open(self.state_file, "w") as file:
            json.dump(self.state | {"pg_bin": self.pg_bin}, file, indent=1)

    @staticmethod
    def _find_pg_bin():
        override = os.environ.get("SPM_PG_BIN")
        if override:
            return override
        preferred = "/usr/lib/postgresql/15/bin"
        if os.path.exists(os.path.join(preferred, "pg_basebackup")):
            return preferred
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"))
        if not found:
            die(
                "no PostgreSQL server tools under /usr/lib/postgresql/*/bin "
                "(Debian: apt-get install postgresql-15), or set SPM_PG_BIN"
            )
        return os.path.dirname(found[-1])

    # ------------------------------------------------------- PostgreSQL ---

    def pg_env(self, port=None):
        """libpq variables for psql, createdb and the Python scripts."""
        env = dict(os.environ)
        env.update(
            PGHOST="127.0.0.1",
            PGPORT=str(port or self.primary_port),
            PGUSER=self.role,
        )
        env.pop("PGPASSWORD", None)
        env.pop("PGDATABASE", None)
        return env

    def pg_tool(self, tool, *args, check=True, quiet=False):
        """Run a server tool (initdb, pg_ctl, ...) as the clusters' OS user."""
        cmd = [os.path.join(self.pg_bin, tool), *args]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(
            cmd,
            check=check,
            stdout=subprocess.DEVNULL if quiet else None,
            stderr=subprocess.DEVNULL if quiet else None,
            cwd="/",
        )

    def psql(self, sql, db="postgres", port=None, check=True):
        """One statement through psql; its output, tab-separated."""
        out = subprocess.run(
            [
                os.path.join(self.pg_bin, "psql"),
                "-X",
                "-At",
                "-F",
                "\t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                db,
                "-c",
                sql,
            ],
            env=self.pg_env(port),
            capture_output=True,
            text=True,
            check=False,
        )
        if check and out.returncode:
            raise RuntimeError(f"psql on {port or self.primary_port}: {out.stderr}")
        return out.stdout.strip()

    def connect(self, db="postgres", replica=False):
        import psycopg2

        return psycopg2.connect(
            host="127.0.0.1",
            port=self.replica_port if replica else self.primary_port,
            user=self.role,
            dbname=db,
            connect_timeout=5,
        )

    def cluster_running(self, name):
        data = self.path(name)
        if not os.path.exists(os.path.join(data, "PG_VERSION")):
            return False
        result = self.pg_tool("pg_ctl", "status", "-D", data, check=False, quiet=True)
        return result.returncode == 0

    def _own(self, path):
        if self.run_as:
            shutil.chown(path, self.run_as, self.run_as)

    def _write_conf(self, data_dir, port):
        with open(os.path.join(data_dir, "postgresql.conf"), "a") as file:
            file.write(POSTGRESQL_CONF.format(socket_dir=self.dir))
            file.write(f"port = {port}\n")

    def init_primary(self):
        data = self.path("primary")
        if os.path.exists(os.path.join(data, "PG_VERSION")):
            return
        log(f"initdb {data} (port {self.primary_port})")
        os.makedirs(data, mode=0o700)
        self._own(data)
        self.pg_tool(
            "initdb",
            "-D",
            data,
            "-U",
            self.role,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            quiet=True,
        )
        self._write_conf(data, self.primary_port)

    def start_cluster(self, name, port):
        if self.cluster_running(name):
            return
        log(f"starting the {name} cluster on port {port}")
        self.pg_tool(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "120",
            "-D",
            self.path(name),
            "-l",
            self.path(f"{name}.log"),
            quiet=True,
        )

    def stop_cluster(self, name, mode="fast"):
        if not self.cluster_running(name):
            return
        log(f"stopping the {name} cluster")
        self.pg_tool(
            "pg_ctl", "stop", "-w", "-t", "120", "-m", mode, "-D", self.path(name)
        )

    def restart_cluster(self, name, mode="fast"):
        self.pg_tool(
            "pg_ctl",
            "restart",
            "-w",
            "-t",
            "120",
            "-m",
            mode,
            "-D",
            self.path(name),
            "-l",
            self.path(f"{name}.log"),
            quiet=True,
        )

    def init_replica(self):
        data = self.path("replica")
        if os.path.exists(os.path.join(data, "PG_VERSION")):
            return
        log(f"pg_basebackup -R {data} (port {self.replica_port})")
        os.makedirs(data, mode=0o700)
        self._own(data)
        self.pg_tool(
            "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.primary_port),
            "-U",
            self.role,
            "-D",
            data,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "-C",
            "-S",
            "spm_replica",
        )
        with open(os.path.join(data, "postgresql.conf"), "a") as file:
            file.write(f"port = {self.replica_port}\n")

    def replication(self):
        """(state, replay lag in bytes) of the replica as the primary sees it."""
        row = self.psql(
            "SELECT state, "
            "COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), -1) "
            "FROM pg_stat_replication WHERE application_name = 'walreceiver' "
            "LIMIT 1",
            check=False,
        )
        if not row:
            return None, None
        state, lag = row.split("\t")
        return state, int(float(lag or 0))

    def wait_streaming(self, timeout=120, caught_up=False):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state, lag = self.replication()
            if state == "streaming" and (not caught_up or lag == 0):
                return True
            time.sleep(0.5)
        return False

    def clusters_up(self):
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self._own(self.dir)
        self.save()
        self.init_primary()
        self.start_cluster("primary", self.primary_port)
        self.init_replica()
        self.start_cluster("replica", self.replica_port)
        if not self.wait_streaming():
            die(f"the replica does not stream (see {self.path('replica.log')})")

    # ---------------------------------------------------------- datasets ---

    def db_exists(self, name):
        return bool(self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))

    def odoo_bin(self, db, *args):
        return [
            self.python,
            os.path.join(self.odoo_dir, "odoo-bin"),
            f"--addons-path={self.addons_path}",
            f"--data-dir={self.path('odoo')}",
            "--db_host=127.0.0.1",
            f"--db_port={self.primary_port}",
            "-d",
            db,
            "--without-demo=all",
            "--stop-after-init",
            "--workers=0",
            "--max-cron-threads=0",
            f"--http-port={self.http_port + 5}",
            *args,
        ]

    @property
    def addons_path(self):
        return f"{self.odoo_dir}/addons,{self.odoo_dir}/odoo/addons,{REPO}"

    def _run(self, cmd, logfile, env=None):
        log("  $ " + " ".join(cmd[:2] + ["..."] + cmd[-4:]))
        with open(logfile, "a") as file:
            result = subprocess.run(
                cmd,
                stdout=file,
                stderr=subprocess.STDOUT,
                env=env or self.pg_env(),
                check=False,
            )
        if result.returncode:
            die(f"{cmd[1]} failed (exit {result.returncode}), see {logfile}")

    def build_templates(self, scale):
        """crm with the generated pipeline, then the addon on a copy of it."""
        crm_tpl, addon_tpl = TEMPLATES[CRM_DB], TEMPLATES[ADDON_DB]
        built = False
        setup_log = self.path("setup.log")
        script_env = self.pg_env()
        script_env["PYTHONPATH"] = self.odoo_dir
        script_env["ODOO_DIR"] = self.odoo_dir
        if not self.db_exists(crm_tpl):
            # the addon's copy is made again from the new data
            self.psql(f"DROP DATABASE IF EXISTS {addon_tpl}")
            started = time.monotonic()
            log(f"{crm_tpl}: crm, then {scale} generated leads (log: {setup_log})")
            # a build that was interrupted left its work in progress
            self.psql(f"DROP DATABASE IF EXISTS {crm_tpl}_wip WITH (FORCE)")
            self.psql(f"CREATE DATABASE {crm_tpl}_wip")
            self._run(
                self.odoo_bin(f"{crm_tpl}_wip", "-i", "crm", "--log-level=warn"),
                setup_log,
            )
            self._run(
                [
                    self.python,
                    os.path.join(HERE, "generate.py"),
                    "--db",
                    f"{crm_tpl}_wip",
                    "--scale",
                    str(scale),
                ],
                setup_log,
                script_env,
            )
            self._run(
                [
                    self.python,
                    os.path.join(HERE, "topology_prepare.py"),
                    "--db",
                    f"{crm_tpl}_wip",
                    "--password",
                    REP_PASSWORD,
                ],
                setup_log,
                script_env,
            )
            self.psql(
                "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", f"{crm_tpl}_wip"
            )
            self.psql("VACUUM ANALYZE", f"{crm_tpl}_wip")
            # published under its final name only once complete
            self.psql(f"ALTER DATABASE {crm_tpl}_wip RENAME TO {crm_tpl}")
            self.state["scale"] = scale
            self.save()
            log(f"{crm_tpl}: done in {time.monotonic() - started:.0f} s")
        if not self.db_exists(addon_tpl):
            built = True
            started = time.monotonic()
            log(f"{addon_tpl}: a copy with {ADDON} installed")
            self.psql(f"DROP DATABASE IF EXISTS {addon_tpl}_wip WITH (FORCE)")
            self.psql(f"CREATE DATABASE {addon_tpl}_wip TEMPLATE {crm_tpl}")
            self._run(
                self.odoo_bin(f"{addon_tpl}_wip", "-i", ADDON, "--log-level=warn"),
                setup_log,
            )
            self._run(
                [
                    self.python,
                    os.path.join(HERE, "topology_prepare.py"),
                    "--db",
                    f"{addon_tpl}_wip",
                    "--password",
                    REP_PASSWORD,
                    "--pipeline-health",
                ],
                setup_log,
                script_env,
            )
            self.psql("VACUUM ANALYZE", f"{addon_tpl}_wip")
            self.psql(f"ALTER DATABASE {addon_tpl}_wip RENAME TO {addon_tpl}")
            log(f"{addon_tpl}: done in {time.monotonic() - started:.0f} s")
        return built

    def reset_databases(self):
        """Fresh copies of the templates (Odoo must be stopped)."""
        for db, template in TEMPLATES.items():
            self.psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
            self.psql(f"CREATE DATABASE {db} TEMPLATE {template}")
            filestore = self.path("odoo", "filestore", db)
            if os.path.isdir(filestore):
                shutil.rmtree(filestore)
        log(f"fresh copies: {', '.join(TEMPLATES)}")

    # -------------------------------------------------------------- Odoo ---

    def odoo_pid(self):
        """The master's pid (from Odoo's pid file), if it runs."""
        try:
            with open(self.path("odoo.pid")) as file:
                pid = int(file.read().strip() or 0)
        except (OSError, ValueError):
            return None
        if pid and _alive(pid) and _is_odoo(pid):
            return pid
        return None

    def odoo_start(self):
        if self.odoo_pid():
            return
        for db in TEMPLATES:
            if not self.db_exists(db):
                die(f"database {db} is missing: run 'bench/bin/topology up'")
        workers = int(self.state["workers"])
        cmd = [
            self.python,
            os.path.join(self.odoo_dir, "odoo-bin"),
            f"--addons-path={self.addons_path}",
            f"--data-dir={self.path('odoo')}",
            "--db_host=127.0.0.1",
            f"--db_port={self.primary_port}",
            "--db_replica_host=127.0.0.1",
            f"--db_replica_port={self.replica_port}",
            "-d",
            f"{ADDON_DB},{CRM_DB}",
            f"--workers={workers}",
            "--max-cron-threads=1",
            "--http-interface=127.0.0.1",
            f"--http-port={self.http_port}",
            f"--gevent-port={self.state['gevent_port']}",
            "--limit-time-real=600",
            "--limit-time-cpu=300",
            "--log-level=info",
            f"--logfile={self.odoo_log}",
            f"--pidfile={self.path('odoo.pid')}",
            "--without-demo=all",
        ]
        env = self.pg_env()
        log(f"starting Odoo: {workers} HTTP workers, 1 cron worker, replica on")
        if os.path.exists(self.path("odoo.pid")):
            os.unlink(self.path("odoo.pid"))
        with open(self.path("odoo.out"), "a") as out:
            # a shell of its own process group around the master, which says
            # how the master ended (odoo.out), whatever ended it
            process = subprocess.Popen(
                [
                    "bash",
                    "-c",
                    (
                        '"$@"; echo "topology: Odoo master exited with status $? '
                        'at $(date -u +%FT%TZ)" >&2'
                    ),
                    "odoo",
                    *cmd,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env=env,
                cwd=self.dir,
            )
        self.state["odoo_pgid"] = process.pid
        self.state["odoo_cmd"] = cmd
        self.save()
        if not self.wait_http(timeout=180):
            self.odoo_stop()
            die(f"Odoo did not answer on {self.base_url} (see {self.odoo_log})")
        log(f"Odoo serves {self.base_url} (master pid {self.odoo_pid()})")

    def wait_http(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pgid = self.state.get("odoo_pgid")
            if not pgid or not _group_alive(pgid):
                return False
            try:
                with urllib.request.urlopen(
                    f"{self.base_url}/web/health", timeout=10
                ) as response:
                    if response.status == 200 and self.odoo_pid():
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)
        return False

    def odoo_stop(self):
        pgid = self.state.get("odoo_pgid")
        master = self.odoo_pid()
        if master:
            log(f"stopping Odoo (master pid {master})")
            os.kill(master, signal.SIGTERM)
        if pgid:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and _group_alive(pgid):
                time.sleep(0.5)
            if _group_alive(pgid):
                # only the processes of the group Odoo was started in
                os.killpg(pgid, signal.SIGKILL)
                time.sleep(1)
        self.state.pop("odoo_pgid", None)
        self.save()

    def odoo_processes(self):
        """{pid: kind} of Odoo's processes: master, WorkerHTTP, WorkerCron,
        gevent (kinds from the workers' 'alive' lines in Odoo's log)."""
        master = self.odoo_pid()
        if not master:
            return {}
        kinds = {}
        if os.path.exists(self.odoo_log):
            with open(self.odoo_log, errors="replace") as file:
                for line in file:
                    if " alive" in line and "Worker Worker" in line:
                        # ... Worker WorkerHTTP (1234) alive
                        words = line.split("Worker Worker", 1)[1].split()
                        kinds[int(words[1].strip("()"))] = "Worker" + words[0]
        result = {master: "master"}
        for pid in _children(master):
            if pid in kinds:
                result[pid] = kinds[pid]
            elif "gevent" in _cmdline(pid):
                result[pid] = "gevent"
            else:
                result[pid] = "worker (starting)"
        return result

    def process_of_backend(self, client_port):
        """The pid of the Odoo process that holds the connection whose local
        TCP port is ``client_port`` (pg_stat_activity.client_port): Odoo's
        workers inherit their connection settings, application_name
        included, from the master that preloaded the registries, so the
        socket is what tells them apart."""
        inode = _socket_inode(client_port)
        if not inode:
            return None
        target = f"socket:[{inode}]"
        for pid in self.odoo_processes():
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                        return pid
                except OSError:
                    continue
        return None

    def worker_pids(self, kind):
        return sorted(
            pid for pid, name in self.odoo_processes().items() if name == kind
        )

    def notify_cron(self, db):
        """Wake the cron worker up (it LISTENs on the postgres database)."""
        self.psql(f"SELECT pg_notify('cron_trigger', '{db}')")


# ----------------------------------------------------------- processes ---


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _stat(pid).startswith("Z")


def _stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as file:
            return file.read().rsplit(")", 1)[1].strip()
    except OSError:
        return ""


def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _is_odoo(pid):
    return "odoo-bin" in _cmdline(pid)


def _children(pid):
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry)).split()
            if len(fields) > 1 and fields[1] == str(pid) and fields[0] != "Z":
                children.append(int(entry))
    return sorted(children)


def _socket_inode(local_port):
    """Inode of the local TCP socket bound to 127.0.0.1:``local_port``."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as file:
                next(file)
                for line in file:
                    fields = line.split()
                    port = int(fields[1].rsplit(":", 1)[1], 16)
                    if port == local_port:
                        return fields[9]
        except OSError:
            continue
    return None


def _group_alive(pgid):
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry)).split()
            if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
                return True
    return False


# -------------------------------------------------------------- commands ---


def cmd_up(topo, args):
    if not topo.odoo_dir:
        die("ODOO_DIR is not set: run through bench/bin/topology")
    topo.clusters_up()
    if args.reinstall:
        topo.odoo_stop()
        topo.psql(f"DROP DATABASE IF EXISTS {TEMPLATES[ADDON_DB]}")
    built = topo.build_templates(args.scale or int(topo.state["scale"]))
    if built or not all(topo.db_exists(db) for db in TEMPLATES):
        topo.odoo_stop()
        topo.reset_databases()
    topo.odoo_start()
    cmd_status(topo, args)


def cmd_reset(topo, _args):
    topo.odoo_stop()
    topo.reset_databases()
    topo.odoo_start()


def cmd_odoo(topo, args):
    if args.action in ("stop", "restart"):
        topo.odoo_stop()
    if args.action in ("start", "restart"):
        topo.odoo_start()


def cmd_down(topo, args):
    topo.odoo_stop()
    topo.stop_cluster("replica")
    topo.stop_cluster("primary")
    if args.purge and os.path.isdir(topo.dir):
        shutil.rmtree(topo.dir)
        log(f"removed {topo.dir}")
    log("down: nothing of the topology is running")


def cmd_status(topo, _args):
    print(f"folder     {topo.dir}")
    for name, port in (
        ("primary", topo.primary_port),
        ("replica", topo.replica_port),
    ):
        running = topo.cluster_running(name)
        recovery = ""
        if running:
            recovery = topo.psql("SELECT pg_is_in_recovery()", port=port, check=False)
            recovery = " (standby)" if recovery == "t" else " (read/write)"
        print(
            f"{name:<10} {'running' if running else 'stopped'}{recovery}, "
            f"127.0.0.1:{port}, data {topo.path(name)}"
        )
    if topo.cluster_running("primary"):
        state, lag = topo.replication()
        print(
            f"replication {state or 'none'}"
            + (f", replay lag {lag} bytes" if state else "")
        )
        dbs = topo.psql(
            "SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database "
            "WHERE datname LIKE 'spm_load%'",
            check=False,
        )
        print(f"databases  {dbs or '-'}")
    processes = topo.odoo_processes()
    if processes:
        names = sorted(processes.values())
        summary = ", ".join(f"{names.count(n)} {n}" for n in sorted(set(names)))
        print(f"odoo       {topo.base_url} ({summary}); log {topo.odoo_log}")
    else:
        print("odoo       stopped")
    print(
        f"psql       PGHOST=127.0.0.1 PGPORT={topo.primary_port} psql -d {ADDON_DB}"
        f"   (replica: PGPORT={topo.replica_port})"
    )


def cmd_proof(topo, args):
    # the proof sends real RPCs: it lives with the load client
    sys.path.insert(0, HERE)
    import load

    result = load.replica_proof(topo)
    print(load.render_proof(result))
    if args.out:
        with open(args.out, "w") as file:
            json.dump(result, file, indent=1, default=str)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="bench/bin/topology", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--dir", help="topology folder (default $SPM_TOPOLOGY_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="clusters, databases and Odoo, as needed")
    up.add_argument("--scale", type=int, help="leads generated (default 20000)")
    up.add_argument("--workers", type=int, help="Odoo HTTP workers (default 5)")
    up.add_argument(
        "--reinstall",
        action="store_true",
        help="install the addon's code again on a new copy of the data "
        "(after a change to the addon)",
    )
    up.add_argument("--primary-port", type=int)
    up.add_argument("--replica-port", type=int)
    up.add_argument("--http-port", type=int)
    sub.add_parser("status", help="what runs, replication state")
    proof = sub.add_parser("proof", help="show which node serves each RPC")
    proof.add_argument("--out", help="write the result as JSON")
    sub.add_parser("reset", help="fresh copies of the load databases")
    odoo_cmd = sub.add_parser("odoo", help="start, stop or restart Odoo")
    odoo_cmd.add_argument("action", choices=("start", "stop", "restart"))
    down = sub.add_parser("down", help="stop Odoo and both clusters")
    down.add_argument(
        "--purge", action="store_true", help="also delete the topology folder"
    )
    args = parser.parse_args(argv)
    options = {}
    if args.command == "up":
        options = {
            "workers": args.workers,
            "primary_port": args.primary_port,
            "replica_port": args.replica_port,
            "http_port": args.http_port,
        }
    topo = Topology(args.dir, **options)
    {
        "up": cmd_up,
        "status": cmd_status,
        "proof": cmd_proof,
        "reset": cmd_reset,
        "odoo": cmd_odoo,
        "down": cmd_down,
    }[args.command](topo, args)


if __name__ == "__main__":
    main()
