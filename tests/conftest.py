import gc
import json

import pytest
from django.db import transaction
from ug_testing import drop_templates, pg_admin, settle_constraints, suite_vendor


def pytest_configure(config):
    """Django keeps each thread's connections per context (contextvars, for async code), and Playwright's sync
    API (tests/browser) runs the test thread in contexts of its own: a test then got a connection of its own
    while the one of the context before stayed open (the end of the session could not drop the test database on
    PostgreSQL: "being accessed by other users"). This project serves only sync code (gunicorn's sync workers:
    one connection per thread), so the test process keeps them per thread, as Django did before contexts."""
    import threading

    from django.db import connections

    connections._connections = threading.local()


def pytest_sessionstart(session):
    """The test process's cycle collector: Django, the apps and the test modules are loaded for the whole run
    (frozen out of its sight), and it runs after 50,000 new objects, not 700 — the suite's objects are mostly
    short-lived requests and querysets that reference counting frees (7–10 % of the suite's CPU; measured on
    tests/cases and tests/assessment/reviews + tests/org)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in English (the test client runs it in this thread)
    leaves English active after it, and a later test's Chinese log lines came out in English."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Hashing cost is not under test here; the production hasher stays PBKDF2.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _cheap_flush():
    """The flush that ends each transactional test keeps the rows ``migrate`` derives from the models (content
    types, permissions) and, on PostgreSQL, empties only the tables that hold rows (``fast_flush``): Django's
    TRUNCATE of every table costs seconds a test there."""
    from django.db import connection

    from fast_flush import patch_flush

    restore = patch_flush(type(connection.ops))
    yield
    restore()


_test_database = set()  # the name of the test database Django made for the session (and drops at its end)


@pytest.fixture(autouse=True)
def _append_only_triggers(request):
    """The append-only triggers on case events in place for each test that uses the database (a test may have
    dropped them; the flush after a transactional test lifts them for itself and puts them back: ``fast_flush``)."""
    uses_db = any(f in request.fixturenames for f in ("db", "transactional_db", "live_server")) or any(
        True for _ in request.node.iter_markers("django_db"))
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    from django.db import connection

    _test_database.add(connection.settings_dict["NAME"])

    from urbangrid.cases import append_only as triggers
    triggers.ensure(using=connection.alias)  # ``migrate`` leaves them in place: tested
    yield


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

    # An hour: within a test only this process edits the geography of the test database (its live servers are
    # its threads; sites of their own, ug_testing.new_site, have their own databases), and its edits drop its
    # indexes at once (grids.models.grid_data_changed). Rolled-back and flushed tests are forgotten here. The
    # tests of the TTL itself set their own. (With 0, every lookup read the version: a sixth of the statements
    # of the PostgreSQL run.)
    settings.URBANGRID_GRID_VERSION_TTL = 3600
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
    from django.db import connection

    from demo_snapshot import build_demo
    from fast_flush import vacuum_big

    var_dir = tmp_path_factory.mktemp("var")
    old_var, old_hashers = dj_settings.VAR_DIR, dj_settings.PASSWORD_HASHERS
    dj_settings.VAR_DIR = var_dir
    dj_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock():
        vacuum_big(connection)  # the last module's rolled-back rows: see fast_flush.vacuum_big
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
    if _test_database and suite_vendor() == "postgresql" and not session.config.getoption("reuse_db", False):
        name = next(iter(_test_database))
        if pg_admin("SELECT 1 FROM pg_database WHERE datname = %s", [name]):
            # Django could not drop it: a connection of this process still held it (as one left in another context
            # did: pytest_configure above), after DROP DATABASE's five-second wait; the next run would start by
            # dropping it.
            session.config.get_terminal_writer().line(f"the test database {name} was left behind", red=True)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
