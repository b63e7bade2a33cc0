#!/usr/bin/env python3
"""Find Odoo 18.0 for the project's commands, installing it when there is none.

Used by bin/_common.sh (bin/run, bin/test, bin/screenshots, bench/bin/bench);
standard library only, so that it runs before any virtualenv exists.

Where Odoo comes from, in order:

1. ``ODOO_PATH``: an Odoo 18.0 source tree, run with ``ODOO_PYTHON`` or the
   ``python3`` on PATH;
2. an importable ``odoo`` in ``ODOO_PYTHON`` (default ``python3``);
3. an install that an earlier run made in the per-user cache
   ``${XDG_CACHE_HOME:-~/.cache}/sales_pipeline_mgmt/`` (shared by every clone
   of the project on the machine);
4. a new install into that cache from ``ODOO_SOURCE``: the URL of a .tar.gz, a
   local .tar.gz, or a directory holding an Odoo 18.0 tree (default: Odoo's
   official 18.0 source archive).

An install is an Odoo tree, a virtualenv ``venv`` with Odoo's requirements
and the test tools of requirements-dev.txt, and a virtualenv ``tools`` with
the static checks of requirements-checks.txt. It is built in its own directory
under ``builds/`` and published, once complete and checked, by atomically
renaming a symbolic link ``odoo-18.0-<key>`` onto it: a virtualenv cannot be
moved once made, so the link is what gets renamed. Nothing but a published
link is ever used; builds that a crash or Ctrl-C left behind are removed by a
later install. The key is derived from the source's checksum, the recipe
(the two requirements files and the fixes below) and the Python version, so a
changed archive or recipe gets a new install beside the old one, which runs
that still use it keep. A lock per key makes a second run wait for the first.

Every problem is one line on stderr and exit code 2 (130 for Ctrl-C).
"""

import argparse
import ast
import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Installed into Odoo's virtualenv (what the tests need beside Odoo).
TEST_REQUIREMENTS = REPO_ROOT / "requirements-dev.txt"
# Installed into a virtualenv of their own ("tools"): they never import Odoo,
# and their pins differ from Odoo's.
CHECK_REQUIREMENTS = REPO_ROOT / "requirements-checks.txt"
# Bump when the install recipe changes in a way that needs a new install.
RECIPE_VERSION = 2
SUPPORTED_PYTHONS = ((3, 10), (3, 11), (3, 12))
ODOO_VERSION = "18.0"
DEFAULT_SOURCE = "https://nightly.odoo.com/18.0/nightly/src/odoo_18.0.latest.tar.gz"
LINK_PREFIX = "odoo-18.0-"
MARKER = "install.json"
# Modules Odoo cannot start without, with the distribution that provides them.
ODOO_CORE_MODULES = (
    ("psycopg2", "psycopg2"),
    ("werkzeug", "Werkzeug"),
    ("lxml", "lxml"),
    ("passlib", "passlib"),
    ("babel", "Babel"),
    ("dateutil", "python-dateutil"),
    ("PIL", "Pillow"),
    ("reportlab", "reportlab"),
    ("psutil", "psutil"),
)

PROG = "setup"


class SetupError(Exception):
    """A problem the user must solve; its text is one line."""

    exit_code = 2


def info(message):
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def step(what):
    """Say what is being done, then how long it took."""
    info(f"{what} ...")
    start = time.monotonic()
    yield
    info(f"{what}: done in {time.monotonic() - start:.1f}s")


def human_size(size):
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{size} B"
        size /= 1024
    return f"{size} B"  # pragma: no cover


# ------------------------------------------------------------------ trees ---


def release_version(text, origin):
    """'MAJOR.MINOR' of an odoo/release.py given as text.

    Its ``version_info`` is read as a literal, not executed: the file may come
    from an archive that is not checked yet.
    """
    try:
        for node in ast.parse(text, origin).body:
            if isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "version_info" for t in node.targets
            ):
                # (18, 0, 0, FINAL, 0, ''): only major and minor are literals.
                major, minor = (ast.literal_eval(e) for e in node.value.elts[:2])
                return f"{major}.{minor}"
    except (SyntaxError, ValueError, TypeError, AttributeError) as exc:
        raise SetupError(
            f"{origin} is not a readable Odoo release file ({exc})"
        ) from exc
    raise SetupError(f"{origin} is not an Odoo release file (no version_info)")


def check_tree(root, what):
    """Check that ``root`` holds a complete Odoo 18.0 tree; return it resolved."""
    root = Path(root)
    if (
        not (root / "odoo-bin").is_file()
        or not (root / "odoo" / "release.py").is_file()
    ):
        raise SetupError(
            f"{what}='{root}' is not an Odoo source tree (no odoo-bin and "
            "odoo/release.py there); point it at an Odoo 18.0 tree"
        )
    release = root / "odoo" / "release.py"
    version = release_version(release.read_text(encoding="utf-8"), str(release))
    if version != ODOO_VERSION:
        raise SetupError(
            f"{what}='{root}' holds Odoo {version}, {ODOO_VERSION} is required"
        )
    return root.resolve()


def addons_dirs(root):
    """Odoo's addons folders of a tree: source layout and/or packaged layout."""
    return [d for d in (root / "addons", root / "odoo" / "addons") if d.is_dir()]


def check_addons(root):
    dirs = addons_dirs(root)
    if not any((d / "base" / "__manifest__.py").is_file() for d in dirs):
        raise SetupError(
            f"Odoo at {root} has no 'base' addon; use a complete Odoo 18.0 tree"
        )
    if not any((d / "crm" / "__manifest__.py").is_file() for d in dirs):
        raise SetupError(
            f"Odoo at {root} has no 'crm' addon; use a complete Odoo 18.0 "
            "Community tree"
        )


def missing_core_module(python):
    """First of Odoo's core requirements that ``python`` cannot import, or ''."""
    code = (
        "import importlib.util, sys\n"
        "for arg in sys.argv[1:]:\n"
        "    mod, dist = arg.split(':')\n"
        "    if importlib.util.find_spec(mod) is None:\n"
        "        print(dist); break\n"
    )
    args = [f"{mod}:{dist}" for mod, dist in ODOO_CORE_MODULES]
    try:
        out = subprocess.run(
            [python, "-c", code, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SetupError(
            f"Python '{python}' does not run ({exc.__class__.__name__})"
        ) from exc
    return out.stdout.strip()


class Odoo:
    """An Odoo 18.0 tree and the Python that runs it."""

    def __init__(self, root, python, origin, pythonpath=True, tools=None):
        self.root = Path(root)
        self.python = str(python)
        self.origin = origin
        # Folder of the static-check tools, when an install provides them.
        self.tools = tools
        # A source tree is imported from its root; an installed package is not.
        self.pythonpath = pythonpath

    @property
    def command(self):
        if (self.root / "odoo-bin").is_file():
            return [self.python, str(self.root / "odoo-bin")]
        return [self.python, "-m", "odoo"]

    def shell(self):
        """Shell assignments for bin/_common.sh."""
        lines = [
            f"ODOO_ROOT={shlex.quote(str(self.root))}",
            f"ODOO_PY={shlex.quote(self.python)}",
            "ODOO_CMD=(" + " ".join(shlex.quote(a) for a in self.command) + ")",
            f"ODOO_ORIGIN={shlex.quote(self.origin)}",
            f"ODOO_TOOLS_BIN={shlex.quote(str(self.tools or ''))}",
        ]
        if self.pythonpath:
            lines.append(
                f"export PYTHONPATH={shlex.quote(str(self.root))}"
                '"${PYTHONPATH:+:$PYTHONPATH}"'
            )
        return "\n".join(lines) + "\n"


def which(program):
    found = shutil.which(program)
    return str(Path(found).absolute()) if found else None


def from_odoo_path(environ):
    path = environ.get("ODOO_PATH")
    if not path:
        return None
    # The user's explicit choice: use it or fail, never fall back.
    root = check_tree(path, "ODOO_PATH")
    python = environ.get("ODOO_PYTHON") or "python3"
    resolved = which(python)
    if not resolved:
        raise SetupError(
            f"Python '{python}' not found; set ODOO_PYTHON to the Python that has "
            "Odoo 18's requirements"
        )
    return Odoo(root, resolved, "ODOO_PATH")


def from_importable(environ):
    python = environ.get("ODOO_PYTHON") or "python3"
    resolved = which(python)
    if not resolved:
        if environ.get("ODOO_PYTHON"):
            raise SetupError(
                f"ODOO_PYTHON='{python}' is not an executable Python; fix it or "
                "unset it"
            )
        return None
    code = (
        "import importlib.util as u, os\n"
        "s = u.find_spec('odoo')\n"
        "print(os.path.dirname(s.origin) if s and s.origin else "
        "(list(s.submodule_search_locations)[0] if s else ''))\n"
    )
    try:
        out = subprocess.run(
            [resolved, "-c", code],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
            env=environ,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        out = ""
    if not out or not (Path(out) / "release.py").is_file():
        if environ.get("ODOO_PYTHON"):
            raise SetupError(
                f"ODOO_PYTHON='{python}' cannot import odoo; set ODOO_PATH to your "
                "Odoo 18.0 source tree as well"
            )
        return None
    root = Path(out).parent.resolve()
    release = Path(out) / "release.py"
    version = release_version(release.read_text(encoding="utf-8"), str(release))
    if version != ODOO_VERSION:
        raise SetupError(
            f"the odoo that '{resolved}' imports ({root}) is version {version}, "
            f"{ODOO_VERSION} is required; "
            "set ODOO_PATH to an Odoo 18.0 tree"
        )
    return Odoo(root, resolved, "importable", pythonpath=(root / "odoo-bin").is_file())


# ------------------------------------------------------------------ cache ---


def cache_root(environ):
    base = environ.get("XDG_CACHE_HOME") or os.path.join(
        environ.get("HOME") or str(Path.home()), ".cache"
    )
    return Path(base) / "sales_pipeline_mgmt"


def recipe_checksum(python_version):
    """What, besides the source, decides the content of an install."""
    digest = hashlib.sha256()
    digest.update(f"recipe {RECIPE_VERSION}\npython {python_version}\n".encode())
    digest.update(TEST_REQUIREMENTS.read_bytes())
    digest.update(CHECK_REQUIREMENTS.read_bytes())
    return digest.hexdigest()


def python_version(python=None):
    if python is None:
        return "{}.{}".format(*sys.version_info[:2])
    out = subprocess.run(
        [python, "-c", "import sys; print('%s.%s' % sys.version_info[:2])"],
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.stdout.strip()


def read_marker(link):
    """The marker of a published install, or None if it is not one."""
    try:
        if not link.is_symlink():
            return None
        target = link.resolve(strict=True)
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if marker.get("recipe_version") != RECIPE_VERSION:
        return None
    for needed in ("venv/bin/python", "tools/bin/python"):
        if not os.access(target / needed, os.X_OK):
            return None
    if not (target / "odoo" / "odoo-bin").is_file():
        return None
    marker["path"] = target
    return marker


def published_installs(cache):
    if not cache.is_dir():
        return []
    found = []
    for link in sorted(cache.glob(LINK_PREFIX + "*")):
        marker = read_marker(link)
        if marker:
            found.append(marker)
    return sorted(found, key=lambda m: m.get("created", ""), reverse=True)


def file_checksum(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def source_kind(spec):
    if re.match(r"^[a-z][a-z0-9+.-]*://", spec, re.IGNORECASE):
        return "url"
    return "dir" if os.path.isdir(spec) else "archive"


def matches_source(marker, spec):
    """Whether a published install was made from ``spec`` (as it is now)."""
    kind = source_kind(spec)
    if kind == "url":
        return marker.get("source") == spec
    if kind == "dir":
        return marker.get("source") == str(Path(spec).resolve())
    try:
        return marker.get("source_sha256") == file_checksum(spec)
    except OSError:
        return False


def from_cache(environ, cache):
    """Step 3: the newest published install that fits the current recipe."""
    spec = environ.get("ODOO_SOURCE")
    candidates = []
    for marker in published_installs(cache):
        venv_python = marker["path"] / "venv" / "bin" / "python"
        if marker.get("recipe_sha256") != recipe_checksum(marker.get("python_version")):
            continue
        if spec and not matches_source(marker, spec):
            continue
        candidates.append((marker, venv_python))
    if not candidates:
        return None
    # The running Python's version first: that is what a new install would use.
    current = python_version()
    candidates.sort(key=lambda c: c[0].get("python_version") != current)
    return cached_odoo(candidates[0][0]["path"])


def cached_odoo(path):
    return Odoo(
        path / "odoo",
        path / "venv" / "bin" / "python",
        f"cache:{path.name}",
        tools=path / "tools" / "bin",
    )


# ----------------------------------------------------------------- source ---


class Source:
    """A validated ODOO_SOURCE: a local archive (maybe downloaded) or a tree."""

    def __init__(self, spec, kind, path, checksum, top=None, size=0):
        self.spec = spec
        self.kind = kind
        self.path = Path(path)
        self.checksum = checksum
        self.top = top
        self.size = size


def open_url(url, timeout=10):
    if urllib.parse.urlparse(url).scheme not in ("http", "https", "file"):
        raise SetupError(
            f"ODOO_SOURCE={url}: only http, https and file URLs are supported"
        )
    try:
        return urllib.request.urlopen(url, timeout=timeout)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SetupError(f"cannot download ODOO_SOURCE={url}: {reason}") from exc


def download(url, dest):
    response = open_url(url)
    size = int(response.headers.get("Content-Length") or 0)
    info(f"downloading {url} ({human_size(size) if size else 'size unknown'})")
    done, last = 0, time.monotonic()
    try:
        with response, open(dest, "wb") as out:
            for chunk in iter(lambda: response.read(1 << 20), b""):
                out.write(chunk)
                done += len(chunk)
                if time.monotonic() - last > 5:
                    last = time.monotonic()
                    share = f" ({100 * done // size}%)" if size else ""
                    info(f"  {human_size(done)}{share}")
    except (urllib.error.URLError, OSError) as exc:
        raise SetupError(
            f"download of ODOO_SOURCE={url} broke off after {human_size(done)}: {exc}"
        ) from exc
    if size and done != size:
        raise SetupError(
            f"download of ODOO_SOURCE={url} is incomplete ({done} of {size} bytes)"
        )
    return done


def inspect_archive(path, spec):
    """Check a whole .tar.gz (gzip CRC included); return (checksum, top folder)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as raw:
            magic = raw.read(2)
        if magic != b"\x1f\x8b":
            raise SetupError(f"ODOO_SOURCE={spec} is not a .tar.gz archive")
        # Reading the whole stream checks the gzip CRC: a truncated or corrupt
        # archive fails here, before anything is made.
        with open(path, "rb") as raw:
            for chunk in iter(lambda: raw.read(1 << 20), b""):
                digest.update(chunk)
        with gzip.open(path, "rb") as stream:
            while stream.read(1 << 20):
                pass
        with tarfile.open(path, "r:gz") as archive:
            names = archive.getnames()
            tops = {n.split("/", 1)[0] for n in names if n.strip("/")}
            if len(tops) != 1:
                raise SetupError(
                    f"ODOO_SOURCE={spec} does not unpack to one folder; it is not "
                    "an Odoo source archive"
                )
            top = tops.pop()
            if f"{top}/odoo-bin" not in names or f"{top}/odoo/release.py" not in names:
                raise SetupError(
                    f"ODOO_SOURCE={spec} holds no Odoo source tree (no odoo-bin "
                    "and odoo/release.py)"
                )
            text = archive.extractfile(f"{top}/odoo/release.py").read().decode("utf-8")
    except SetupError:
        raise
    except (OSError, EOFError, tarfile.TarError, zlib.error, UnicodeDecodeError) as exc:
        raise SetupError(
            f"ODOO_SOURCE={spec} is not a readable .tar.gz archive ({exc})"
        ) from exc
    version = release_version(text, f"{spec}:{top}/odoo/release.py")
    if version != ODOO_VERSION:
        raise SetupError(
            f"ODOO_SOURCE={spec} holds Odoo {version}, {ODOO_VERSION} is required"
        )
    return digest.hexdigest(), top


def resolve_source(spec, workdir):
    kind = source_kind(spec)
    if kind == "url":
        local = Path(workdir) / "odoo-source.tar.gz"
        size = download(spec, local)
        checksum, top = inspect_archive(local, spec)
        return Source(spec, kind, local, checksum, top, size)
    if kind == "dir":
        root = check_tree(spec, "ODOO_SOURCE")
        check_addons(root)
        return Source(str(root), kind, root, "dir:" + str(root))
    if not os.path.isfile(spec):
        raise SetupError(
            f"ODOO_SOURCE={spec} does not exist (a .tar.gz, a directory or a URL "
            "is expected)"
        )
    checksum, top = inspect_archive(spec, spec)
    return Source(
        str(Path(spec).resolve()),
        kind,
        Path(spec).resolve(),
        checksum,
        top,
        os.path.getsize(spec),
    )


# ---------------------------------------------------------------- install ---


def check_python():
    if sys.version_info[:2] not in SUPPORTED_PYTHONS:
        raise SetupError(
            "Python {}.{} ({}) is not supported by Odoo 18.0: run with a python3 "
            "of 3.10 to 3.12 "
            "first on PATH, or set ODOO_PATH/ODOO_PYTHON to an Odoo of your own".format(
                *sys.version_info[:2], sys.executable
            )
        )


def check_writable(cache):
    """The cache, or the nearest folder that would hold it, must take files."""
    probe_dir = cache
    while not probe_dir.exists():
        probe_dir = probe_dir.parent
    if not probe_dir.is_dir():
        raise SetupError(f"cache {cache}: {probe_dir} is not a directory")
    try:
        fd, name = tempfile.mkstemp(prefix=".spm-write-test-", dir=probe_dir)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise SetupError(
            f"cache directory {probe_dir} is not writable ({exc.strerror}); set "
            "XDG_CACHE_HOME to a writable place"
        ) from exc


@contextlib.contextmanager
def install_lock(cache, key):
    locks = cache / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with open(locks / f"{key}.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            info(
                f"another run (pid {holder}) is installing this Odoo into {cache}; "
                "waiting for it"
            )
            started = time.monotonic()
            fcntl.flock(handle, fcntl.LOCK_EX)
            info(f"waited {time.monotonic() - started:.1f}s for the other install")
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_builds(cache, held_key):
    """Remove builds that no link publishes and no running install holds.

    ``held_key`` is the key whose lock the caller holds: its unpublished
    builds are dead ones (a second flock of that file would wait on itself).
    """
    builds = cache / "builds"
    if not builds.is_dir():
        return
    # Any build a link points to is kept, whatever its marker says: an
    # install of an older recipe is no longer looked up, but a run that
    # found it earlier may still be using it.
    published = {
        link.resolve()
        for link in cache.glob(LINK_PREFIX + "*")
        if link.is_symlink() and link.exists()
    }
    for build in builds.iterdir():
        if build.resolve() in published:
            continue
        key = build.name.split("-", 1)[0]
        if key == held_key:
            info(f"removing {build.name}, an install that never completed")
            shutil.rmtree(build, ignore_errors=True)
            continue
        lock_path = cache / "locks" / f"{key}.lock"
        with open(lock_path, "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # an install of that key is running: its build is live
            try:
                info(f"removing {build.name}, an install that never completed")
                shutil.rmtree(build, ignore_errors=True)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def odoo_requirements(text, version, have_pg_config):
    """Odoo's requirements.txt with the fixes this platform needs."""
    lines = []
    for line in text.splitlines():
        name = re.split(r"[=<>; ]", line.strip(), maxsplit=1)[0].lower()
        if name == "python-ldap":
            # Only auth_ldap needs it, and it needs the LDAP headers to build.
            continue
        if name == "cbor2" and version == "3.11" and "5.4.2" in line:
            # cbor2 5.4.2 has no wheel for 3.11 and its sdist fails to build.
            line = "cbor2==5.4.6 ; python_version == '3.11'"
        if name == "psycopg2" and not have_pg_config:
            # Building psycopg2 needs pg_config (libpq-dev); the binary wheel
            # of the same version does not.
            line = "psycopg2-binary" + line.strip()[len("psycopg2") :]
        lines.append(line)
    return "\n".join(lines) + "\n"


class Installer:
    """Build one install of Odoo and its virtualenv into the cache."""

    def __init__(self, cache, source, environ):
        self.cache = cache
        self.source = source
        self.environ = environ
        self.python_version = python_version()
        self.recipe = recipe_checksum(self.python_version)
        self.key = hashlib.sha256(
            f"{source.checksum}\n{self.recipe}".encode()
        ).hexdigest()[:16]
        self.link = cache / f"{LINK_PREFIX}{self.key}"
        self.build = None
        self.log = None

    def run(self):
        with install_lock(self.cache, self.key):
            # Another run may have completed it while this one waited.
            marker = read_marker(self.link)
            if marker:
                return cached_odoo(marker["path"])
            remove_stale_builds(self.cache, self.key)
            builds = self.cache / "builds"
            builds.mkdir(parents=True, exist_ok=True)
            self.build = (
                builds / f"{self.key}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
            )
            self.build.mkdir()
            self.log = self.build / "install.log"
            try:
                durations = self.make()
                self.publish(durations)
            except BaseException:
                self.discard()
                raise
        return cached_odoo(self.build)

    def discard(self):
        if self.build and self.build.exists():
            kept = None
            if self.log and self.log.exists():
                kept = (
                    Path(tempfile.gettempdir())
                    / f"sales_pipeline_mgmt-install-{os.getpid()}.log"
                )
                shutil.copyfile(self.log, kept)
            shutil.rmtree(self.build, ignore_errors=True)
            info(
                f"removed the incomplete install {self.build}"
                + (f" (its log: {kept})" if kept else "")
            )

    def make(self):
        durations = {}
        for name, what, method in self.steps():
            start = time.monotonic()
            with step(what):
                method()
            durations[name] = round(time.monotonic() - start, 1)
        return durations

    def steps(self):
        return [
            (
                "odoo",
                f"unpacking Odoo {ODOO_VERSION} into {self.build / 'odoo'}",
                self.unpack,
            ),
            (
                "venv",
                f"creating two virtualenvs with Python {self.python_version}",
                self.make_venvs,
            ),
            (
                "requirements",
                "installing Odoo's requirements and the test tools (pip)",
                self.install_requirements,
            ),
            (
                "tools",
                "installing the static checks into their own virtualenv (pip)",
                self.install_tools,
            ),
            ("check", "checking that Odoo starts", self.check),
        ]

    def unpack(self):
        target = self.build / "odoo"
        if self.source.kind == "dir":
            # A tree of the user's: used where it is, not copied.
            target.symlink_to(self.source.path, target_is_directory=True)
            return
        staging = self.build / "unpack"
        with tarfile.open(self.source.path, "r:gz") as archive:
            # The archive was checked to be one Odoo tree; 'data' refuses links
            # and paths that leave the folder.
            if hasattr(tarfile, "data_filter"):
                archive.extractall(staging, filter="data")
            else:  # Python 3.10 before 3.10.12
                archive.extractall(staging)
        (staging / self.source.top).rename(target)
        staging.rmdir()

    def make_venvs(self):
        for name in ("venv", "tools"):
            self.run_logged([sys.executable, "-m", "venv", str(self.build / name)])

    def pip(self, *args, venv="venv"):
        python = str(self.build / venv / "bin" / "python")
        self.run_logged(
            [python, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
        )

    def install_requirements(self):
        reqs = self.build / "requirements-odoo.txt"
        text = (self.build / "odoo" / "requirements.txt").read_text(encoding="utf-8")
        reqs.write_text(
            odoo_requirements(
                text, self.python_version, bool(shutil.which("pg_config"))
            )
        )
        # Some of Odoo's pinned sdists (e.g. rjsmin, vobject) break with
        # setuptools 70+; building them without isolation uses this one.
        self.pip("install", "setuptools<70", "wheel")
        self.pip(
            "install",
            "--no-build-isolation",
            "-r",
            str(reqs),
            "-r",
            str(TEST_REQUIREMENTS),
        )
        # Built: now a setuptools whose pkg_resources knows today's normalised
        # dist-info names (zope_interface-8.7.dist-info). With 65, gevent's
        # pkg_resources.require("zope.interface") fails, and a prefork Odoo's
        # gevent process dies at every start.
        self.pip("install", "setuptools==80.10.2")

    def install_tools(self):
        self.pip("install", "-r", str(CHECK_REQUIREMENTS), venv="tools")

    def check(self):
        python = str(self.build / "venv" / "bin" / "python")
        missing = missing_core_module(python)
        if missing:
            raise SetupError(
                f"the new virtualenv lacks {missing} after pip; see {self.log}"
            )
        self.run_logged([python, str(self.build / "odoo" / "odoo-bin"), "--version"])
        # What a prefork Odoo's gevent process does first.
        self.run_logged(
            [
                python,
                "-W",
                "ignore",
                "-c",
                "import pkg_resources; pkg_resources.require('gevent')",
            ]
        )
        self.run_logged([str(self.build / "tools" / "bin" / "pre-commit"), "--version"])

    def run_logged(self, cmd):
        with open(self.log, "a") as log:
            log.write(f"$ {shlex.join(cmd)}\n")
            log.flush()
            env = dict(self.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
            result = subprocess.run(
                cmd,
                check=False,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                stdin=subprocess.DEVNULL,
            )
        if result.returncode != 0:
            tail = self.log.read_text(errors="replace").splitlines()[-15:]
            for line in tail:
                print(f"    {line}", file=sys.stderr)
            raise SetupError(
                f"'{shlex.join(cmd[:4])} ...' failed (exit {result.returncode}); "
                "see the lines above"
            )

    def publish(self, durations):
        marker = {
            "recipe_version": RECIPE_VERSION,
            "recipe_sha256": self.recipe,
            "key": self.key,
            "source": self.source.spec,
            "source_kind": self.source.kind,
            "source_sha256": self.source.checksum,
            "python": sys.executable,
            "python_version": self.python_version,
            "odoo_version": ODOO_VERSION,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "durations": durations,
        }
        tmp = self.build / (MARKER + ".tmp")
        tmp.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        tmp.rename(self.build / MARKER)
        # Publish: a new link renamed over the name is atomic; a reader sees
        # either no install or a complete one.
        staging_link = self.cache / f".{self.link.name}.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            staging_link.unlink()
        staging_link.symlink_to(
            Path("builds") / self.build.name, target_is_directory=True
        )
        staging_link.rename(self.link)
        info(f"installed Odoo {ODOO_VERSION} into {self.link}")


def install(environ, cache):
    check_python()
    check_writable(cache)
    spec = environ.get("ODOO_SOURCE") or DEFAULT_SOURCE
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sales_pipeline_mgmt-source-") as workdir:
        with step(f"checking ODOO_SOURCE={spec}"):
            source = resolve_source(spec, workdir)
        odoo = Installer(cache, source, environ).run()
    info(f"setup done in {time.monotonic() - started:.1f}s")
    return odoo


# ------------------------------------------------------------------ entry ---


def find(environ, allow_install=True):
    """The Odoo to use, by the lookup order of the module's docstring."""
    odoo = from_odoo_path(environ) or from_importable(environ)
    if odoo is None:
        cache = cache_root(environ)
        odoo = from_cache(environ, cache)
        if odoo is None:
            if not allow_install:
                return None
            odoo = install(environ, cache)
    check_addons(odoo.root)
    missing = missing_core_module(odoo.python)
    if missing:
        raise SetupError(
            f"Python '{odoo.python}' lacks Odoo's requirement '{missing}': pip "
            "install -r "
            f"{odoo.root}/requirements.txt into it, or set ODOO_PYTHON to the "
            "Python that has them"
        )
    return odoo


def plan(environ):
    """What ``find`` would install, in words; '' when nothing is needed."""
    if (
        from_odoo_path(environ)
        or from_importable(environ)
        or from_cache(environ, cache_root(environ))
    ):
        return ""
    # Whatever would stop the install stops it here, before the plan is shown
    # or anything (a Debian package, the cache) is installed.
    cache = cache_root(environ)
    check_python()
    check_writable(cache)
    spec = environ.get("ODOO_SOURCE") or DEFAULT_SOURCE
    if source_kind(spec) == "url":
        open_url(spec).close()
    else:
        with tempfile.TemporaryDirectory(prefix="sales_pipeline_mgmt-source-") as tmp:
            resolve_source(spec, tmp)
    return (
        f"Odoo {ODOO_VERSION} from {spec} into {cache}, with a "
        "virtualenv of "
        f"Python {python_version()} holding Odoo's requirements and "
        "requirements-dev.txt, "
        "and one holding requirements-checks.txt"
    )


def main(argv=None):
    global PROG
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--prog", default=PROG, help="name to prefix messages with")
    parser.add_argument(
        "action",
        choices=("env", "plan", "found"),
        help="env: shell assignments for the Odoo to use (installing it if needed); "
        "plan: what would be installed; found: exit 0 if an Odoo is there without "
        "installing",
    )
    args = parser.parse_args(argv)
    PROG = args.prog
    environ = dict(os.environ)
    no_install = environ.get("SPM_NO_INSTALL", "") not in ("", "0")

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        if args.action == "plan":
            text = plan(environ)
            if text:
                print(text)
            return 0
        if args.action == "found":
            return 0 if find(environ, allow_install=False) else 1
        odoo = find(environ, allow_install=not no_install)
        if odoo is None:
            raise SetupError(
                f"no Odoo {ODOO_VERSION} found (ODOO_PATH unset, python3 cannot "
                "import odoo, no install in "
                f"{cache_root(environ)}) and SPM_NO_INSTALL forbids installing "
                "one: set ODOO_PATH "
                "(and ODOO_PYTHON), or unset SPM_NO_INSTALL"
            )
        sys.stdout.write(odoo.shell())
        return 0
    except SetupError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(
            f"{PROG}: error: setup interrupted; nothing incomplete was kept",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
