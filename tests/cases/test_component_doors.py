"""Every door that takes a 部件标识码 asks the one check (``services.component_identifier_error``): the standard's
form for the case's class, the district of the case's point, and — when the inventory holds that class — a
registered asset. The API (the inspectors' app posts there too) and the hotline work orders answer 422 naming the
field; the hotline desk's form and the citizens' form show the message on the field. Nothing is created."""
import json

import pytest
from django.test import Client

from urbangrid.cases.models import Case
from urbangrid.catalog.models import Component

from ug_testing import jpeg, login_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def asset(demo_city):
    """A registered current-class component inside WG01, and an identifier of its class and district that the
    inventory does not hold."""
    c = (Component.objects.filter(unit_grid__responsibility_grid__code="WG01", catalog_class__version__is_current=True)
         .select_related("catalog_class__version").order_by("identifier").first())
    unregistered = c.identifier[:-6] + "999999"
    assert not Component.objects.filter(identifier=unregistered).exists()
    return c, unregistered


def _missing_message(component, identifier):
    return f"部件库中没有标识码为 {identifier} 的{component.catalog_class.name}"


def _api_report(client, component, identifier, **extra):
    cls = component.catalog_class
    return client.post("/api/v1/cases", {
        "catalog_version": cls.version.code, "class_code": cls.code, "kind": "component", "lon": component.lon,
        "lat": component.lat, "description": "井盖破损", "source": "inspector", "photos": [jpeg()],
        "component_identifier": identifier, **extra})


def test_api_and_the_mobile_app(asset):
    component, unregistered = asset
    c = login_client(Client(), "inspector")
    r = _api_report(c, component, unregistered)
    assert r.status_code == 422
    assert r.json()["fields"]["component_identifier"] == _missing_message(component, unregistered)
    assert not Case.objects.exists()
    r = _api_report(c, component, component.identifier)
    assert r.status_code == 201 and r.json()["component_identifier"] == component.identifier
    # The app's report page carries the field the app sends to this same API.
    page = c.get("/m/report/").content.decode()
    assert 'id="component-identifier" name="component_identifier"' in page


def test_a_class_the_inventory_does_not_hold_checks_the_form_only(asset):
    component, unregistered = asset
    Component.objects.filter(catalog_class=component.catalog_class).delete()  # not surveyed yet
    c = login_client(Client(), "inspector")
    r = _api_report(c, component, unregistered)
    assert r.status_code == 201, r.content
    assert Case.objects.get().component_identifier == unregistered
    bad = _api_report(c, component, unregistered[:-1])  # the form still counts
    assert bad.status_code == 422 and "component_identifier" in bad.json()["fields"]


def test_hotline_work_order_api(asset):
    component, unregistered = asset
    c = login_client(Client(), "intake_operator")
    cls = component.catalog_class
    order = {"hotline": "12345", "external_no": "GD-1", "catalog_version": cls.version.code, "class_code": cls.code,
             "kind": "component", "lon": component.lon, "lat": component.lat, "description": "井盖松动",
             "component_identifier": unregistered}
    r = c.post("/api/v1/hotline/orders", order, content_type="application/json")
    assert r.status_code == 422
    assert r.json()["fields"]["component_identifier"] == _missing_message(component, unregistered)
    assert not Case.objects.exists()
    r = c.post("/api/v1/hotline/orders", {**order, "component_identifier": component.identifier}, content_type="application/json")
    assert r.status_code == 201, r.content
    assert Case.objects.get(number=r.json()["number"]).component_identifier == component.identifier


def test_hotline_desk_form(asset):
    component, unregistered = asset
    c = login_client(Client(), "intake_operator")
    data = {"hotline": "12319", "catalog_class": component.catalog_class.pk, "lon": component.lon, "lat": component.lat,
            "description": "井盖响", "component_identifier": unregistered}
    r = c.post("/centre/hotline/", data)
    assert r.status_code == 400
    field = r.context["form"].errors["component_identifier"]
    assert field == [_missing_message(component, unregistered)]
    assert _missing_message(component, unregistered) in r.content.decode()
    assert not Case.objects.exists()
    r = c.post("/centre/hotline/", {**data, "component_identifier": component.identifier})
    assert r.status_code == 302
    assert Case.objects.get().component_identifier == component.identifier


def test_citizens_form(asset, settings):
    component, unregistered = asset
    anon = Client()
    data = {"catalog_class": component.catalog_class.pk, "description": "井盖坏了", "lon": component.lon,
            "lat": component.lat, "component_identifier": unregistered}
    r = anon.post("/report/", data)
    assert r.status_code == 400
    assert r.context["form"].errors["component_identifier"] == [_missing_message(component, unregistered)]
    assert not Case.objects.exists()
    r = anon.post("/report/", {**data, "component_identifier": "12345"})
    assert r.status_code == 400 and "位数字" in r.context["form"].errors["component_identifier"][0]
    r = anon.post("/report/", {**data, "component_identifier": component.identifier, "photos": [jpeg()]})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Case.objects.get().component_identifier == component.identifier


def test_open311_takes_no_identifier(asset):
    """GeoReport v2 has no such field and our service definitions declare no attributes: no door to check there."""
    component, _ = asset
    cls = component.catalog_class
    r = Client().get(f"/open311/v2/services/{cls.version.code}:component:{cls.code}.json")
    assert r.status_code == 200 and json.loads(r.content)["attributes"] == []
