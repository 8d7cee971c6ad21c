"""Case creation outside a test transaction (transaction=True), as a server runs it: the per-process
caches behind every API request (core/localcache.py: the bearer token, the actor, the class of a report)
follow every change, at once in this process; concurrent retries leave no photo file without its row.

A module of its own: inside a transaction the caches step aside, and a module-scoped demo city would
hold one open.
"""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from urbangrid.cases.api import CLASSES
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.access import ACTORS
from urbangrid.core.auth import TOKENS
from urbangrid.core.models import ApiToken
from urbangrid.org.models import RoleAssignment

from ug_testing import jpeg

INSIDE_WG01 = (117.2352, 31.8785)  # WG01, patrolled by the demo inspector
CACHES = (TOKENS, ACTORS, CLASSES)


def _report(client, auth, code="0401", point=INSIDE_WG01, photos=None, **extra):
    data = {"catalog_version": "local-demo", "class_code": code, "lon": point[0], "lat": point[1],
            "description": "路面出现塌陷，约一平方米", "source": "inspector", "photos": photos or [jpeg()], **extra}
    return client.post("/api/v1/cases", data, **auth)


@pytest.fixture
def city(settings, tmp_path):
    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    for cache in CACHES:
        cache.clear()
    build_demo(seed=1, log=lambda m: None)
    user = get_user_model().objects.get(username="inspector")
    _token, raw = ApiToken.issue(user, name="test")
    yield {"user": user, "auth": {"HTTP_AUTHORIZATION": f"Bearer {raw}"}, "token": _token}
    for cache in CACHES:
        cache.clear()


@pytest.mark.django_db(transaction=True)
def test_cached_actor_follows_role_changes_at_once(city, settings):
    c, auth = Client(), city["auth"]
    assert _report(c, auth).status_code == 201
    with CaptureQueriesContext(connection) as q:
        assert _report(c, auth).status_code == 201
    tables = " ".join(x["sql"] for x in q.captured_queries)
    for table in ("core_apitoken", "org_person", "org_roleassignment", "catalog_catalogclass"):
        assert table not in tables  # answered by the caches
    assert sum(1 for x in q.captured_queries if x["sql"].startswith('SELECT "cases_case".')) <= 1  # not read back

    person = city["user"].person
    roles = RoleAssignment.objects.filter(person=person, role="inspector")
    grid_ids = list(roles.values_list("grid_id", flat=True))
    for role in roles:
        role.delete()  # post_delete: this process forgets the actor at once
    r = _report(c, auth)
    assert r.status_code == 403, r.content
    RoleAssignment.objects.bulk_create([RoleAssignment(person=person, role="inspector", grid_id=g) for g in grid_ids[1:]])
    RoleAssignment.objects.create(person=person, role="inspector", grid_id=grid_ids[0])  # post_save
    assert _report(c, auth).status_code == 201

    # A bulk write sends no signal (as an edit in another process): seen once the entry is older than the TTL.
    from urbangrid.grids.models import ResponsibilityGrid

    wg01 = ResponsibilityGrid.objects.get(code="WG01")
    other = ResponsibilityGrid.objects.exclude(pk__in=grid_ids).first()
    RoleAssignment.objects.filter(person=person, role="inspector", grid=wg01).update(grid=other)
    settings.URBANGRID_AUTH_CACHE_TTL = 0
    r = _report(c, auth)
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope", r.content


@pytest.mark.django_db(transaction=True)
def test_cached_token_is_refused_once_revoked_or_its_user_deactivated(city):
    c, auth, user = Client(), city["auth"], city["user"]
    assert c.get("/api/v1/cases/todo", **auth).status_code == 200
    user.is_active = False
    user.save()
    assert c.get("/api/v1/cases/todo", **auth).status_code == 401
    user.is_active = True
    user.save()
    assert c.get("/api/v1/cases/todo", **auth).status_code == 200
    city["token"].delete()
    assert c.get("/api/v1/cases/todo", **auth).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_cached_class_follows_edits_and_nothing_is_kept_inside_a_transaction(city):
    c, auth = Client(), city["auth"]
    assert _report(c, auth).status_code == 201
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    cls.active = False
    cls.save()
    r = _report(c, auth)
    assert r.status_code == 422 and "class_code" in r.json()["fields"], r.content
    cls.active = True
    cls.save()
    assert _report(c, auth).status_code == 201

    # Inside a transaction the database answers (its own writes included) and nothing is kept.
    ACTORS.clear()
    with transaction.atomic():
        RoleAssignment.objects.filter(person=city["user"].person, role="inspector").delete()
        assert _report(c, auth).status_code == 403
        assert not ACTORS._entries
        transaction.set_rollback(True)
    assert _report(c, auth).status_code == 201  # the rolled-back removal never happened
    assert ACTORS._entries


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_photos_leave_one_case_and_no_stray_files(city, settings):
    import threading

    from urbangrid.cases.models import Case, CasePhoto

    barrier, statuses = threading.Barrier(3), []

    def retry():
        try:
            barrier.wait()
            statuses.append(_report(Client(), city["auth"], idempotency_key="device-7:report-9").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [200, 200, 201], statuses
    assert Case.objects.count() == 1 and CasePhoto.objects.count() == 1
    files = [p for p in (settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert [str(p.relative_to(settings.MEDIA_ROOT)) for p in files] == [CasePhoto.objects.get().image.name]
