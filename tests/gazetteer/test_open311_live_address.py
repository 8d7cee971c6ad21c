"""Open311 POST with only ``address_string`` over real HTTP with the specification-only client: located through
the gazetteer when confident (the case in the grid of that point), else a case 待定位 with no point yet."""
import math

import pytest

from urbangrid.cases.models import Case
from urbangrid.gazetteer.models import Doorplate, Intersection
from urbangrid.grids.locator import locator


def _spec_client():
    """The specification-only GeoReport client of tests/open311/test_open311_live.py (that folder is no package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "open311" / "test_open311_live.py"
    spec = importlib.util.spec_from_file_location("_open311_spec_client", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.GeoReportClient, module.GeoReportError


GeoReportClient, GeoReportError = _spec_client()

SERVICE = "local-demo-2026:event:21001"


def metres(a, b):
    kx = 111_320.0 * math.cos(math.radians(a[1]))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 110_574.0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_address_only_post_over_http(live_server, city, fmt):
    client = GeoReportClient(f"{live_server.url}/open311/v2", fmt, api_key=city)
    service = client.services()[0]["service_code"]
    door = Doorplate.objects.get(road__name="黄山路", number=121, suffix="")
    created = client.create(service_code=service, address_string="中山区黄山西路１２１号附近", description="路灯不亮")
    got = client.request(created["service_request_id"])
    assert metres((float(got["long"]), float(got["lat"])), (door.lon, door.lat)) < 1
    assert got["address"] == "中山区黄山西路１２１号附近"
    case = Case.objects.get(number=created["service_request_id"])
    grid = locator.find_unit_grid(door.lon, door.lat)
    assert case.unit_grid.code == grid[1] and case.responsibility_grid.code == grid[3]
    x = Intersection.objects.get(road_a__name__in=["淮河路", "芜湖路"], road_b__name__in=["淮河路", "芜湖路"])
    created = client.create(service_code=service, address_string="淮河路与芜湖路交叉口东北角", description="井盖缺失")
    case = Case.objects.get(number=created["service_request_id"])
    assert (case.lon, case.lat) == (x.lon, x.lat)
    for text in ("幸福路88号", "长江路9999号", "长江路与黄山路交叉口"):
        created = client.create(service_code=service, address_string=text, description="x")
        got = client.request(created["service_request_id"])
        assert got["status"] == "open" and got["address"] == text and not got.get("lat") and not got.get("long")
        assert Case.objects.get(number=created["service_request_id"]).state == "unlocated"
    with pytest.raises(GeoReportError) as refused:
        client.create(service_code=service, address_string="长江路" * 100, description="x")
    assert refused.value.status == 400 and "address_string" in refused.value.errors[0]["description"]
    assert Case.objects.filter(source="open311").count() == 5
