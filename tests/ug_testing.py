"""Helpers shared by the test modules."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


def login_client(client, username):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    return client


def settle_constraints():
    """Check now the foreign keys of what a module-scoped fixture wrote inside its open transaction.

    Django's foreign keys are deferred to the commit, which a test never reaches: each test ends with Django's own
    check (``check_constraints``), then rolls back to its savepoint. On PostgreSQL that rollback re-queues every
    check fired since the savepoint, the module's demo city included, so every test of the module checked the
    whole city again (millions of key lookups over the suite); checked once here, before the first test's
    savepoint, they stay done and each test's check covers its own rows."""
    from django.db import connection

    connection.check_constraints()


def assert_matches_openapi(doc, path, method, status, body):
    """Validate a response body against the OpenAPI response schema of (path template, method, status)."""
    import jsonschema

    op = doc["paths"][path][method]
    schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": doc["components"]})


def jpeg(color=(200, 30, 30), size=(64, 48)):
    """A small JPEG file object for upload tests."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    buf.seek(0)
    buf.name = "photo.jpg"
    return buf


def suite_vendor():
    """The database the suite runs on (.ci/run runs it once per database)."""
    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


def pg_admin(sql, params=None):
    """``sql`` run on the server's ``postgres`` database, outside any transaction; its rows, if it returns any."""
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True, connect_timeout=5) as c:
        cursor = c.execute(sql, params)
        return cursor.fetchall() if cursor.description else None


def site_database(name):
    """The PostgreSQL database name of a test's own site: ``name`` and the run's database (so that two runs of
    the suite on one server, e.g. a developer's beside CI's, never drop each other's sites)."""
    from urllib.parse import urlparse

    run = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "test"
    return f"{name}_{run}"[:63]


# Sites of their own for tests that run the ``urbangrid`` command (and gunicorn, huey) in subprocesses. A site is
# built by a recipe: the ``urbangrid`` commands that make it, run in order. The first test of a session that asks
# for a recipe builds it for real (the commands in subprocesses, into a template: a var dir and, on PostgreSQL, a
# database); every test then gets a copy of its own (the var dir's files, and the database file on SQLite or
# ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL): a copy of what the commands wrote, byte for byte, in a second
# where the build takes a minute. Tests of the build or the migration themselves run those commands for real.
MIGRATE = ("migrate", "--noinput", "-v0")
MIGRATED = (MIGRATE,)
DEMO = (MIGRATE, ("demo", "--no-history", "--seed", "3"))  # the demo city without case history
HISTORY = (MIGRATE, ("demo", "--seed", "3", "--cases", "200"))  # with 200 cases of history (1,555 events)

_templates = {}  # (vendor, recipe) -> (var dir, PostgreSQL database or None)
_template_root = []


def _site_base_env(var_dir):
    """The run's environment less what belongs to the test process's own site (its database, Redis, task mode,
    audit key): a site of its own keeps its audit key in its var dir (``audit.key``, made on first use)."""
    env = dict(os.environ, URBANGRID_VAR_DIR=str(var_dir), URBANGRID_GRID_VERSION_TTL="0")
    for k in ("URBANGRID_HUEY_IMMEDIATE", "URBANGRID_REDIS_URL", "URBANGRID_TEST_SQLITE", "DATABASE_URL",
              "URBANGRID_AUDIT_KEY", "URBANGRID_AUDIT_KEYS_OLD"):
        env.pop(k, None)
    return env


def _pg_url(name):
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _pg_create(name, template=None):
    try:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    except Exception as exc:  # PostgreSQL is part of the machine: its absence is a failure
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed: {exc}")


def _template(vendor, recipe):
    """The built template of ``recipe`` on ``vendor``, built on first use in this session: a copy of the template
    of the recipe less its last command (so the migration runs once for all recipes), then that command. Each
    command runs to its end, so no process holds a template database open when it is copied."""
    key = (vendor, recipe)
    if key not in _templates:
        if not _template_root:
            _template_root.append(Path(tempfile.mkdtemp(prefix="ug-site-templates-")))
        base_dir, base_db = _template(vendor, recipe[:-1]) if len(recipe) > 1 else (None, None)
        n = len(_templates)
        var_dir = _template_root[0] / f"t{n}"
        if base_dir:
            shutil.copytree(base_dir, var_dir)
        else:
            var_dir.mkdir()
        env = _site_base_env(var_dir)
        # A build is one process, which sees its own edits at once: the TTL of production, not the sites' 0
        env.pop("URBANGRID_GRID_VERSION_TTL")
        pg_name = None
        if vendor == "postgresql":
            pg_name = site_database(f"ugtpl{n}")
            _pg_create(pg_name, base_db)
            env["DATABASE_URL"] = _pg_url(pg_name)
        try:
            subprocess.run([str(Path(sys.executable).parent / "urbangrid"), *recipe[-1]], env=env, check=True,
                           capture_output=True, text=True, timeout=1800)
        except subprocess.CalledProcessError as exc:
            if pg_name:
                pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
            raise AssertionError(f"building the site {recipe} failed: {exc.stdout[-3000:]}{exc.stderr[-3000:]}") from exc
        _templates[key] = (var_dir, pg_name)
    return _templates[key]


def new_site(var_dir, name, recipe=(), vendor=None, **extra):
    """A site of its own for the ``urbangrid`` command (and gunicorn, huey): its var dir ``var_dir``, and its
    database of ``vendor`` (default: the run's), PostgreSQL ``name`` (via ``site_database``) or the SQLite file
    in the var dir. ``recipe``: the commands that build it (``MIGRATED``, ``DEMO``, ``HISTORY`` or one of the
    caller's), as a copy of the session's template; empty: a new empty database. ``extra``: more environment.
    Returns (env, drop): drop removes the PostgreSQL database."""
    vendor = vendor or suite_vendor()
    var_dir = Path(var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    template_dir, template_db = _template(vendor, tuple(recipe)) if recipe else (None, None)
    if template_dir:
        shutil.copytree(template_dir, var_dir, dirs_exist_ok=True)
    env = dict(_site_base_env(var_dir), **extra)
    if vendor != "postgresql":
        return env, lambda: None
    db = site_database(name)
    _pg_create(db, template_db)
    env["DATABASE_URL"] = _pg_url(db)
    return env, lambda: pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def drop_templates():
    """At the end of the session: the templates' databases and files."""
    for _var_dir, db in _templates.values():
        if db:
            pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    _templates.clear()
    for root in _template_root:
        shutil.rmtree(root, ignore_errors=True)
    _template_root.clear()


def dispatched_case(**dispatch):
    """A demo inspector's report in WG01 taken through accept, file and dispatch to CGJ-SZ (its notifications
    written on the way; ``dispatch``: more inputs of the dispatch step): the returned case is in 处置中."""
    from django.contrib.auth import get_user_model

    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for

    users = get_user_model().objects
    a = {n: actor_for(users.get(username=n)) for n in ("inspector", "intake_operator", "shift_lead", "dispatcher")}
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    case, _ = services.report(a["inspector"], catalog_class=cls, lon=117.2352, lat=31.8785, description="塌陷",
                              source="inspector", require_photos=False)
    services.transition(a["intake_operator"], case.number, "accept")
    services.transition(a["shift_lead"], case.number, "file")
    return services.transition(a["dispatcher"], case.number, "dispatch", {"unit": "CGJ-SZ", **dispatch})
