"""One intake table (cases/intake.py): every door that creates a case answers to the same rules whichever way
it is reached — the hotline desk and the hotline API hold the same permission, a door takes only its own
sources, and the citizens' and Open311 doors count their posts per address in one limiter."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from urbangrid.cases import intake, services
from urbangrid.cases.models import Case
from urbangrid.cases.states import Source
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.scope import actor_for

pytestmark = pytest.mark.django_db
POINT = (117.2352, 31.8785)  # inside WG01


def _client(username):
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def _order(no):
    cls = CatalogClass.objects.filter(kind="event", active=True, version__is_current=True).order_by("code").first() \
        or CatalogClass.objects.filter(kind="event", active=True).order_by("code").first()
    return {"hotline": "12345", "external_no": no, "catalog_version": cls.version.code, "class_code": cls.code,
            "kind": "event", "lon": POINT[0], "lat": POINT[1], "description": "门口长期乱停车"}


def _desk(client, order):
    return client.post("/centre/hotline/", {**order, "catalog_class": CatalogClass.objects.get(
        version__code=order["catalog_version"], code=order["class_code"], kind="event").pk})


@pytest.mark.parametrize("username, allowed", [("intake_operator", True), ("leader", False), ("inspector", False)])
def test_hotline_desk_and_api_hold_the_same_permission(demo_city, username, allowed):
    user = get_user_model().objects.get(username=username)
    assert actor_for(user).can("case.accept") == allowed  # the door's permission decides, nothing else
    c = _client(username)
    api = c.post("/api/v1/hotline/orders", _order(f"API-{username}"), content_type="application/json")
    desk = _desk(c, _order(f"DESK-{username}"))
    if allowed:
        assert api.status_code == 201, api.content
        assert desk.status_code == 302, desk.content[:2000]
        assert Case.objects.filter(external_ref__in=[f"12345:API-{username}", f"12345:DESK-{username}"]).count() == 2
    else:
        assert api.status_code == 403
        assert desk.status_code == 403
        assert not Case.objects.filter(external_ref__startswith="12345:").exists()


def test_a_door_takes_only_its_own_sources(demo_city):
    cls = CatalogClass.objects.filter(kind="event", active=True).order_by("code").first()
    operator = actor_for(get_user_model().objects.get(username="intake_operator"))
    for door, source in ((intake.STAFF, Source.PUBLIC_WEB), (intake.CITIZEN, Source.HOTLINE_12345),
                         (intake.HOTLINE, Source.OPEN311), (intake.STAFF, Source.OPEN311)):
        with pytest.raises(services.Forbidden) as refused:
            services.report(operator, catalog_class=cls, lon=POINT[0], lat=POINT[1], description="x", source=source,
                            door=door, require_photos=False)
        assert refused.value.code == "forbidden_source"
    assert not Case.objects.exists()


def test_every_source_has_exactly_one_door_it_may_come_through_by_default():
    for source in Source.values:
        if source in (Source.OPEN311, Source.PROVINCE):
            continue  # only through its own door, named by the caller (Open311's endpoint, the exchange's fetch)
        assert source in intake.DOORS[intake.door_of_source(source)].sources
    claimed = [s for d in intake.DOORS.values() for s in d.sources if d.key != intake.DEDUCTION]
    assert sorted(claimed) == sorted(set(claimed))  # no source belongs to two doors


def test_citizen_posts_are_limited_per_address(demo_city, settings):
    from urbangrid.core.ratelimit import counters

    counters().purge()
    settings.URBANGRID_PUBLIC_POSTS_PER_HOUR = 2
    c = Client(REMOTE_ADDR="203.0.113.77")
    codes = [c.post("/report/", {"description": ""}).status_code for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429
