"""Every error under /open311/ is a GeoReport v2 error list in the format the path asks for (``.json`` /
``.xml``), over real HTTP: unknown request, service, path and version (404), wrong method (405), malformed
body and bad parameters (400), bad api_key (403), too-large bodies (413), POSTs that carry a session's CSRF
cookie but no token (never Django's CSRF page), and a server error (500). Never Django's HTML."""
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.django_db(transaction=True)
SERVICE = "local-demo-2026:event:21001"
TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
COOKIE = {"Cookie": "csrftoken=AbCdEfGhIjKlMnOpQrStUvWxYz012345; sessionid=x"}  # a browser's, no token sent


def call(url, method="GET", body=None, content_type="application/x-www-form-urlencoded", headers=None):
    data = urllib.parse.urlencode(body).encode("utf-8") if isinstance(body, dict) else body
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={**({"Content-Type": content_type} if data is not None else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def error_list(fmt, headers, raw):
    """The body as [{code, description}], after checking the content type and the document's shape."""
    assert headers.get("Content-Type") == TYPES[fmt], headers.get("Content-Type")
    if fmt == "json":
        body = json.loads(raw.decode("utf-8"))
        assert isinstance(body, list) and body
        assert all(isinstance(e, dict) and set(e) == {"code", "description"} for e in body), body
        return body
    assert raw.startswith(b'<?xml version="1.0" encoding="utf-8"?>'), raw[:80]
    root = ET.fromstring(raw)
    assert root.tag == "errors" and len(root) >= 1
    out = []
    for e in root:
        assert e.tag == "error" and sorted(c.tag for c in e) == ["code", "description"], ET.tostring(e)
        out.append({"code": e.findtext("code"), "description": e.findtext("description")})
    return out


def test_every_error_is_a_georeport_error_list(live_server, city, settings, monkeypatch):
    from urbangrid.public.open311 import serializers

    root = live_server.url
    v2 = f"{root}/open311/v2"
    report = {"api_key": city, "service_code": SERVICE, "lat": "31.8785", "long": "117.2352", "description": "塌陷"}
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 20_000  # Django refuses a longer form body while reading it
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 200
    for fmt in ("json", "xml"):
        cases = [
            # (what, status, request)
            ("unknown request id", 404, dict(url=f"{v2}/requests/20990000001.{fmt}")),
            ("unknown request id, with notes", 404, dict(url=f"{v2}/requests/nope.{fmt}?extensions=true")),
            ("unknown service code", 404, dict(url=f"{v2}/services/no:such:code.{fmt}")),
            ("malformed service code", 404, dict(url=f"{v2}/services/nonsense.{fmt}")),
            ("POST with an unknown service code", 404, dict(url=f"{v2}/requests.{fmt}", method="POST",
                                                             body={**report, "service_code": "no:event:9999"})),
            ("token", 404, dict(url=f"{v2}/tokens/abc.{fmt}")),
            ("unknown path", 404, dict(url=f"{v2}/nothing-here.{fmt}")),
            ("unknown nested path", 404, dict(url=f"{v2}/requests/1/2/3.{fmt}")),
            ("trailing slash", 404, dict(url=f"{v2}/requests.{fmt}/")),
            ("unknown version", 404, dict(url=f"{root}/open311/v3/discovery.{fmt}")),
            ("unknown path, POST with a CSRF cookie", 404, dict(url=f"{v2}/nothing-here.{fmt}", method="POST",
                                                                 body={"a": "1"}, headers=COOKIE)),
            ("jurisdiction", 404, None),  # filled below (needs the setting)
            ("DELETE", 405, dict(url=f"{v2}/requests.{fmt}", method="DELETE")),
            ("PUT", 405, dict(url=f"{v2}/services.{fmt}", method="PUT", body={"a": "1"})),
            ("POST discovery, CSRF cookie", 405, dict(url=f"{v2}/discovery.{fmt}", method="POST", body={"a": "1"},
                                                      headers=COOKIE)),
            ("POST one request", 405, dict(url=f"{v2}/requests/20990000001.{fmt}", method="POST", body={"a": "1"})),
            ("multipart without a boundary", 400, dict(url=f"{v2}/requests.{fmt}", method="POST", body=b"x=1",
                                                       content_type="multipart/form-data")),
            ("multipart with a broken boundary", 400, dict(url=f"{v2}/requests.{fmt}", method="POST", body=b"--\x01",
                                                           content_type="multipart/form-data; boundary=\x01")),
            ("status", 400, dict(url=f"{v2}/requests.{fmt}?status=pending")),
            ("page", 400, dict(url=f"{v2}/requests.{fmt}?page=0")),
            ("page_size", 400, dict(url=f"{v2}/requests.{fmt}?page_size=many")),
            ("start_date", 400, dict(url=f"{v2}/requests.{fmt}?start_date=yesterday")),
            ("date range", 400, dict(url=f"{v2}/requests.{fmt}?start_date=2025-01-01T00:00:00%2B08:00"
                                         f"&end_date=2025-12-01T00:00:00%2B08:00")),
            ("lat, with a CSRF cookie", 400, dict(url=f"{v2}/requests.{fmt}", method="POST",
                                                  body={**report, "lat": "north"}, headers=COOKIE)),
            ("no location", 400, dict(url=f"{v2}/requests.{fmt}", method="POST",
                                      body={k: v for k, v in report.items() if k not in ("lat", "long")})),
            ("update without its fields", 400, dict(url=f"{v2}/servicerequestupdates.{fmt}", method="POST",
                                                    body={"api_key": city})),
            ("no api_key", 403, dict(url=f"{v2}/requests.{fmt}", method="POST",
                                     body={k: v for k, v in report.items() if k != "api_key"})),
            ("bad api_key", 403, dict(url=f"{v2}/requests.{fmt}", method="POST", body={**report, "api_key": "nope"},
                                      headers=COOKIE)),
            ("bad api_key, updates", 403, dict(url=f"{v2}/servicerequestupdates.{fmt}?api_key=nope")),
            ("form body over DATA_UPLOAD_MAX_MEMORY_SIZE", 413, dict(
                url=f"{v2}/requests.{fmt}", method="POST", body={**report, "description": "x" * 30_000})),
            ("too many fields", 413, dict(url=f"{v2}/requests.{fmt}", method="POST",
                                          body={**report, **{f"f{i}": "1" for i in range(300)}})),
            ("body over the endpoint's limit", 413, None),  # filled below (needs the setting)
            ("server error", 500, dict(url=f"{v2}/services.{fmt}")),
        ]
        defaults = {n: getattr(settings, n) for n in ("URBANGRID_OPEN311_JURISDICTION", "URBANGRID_OPEN311_MAX_BODY")}
        for what, status, request in cases:
            overridden = []
            if what == "jurisdiction":
                settings.URBANGRID_OPEN311_JURISDICTION = "urbangrid.example"
                overridden.append("URBANGRID_OPEN311_JURISDICTION")
                request = dict(url=f"{v2}/services.{fmt}?jurisdiction_id=elsewhere")
            elif what == "body over the endpoint's limit":
                settings.URBANGRID_OPEN311_MAX_BODY = 10_000
                overridden.append("URBANGRID_OPEN311_MAX_BODY")
                request = dict(url=f"{v2}/requests.{fmt}", method="POST",
                               body=b"--B\r\nContent-Disposition: form-data; name=\"media\"; filename=\"a.jpg\"\r\n"
                                    b"Content-Type: image/jpeg\r\n\r\n" + b"\xff" * 15_000 + b"\r\n--B--\r\n",
                               content_type="multipart/form-data; boundary=B")
            elif what == "server error":
                monkeypatch.setattr(serializers, "current_services", lambda: 1 / 0)
            got, headers, raw = call(**request)
            for name in overridden:  # back to the declared defaults
                setattr(settings, name, defaults[name])
            monkeypatch.undo()
            assert got == status, (fmt, what, got, raw[:200])
            errors = error_list(fmt, headers, raw)
            assert str(errors[0]["code"]) == str(status) and errors[0]["description"], (fmt, what, errors)
            if status == 405:
                assert headers.get("Allow"), what
        # Without a suffix the Accept header chooses; by default GeoReport's first format, XML.
        got, headers, raw = call(f"{root}/open311/", headers={"Accept": "application/json"})
        assert got == 404 and error_list("json", headers, raw)
        got, headers, raw = call(f"{v2}/requests")
        assert got == 404 and error_list("xml", headers, raw)
    # A POST with a browser's CSRF cookie and no token is still answered (API keys, no cookies).
    got, headers, raw = call(f"{v2}/requests.json", method="POST", body=report, headers=COOKIE)
    assert got == 200 and json.loads(raw)[0]["service_request_id"]
    # Outside the prefix Django's own pages answer, unchanged.
    got, headers, raw = call(f"{root}/no-such-page/")
    assert got == 404 and headers.get("Content-Type", "").startswith("text/html")
