"""A real HTTP server and a tiny GeoReport v2 client written from the specification only: it knows the
resource names, the form fields, the XML shapes and the JSON-is-a-bare-array rule, nothing of UrbanGrid."""
import json
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


class GeoReportError(Exception):
    def __init__(self, status, errors):
        super().__init__(f"{status}: {errors}")
        self.status, self.errors = status, errors


def _element(e):
    """Spark convention: an element with children is a dict (repeated children a list), a leaf its text."""
    if len(e) == 0:
        return e.text
    tags = [c.tag for c in e]
    if len(set(tags)) == 1 and len(tags) > 1 or e.tag in ("endpoints", "formats", "attributes", "values", "notes"):
        return [_element(c) for c in e]
    return {c.tag: _element(c) for c in e}


class GeoReportClient:
    COLLECTIONS = {"services", "service_requests", "errors", "service_requests_updates"}

    def __init__(self, base, fmt, api_key=None, jurisdiction_id=None):
        self.base, self.fmt, self.api_key, self.jurisdiction_id = base.rstrip("/"), fmt, api_key, jurisdiction_id

    def _call(self, resource, params=None, data=None):
        params = {k: v for k, v in (params or {}).items() if v is not None}
        if self.jurisdiction_id:
            (data if data is not None else params)["jurisdiction_id"] = self.jurisdiction_id
        url = f"{self.base}/{resource}.{self.fmt}" + (("?" + urllib.parse.urlencode(params)) if params else "")
        body = urllib.parse.urlencode(data).encode("utf-8") if data is not None else None
        req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
                                     if body is not None else {})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return self._parse(resp.read(), resp.headers.get("Content-Type", ""))
        except urllib.error.HTTPError as exc:
            raise GeoReportError(exc.code, self._parse(exc.read(), exc.headers.get("Content-Type", ""))) from None

    def _parse(self, raw, content_type):
        if self.fmt == "json":
            assert content_type.startswith("application/json")
            return json.loads(raw.decode("utf-8"))
        assert content_type.startswith("text/xml")
        assert raw.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
        root = ET.fromstring(raw)
        assert "}" not in root.tag  # no namespace
        if root.tag in self.COLLECTIONS:
            return [_element(c) for c in root]
        return _element(root)

    def discovery(self):
        return self._call("discovery")

    def services(self):
        return self._call("services")

    def service_definition(self, code):
        return self._call(f"services/{urllib.parse.quote(code, safe='')}")

    def create(self, **fields):
        return self._call("requests", data={"api_key": self.api_key, **fields})[0]

    def requests(self, **params):
        return self._call("requests", params)

    def request(self, request_id):
        return self._call(f"requests/{urllib.parse.quote(request_id, safe='')}")[0]


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_spec_client_against_live_server(live_server, city, fmt):
    discovery = GeoReportClient(f"{live_server.url}/open311/v2", fmt).discovery()
    endpoint = next(e for e in discovery["endpoints"] if e["specification"] == "http://wiki.open311.org/GeoReport_v2")
    assert ("application/json" if fmt == "json" else "text/xml") in endpoint["formats"]
    client = GeoReportClient(endpoint["url"], fmt, api_key=city, jurisdiction_id="urbangrid.example")
    services = client.services()
    assert isinstance(services, list) and services
    service = services[0]
    assert set(service) >= {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    if service["metadata"] in (True, "true"):
        assert "attributes" in client.service_definition(service["service_code"])
    created = client.create(service_code=service["service_code"], lat="31.8785", long="117.2352",
                            description="A large sinkhole <b>here</b>\nnear the crossing", device_id="tt222111",
                            first_name="john", last_name="smith", email="j@example.invalid")
    assert "service_request_id" in created and "token" not in created
    rid = created["service_request_id"]
    got = client.request(rid)
    assert got["service_request_id"] == rid and got["status"] == "open"
    assert got["description"] == "A large sinkhole <b>here</b>\nnear the crossing"
    assert got["requested_datetime"][-6:] in ("+08:00",) or got["requested_datetime"].endswith("Z")
    assert abs(float(got["lat"]) - 31.8785) < 1e-9 and abs(float(got["long"]) - 117.2352) < 1e-9
    listed = client.requests(service_request_id=rid)
    assert [r["service_request_id"] for r in listed] == [rid]
    assert rid in [r["service_request_id"] for r in client.requests(status="open", service_code=service["service_code"])]
    with pytest.raises(GeoReportError) as no_key:
        GeoReportClient(endpoint["url"], fmt).create(service_code=service["service_code"], lat="31.8785", long="117.2352")
    assert no_key.value.status == 403 and no_key.value.errors[0]["description"]
    with pytest.raises(GeoReportError) as unknown:
        client.create(service_code="no-such-service", lat="31.8785", long="117.2352", description="x")
    assert unknown.value.status == 404
    with pytest.raises(GeoReportError) as nowhere:
        client.create(service_code=service["service_code"], description="x")
    assert nowhere.value.status == 400 and str(nowhere.value.errors[0]["code"]) == "400"
    with pytest.raises(GeoReportError) as missing:
        client.request("no-such-request")
    assert missing.value.status == 404
