# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables set here are used by bin/run, bin/test
# Shared by bin/run, bin/test and bin/screenshots: set up what is missing
# (Odoo 18.0 with its Python, Chromium, PostgreSQL), then locate it. Sourced,
# never executed.
#
# Every problem is reported as ONE line on stderr and exit code 2, before any
# database is created. Whatever the setup installs, it names first;
# SPM_NO_INSTALL=1 refuses every install and only reports what is missing.
#
# Inputs (environment):
#   ODOO_PATH, ODOO_PYTHON, ODOO_SOURCE, XDG_CACHE_HOME   see bin/_setup.py
#   SPM_NO_INSTALL   1: install nothing, report what is missing
#   PGHOST, PGPORT, PGUSER, PGPASSWORD ...  the usual libpq variables
# Outputs (shell variables):
#   REPO_ROOT ADDON ODOO_ROOT ODOO_PY ODOO_CMD[] ODOO_ADDONS_PATH PY_BIN_DIR

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ADDON=sales_pipeline_mgmt
SPM_PROG=${SPM_PROG:-$(basename "$0")}

spm_die() {
    # One line, exit code 2.
    printf '%s: error: %s\n' "$SPM_PROG" "$*" >&2
    exit 2
}

spm_info() { printf '%s: %s\n' "$SPM_PROG" "$*" >&2; }

spm_no_install() { [ -n "${SPM_NO_INSTALL:-}" ] && [ "${SPM_NO_INSTALL}" != 0 ]; }

# The Python that runs bin/_setup.py (standard library only).
spm_setup_python() {
    command -v python3 2>/dev/null \
        || spm_die "no python3 on PATH: install Python 3.10 to 3.12 (Debian: apt-get install python3 python3-venv)"
}

_spm_have_chromium() {
    local b
    for b in google-chrome chromium chromium-browser google-chrome-stable; do
        command -v "$b" >/dev/null 2>&1 && return 0
    done
    return 1
}

# A PostgreSQL server is there if one is configured (PGHOST), a local cluster
# exists (started later if down), or something answers on the local socket.
_spm_have_postgres_server() {
    [ -n "${PGHOST:-}" ] && return 0
    if command -v pg_lsclusters >/dev/null 2>&1 && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
        return 0
    fi
    [ -S "/var/run/postgresql/.s.PGSQL.${PGPORT:-5432}" ] || [ -S "/tmp/.s.PGSQL.${PGPORT:-5432}" ]
}

_spm_can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

# spm_setup [chromium] [postgres]: name everything missing, then install it
# (Debian packages with apt-get when root, Odoo into the cache), then locate
# Odoo (spm_find_odoo). Odoo is always needed.
spm_setup() {
    local want plan=() debs=() odoo_plan setup_py t0
    setup_py=$(spm_setup_python)
    odoo_plan=$("$setup_py" "$REPO_ROOT/bin/_setup.py" --prog "$SPM_PROG" plan) || exit $?
    [ -n "$odoo_plan" ] && plan+=("$odoo_plan")
    for want in "$@"; do
        case $want in
        chromium)
            if ! _spm_have_chromium; then
                _spm_can_apt || spm_no_install \
                    || spm_die "no Chromium/Chrome on PATH (Odoo's browser tests need it): install it, e.g. 'apt-get install chromium'"
                debs+=(chromium)
                plan+=("Debian package chromium (Odoo's browser tests), with apt-get")
            fi
            ;;
        postgres)
            if ! _spm_have_postgres_server; then
                _spm_can_apt || spm_no_install \
                    || spm_die "no PostgreSQL server found: install one (e.g. 'apt-get install postgresql') or set PGHOST/PGPORT"
                debs+=(postgresql)
                plan+=("Debian package postgresql (the database server), with apt-get")
            fi
            ;;
        esac
    done
    if [ ${#plan[@]} -gt 0 ]; then
        if spm_no_install; then
            spm_die "missing, and SPM_NO_INSTALL forbids installing: $(printf '%s; ' "${plan[@]}" | sed 's/; $//')"
        fi
        spm_info "first start: this installs"
        printf '  - %s\n' "${plan[@]}" >&2
    fi
    if [ ${#debs[@]} -gt 0 ]; then
        t0=$(date +%s)
        spm_info "apt-get install ${debs[*]} ..."
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}"; } \
            >/tmp/sales_pipeline_mgmt-apt.log 2>&1 \
            || spm_die "apt-get install ${debs[*]} failed (log: /tmp/sales_pipeline_mgmt-apt.log); install them yourself"
        spm_info "apt-get install ${debs[*]}: done in $(($(date +%s) - t0))s"
    fi
    spm_find_odoo
}

# Locate Odoo 18.0 and its Python (bin/_setup.py: ODOO_PATH, an importable
# odoo, the project's cache, or a new install into that cache).
spm_find_odoo() {
    local out setup_py
    setup_py=$(spm_setup_python)
    out=$("$setup_py" "$REPO_ROOT/bin/_setup.py" --prog "$SPM_PROG" env) || exit $?
    eval "$out"
    [ -f "$REPO_ROOT/$ADDON/__manifest__.py" ] || spm_die "addon folder $REPO_ROOT/$ADDON is missing its __manifest__.py"

    # Addons path: Odoo's addons (source tree layout and/or packaged layout)
    # plus this repository's root (where the addon folder lives).
    ODOO_ADDONS_PATH=""
    if [ -d "$ODOO_ROOT/addons" ]; then
        ODOO_ADDONS_PATH="$ODOO_ROOT/addons,"
    fi
    ODOO_ADDONS_PATH="$ODOO_ADDONS_PATH$ODOO_ROOT/odoo/addons,$REPO_ROOT"

    # Tools next to that Python (pytest) first, then the static checks' own
    # virtualenv of a cached install (pre-commit, ruff, pylint).
    PY_BIN_DIR=$(dirname "$ODOO_PY")
    export PATH="$PY_BIN_DIR:${ODOO_TOOLS_BIN:+$ODOO_TOOLS_BIN:}$PATH"
}

# Python modules named "module:distribution" must be importable by $ODOO_PY.
spm_require_py_modules() {
    local missing
    missing=$("$ODOO_PY" - "$@" <<'EOF' 2>/dev/null
import importlib.util, sys
for arg in sys.argv[1:]:
    mod, dist = arg.split(":")
    try:
        found = importlib.util.find_spec(mod) is not None
    except Exception:
        found = False
    if not found:
        print(dist)
        break
EOF
    )
    if [ -n "$missing" ]; then
        spm_die "Python package '$missing' is missing: '$ODOO_PY -m pip install $missing'"
    fi
}

# Run a snippet against the "postgres" database with psycopg2, honouring PG*.
_spm_pg_probe() {
    "$ODOO_PY" - <<'EOF' 2>&1
import psycopg2
try:
    conn = psycopg2.connect(dbname="postgres", connect_timeout=3)
except psycopg2.OperationalError as exc:
    print("ERR " + " ".join(str(exc).split()))
    raise SystemExit(1)
cur = conn.cursor()
cur.execute("SELECT current_user, rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user")
user, can_create = cur.fetchone()
print("OK %s %s" % (user, "createdb" if can_create else "nocreatedb"))
EOF
}

# Make sure a PostgreSQL server answers and our role may create databases.
# A local cluster that is installed but down gets started; a missing role for
# the current user gets created when we are root.
spm_ensure_postgres() {
    local out cluster ver name port status rest me
    out=$(_spm_pg_probe) || true
    if [[ $out != OK* ]] && [[ $out == *"Connection refused"* || $out == *"No such file or directory"* || $out == *"could not connect"* ]] \
        && [ -z "${PGHOST:-}" ] && command -v pg_lsclusters >/dev/null 2>&1; then
        # Start the first local cluster that is down (on the expected port).
        while read -r ver name port status rest; do
            [ "$ver" = Ver ] && continue
            if [ "$status" = down ] && { [ -z "${PGPORT:-}" ] || [ "$PGPORT" = "$port" ]; }; then
                cluster="$ver $name"
                break
            fi
        done < <(pg_lsclusters 2>/dev/null)
        if [ -n "${cluster:-}" ]; then
            spm_info "starting local PostgreSQL cluster $cluster"
            # shellcheck disable=SC2086
            pg_ctlcluster $cluster start >/dev/null 2>&1 \
                || spm_die "could not start PostgreSQL cluster '$cluster' (pg_ctlcluster $cluster start); start it yourself or set PGHOST/PGPORT"
            for _ in 1 2 3 4 5 6 7 8 9 10; do
                out=$(_spm_pg_probe) || true
                [[ $out == *"Connection refused"* || $out == *"No such file"* ]] || break
                sleep 0.5
            done
        fi
    fi
    if [[ $out == *"role"*"does not exist"* ]] && [ "$(id -u)" = 0 ] && [ -z "${PGUSER:-}" ] \
        && [ -z "${PGHOST:-}" ] && id postgres >/dev/null 2>&1; then
        me=$(id -un)
        spm_info "creating PostgreSQL superuser role '$me'"
        su postgres -c "createuser -s '$me'" >/dev/null 2>&1 \
            || spm_die "PostgreSQL role '$me' is missing and could not be created; run: su postgres -c \"createuser -s $me\""
        out=$(_spm_pg_probe) || true
    fi
    case $out in
    "OK "*" createdb") return 0 ;;
    "OK "*) spm_die "PostgreSQL role '$(echo "$out" | cut -d' ' -f2)' may not create databases: ALTER ROLE ... CREATEDB, or set PGUSER to a role that may" ;;
    *"psycopg2"*"No module"*) spm_die "Python '$ODOO_PY' lacks psycopg2: pip install -r $ODOO_ROOT/requirements.txt into it" ;;
    *"Connection refused"* | *"No such file or directory"* | *"could not connect"* | *"timeout expired"* | *"could not translate host"*)
        spm_die "PostgreSQL not reachable ($(echo "$out" | tail -n1 | sed 's/^ERR //; s/ Is the server running.*//' | cut -c1-200)); start a server or set PGHOST/PGPORT" ;;
    *) spm_die "PostgreSQL connection failed ($(echo "$out" | tail -n1 | sed 's/^ERR //' | cut -c1-200)); set PGUSER/PGPASSWORD/PGHOST for a role that may create databases" ;;
    esac
}

# Database name check (Odoo accepts [A-Za-z0-9_.-]).
spm_check_db_name() {
    [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_.-]*$ ]] || spm_die "invalid database name '$1' (letters, digits, '_', '.', '-')"
}

# 0 if database $1 exists.
spm_db_exists() {
    "$ODOO_PY" - "$1" <<'EOF' >/dev/null 2>&1
import sys, psycopg2
conn = psycopg2.connect(dbname="postgres", connect_timeout=5)
cur = conn.cursor()
cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (sys.argv[1],))
raise SystemExit(0 if cur.fetchone() else 1)
EOF
}

# Drop database $1 (terminating its connections); quiet, never fails.
spm_drop_db() {
    "$ODOO_PY" - "$1" <<'EOF' >/dev/null 2>&1 || true
import sys, psycopg2
from psycopg2 import sql
conn = psycopg2.connect(dbname="postgres", connect_timeout=5)
conn.autocommit = True
conn.cursor().execute(
    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(sys.argv[1]))
)
EOF
}
