import gc
import json

import pytest
from django.db import transaction
from ug_testing import drop_templates, settle_constraints


def pytest_sessionstart(session):
    """The test process's cycle collector: Django, the apps and the test modules are loaded for the whole run
    (frozen out of its sight), and it runs after 50,000 new objects, not 700 — the suite's objects are mostly
    short-lived requests and querysets that reference counting frees (7–10 % of the suite's CPU; measured on
    tests/cases and tests/assessment/reviews + tests/org)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Hashing cost is not under test here; the production hasher stays PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _cheap_flush_on_postgresql():
    """The flush that ends each transactional test empties only the tables that hold rows (``fast_flush``):
    Django's TRUNCATE of every table costs seconds a test on PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    # imported only here: the PostgreSQL backend needs psycopg, which a SQLite-only machine may lack
    from django.db.backends.postgresql.operations import DatabaseOperations

    from fast_flush import patch_flush

    restore = patch_flush(DatabaseOperations)
    yield
    restore()


@pytest.fixture(autouse=True)
def _append_only_triggers(request):
    """Transactional tests end with a flush (DELETE/TRUNCATE of every table), which the append-only
    triggers on case events rightly refuse: lift them for the flush only, and put them back after."""
    transactional = ("transactional_db" in request.fixturenames or "live_server" in request.fixturenames or any(
        m.kwargs.get("transaction") for m in request.node.iter_markers("django_db")))
    uses_db = transactional or "db" in request.fixturenames or any(True for _ in request.node.iter_markers("django_db"))
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    from django.db import connection

    from urbangrid.cases import append_only as triggers
    # Back after a transactional test's flush lifted them (``migrate`` itself leaves them in place: tested).
    triggers.ensure(using=connection.alias)
    yield
    if transactional:
        triggers.uninstall(connection)


@pytest.fixture(autouse=True)
def _exact_tallies(settings):
    # Evaluations in tests see every event at once; production lets today's tally age a minute.
    from urbangrid.assessment.evaluation import tallies

    settings.URBANGRID_TALLY_TODAY_MAX_AGE = 0
    tallies.forget_seen()
    yield
    tallies.forget_seen()


@pytest.fixture(autouse=True)
def _fresh_calendar():
    # The per-process calendar cache must not outlive a test's rolled-back rows.
    from urbangrid.worktime import clock

    clock.invalidate_calendar()
    yield
    clock.invalidate_calendar()


@pytest.fixture(autouse=True)
def _fresh_locator(settings):
    from urbangrid.catalog import responsibility
    from urbangrid.grids.locator import locator

    from urbangrid.gazetteer.geocoder import geocoder
    from urbangrid.public.open311 import fastread, services_doc

    settings.URBANGRID_GRID_VERSION_TTL = 0
    locator.invalidate()
    geocoder.invalidate()  # a rolled-back test's gazetteer has the same version number as the next one's
    responsibility.invalidate()  # a rolled-back test's rules must not answer the next test
    services_doc.invalidate()  # nor its catalogue the next test's services.json
    fastread.invalidate()  # nor its names (ids are reused after a rollback) the next test's requests
    yield
    locator.invalidate()
    geocoder.invalidate()
    responsibility.invalidate()
    services_doc.invalidate()
    fastread.invalidate()


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo city built once per module inside a transaction that is rolled back afterwards."""
    from django.conf import settings as dj_settings

    from demo_snapshot import build_demo

    var_dir = tmp_path_factory.mktemp("var")
    old_var, old_hashers = dj_settings.VAR_DIR, dj_settings.PASSWORD_HASHERS
    dj_settings.VAR_DIR = var_dir
    dj_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock():
        with transaction.atomic():
            summary, logins, path = build_demo(seed=7, log=lambda m: None)
            settle_constraints()
            yield {"summary": summary, "logins": logins, "path": path}
            transaction.set_rollback(True)
    dj_settings.VAR_DIR, dj_settings.PASSWORD_HASHERS = old_var, old_hashers


@pytest.fixture(scope="session")
def openapi_doc():
    from urbangrid.api import api

    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1")))


def pytest_sessionfinish(session):
    # The session's site templates (ug_testing.new_site): their PostgreSQL databases and files.
    drop_templates()
