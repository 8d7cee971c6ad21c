"""Leaders' dashboard: every KPI on small case sets written by the case service at chosen instants, period
boundaries in Asia/Shanghai, zero denominators, filters, trends, rankings, the map rows, permissions and data.json."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model

from tests.assessment.eval_helpers import SECOND, Log
from tests.ug_testing import login_client
from urbangrid.cases import services
from urbangrid.cases.models import Case
from urbangrid.cases.states import Satisfaction
from urbangrid.cases.workflow import Action
from urbangrid.catalog.models import CatalogClass
from urbangrid.dashboard import metrics
from urbangrid.grids.models import UnitGrid
from urbangrid.org.models import RoleAssignment, Unit
from urbangrid.org.scope import actor_for

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
# March 2025 in Beijing time: [2025-02-28 16:00 UTC, 2025-03-31 16:00 UTC).
MARCH = metrics.Filters(date_from=date(2025, 3, 1), date_to=date(2025, 3, 31))


def bj(*args):
    return datetime(*args, tzinfo=TZ)


LON, LAT = 117.2352, 31.8785  # a point in unit grid WG01 patrolled by the demo's "inspector"


class Loop(Log):
    """The case loop driven at chosen instants (``tests/assessment/eval_helpers.Log``): cases at one point of
    WG01 reported by the demo's "inspector" (other channels registered at the centre's intake desk), every later
    step by the post the table row asks for."""

    def __init__(self):
        super().__init__()
        users = get_user_model().objects
        self.reporters = {"inspector": actor_for(users.get(username="inspector")),
                          "desk": actor_for(users.get(username="intake_operator"))}
        self.classes = {code: CatalogClass.objects.get(version__code="local-demo", code=code) for code in ("0401", "0201")}
        self.units = {u.code: u for u in Unit.objects.filter(code__in=("CGJ-SZ", "CGJ-GG"))}

    def report(self, at, code="0401", source="inspector"):
        reporter = self.reporters["inspector" if source == "inspector" else "desk"]
        case, created = services.report(reporter, catalog_class=self.classes[code], lon=LON, lat=LAT, description="测试",
                                        source=source, at=at, require_photos=False)
        assert created
        return case

    def accepted_filed(self, case, accept, file):
        self.ev(case, "accept", accept)
        self.ev(case, "file", file)  # 0201 is dispatched automatically (to CGJ-GG) in the same instant

    def dispatched(self, at, code="0401", source="inspector", unit="CGJ-SZ"):
        """Reported, accepted and filed in the three seconds before ``at`` and dispatched at ``at`` (the
        class 0401's responsibility rule gives CGJ-SZ 2 working hours, yellow at 80 % of them)."""
        case = self.report(at - 3 * SECOND, code=code, source=source)
        self.accepted_filed(case, at - 2 * SECOND, at - SECOND)
        self.dispatch(case, at, self.units.get(unit) or unit)
        return case

    def far_grid(self, case):
        """A unit grid of another district than ``case``'s, with an inspector patrolling it."""
        return next(g for g in UnitGrid.objects.select_related("community__parent").order_by("code")
                    if g.community.parent.parent_id != case.district_id and self.inspector_of(g) is not None)

    def other_unit(self):
        """A city-level unit with a 处置人员 of its own that no other case of the set goes to."""
        handled = RoleAssignment.objects.filter(role="unit_handler").values_list("unit_id", flat=True)
        return (Unit.objects.filter(active=True, command_level=Unit.CommandLevel.CITY, pk__in=handled)
                .exclude(code__in=("CGJ-SZ", "CGJ-GG")).order_by("code").first())

    @staticmethod
    def get(case):
        return Case.objects.get(pk=case.pk)


@pytest.fixture
def loop(demo_city):
    return Loop()


@pytest.fixture
def march(loop):
    """A March 2025 case set built around the period's edges, every case and event written by the case loop.

    The demo's working calendar is 08:30–12:00 and 14:00–17:30 on working days; accepting, filing and
    dispatching have 1 working hour each, sending to check 1, checking 0.5, closing 1; class 0401 is handled
    by CGJ-SZ within 2 working hours (manual dispatch), 0201 by CGJ-GG within 1 working day (dispatched
    automatically when filed). A case closes on time (archive type normal) only if every one of its clocks
    stopped on time, so the on-time cases run their whole loop within those limits.
    """
    lp = loop
    sz, gg = lp.units["CGJ-SZ"], lp.units["CGJ-GG"]
    c = {}
    c["before"] = lp.report(datetime(2025, 2, 28, 15, 59, 59, tzinfo=UTC))      # 02-28 23:59:59 local: out
    c["first"] = lp.report(datetime(2025, 2, 28, 16, 0, tzinfo=UTC), code="0201")  # 03-01 00:00 local: in
    # Filed (and, class 0201, dispatched automatically) at 03-31 23:59:59: the last second of March, its only
    # filing and dispatch of the month.
    lp.accepted_filed(c["first"], bj(2025, 3, 3, 9), bj(2025, 3, 31, 23, 59, 59))
    c["last"] = lp.report(datetime(2025, 3, 31, 15, 59, 59, tzinfo=UTC))       # 03-31 23:59:59 local: in
    lp.accepted_filed(c["last"], bj(2025, 4, 1, 8, 50), bj(2025, 4, 1, 9))     # filed after: not counted in March
    lp.dispatch(c["last"], bj(2025, 4, 1, 10), sz)
    c["after"] = lp.report(datetime(2025, 3, 31, 16, 0, tzinfo=UTC))            # 04-01 00:00 local: out

    # Closed in March on time, after being dispatched twice in March (a return between): reported on Friday
    # 02-28 17:20 (the filing at Saturday 03-01 00:00 must fall within the filing clock's working hour), filed
    # at 03-01 00:00 and dispatched automatically, returned by CGJ-GG on Monday, dispatched again on Tuesday.
    c["ontime"] = ontime = lp.report(bj(2025, 2, 28, 17, 20), code="0201")
    lp.accepted_filed(ontime, bj(2025, 2, 28, 17, 25), bj(2025, 3, 1, 0, 0))
    lp.ev(ontime, "request_return", bj(2025, 3, 3, 16, 50))
    lp.ev(ontime, "approve_return", bj(2025, 3, 3, 17, 0))
    lp.dispatch(ontime, bj(2025, 3, 4, 8, 55), gg)
    lp.feed_back(ontime, bj(2025, 3, 5, 8, 50))
    lp.check(ontime, bj(2025, 3, 5, 9, 20), sent=bj(2025, 3, 5, 9, 10))
    lp.ev(ontime, "close", bj(2025, 3, 5, 10))

    # Closed late at 03-31 23:59 (local), in another district and by another unit (for the filters and rankings).
    c["late"] = late = lp.case(bj(2025, 3, 10, 10), grid=lp.far_grid(c["first"]), cls=lp.classes["0401"])
    lp.accepted_filed(late, bj(2025, 3, 10, 10, 30), bj(2025, 3, 10, 11))
    lp.dispatch(late, bj(2025, 3, 10, 11, 10), lp.other_unit())
    lp.feed_back(late, bj(2025, 3, 31, 23))  # its 2 working hours ran out on 03-10
    lp.close(late, bj(2025, 3, 31, 23, 59))

    # A 12345 hotline case closed on time after two reworks, all within the clocks' limits on 03-20 (reported on
    # 03-20, not 03-12 as in the hand-made set: with 2 working hours to handle, a case that closes on time runs
    # its whole loop within a morning; nor is it dispatched again after its closure: first holds that edge now).
    c["rework"] = rework = lp.dispatched(bj(2025, 3, 20, 8, 38), source="hotline_12345")
    lp.feed_back(rework, bj(2025, 3, 20, 8, 50))
    lp.check(rework, bj(2025, 3, 20, 8, 54), passed=False, sent=bj(2025, 3, 20, 8, 52))
    lp.feed_back(rework, bj(2025, 3, 20, 9, 5))
    lp.check(rework, bj(2025, 3, 20, 9, 9), passed=False, sent=bj(2025, 3, 20, 9, 7))
    lp.feed_back(rework, bj(2025, 3, 20, 9, 20))
    lp.close(rework, bj(2025, 3, 20, 10))

    # Closed in March, then the citizen was dissatisfied at the callback and the case was reopened (back to
    # pending dispatch; the reopening clears closed_at and the archive type): not closed.
    c["reopened"] = reopened = lp.dispatched(bj(2025, 3, 13, 10, 15))
    lp.feed_back(reopened, bj(2025, 3, 13, 11))
    lp.close(reopened, bj(2025, 3, 13, 11, 40))
    lp.ev(reopened, Action.CALLBACK, bj(2025, 3, 14, 9), satisfaction=Satisfaction.DISSATISFIED)
    lp.ev(reopened, Action.REOPEN, bj(2025, 3, 14, 9, 10))

    # Reported and dispatched in March, closed at 04-01 00:00 local: closed in April.
    c["closed_april"] = closed_april = lp.dispatched(bj(2025, 3, 14, 10, 15))
    lp.feed_back(closed_april, bj(2025, 3, 31, 17))
    lp.close(closed_april, bj(2025, 4, 1, 0, 0))

    c = {k: lp.get(v) for k, v in c.items()}
    # What the loop made of them (the figures below rest on it).
    assert c["ontime"].state == "closed" and c["ontime"].archive_type == "normal"
    assert c["rework"].state == "closed" and c["rework"].archive_type == "normal" and c["rework"].rework_count == 2
    assert c["late"].state == "closed" and c["late"].archive_type == "overdue"
    assert c["late"].district_id != c["first"].district_id
    assert c["reopened"].state == "pending_dispatch" and c["reopened"].closed_at is None
    assert c["closed_april"].state == "closed" and c["closed_april"].closed_at == bj(2025, 4, 1)
    assert c["first"].state == "handling" and c["ontime"].current_unit_id == gg.pk
    return c


def test_kpis_count_the_period_in_beijing_time(march):
    k = metrics.kpis(None, MARCH)
    # first, last, late, rework, reopened, closed_april were reported in March (local time).
    assert k["received"] == 6
    # The live loop files every case before it is dispatched, so every March case dispatched in March was filed
    # in March too. File events in March: ontime's (03-01 00:00), first's (03-31 23:59:59), late's, rework's,
    # reopened's, closed_april's = 6; last's (04-01 09:00) is out.
    assert k["filed"] == 6
    # Dispatched in March: ontime (03-01 00:00 automatically and again 03-04 after a return: counts once), first
    # (only at 03-31 23:59:59), late, rework, reopened (once before its closure), closed_april = 6; last's
    # dispatch (04-01 10:00) is out.
    assert k["dispatched"] == 6
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
    # 02-28: before (23:59:59) and ontime (17:20: its filing at 03-01 00:00 must fall within the filing clock's
    # working hour, so it is reported on the last working afternoon of February); first (03-01 00:00) is out.
    assert metrics.kpis(None, metrics.Filters(date_from=date(2025, 2, 28), date_to=date(2025, 2, 28)))["received"] == 2
    assert metrics.kpis(None, metrics.Filters(date_from=date(2025, 3, 31), date_to=date(2025, 3, 31)))["received"] == 1
    april1 = metrics.kpis(None, metrics.Filters(date_from=date(2025, 4, 1), date_to=date(2025, 4, 1)))
    assert april1["received"] == 1 and april1["closed"] == 1 and april1["filed"] == 1 and april1["dispatched"] == 1


def test_filters_by_source_class_and_district(march):
    f = metrics.Filters(date_from=MARCH.date_from, date_to=MARCH.date_to, source="hotline_12345")
    k = metrics.kpis(None, f)
    assert (k["received"], k["closed"], k["dispatched"], k["rework"]) == (1, 1, 1, 1)
    f = metrics.Filters(date_from=MARCH.date_from, date_to=MARCH.date_to, class_code="0201", catalog_version="local-demo")
    k = metrics.kpis(None, f)
    # Class 0201: first (received), ontime (closed); both filed in March (ontime at 03-01 00:00, first at 03-31
    # 23:59:59, which the live loop needs before first's dispatch).
    assert (k["received"], k["closed"], k["filed"]) == (1, 1, 2)
    # late was reported in a unit grid of another district.
    other = march["late"].district
    assert other != march["first"].district
    k = metrics.kpis(None, metrics.Filters(date_from=MARCH.date_from, date_to=MARCH.date_to, district=other.code))
    assert (k["received"], k["closed"], k["filed"], k["ontime_rate"]) == (1, 1, 1, 0.0)
    k = metrics.kpis(None, metrics.Filters(date_from=MARCH.date_from, date_to=MARCH.date_to, district=march["first"].district.code))
    assert k["received"] == 5


def test_overdue_now_counts_open_red_cases(loop):
    # Lights at a chosen moment, Tuesday 2025-03-11 16:00, of video cases dispatched to CGJ-SZ (2 working hours,
    # yellow once less than 20 % of them, 24 minutes, is left); the deadlines are the engine's.
    now = bj(2025, 3, 11, 16)
    f = metrics.Filters(date_from=date(2020, 1, 1), date_to=date(2020, 1, 1), source="video")
    loop.dispatched(bj(2025, 3, 11, 9), source="video")  # due 11:00: red
    loop.dispatched(bj(2025, 3, 11, 14, 20), source="video")  # due 16:20, yellow from 15:56: yellow
    loop.dispatched(bj(2025, 3, 11, 15, 50), source="video")  # due 17:50 → 03-12 08:50: green
    # Suspended after its deadline had passed: red at its pause.
    late = loop.dispatched(bj(2025, 3, 10, 9), source="video")  # due 03-10 11:00
    loop.ev(late, Action.REQUEST_SUSPENSION, bj(2025, 3, 10, 10, 50))
    loop.ev(late, Action.APPROVE_SUSPENSION, bj(2025, 3, 10, 14, 30))
    # Suspended in time (before its yellow instant 10:36): keeps its (green) light.
    paused = loop.dispatched(bj(2025, 3, 10, 9), source="video")
    loop.ev(paused, Action.REQUEST_SUSPENSION, bj(2025, 3, 10, 9, 10))
    loop.ev(paused, Action.APPROVE_SUSPENSION, bj(2025, 3, 10, 9, 20))
    # Closed long after its deadline: not open, not counted.
    closed = loop.dispatched(bj(2025, 3, 10, 9), source="video")
    loop.feed_back(closed, bj(2025, 3, 10, 15))
    loop.close(closed, bj(2025, 3, 10, 16))
    assert [loop.get(x).state for x in (late, paused, closed)] == ["suspended", "suspended", "closed"]
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
    # Two districts: late's (1 received, closed late) and everyone else's (5 received, ontime and rework closed
    # on time); together 6 received, 3 closed, 2 on time as before.
    districts = {d["code"]: d for d in r["district"]}
    assert set(districts) == {march["first"].district.code, march["late"].district.code}
    main, far = districts[march["first"].district.code], districts[march["late"].district.code]
    assert (main["received"], main["closed"], main["ontime"], main["ontime_rate"]) == (5, 2, 2, 1.0)
    assert (far["received"], far["closed"], far["ontime"], far["ontime_rate"]) == (1, 1, 0, 0.0)
    assert sum(g["received"] for g in r["grid"]) == 6
    # late was dispatched to a unit no other case went to.
    unit = march["late"].current_unit
    units = {u["code"]: u for u in r["unit"]}
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
    # Five March cases were reported at one point, late at a place in another district: two heat cells.
    heat = d["map"]["heat"]
    assert heat[0] == [117.235, 31.879, 5] and len(heat) == 2 and heat[1][2] == 1
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
