"""GET /api/v1/geocode and /api/v1/reverse-geocode: authenticated, schema-conformant, bad input a clear 4xx."""
import pytest

from ug_testing import assert_matches_openapi, login_client
from urbangrid.gazetteer.models import Doorplate

pytestmark = pytest.mark.django_db


def test_anonymous_is_refused(demo_city, client):
    assert client.get("/api/v1/geocode", {"q": "长江路318号"}).status_code == 401
    assert client.get("/api/v1/reverse-geocode", {"lon": 117.24, "lat": 31.87}).status_code == 401


def test_geocode(demo_city, client, openapi_doc):
    login_client(client, "intake_operator")
    r = client.get("/api/v1/geocode", {"q": "黄山路与金寨路交叉口东北角", "limit": 3})
    assert r.status_code == 200
    body = r.json()
    assert_matches_openapi(openapi_doc, "/api/v1/geocode", "get", 200, body)
    best = body["candidates"][0]
    assert best["precision"] == "intersection" and best["confident"] and best["responsibility_grid"] == "WG01"
    assert client.get("/api/v1/geocode", {"q": "火星基地"}).json()["candidates"] == []
    for bad in ({"q": ""}, {"q": "长" * 10_000}, {}, {"q": "长江路", "limit": 0}):
        r = client.get("/api/v1/geocode", bad)
        assert r.status_code == 422, bad
    assert client.get("/api/v1/geocode", {"q": "长江路\x00318号"}).status_code in (400, 422)


def test_reverse_geocode(demo_city, client, openapi_doc):
    login_client(client, "inspector")
    d = Doorplate.objects.get(road__name="长江路", number=318, suffix="")
    r = client.get("/api/v1/reverse-geocode", {"lon": d.lon, "lat": d.lat})
    assert r.status_code == 200
    body = r.json()
    assert_matches_openapi(openapi_doc, "/api/v1/reverse-geocode", "get", 200, body)
    assert body["address"].startswith("长江路318号") and body["number"] == 318
    far = client.get("/api/v1/reverse-geocode", {"lon": 116.0, "lat": 30.0}).json()
    assert far["address"] is None
    for bad in ({"lon": "abc", "lat": 31}, {"lon": 200, "lat": 31}, {"lat": 31}, {"lon": "nan", "lat": 31}):
        assert client.get("/api/v1/reverse-geocode", bad).status_code == 422, bad
