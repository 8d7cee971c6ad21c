from decimal import Decimal

import pytest

from urbangrid.catalog.loader import load_catalogues
from urbangrid.catalog.models import CatalogClass, ResponsibilityRule


@pytest.mark.parametrize("model", ["catalogversion", "catalogclass", "responsibilityrule", "component", "crosswalkentry"])
def test_admin_pages(admin_client, geo, units, model):
    load_catalogues()
    cls = CatalogClass.objects.get(version__code="local-demo", code="0101")
    ResponsibilityRule.objects.create(catalog_class=cls, unit=units.law, region=geo.hubin, time_limit_value=Decimal("20"),
                                      time_limit_unit="working_days")
    resp = admin_client.get(f"/admin/catalog/{model}/")
    assert resp.status_code == 200
    if model == "responsibilityrule":
        assert "20 工作日" in resp.content.decode() and "湖滨街道" in resp.content.decode()
    assert admin_client.get(f"/admin/catalog/{model}/add/").status_code == 200


def test_admin_class_filters_and_search(admin_client, db):
    load_catalogues()
    old = CatalogClass.objects.get(version__code="cjt214-2007", code="0101").version_id
    resp = admin_client.get("/admin/catalog/catalogclass/", {"version__id__exact": old, "q": "井盖"})
    html = resp.content.decode()
    assert resp.status_code == 200 and "上水井盖" in html and "供水井盖" not in html
