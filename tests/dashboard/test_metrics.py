"""Leaders' dashboard: every KPI on small hand-made case sets, period boundaries in Asia/Shanghai,
zero denominators, filters, trends, rankings, the map rows, permissions and data.json."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from urbangrid.cases import services
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.catalog.models import CatalogClass
from urbangrid.dashboard import metrics
from urbangrid.grids.models import Region
from urbangrid.org.models import Unit
from urbangrid.org.scope import actor_for
from tests.ug_testing import login_client

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
# March 2025 in Beijing time: [2025-02-28 16:00 UTC, 2025-03-31 16:00 UTC).
MARCH = metrics.Filters(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31))


def bj(*args):
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def make(demo_city):
    inspector = actor_for(get_user_model().objects.get(username="inspector"))
    classes = {code: CatalogClass.objects.get(version__code="local-demo", code=code) for code in ("0401", "0201")}
    made = []

    def _make(created, *, code="0401", source="inspector", events=(), **fields):
        case, _ = services.report(inspector, catalog_class=classes[code], lon=117.2352, lat=31.8785, description="测试",
                                  source=source, at=created, require_photos=False)
        seq = case.version
        for action, at in events:
            seq += 1
            CaseEvent.objects.create(case=case, seq=seq, action=action, from_state="", to_state="handling", at=at)
        if fields or events:
            Case.objects.filter(pk=case.pk).update(version=seq, **fields)
        case.refresh_from_db()
        made.append(case)
        return case

    return _make


@pytest.fixture
def march(make):
    """A March 2025 case set built around the period's edges."""
    closed = dict(state="closed", stage="", stage_deadline=None, stage_yellow_at=None)
    c = {}
    c["before"] = make(datetime(2025, 2, 28, 15, 59, 59, tzinfo=UTC))        # 02-28 23:59:59 local: out
    c["first"] = make(datetime(2025, 2, 28, 16, 0, tzinfo=UTC), code="0201")  # 03-01 00:00 local: in
    c["last"] = make(datetime(2025, 3, 31, 15, 59, 59, tzinfo=UTC),           # 03-31 23:59:59 local: in
                     events=[("file", bj(2025, 4, 1, 9)), ("dispatch", bj(2025, 4, 1, 10))])  # filed after: not counted
    c["after"] = make(datetime(2025, 3, 31, 16, 0, tzinfo=UTC))               # 04-01 00:00 local: out
    # Closures in March: on time, late, on time after a rework; a reopened case (closed_at kept) is not closed.
    c["ontime"] = make(bj(2025, 2, 20, 10), code="0201",
                       events=[("file", bj(2025, 3, 1, 0, 0)), ("dispatch", bj(2025, 3, 2, 9)), ("dispatch", bj(2025, 3, 3, 9))],
                       closed_at=bj(2025, 3, 5, 10), archive_type="normal", **closed)
    c["late"] = make(bj(2025, 3, 10, 10), events=[("file", bj(2025, 3, 10, 11)), ("file", bj(2025, 2, 27, 11))],
                     closed_at=bj(2025, 3, 31, 23, 59), archive_type="overdue", **closed)
    c["rework"] = make(bj(2025, 3, 12, 10), source="hotline_12345", events=[("dispatch", bj(2025, 3, 31, 23, 59, 59))],
                       closed_at=bj(2025, 3, 20, 10), archive_type="normal", rework_count=2, **closed)
    c["reopened"] = make(bj(2025, 3, 13, 10), state="pending_dispatch", closed_at=bj(2025, 3, 14, 10), archive_type="normal")
    c["closed_april"] = make(bj(2025, 3, 14, 10), closed_at=bj(2025, 4, 1, 0, 0), archive_type="normal", **closed)
    return c


def test_kpis_count_the_period_in_beijing_time(march):
    k = metrics.kpis(None, MARCH)
    # first, last, late, rework, reopened, closed_april were reported in March (local time).
    assert k["received"] == 6
    # file events in March: ontime's (03-01 00:00), late's (03-10); late's February file event and last's April one are out.
    assert k["filed"] == 2
    # ontime was dispatched twice in March (counts once), rework at 03-31 23:59:59.
    assert k["dispatched"] == 2
    assert k["closed"] == 3  # ontime, late, rework; not the reopened one, not the one closed at 04-01 00:00
    assert k["ontime"] == 2 and k["ontime_rate"] == pytest.approx(2 / 3, abs=1e-4)
    assert k["rework"] == 1 and k["rework_rate"] == pytest.approx(1 / 3, abs=1e-4)


def test_zero_denominators_give_none_not_zero(march):
    empty = metrics.Filters(date_from=date(2024, 6, 1), date_to=date(2024, 6, 30))
    k = metrics.kpis(None, empty)
    assert (k["received"], k["filed"], k["dispatched"], k["closed"]) == (0, 0, 0, 0)
    assert k["ontime_rate"] is None and k["rework_rate"] is None
    # A day with receipts but no closures: rates still None.
    day = metrics.Filters(date_from=date(2025, 3, 1), date_to=date(2025, 3, 1))
    k = metrics.kpis(None, day)
    assert k["received"] == 1 and k["closed"] == 0 and k["ontime_rate"] is None
    assert k["filed"] == 1  # ontime's file event at exactly 03-01 00:00 local


def test_one_day_period_edges(march):
    assert metrics.kpis(None, metrics.Filters(date_from=date(2025, 2, 28), date_to=date(2025, 2, 28)))["received"] == 1
    assert metrics.kpis(None, metrics.Filters(date_from=date(2025, 3, 31), date_to=date(2025, 3, 31)))["received"] == 1
    april1 = metrics.kpis(None, metrics.Filters(date_from=date(2025, 4, 1), date_to=date(2025, 4, 1)))
    assert april1["received"] == 1 and april1["closed"] == 1 and april1["filed"] == 1 and april1["dispatched"] == 1


def test_filters_by_source_class_and_district(march):
    f = metrics.Filters(date_from=MARCH.date_from, date_to=MARCH.date_to, source="hotline_12345")
    k = metrics.kpis(None, f)
    assert (k["received"], k["closed"], k["dispatched"], k["rework"]) == (1, 1, 1, 1)
    f = metrics.Filters(date_from=MARCH.date_from, date_to=MARCH.date_to, class_code="0201", catalog_version="local-demo")
    k = metrics.kpis(None, f)
    assert (k["received"], k["closed"], k["filed"]) == (1, 1, 1)
    other = Region.objects.filter(level="district").exclude(pk=march["late"].district_id).order_by("code").first()
    Case.objects.filter(pk=march["late"].pk).update(district=other)
    k = metrics.kpis(None, metrics.Filters(date_from=MARCH.date_from, date_to=MARCH.date_to, district=other.code))
    assert (k["received"], k["closed"], k["filed"], k["ontime_rate"]) == (1, 1, 1, 0.0)
    k = metrics.kpis(None, metrics.Filters(date_from=MARCH.date_from, date_to=MARCH.date_to, district=march["first"].district.code))
    assert k["received"] == 5


def test_overdue_now_counts_open_red_cases(make):
    now = timezone.now()
    f = metrics.Filters(date_from=date(2020, 1, 1), date_to=date(2020, 1, 1), source="video")
    base = dict(state="handling", stage="handle")
    make(now - timedelta(days=3), source="video", stage_deadline=now - timedelta(hours=1), stage_yellow_at=now - timedelta(hours=5), **base)
    make(now - timedelta(days=1), source="video", stage_deadline=now + timedelta(hours=1), stage_yellow_at=now - timedelta(hours=1), **base)
    make(now - timedelta(days=1), source="video", stage_deadline=now + timedelta(days=1), stage_yellow_at=now + timedelta(hours=5), **base)
    # Suspended after its deadline had passed: red at its pause.
    make(now - timedelta(days=9), source="video", stage_deadline=now - timedelta(days=5), stage_yellow_at=now - timedelta(days=6),
         stage_paused_at=now - timedelta(days=4), state="suspended", stage="handle")
    # Suspended in time: keeps its (green) light.
    make(now - timedelta(days=9), source="video", stage_deadline=now - timedelta(days=1), stage_yellow_at=now - timedelta(days=2),
         stage_paused_at=now - timedelta(days=6), state="suspended", stage="handle")
    # Closed long after its deadline: not open, not counted.
    make(now - timedelta(days=9), source="video", state="closed", stage_deadline=now - timedelta(days=5), closed_at=now - timedelta(days=1))
    k = metrics.kpis(None, f, now)
    assert (k["open"], k["overdue"], k["yellow"]) == (5, 2, 1)
    m = metrics.open_case_map(None, f, now)
    assert m["total"] == 5 and not m["truncated"]
    assert sorted(r[2] for r in m["cases"]) == ["green", "green", "red", "red", "yellow"]
    lon, lat, light, number = m["cases"][0]
    assert isinstance(lon, float) and isinstance(lat, float) and Case.objects.filter(number=number).exists()
    assert sum(m["grid_open"].values()) == 5
    assert metrics.open_case_map(None, f, now, limit=2)["truncated"]


def test_trend_buckets_days_weeks_months(march):
    t = metrics.trend(None, MARCH)
    assert t["grain"] == "day" and len(t["labels"]) == 31 and t["labels"][0] == "2025-03-01"
    assert t["received"][0] == 1 and t["received"][-1] == 1 and sum(t["received"]) == 6
    assert t["closed"][4] == 1 and t["closed"][-1] == 1 and sum(t["closed"]) == 3
    weeks = metrics.Filters(date_from=MARCH.date_from, date_to=MARCH.date_to, grain="week")
    t = metrics.trend(None, weeks)
    assert t["labels"][0] == "2025-02-24" and all(date.fromisoformat(d).weekday() == 0 for d in t["labels"])
    assert sum(t["received"]) == 6 and sum(t["closed"]) == 3
    year = metrics.Filters(date_from=date(2025, 1, 1), date_to=date(2025, 12, 31))
    t = metrics.trend(None, year)
    assert t["grain"] == "month" and len(t["labels"]) == 12
    assert t["received"][1] == 2 and t["received"][2] == 6 and t["received"][3] == 1  # Feb: before + ontime
    assert t["closed"][2] == 3 and t["closed"][3] == 1


def test_top_classes_and_rankings(march):
    top = metrics.top_classes(None, MARCH)
    assert top[0] == {"code": "0401", "version": "local-demo", "name": CatalogClass.objects.get(version__code="local-demo", code="0401").name,
                      "n": 5}
    assert top[1]["code"] == "0201" and top[1]["n"] == 1
    r = metrics.rankings(None, MARCH)
    assert set(r) == {"grid", "unit", "district"}
    (district,) = r["district"]
    assert (district["received"], district["closed"], district["ontime"]) == (6, 3, 2)
    assert district["ontime_rate"] == pytest.approx(0.6667, abs=1e-4)
    assert sum(g["received"] for g in r["grid"]) == 6
    unit = Unit.objects.order_by("code").first()
    Case.objects.filter(pk=march["late"].pk).update(current_unit=unit)
    units = {u["code"]: u for u in metrics.rankings(None, MARCH)["unit"]}
    assert units[unit.code]["closed"] == 1 and units[unit.code]["ontime_rate"] == 0.0


def test_parse_filters_presets_and_bad_input():
    on = date(2026, 11, 27)
    f = metrics.parse_filters({}, on)
    assert (f.preset, f.date_from, f.date_to) == ("month", date(2026, 11, 1), on)
    f = metrics.parse_filters({"period": "30d"}, on)
    assert (f.date_from, f.date_to, f.days) == (date(2026, 10, 29), on, 30)
    f = metrics.parse_filters({"period": "year"}, on)
    assert (f.date_from, f.trend_grain) == (date(2026, 1, 1), "month")
    f = metrics.parse_filters({"period": "custom", "from": "2025-03-31", "to": "2025-03-01", "class": "0201@local-demo",
                               "source": "video", "district": "349902"}, on)
    assert (f.date_from, f.date_to) == (date(2025, 3, 1), date(2025, 3, 31))
    assert (f.class_code, f.catalog_version, f.source, f.district, f.errors) == ("0201", "local-demo", "video", "349902", [])
    assert f.start == datetime(2025, 2, 28, 16, 0, tzinfo=UTC) and f.end == datetime(2025, 3, 31, 16, 0, tzinfo=UTC)
    f = metrics.parse_filters({"period": "custom", "from": "nope", "source": "x", "class": "a'b", "district": "1;2"}, on)
    assert f.preset == "month" and f.source == "" and f.class_code == "" and f.district == ""
    assert set(f.errors) == {"period", "source", "class", "district"}


# ---- views ----

def test_page_permissions(client, demo_city):
    assert client.get("/dashboard/").status_code == 302  # to the login page
    assert client.get("/dashboard/data.json").status_code == 401
    login_client(client, "inspector")
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/data.json").status_code == 403
    login_client(client, "leader")
    r = client.get("/dashboard/")
    assert r.status_code == 200
    html = r.content.decode()
    for key in ("received", "filed", "dispatched", "closed", "ontime_rate", "rework_rate", "overdue"):
        assert f'data-kpi="{key}"' in html
    assert 'id="dash-map"' in html and 'data-ready="0"' in html and "/dashboard/data.json?period=month" in html
    login_client(client, "admin")
    assert client.get("/dashboard/").status_code == 200


def test_tiles_link_to_the_case_list(client, march):
    login_client(client, "leader")
    html = client.get("/dashboard/?period=custom&from=2025-03-01&to=2025-03-31&source=hotline_12345").content.decode()
    assert 'href="/cases/?source=hotline_12345&amp;kpi=received&amp;date_from=2025-03-01&amp;date_to=2025-03-31"' in html
    assert "kpi=closed" in html and "kpi=overdue" in html and "kpi=ontime" in html and "kpi=rework" in html
    assert "100.0%" in html  # the hotline case closed on time (after a rework: rework rate 100 %)
    html = client.get("/dashboard/?period=custom&from=2024-06-01&to=2024-06-30").content.decode()
    assert "—" in html  # zero denominators


def test_data_json_schema(client, march):
    login_client(client, "leader")
    r = client.get("/dashboard/data.json?period=custom&from=2025-03-01&to=2025-03-31")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/json")
    d = r.json()
    assert set(d) == {"period", "kpi", "trend", "top_classes", "rankings", "map", "generated_at", "errors"}
    assert d["period"]["from"] == "2025-03-01" and d["period"]["grain"] == "day"
    assert set(d["kpi"]) == {"received", "filed", "dispatched", "closed", "ontime", "ontime_rate", "rework", "rework_rate",
                             "open", "overdue", "yellow"}
    assert d["kpi"]["received"] == 6 and d["kpi"]["closed"] == 3
    assert len(d["trend"]["labels"]) == len(d["trend"]["received"]) == len(d["trend"]["closed"]) == 31
    assert all(set(c) == {"code", "version", "name", "n"} for c in d["top_classes"])
    for rows in d["rankings"].values():
        assert all(set(row) == {"code", "name", "received", "closed", "ontime", "ontime_rate"} for row in rows)
    assert set(d["map"]) == {"cases", "total", "truncated", "grid_open", "heat"}
    assert all(len(row) == 4 for row in d["map"]["cases"]) and all(len(p) == 3 for p in d["map"]["heat"])
    # All six March cases were reported at one point: one heat cell weighing 6.
    assert d["map"]["heat"] == [[117.235, 31.879, 6]]
    assert client.get("/dashboard/data.json?source=bogus").json()["errors"] == ["source"]


def test_data_json_query_count_is_bounded(client, march, django_assert_max_num_queries):
    login_client(client, "leader")
    client.get("/dashboard/data.json")  # warm caches (session, calendar)
    with django_assert_max_num_queries(20):
        r = client.get("/dashboard/data.json?period=year&district=349902&class=0401@local-demo&source=inspector")
    assert r.status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get("/dashboard/data.json?period=custom&from=2025-01-01&to=2025-12-31").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/dashboard/").status_code == 200


def test_tile_links_lead_to_exactly_the_cases_behind_them(demo_city, client):
    """Every KPI tile's number equals the number of cases its link lists (drill-down)."""
    import re
    from html import unescape

    from urbangrid.cases.models import Case
    from ug_testing import login_client

    if not Case.objects.exists():
        from django.contrib.auth import get_user_model

        from urbangrid.cases import services
        from urbangrid.catalog.models import CatalogClass
        from urbangrid.org.scope import actor_for

        a = {n: actor_for(get_user_model().objects.get(username=n)) for n in ("inspector", "intake_operator", "shift_lead")}
        cls = CatalogClass.objects.get(version__code="local-demo", code="0201")
        for _ in range(3):
            case, _c = services.report(a["inspector"], catalog_class=cls, lon=117.2352, lat=31.8785, description="x",
                                       source="inspector", require_photos=False)
            services.transition(a["intake_operator"], case.number, "accept")
    login_client(client, "leader")
    page = client.get("/dashboard/").content.decode()
    tiles = re.findall(r'href="([^"]+)" data-kpi="(\w+)" data-count="(\d+)"', page)
    checked = 0
    for href, key, value in tiles:
        listing = client.get(unescape(href) + "&limit=500")
        assert listing.status_code == 200, href
        total = re.search(r'data-total="(\d+)"', listing.content.decode())
        assert total, "the work list states its total"
        assert int(total.group(1)) == int(value), (key, href, value, total.group(1))
        checked += 1
    assert checked == 7
