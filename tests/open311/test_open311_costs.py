"""Open311 without waste: services.json from a cached document, API-key use recorded without a write per
request, and POSTs limited per API key as well as per address."""
import secrets
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from urbangrid.catalog.models import CatalogClass
from urbangrid.public.models import Open311Key
from urbangrid.public.open311 import keys

pytestmark = pytest.mark.django_db
INSIDE = (117.2352, 31.8785)
SERVICE = "local-demo-2026:event:21001"
BASE = "/open311/v2"


def _service(doc, code):
    return next(s for s in doc if s["service_code"] == code)


def test_services_document_is_cached_and_follows_catalogue_edits(demo_city, client):
    first = client.get(f"{BASE}/services.json")
    assert first.status_code == 200
    assert _service(first.json(), SERVICE)["service_name"]
    with CaptureQueriesContext(connection) as ctx:
        again = client.get(f"{BASE}/services.json")
    assert again.content == first.content
    assert len(ctx.captured_queries) <= 1, [q["sql"] for q in ctx.captured_queries]  # not rebuilt

    cls = CatalogClass.objects.get(version__code="local-demo-2026", kind="event", code="21001")
    cls.plain_name = "路面塌了个大坑"
    cls.save()
    edited = client.get(f"{BASE}/services.json").json()
    assert _service(edited, SERVICE)["service_name"] == "路面塌了个大坑"
    xml = client.get(f"{BASE}/services.xml")
    assert "路面塌了个大坑" in xml.content.decode()

    cls.active = False
    cls.save(update_fields=["active"])
    assert SERVICE not in {s["service_code"] for s in client.get(f"{BASE}/services.json").json()}


def test_services_document_per_language(demo_city, client, settings):
    zh = client.get(f"{BASE}/services.json").json()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    en = client.get(f"{BASE}/services.json").json()
    assert "事件/事项" in _service(zh, SERVICE)["keywords"].split(",")
    # the kind's label in English: not the Chinese document kept from the first call
    assert "事件/事项" not in _service(en, SERVICE)["keywords"].split(","), _service(en, SERVICE)["keywords"]


def test_last_used_at_written_at_most_once_per_interval(demo_city):
    key, raw = keys.issue("测试系统")
    assert key.last_used_at is None
    with CaptureQueriesContext(connection) as ctx:
        keys.authenticate(raw)
    assert any(q["sql"].startswith("UPDATE") for q in ctx.captured_queries)
    stamped = Open311Key.objects.get(pk=key.pk).last_used_at
    assert stamped is not None
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(5):
            assert keys.authenticate(raw).pk == key.pk
    assert not any(q["sql"].startswith("UPDATE") for q in ctx.captured_queries)
    assert Open311Key.objects.get(pk=key.pk).last_used_at == stamped

    old = timezone.now() - keys.LAST_USED_EVERY - timedelta(seconds=1)
    Open311Key.objects.filter(pk=key.pk).update(last_used_at=old)
    keys.authenticate(raw)
    assert Open311Key.objects.get(pk=key.pk).last_used_at > old


def test_last_used_at_through_the_api(demo_city):
    key, raw = keys.issue("测试系统")
    c = Client(REMOTE_ADDR=f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.9")
    r = c.post(f"{BASE}/requests.json", {"api_key": raw, "service_code": SERVICE, "lat": INSIDE[1], "long": INSIDE[0],
                                         "description": "井盖缺失"})
    assert r.status_code == 200, r.content
    assert Open311Key.objects.get(pk=key.pk).last_used_at is not None


def _post(c, raw):
    return c.post(f"{BASE}/requests.json", {"api_key": raw, "service_code": SERVICE, "lat": INSIDE[1],
                                            "long": INSIDE[0], "description": "路面塌陷"})


def test_posts_limited_per_key_each_with_its_own_limit(demo_city, settings):
    settings.URBANGRID_OPEN311_POSTS_PER_HOUR = 1000  # one gateway address: the keys' limits decide
    settings.URBANGRID_OPEN311_KEY_POSTS_PER_HOUR = 3
    own, own_raw = keys.issue("区热线网关")
    own.posts_per_hour = 1
    own.save()
    _default, default_raw = keys.issue("市热线网关")  # falls back to the setting (3)
    c = Client(REMOTE_ADDR=f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7")

    assert _post(c, own_raw).status_code == 200
    over = _post(c, own_raw)
    assert over.status_code == 429
    assert over.json()[0]["code"] == 429 and "limit 1 " in over.json()[0]["description"]
    assert "api_key" in over.json()[0]["description"]

    for _ in range(3):  # the other key from the same address is not held back by the first one's limit
        assert _post(c, default_raw).status_code == 200
    over = _post(c, default_raw)
    assert over.status_code == 429 and "limit 3 " in over.json()[0]["description"]


def test_address_limit_names_its_limit(demo_city, settings):
    settings.URBANGRID_OPEN311_POSTS_PER_HOUR = 1
    _key, raw = keys.issue("测试系统")
    c = Client(REMOTE_ADDR=f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.8")
    assert _post(c, raw).status_code == 200
    over = _post(c, raw)
    assert over.status_code == 429 and "limit 1 " in over.json()[0]["description"]
    assert "address" in over.json()[0]["description"]


def test_admin_edits_a_keys_limit(demo_city, admin_client):
    key, _raw = keys.issue("测试系统")
    page = admin_client.get(f"/admin/public/open311key/{key.pk}/change/")
    assert page.status_code == 200 and b'name="posts_per_hour"' in page.content


def test_post_takes_the_class_from_the_kept_map(demo_city):
    """``services_doc.current_class`` answers what ``find_service`` asks the database, and follows edits."""
    from urbangrid.public.open311 import serializers as ser
    from urbangrid.public.open311 import services_doc

    codes = [ser.service_code(c) for c in ser.current_services()]
    for code in codes + ["local-demo:event:9999", "nope", "", None, f" {SERVICE} ", "a:b:c"]:
        kept, asked = services_doc.current_class(code), ser.find_service(code)
        assert (kept.pk if kept else None) == (asked.pk if asked else None), code
    cls = CatalogClass.objects.get(version__code="local-demo-2026", kind="event", code="21001")
    cls.active = False
    cls.save(update_fields=["active"])
    assert services_doc.current_class(SERVICE) is None
    with CaptureQueriesContext(connection) as ctx:
        assert services_doc.current_class(codes[0]) is not None
        assert services_doc.current_class(codes[1]) is not None
    assert len(ctx.captured_queries) <= 1
