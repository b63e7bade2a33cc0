"""The setup's logic on small archives and trees that the tests build.

What the real install does (pip, Odoo's requirements) is what CI exercises;
here the installer's pip steps are replaced by a few files, so that the
lookup order, bad sources, interrupted installs and the lock are checked in
seconds. Runs with plain pytest (bin/test, stage 0).
"""

import contextlib
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

# Ceilings against a hang, not timings: a loaded machine (tests running beside
# a benchmark) can take tens of seconds to start Python.
HANG_TIMEOUT = 180

BIN = Path(__file__).resolve().parent.parent
SETUP_PY = BIN / "_setup.py"

spec = importlib.util.spec_from_file_location("spm_setup", SETUP_PY)
setup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(setup)

# A python3 that imports nothing of Odoo's: the one running the tests, with
# no PYTHONPATH (bin/test exports Odoo's tree there).
PYTHON = sys.executable


def release_py(version):
    major, minor = version
    # As Odoo writes it: a name inside the tuple.
    return f"FINAL = 'final'\nversion_info = ({major}, {minor}, 0, FINAL, 0, '')\n"


def make_tree(root, version=(18, 0)):
    """A tree that passes for Odoo: odoo-bin, release.py, base and crm."""
    files = {
        "odoo-bin": "#!/usr/bin/env python3\nprint('Odoo Server 18.0')\n",
        "odoo/__init__.py": "",
        "odoo/release.py": release_py(version),
        "odoo/addons/base/__manifest__.py": "{}",
        "addons/crm/__manifest__.py": "{}",
        "requirements.txt": "python-ldap==3.4.0\npolib==1.1.1\n",
    }
    for name, text in files.items():
        path = Path(root) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return Path(root)


def make_archive(path, version=(18, 0), top="odoo-18.0"):
    """A .tar.gz holding one Odoo-like tree under ``top``."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w:gz") as archive:
        for name, text in {
            "odoo-bin": "#!/usr/bin/env python3\n",
            "odoo/__init__.py": "",
            "odoo/release.py": release_py(version),
            "odoo/addons/base/__manifest__.py": "{}",
            "addons/crm/__manifest__.py": "{}",
            "requirements.txt": "polib==1.1.1\n",
        }.items():
            blob = text.encode()
            member = tarfile.TarInfo(f"{top}/{name}")
            member.size = len(blob)
            member.mode = 0o755
            archive.addfile(member, io.BytesIO(blob))
    Path(path).write_bytes(data.getvalue())
    return Path(path)


# The installer of the tests: the same steps, without pip. SPM_TEST_SLOW_STEP
# makes the requirements step announce itself in a file and wait, so that a
# test can interrupt it or race a second install against it.
FAKE_INSTALLER = textwrap.dedent(
    """
    import importlib.util, os, sys, time
    from pathlib import Path
    spec = importlib.util.spec_from_file_location("spm_setup", {setup_py!r})
    setup = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup)

    def fake_python(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\\nexec {python} \\"$@\\"\\n")
        path.chmod(0o755)

    class FakeInstaller(setup.Installer):
        def make_venvs(self):
            fake_python(self.build / "venv" / "bin" / "python")
            fake_python(self.build / "tools" / "bin" / "python")

        def install_requirements(self):
            signal_file = os.environ.get("SPM_TEST_SLOW_STEP")
            if signal_file:
                Path(signal_file).write_text(str(os.getpid()))
                time.sleep(float(os.environ.get("SPM_TEST_SLOW_SECONDS", "60")))

        def install_tools(self):
            pass

        def check(self):
            pass

    setup.Installer = FakeInstaller
    sys.exit(setup.main(sys.argv[1:]))
    """
)


@pytest.fixture
def env(tmp_path):
    """An environment with an empty cache, no Odoo anywhere."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }


@pytest.fixture
def runner(tmp_path):
    script = tmp_path / "fake_setup.py"
    script.write_text(FAKE_INSTALLER.format(setup_py=str(SETUP_PY), python=PYTHON))

    def start(environ, *args):
        return subprocess.Popen(
            [PYTHON, str(script), "--prog", "t", *(args or ("env",))],
            env=environ,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(environ, *args):
        proc = start(environ, *args)
        out, err = proc.communicate(timeout=HANG_TIMEOUT)
        return proc.returncode, out, err

    run.start = start
    return run


def cache_of(environ):
    return Path(environ["XDG_CACHE_HOME"]) / "sales_pipeline_mgmt"


def assignments(out):
    values = {}
    for line in out.splitlines():
        if line.startswith("export "):
            continue
        name, _, value = line.partition("=")
        values[name] = value
    return values


def published(environ):
    return sorted(p.name for p in cache_of(environ).glob("odoo-18.0-*"))


# ------------------------------------------------------------ lookup order ---


def test_odoo_path_comes_first_even_with_a_cached_install(tmp_path, env, runner):
    make_archive(tmp_path / "odoo.tar.gz")
    code, _out, err = runner(dict(env, ODOO_SOURCE=str(tmp_path / "odoo.tar.gz")))
    assert code == 0, err
    tree = make_tree(tmp_path / "mine")

    code, out, err = runner(dict(env, ODOO_PATH=str(tree), ODOO_PYTHON=PYTHON))

    assert code == 0, err
    assert assignments(out)["ODOO_ORIGIN"] == "ODOO_PATH"
    assert assignments(out)["ODOO_ROOT"] == str(tree.resolve())


def test_a_wrong_odoo_path_is_an_error_not_a_fallback(tmp_path, env, runner):
    make_tree(tmp_path / "old", version=(17, 0))
    code, out, err = runner(
        dict(env, ODOO_PATH=str(tmp_path / "old"), ODOO_PYTHON=PYTHON)
    )
    assert code == 2
    assert out == ""
    assert "Odoo 17.0, 18.0 is required" in err
    assert len(err.strip().splitlines()) == 1


def test_an_importable_odoo_comes_before_the_cache(tmp_path, env, runner):
    make_archive(tmp_path / "odoo.tar.gz")
    assert runner(dict(env, ODOO_SOURCE=str(tmp_path / "odoo.tar.gz")))[0] == 0
    tree = make_tree(tmp_path / "importable")

    code, out, err = runner(dict(env, PYTHONPATH=str(tree), ODOO_PYTHON=PYTHON))

    assert code == 0, err
    assert assignments(out)["ODOO_ORIGIN"] == "importable"
    assert assignments(out)["ODOO_ROOT"] == str(tree.resolve())


def test_the_cache_is_used_before_a_new_install(tmp_path, env, runner):
    make_archive(tmp_path / "odoo.tar.gz")
    code, first, err = runner(dict(env, ODOO_SOURCE=str(tmp_path / "odoo.tar.gz")))
    assert code == 0, err
    assert "installed Odoo 18.0" in err

    # No ODOO_SOURCE any more: the install of the earlier run is found.
    code, second, err = runner(env)

    assert code == 0, err
    assert "installed" not in err and "unpacking" not in err
    assert assignments(second)["ODOO_ROOT"] == assignments(first)["ODOO_ROOT"]
    assert assignments(second)["ODOO_ORIGIN"].startswith("cache:")


def test_a_changed_archive_gets_a_new_install_beside_the_old(tmp_path, env, runner):
    archive = make_archive(tmp_path / "odoo.tar.gz")
    code, first, err = runner(dict(env, ODOO_SOURCE=str(archive)))
    assert code == 0, err
    make_archive(archive, top="odoo-18.0-patched")

    code, second, err = runner(dict(env, ODOO_SOURCE=str(archive)))

    assert code == 0, err
    assert len(published(env)) == 2
    assert assignments(second)["ODOO_ROOT"] != assignments(first)["ODOO_ROOT"]
    assert Path(assignments(first)["ODOO_ROOT"], "odoo-bin").is_file()


def test_the_marker_records_the_source_and_its_checksum(tmp_path, env, runner):
    archive = make_archive(tmp_path / "odoo.tar.gz")
    code, out, err = runner(dict(env, ODOO_SOURCE=str(archive)))
    assert code == 0, err
    marker = json.loads(
        Path(assignments(out)["ODOO_ROOT"]).parent.joinpath("install.json").read_text()
    )
    assert marker["source"] == str(archive.resolve())
    assert marker["source_sha256"] == setup.file_checksum(archive)
    assert marker["odoo_version"] == "18.0"


def test_no_install_only_reports_what_is_missing(env, runner):
    code, out, err = runner(dict(env, SPM_NO_INSTALL="1"))
    assert code == 2
    assert out == ""
    assert "SPM_NO_INSTALL forbids installing" in err
    assert not cache_of(env).exists()


# ------------------------------------------------------------- bad sources ---


def assert_refused(runner, environ, message):
    started = time.monotonic()
    code, out, err = runner(environ)
    assert time.monotonic() - started < 5
    assert code == 2
    assert out == ""
    # Progress lines may come first; the error is one line, the last.
    lines = err.strip().splitlines()
    assert [line for line in lines if ": error: " in line] == lines[-1:], err
    assert lines[-1].startswith("t: error: ")
    assert message in lines[-1]
    assert not cache_of(environ).exists()


def test_the_plan_refuses_a_bad_source_before_naming_anything(tmp_path, env, runner):
    text = tmp_path / "hostname"
    text.write_text("vm\n")
    code, out, err = runner(dict(env, ODOO_SOURCE=str(text)), "plan")
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [
        f"t: error: ODOO_SOURCE={text} is not a .tar.gz archive"
    ]
    assert not cache_of(env).exists()


def test_the_plan_names_the_install_of_a_good_source(tmp_path, env, runner):
    archive = make_archive(tmp_path / "odoo.tar.gz")
    code, out, err = runner(dict(env, ODOO_SOURCE=str(archive)), "plan")
    assert code == 0, err
    assert out.startswith(f"Odoo 18.0 from {archive} into {cache_of(env)}")
    assert not cache_of(env).exists()


def test_a_file_that_is_no_archive_leaves_nothing(tmp_path, env, runner):
    text = tmp_path / "hostname"
    text.write_text("vm\n")
    assert_refused(runner, dict(env, ODOO_SOURCE=str(text)), "is not a .tar.gz archive")


def test_a_corrupt_archive_leaves_nothing(tmp_path, env, runner):
    archive = make_archive(tmp_path / "odoo.tar.gz")
    blob = archive.read_bytes()
    archive.write_bytes(blob[: len(blob) // 2])
    assert_refused(
        runner, dict(env, ODOO_SOURCE=str(archive)), "is not a readable .tar.gz archive"
    )


def test_an_archive_of_another_version_leaves_nothing(tmp_path, env, runner):
    archive = make_archive(tmp_path / "odoo-17.tar.gz", version=(17, 0))
    assert_refused(
        runner, dict(env, ODOO_SOURCE=str(archive)), "holds Odoo 17.0, 18.0 is required"
    )


def test_an_archive_without_odoo_leaves_nothing(tmp_path, env, runner):
    data = tmp_path / "other.tar.gz"
    with tarfile.open(data, "w:gz") as archive:
        member = tarfile.TarInfo("project/README")
        archive.addfile(member, io.BytesIO(b""))
    assert_refused(
        runner, dict(env, ODOO_SOURCE=str(data)), "holds no Odoo source tree"
    )


def test_a_url_that_answers_nothing_leaves_nothing(env, runner):
    assert_refused(
        runner, dict(env, ODOO_SOURCE="http://127.0.0.1:9/x.tar.gz"), "cannot download"
    )


def test_a_missing_file_leaves_nothing(tmp_path, env, runner):
    assert_refused(
        runner, dict(env, ODOO_SOURCE=str(tmp_path / "nope.tar.gz")), "does not exist"
    )


@contextlib.contextmanager
def read_only(folder):
    """Make ``folder`` read-only, for root too (a read-only bind mount)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    subprocess.run(
        ["mount", "--bind", "-o", "ro", str(folder), str(folder)], check=True
    )
    try:
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_read_only_cache_directory_leaves_nothing(tmp_path, env, runner):
    archive = make_archive(tmp_path / "odoo.tar.gz")
    cache_home = Path(env["XDG_CACHE_HOME"])
    cache_home.mkdir()
    with read_only(cache_home):
        assert_refused(runner, dict(env, ODOO_SOURCE=str(archive)), "is not writable")


def test_a_python_outside_3_10_to_3_12_is_refused(monkeypatch):
    monkeypatch.setattr(setup.sys, "version_info", (3, 13, 0, "final", 0))
    with pytest.raises(setup.SetupError, match="Python 3.13"):
        setup.check_python()


# ----------------------------------------------------- interrupted installs ---


def wait_for(path, timeout=HANG_TIMEOUT):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_a_killed_install_is_never_used_and_is_redone(tmp_path, env, runner):
    archive = make_archive(tmp_path / "odoo.tar.gz")
    started = tmp_path / "started"
    environ = dict(env, ODOO_SOURCE=str(archive), SPM_TEST_SLOW_STEP=str(started))
    proc = runner.start(environ)
    wait_for(started)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    builds = list((cache_of(env) / "builds").iterdir())
    assert len(builds) == 1, "the killed build stays on disk"
    assert published(env) == []

    code, out, err = runner(dict(env, ODOO_SOURCE=str(archive)))

    assert code == 0, err
    assert "never completed" in err
    assert not builds[0].exists()
    assert len(published(env)) == 1
    assert Path(assignments(out)["ODOO_ROOT"], "odoo-bin").is_file()


def test_ctrl_c_removes_the_incomplete_install(tmp_path, env, runner):
    archive = make_archive(tmp_path / "odoo.tar.gz")
    started = tmp_path / "started"
    proc = runner.start(
        dict(env, ODOO_SOURCE=str(archive), SPM_TEST_SLOW_STEP=str(started))
    )
    wait_for(started)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=HANG_TIMEOUT)
    assert proc.returncode == 130
    assert "interrupted" in err
    assert list((cache_of(env) / "builds").iterdir()) == []
    assert published(env) == []


def test_a_second_run_waits_for_the_first_under_the_lock(tmp_path, env, runner):
    archive = make_archive(tmp_path / "odoo.tar.gz")
    started = tmp_path / "started"
    first = runner.start(
        dict(
            env,
            ODOO_SOURCE=str(archive),
            SPM_TEST_SLOW_STEP=str(started),
            SPM_TEST_SLOW_SECONDS="2",
        )
    )
    wait_for(started)
    second = runner.start(dict(env, ODOO_SOURCE=str(archive)))
    out2, err2 = second.communicate(timeout=HANG_TIMEOUT)
    out1, err1 = first.communicate(timeout=HANG_TIMEOUT)

    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert "waiting for it" in err2
    assert "unpacking" not in err2, "the second run reuses the first one's install"
    assert assignments(out1)["ODOO_ROOT"] == assignments(out2)["ODOO_ROOT"]
    assert len(published(env)) == 1
    assert len(list((cache_of(env) / "builds").iterdir())) == 1


def test_an_install_of_an_older_recipe_is_kept_beside_the_new_one(
    tmp_path, env, runner
):
    archive = make_archive(tmp_path / "odoo.tar.gz")
    code, first, err = runner(dict(env, ODOO_SOURCE=str(archive)))
    assert code == 0, err
    old_root = Path(assignments(first)["ODOO_ROOT"])
    marker_path = old_root.parent / "install.json"
    marker = json.loads(marker_path.read_text())
    marker["recipe_version"] -= 1  # as if made by the previous recipe
    marker_path.write_text(json.dumps(marker))
    # A killed build of the new recipe: the next install removes it, and only it.
    started = tmp_path / "started"
    proc = runner.start(
        dict(env, ODOO_SOURCE=str(archive), SPM_TEST_SLOW_STEP=str(started))
    )
    wait_for(started)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()

    code, second, err = runner(dict(env, ODOO_SOURCE=str(archive)))

    assert code == 0, err
    assert "never completed" in err
    assert Path(assignments(second)["ODOO_ROOT"]) != old_root
    assert (old_root / "odoo-bin").is_file(), "a run may still use the old install"


# ------------------------------------------------------ requirements fixes ---


def test_requirements_fixes():
    text = (
        "cbor2==5.4.2 ; python_version < '3.12'\n"
        "python-ldap==3.4.0 ; sys_platform != 'win32' and python_version < '3.12'\n"
        "psycopg2==2.9.5 ; python_version == '3.11'\n"
        "polib==1.1.1\n"
    )
    fixed = setup.odoo_requirements(text, "3.11", have_pg_config=False).splitlines()
    assert fixed == [
        "cbor2==5.4.6 ; python_version == '3.11'",
        "psycopg2-binary==2.9.5 ; python_version == '3.11'",
        "polib==1.1.1",
    ]
    kept = setup.odoo_requirements(text, "3.10", have_pg_config=True).splitlines()
    assert kept[0] == "cbor2==5.4.2 ; python_version < '3.12'"
    assert kept[1] == "psycopg2==2.9.5 ; python_version == '3.11'"
