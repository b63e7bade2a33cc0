# shellcheck shell=bash
# shellcheck disable=SC2034  # the variables set here are used by bin/run, bin/test
# Shared by bin/run and bin/test: locate Odoo 18.0, its Python and a
# PostgreSQL server. Sourced, never executed.
#
# Every "not found" problem is reported as ONE line on stderr and exit code 2,
# before anything (database, files) is created.
#
# Inputs (environment):
#   ODOO_PATH    Odoo 18.0 source tree (contains odoo-bin and odoo/release.py)
#   ODOO_PYTHON  Python interpreter that has Odoo's requirements installed
#   PGHOST, PGPORT, PGUSER, PGPASSWORD ...  the usual libpq variables
# Outputs (shell variables):
#   REPO_ROOT ADDON ODOO_ROOT ODOO_PY ODOO_CMD[] ODOO_ADDONS_PATH PY_BIN_DIR

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ADDON=sales_pipeline_mgmt
SPM_PROG=${SPM_PROG:-$(basename "$0")}
# Conventional fallback location (used only when nothing else is configured).
SPM_FALLBACK_ODOO=/opt/odoo18
SPM_FALLBACK_PYTHON=/opt/odoo18-venv/bin/python

spm_die() {
    # One line, exit code 2.
    printf '%s: error: %s\n' "$SPM_PROG" "$*" >&2
    exit 2
}

spm_info() { printf '%s: %s\n' "$SPM_PROG" "$*" >&2; }

# Print "MAJOR.MINOR" of the release.py given as $2, evaluated by python $1
# (release.py is plain Python without imports of Odoo itself).
_spm_release_version() {
    "$1" - "$2" <<'EOF' 2>/dev/null
import sys
ns = {}
with open(sys.argv[1]) as f:
    exec(compile(f.read(), sys.argv[1], "exec"), ns)
print("%s.%s" % tuple(ns["version_info"][:2]))
EOF
}

# Check that python $1 can import Odoo's main requirements.
_spm_check_odoo_requirements() {
    local py=$1 missing
    missing=$("$py" - <<'EOF' 2>/dev/null
import importlib.util
for mod, dist in (("psycopg2", "psycopg2"), ("werkzeug", "Werkzeug"),
                  ("lxml", "lxml"), ("passlib", "passlib"), ("babel", "Babel"),
                  ("dateutil", "python-dateutil"), ("PIL", "Pillow"),
                  ("reportlab", "reportlab"), ("psutil", "psutil")):
    if importlib.util.find_spec(mod) is None:
        print(dist)
        break
else:
    print("")
EOF
    ) || spm_die "Python '$py' does not run; set ODOO_PYTHON to the Python that has Odoo 18's requirements"
    if [ -n "$missing" ]; then
        spm_die "Python '$py' lacks Odoo's requirement '$missing': pip install -r $ODOO_ROOT/requirements.txt into it, or set ODOO_PYTHON to the Python that has them"
    fi
}

spm_find_odoo() {
    local py pkgdir version
    if [ -n "${ODOO_PATH:-}" ]; then
        # Explicit choice of the user: use it or fail, never fall back.
        if [ ! -f "$ODOO_PATH/odoo-bin" ] || [ ! -f "$ODOO_PATH/odoo/release.py" ]; then
            spm_die "ODOO_PATH='$ODOO_PATH' is not an Odoo source tree (no odoo-bin and odoo/release.py there); point it at an Odoo 18.0 checkout or unset it"
        fi
        ODOO_ROOT=$(cd "$ODOO_PATH" && pwd)
        if [ -n "${ODOO_PYTHON:-}" ]; then
            py=$ODOO_PYTHON
        else
            py=$(command -v python3) || spm_die "no python3 on PATH; set ODOO_PYTHON to the Python that has Odoo 18's requirements"
        fi
        ODOO_CMD=("$py" "$ODOO_ROOT/odoo-bin")
        export PYTHONPATH="$ODOO_ROOT${PYTHONPATH:+:$PYTHONPATH}"
    else
        py=${ODOO_PYTHON:-python3}
        pkgdir=""
        if command -v "$py" >/dev/null 2>&1; then
            pkgdir=$("$py" -c 'import importlib.util as u, os; s = u.find_spec("odoo"); print(os.path.dirname(s.origin) if s and s.origin else (list(s.submodule_search_locations)[0] if s else ""))' 2>/dev/null) || pkgdir=""
        elif [ -n "${ODOO_PYTHON:-}" ]; then
            spm_die "ODOO_PYTHON='$ODOO_PYTHON' is not an executable Python; fix it or unset it"
        fi
        if [ -n "$pkgdir" ] && [ -f "$pkgdir/release.py" ]; then
            # An importable odoo (pip install -e, wheel, or PYTHONPATH).
            py=$(command -v "$py")
            ODOO_ROOT=$(cd "$pkgdir/.." && pwd)
            if [ -f "$ODOO_ROOT/odoo-bin" ]; then
                ODOO_CMD=("$py" "$ODOO_ROOT/odoo-bin")
            else
                ODOO_CMD=("$py" -m odoo)
            fi
        elif [ -n "${ODOO_PYTHON:-}" ]; then
            spm_die "ODOO_PYTHON='$ODOO_PYTHON' cannot import odoo; set ODOO_PATH to your Odoo 18.0 source tree as well"
        elif [ -f "$SPM_FALLBACK_ODOO/odoo-bin" ] && [ -f "$SPM_FALLBACK_ODOO/odoo/release.py" ] \
            && [ -x "$SPM_FALLBACK_PYTHON" ]; then
            ODOO_ROOT=$SPM_FALLBACK_ODOO
            py=$SPM_FALLBACK_PYTHON
            ODOO_CMD=("$py" "$ODOO_ROOT/odoo-bin")
            export PYTHONPATH="$ODOO_ROOT${PYTHONPATH:+:$PYTHONPATH}"
        else
            spm_die "Odoo 18.0 not found: set ODOO_PATH to an Odoo 18.0 source tree (and ODOO_PYTHON to its Python), or use a python3 that can 'import odoo'"
        fi
    fi
    command -v "$py" >/dev/null 2>&1 || spm_die "Python '$py' not found; set ODOO_PYTHON to the Python that has Odoo 18's requirements"
    ODOO_PY=$(command -v "$py")
    version=$(_spm_release_version "$ODOO_PY" "$ODOO_ROOT/odoo/release.py") \
        || spm_die "cannot read $ODOO_ROOT/odoo/release.py with '$ODOO_PY'; set ODOO_PYTHON to a Python 3.10+"
    if [ "$version" != "18.0" ]; then
        spm_die "Odoo at $ODOO_ROOT is version $version, 18.0 is required; set ODOO_PATH to an Odoo 18.0 source tree"
    fi
    _spm_check_odoo_requirements "$ODOO_PY"

    # Addons path: Odoo's addons (source tree layout and/or packaged layout)
    # plus this repository's root (where the addon folder lives).
    ODOO_ADDONS_PATH=""
    if [ -d "$ODOO_ROOT/addons" ]; then
        ODOO_ADDONS_PATH="$ODOO_ROOT/addons,"
    fi
    ODOO_ADDONS_PATH="$ODOO_ADDONS_PATH$ODOO_ROOT/odoo/addons,$REPO_ROOT"
    [ -f "$ODOO_ROOT/odoo/addons/base/__manifest__.py" ] || [ -f "$ODOO_ROOT/addons/base/__manifest__.py" ] \
        || spm_die "Odoo at $ODOO_ROOT has no 'base' addon; point ODOO_PATH at a complete Odoo 18.0 tree"
    [ -f "$ODOO_ROOT/addons/crm/__manifest__.py" ] || [ -f "$ODOO_ROOT/odoo/addons/crm/__manifest__.py" ] \
        || spm_die "Odoo at $ODOO_ROOT has no 'crm' addon; use a complete Odoo 18.0 Community tree"
    [ -f "$REPO_ROOT/$ADDON/__manifest__.py" ] || spm_die "addon folder $REPO_ROOT/$ADDON is missing its __manifest__.py"

    # Tools installed next to that Python (pytest, pre-commit, ruff ...) first.
    PY_BIN_DIR=$(dirname "$ODOO_PY")
    export PATH="$PY_BIN_DIR:$PATH"
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

# Odoo's HttpCase (tours) looks for these names on PATH.
spm_require_chromium() {
    local b
    for b in google-chrome chromium chromium-browser google-chrome-stable; do
        command -v "$b" >/dev/null 2>&1 && return 0
    done
    spm_die "no Chromium/Chrome on PATH (needed by Odoo's browser tests): install it, e.g. 'apt-get install chromium'"
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
