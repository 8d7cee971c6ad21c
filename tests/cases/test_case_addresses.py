"""The reverse-geocoded address of a case: filled in for old cases (``cases backfill-addresses``) and shown on
the case page, in the workbench list, the API list, the full export and Open311."""
import json

import pytest
from django.core.management import call_command
from django.test import Client

from ug_testing import login_client
from urbangrid.cases import services
from urbangrid.cases.models import Case
from urbangrid.cases.states import Source
from urbangrid.gazetteer.geocoder import geocoder
from urbangrid.gazetteer.models import Doorplate

pytestmark = pytest.mark.django_db


def _cases(n):
    from django.contrib.auth import get_user_model

    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for

    operator = actor_for(get_user_model().objects.get(username="intake_operator"))
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    from urbangrid.grids.locator import locator

    plates = [d for d in Doorplate.objects.filter(road__name="长江路", suffix="", number__gte=318).order_by("number")
              if locator.find_unit_grid(d.lon, d.lat) is not None][:n]
    return [services.report(operator, catalog_class=cls, lon=d.lon, lat=d.lat, description=f"井盖{i}",
                            source=Source.HOTLINE_12345)[0] for i, d in enumerate(plates)]


def test_backfill_gives_old_cases_their_address_idempotently(demo_city, capsys):
    cases = _cases(5)
    Case.objects.filter(pk__in=[c.pk for c in cases[:4]]).update(address="")
    Case.objects.filter(pk=cases[4].pk).update(address="调度员写的地址")
    call_command("cases", "backfill-addresses", "--batch", "2")
    assert "已补全 4 件" in capsys.readouterr().out
    for c in cases[:4]:
        c.refresh_from_db()
        assert c.address and c.address == geocoder.reverse(c.lon, c.lat)["address"]
        assert c.address.startswith("长江路")
    assert Case.objects.get(pk=cases[4].pk).address == "调度员写的地址"  # an address given is kept
    before = dict(Case.objects.values_list("pk", "address"))
    call_command("cases", "backfill-addresses")
    assert "已补全 0 件" in capsys.readouterr().out
    assert dict(Case.objects.values_list("pk", "address")) == before


def test_address_is_shown_everywhere(demo_city, tmp_path):
    from urbangrid.ops.export import export_all

    case = _cases(1)[0]
    assert case.address.startswith("长江路318号")
    c = login_client(Client(), "intake_operator")
    assert case.address in c.get(f"/cases/{case.number}/").content.decode()
    listing = c.get("/cases/", {"q": case.number}).content.decode()
    assert case.number in listing and case.address[:20] in listing
    items = c.get("/api/v1/cases", {"q": case.number}).json()["items"]
    assert [i["address"] for i in items] == [case.address]
    export_all(tmp_path / "out")
    rows = [json.loads(line) for line in (tmp_path / "out" / "data" / "cases.Case.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["address"] for r in rows if r["number"] == case.number] == [case.address]
    got = Client().get(f"/open311/v2/requests/{case.number}.json").json()[0]
    assert got["address"] == case.address
