"""The province's pages: who may open them, what they show in Chinese and English, the drill-down's filters, the
JSON and the workbook, and a number of queries that does not grow with the cities or their cases."""
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from urbangrid.province import pages, wire
from urbangrid.province.models import ProvinceCity

from exchange.province_node import KEY
from exchange.test_province_receive import _batch

from .conftest import at, summary

pytestmark = pytest.mark.django_db
MARCH = "period=month&date=2026-03-15"
PAGES = ["/province/", f"/province/?{MARCH}", "/province/evaluation/", f"/province/evaluation/?{MARCH}",
         "/province/evaluation.xlsx", "/province/cities/340100/cases/", "/province/cities/340100/cases/HF-A1/"]


def _client(client, user, lang="zh-hans"):
    client.force_login(user)
    client.cookies["django_language"] = lang
    return client


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_goes_to_the_login_page_and_city_staff_are_refused(client, cities, city_leader, url):
    r = client.get(url)
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/?next=")
    client.force_login(city_leader)
    assert client.get(url).status_code == 403


def test_the_json_answers_401_and_403_as_json(client, cities, city_leader):
    r = client.get("/province/evaluation.json")
    assert (r.status_code, r.json()["code"]) == (401, "login_required")
    client.force_login(city_leader)
    r = client.get("/province/evaluation.json")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")


@pytest.mark.parametrize("url", PAGES)
def test_a_province_user_and_a_superuser_open_every_page(client, cities, province_user, url):
    assert _client(client, province_user).get(url).status_code == 200
    admin = get_user_model().objects.create_superuser("root", password="x")
    client.force_login(admin)
    assert client.get(url).status_code == 200


def test_the_dashboard_in_chinese(client, cities, province_user):
    r = _client(client, province_user).get(f"/province/?{MARCH}")
    html = r.content.decode()
    assert "省级驾驶舱" in html and "按期结案率" in html and "同步延迟" in html
    row = re.search(r'<tr data-city="340100">.*?</tr>', html, re.S).group(0)
    assert 'data-cell="reported">6<' in row and 'data-cell="closed">3<' in row
    assert ">66.7%<" in row and ">60.0%<" in row and "64.00" in row and "grade-red" in row
    assert 'class="overdue">2<' in row  # overdue_open, linked to the drill-down
    # 合肥 sent 5 minutes ago: on time; 芜湖 3 hours ago and 蚌埠 never: red (threshold 60 minutes)
    assert 'data-late="1"' not in row
    assert re.search(r'<tr data-city="340200" data-late="1">', html)
    assert re.search(r'<tr data-city="340300" data-late="1">', html) and "从未接收" in html
    # the charts' data: one series per city, a point per day of March; the map: the two positioned cities
    chart = r.context["chart"]
    # the cities in their evaluation's order (best first, without a score last)
    assert len(chart["days"]) == 31 and [c["code"] for c in chart["cities"]] == ["340200", "340100", "340300"]
    assert re.findall(r'<tr data-city="(\d+)"', html) == ["340200", "340100", "340300"]
    hf = chart["cities"][1]
    assert hf["reported"][0] == 1  # A1, at 00:30 local on 1 March (the day before in UTC)
    assert sum(hf["reported"]) == 6 and sum(hf["closed"]) == 3
    assert sorted(p["code"] for p in r.context["points"]) == ["340100", "340200"]
    assert r.context["without_position"] == ["蚌埠市"]
    assert "vendor/echarts/echarts.min.js" in html and "vendor/leaflet/leaflet.js" in html and "cdn" not in html.lower()


def test_the_dashboard_and_the_evaluation_in_english(client, cities, province_user):
    c = _client(client, province_user, "en")
    html = c.get(f"/province/?{MARCH}").content.decode()
    assert "Province dashboard" in html and "On-time closure rate" in html and "Sync lag" in html
    assert "省级驾驶舱" not in html and "按期结案率" not in html
    html = c.get(f"/province/evaluation/?{MARCH}").content.decode()
    assert "Cities' evaluation and ranking" in html and "no data" in html
    assert "城市综合评价排名" not in html


def test_the_threshold_is_a_setting(client, cities, province_user, settings):
    settings.URBANGRID_PROVINCE_SYNC_LAG_MINUTES = 1
    html = _client(client, province_user).get(f"/province/?{MARCH}").content.decode()
    assert re.search(r'<tr data-city="340100" data-late="1">', html)
    settings.URBANGRID_PROVINCE_SYNC_LAG_MINUTES = 600
    html = client.get(f"/province/?{MARCH}").content.decode()
    assert not re.search(r'<tr data-city="340200" data-late="1">', html)


def test_the_evaluation_page_json_and_workbook_agree(client, cities, province_user):
    c = _client(client, province_user)
    html = c.get(f"/province/evaluation/?{MARCH}").content.decode()
    order = re.findall(r'<tr data-city="(\d+)">', html)
    assert order == ["340200", "340100", "340300"]
    assert "93.06" in html and "64.00" in html and "无数据" in html
    body = c.get(f"/province/evaluation.json?{MARCH}").json()
    assert body["period"] == {"kind": "month", "label": "2026-03", "first_day": "2026-03-01", "last_day": "2026-03-31"}
    assert [(r["code"], r["rank"], r["score"], r["grade"]) for r in body["cities"]] == [
        ("340200", 1, 93.06, "A"), ("340100", 2, 64.0, "D"), ("340300", None, None, "")]
    assert sum(i["weight"] for i in body["rule"]["indicators"]) == 100
    r = c.get(f"/province/evaluation.xlsx?{MARCH}")
    assert r["Content-Disposition"] == 'attachment; filename="province-evaluation-month-2026-03.xlsx"'
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("排名", "城市代码", "城市名称")
    assert rows[1][:3] == (1, "340200", "芜湖市") and rows[2][-2:] == (64.0, "D") and rows[3][-1] == "无数据"
    q = c.get("/province/evaluation.json?period=quarter&date=2026-02-01").json()
    assert q["period"]["label"] == "2026Q1"


@pytest.mark.parametrize("query, field", [("period=week", "period"), ("date=2026-02-30", "date"),
                                          ("period=year&date=abc", "date")])
def test_a_bad_period_is_422_with_the_field(client, cities, province_user, query, field):
    c = _client(client, province_user)
    r = c.get(f"/province/evaluation.json?{query}")
    assert r.status_code == 422 and field in r.json()["errors"]
    assert c.get(f"/province/evaluation/?{query}").status_code == 422
    assert c.get(f"/province/?{query}").status_code == 422
    assert c.get(f"/province/evaluation.xlsx?{query}").status_code == 422


def _numbers(r):
    return re.findall(r'<tr data-number="([^"]+)">', r.content.decode())


def test_the_drill_down_filters(client, cities, province_user):
    c = _client(client, province_user)
    url = "/province/cities/340100/cases/"
    assert _numbers(c.get(url)) == ["HF-A7", "HF-A6", "HF-A4", "HF-A3", "HF-A2", "HF-A1", "HF-A5"]
    assert _numbers(c.get(url + "?state=closed")) == ["HF-A4", "HF-A2", "HF-A1", "HF-A5"]
    assert _numbers(c.get(url + "?district=340103")) == ["HF-A2"]
    # overdue now (the test runs after April 2026): A3 and A7 in a handling state past their deadlines
    assert _numbers(c.get(url + "?overdue=1")) == ["HF-A7", "HF-A3"]
    assert _numbers(c.get(url + "?period=month&date=2026-02-10")) == ["HF-A5"]
    assert _numbers(c.get(url + "?period=month&date=2026-03-01&by=closed")) == ["HF-A4", "HF-A2", "HF-A1"]
    assert _numbers(c.get(url + "?period=month&date=2026-03-01&by=filed&state=handling")) == ["HF-A7", "HF-A3"]
    # the other city's cases are not there
    assert _numbers(c.get("/province/cities/340200/cases/?state=closed")) == ["WH-B3", "WH-B2", "WH-B1"]
    # the dashboard's links lead to the same figures
    html = c.get(f"/province/?{MARCH}").content.decode()
    link = re.search(r'<a href="([^"]+)" data-cell="closed">3<', html).group(1).replace("&amp;", "&")
    assert len(_numbers(c.get(link))) == 3


@pytest.mark.parametrize("query, field", [("state=nope", "state"), ("district=34'01", "district"),
                                          ("date=2026-03-01", "period"), ("period=month&date=x", "date"),
                                          ("by=moon&period=month", "by"), ("page=0", "page")])
def test_bad_drill_down_filters_are_422_with_the_field(client, cities, province_user, query, field):
    r = _client(client, province_user).get(f"/province/cities/340100/cases/?{query}")
    assert r.status_code == 422
    assert f'data-field="{field}"' in r.content.decode()


def test_unknown_city_or_case_is_404(client, cities, province_user):
    c = _client(client, province_user)
    assert c.get("/province/cities/999999/cases/").status_code == 404
    assert c.get("/province/cities/340100/cases/WH-B1/").status_code == 404  # another city's case


def test_the_drill_down_pages(client, cities, province_user):
    c = _client(client, province_user)
    for n in range(60):
        summary(cities["bb"], f"BB-{n:03d}", at(3, 1) + timedelta(hours=n), state="pending_filing")
    r = c.get("/province/cities/340300/cases/")
    assert len(_numbers(r)) == 50 and "共 60 件" in r.content.decode()
    r2 = c.get("/province/cities/340300/cases/?page=2")
    assert len(_numbers(r2)) == 10 and _numbers(r2)[-1] == "BB-000"


def test_a_case_summary_and_its_steps_in_both_languages(client, cities, province_user):
    c = _client(client, province_user)
    html = c.get("/province/cities/340100/cases/HF-A1/").content.decode()
    assert re.findall(r'data-seq="(\d+)" data-action="(\w+)"', html) == [("1", "report"), ("2", "dispatch"),
                                                                         ("3", "close")]
    assert "已结案" in html and "正常结案" in html and "满意" in html and "2026-03-01 00:30:00" in html
    assert "流转记录" in html and "处置" in html
    html = _client(client, province_user, "en").get("/province/cities/340100/cases/HF-A1/").content.decode()
    assert "Case summary" in html and "Closed" in html and "已结案" not in html
    html = c.get("/province/cities/340100/cases/HF-A3/").content.decode()
    assert 'class="overdue"' in html


def _more(cities, n):
    """n more cities with a closed, an overdue and a rated case each, and a batch."""
    for i in range(n):
        city = ProvinceCity.objects.create(code=f"35{i:04d}", name=f"城市{i}", key="k" * 40, lon=118 + i / 10, lat=26)
        summary(city, f"X{i}-1", at(3, 2), filed=at(3, 2), dispatched=at(3, 2), deadline=at(3, 4), fed=at(3, 3),
                closed=at(3, 3), state="closed", archive="normal", satisfaction="satisfied")
        summary(city, f"X{i}-2", at(3, 3), filed=at(3, 3), dispatched=at(3, 3), deadline=at(3, 4))
        city.batches.create(sequence=1, cursor_from=0, cursor_to=1, payload_version=1, digest="0" * 64,
                            built_at=at(3, 3))


def test_queries_do_not_grow_with_cities_or_cases(client, cities, province_user):
    c = _client(client, province_user)
    urls = [f"/province/?{MARCH}", f"/province/evaluation/?{MARCH}", f"/province/evaluation.json?{MARCH}",
            f"/province/evaluation.xlsx?{MARCH}", "/province/cities/340100/cases/?state=closed",
            "/province/cities/340100/cases/HF-A1/"]
    for url in urls:  # warm the per-process caches (the actor, the content types)
        c.get(url)

    def counts():
        out = []
        for url in urls:
            with CaptureQueriesContext(connection) as ctx:
                assert c.get(url).status_code == 200
            out.append(len(ctx))
        return out

    before = counts()
    _more(cities, 8)
    for n in range(30):
        summary(cities["hf"], f"HF-M{n}", at(3, 4), filed=at(3, 4), dispatched=at(3, 4), deadline=at(3, 6),
                closed=at(3, 5), state="closed", archive="normal")
    assert counts() == before
    assert max(before) <= 15, before


def test_registering_a_city_with_a_position(db):
    call_command("province", "city", "add", "340500", "--name", "马鞍山市", "--key", "m" * 40, "--lon", "118.5",
                 "--lat", "31.67")
    city = ProvinceCity.objects.get(code="340500")
    assert (city.lon, city.lat) == (118.5, 31.67)
    call_command("province", "city", "add", "340500", "--name", "马鞍山市", "--key", "m" * 40)
    city.refresh_from_db()
    assert (city.lon, city.lat) == (118.5, 31.67)  # kept when not given again
    with pytest.raises(CommandError):
        call_command("province", "city", "add", "340500", "--name", "x", "--key", "m" * 40, "--lon", "118")
    with pytest.raises(CommandError):
        call_command("province", "city", "add", "340500", "--name", "x", "--key", "m" * 40, "--lon", "200",
                     "--lat", "31")


def test_a_province_user_lands_on_the_province_dashboard(client, province_user, city_leader):
    client.force_login(province_user)
    r = client.get("/")
    assert (r.status_code, r["Location"]) == (302, "/province/")
    client.force_login(city_leader)
    assert client.get("/")["Location"] == "/dashboard/"  # a city's leader lands where he did


def test_a_long_list_counts_up_to_the_cap(client, cities, province_user, monkeypatch):
    monkeypatch.setattr(pages, "COUNT_CAP", 5)
    html = _client(client, province_user).get("/province/cities/340100/cases/").content.decode()
    assert "超过 5 件" in html


def test_what_a_city_sends_is_what_the_province_shows(client, province_user):
    """A batch received through the exchange endpoint, then read by the evaluation's JSON."""
    call_command("province", "city", "add", "340100", "--name", "合肥市", "--key", KEY)
    doc = _batch()
    body = wire.canonical(doc)
    r = client.post("/province/api/v1/exchange/batches", data=body, content_type="application/json",
                    headers={wire.CITY_HEADER: "340100", wire.SIGNATURE_HEADER: wire.sign(KEY, body)})
    assert r.status_code == 200
    rows = _client(client, province_user).get("/province/evaluation.json?period=month&date=2026-12-01").json()["cities"]
    assert [(c["code"], c["reported"], c["filed"], c["closed"]) for c in rows] == [("340100", 1, 1, 0)]
    html = client.get("/province/cities/340100/cases/20260000001/").content.decode()
    assert re.findall(r'data-action="(\w+)"', html) == ["report", "accept"]


def test_the_district_choices_are_the_citys_codes_in_order(cities):
    city = ProvinceCity.objects.get(code="340100")
    other = ProvinceCity.objects.get(code="340200")
    for i, district in enumerate(["340199", "", None, "340101", "340199"]):
        summary(city, f"D-{i}", at(3, 2), district=district or "")
        if district is None:
            city.cases.filter(number=f"D-{i}").update(district=None)
    summary(other, "D-X", at(3, 2), district="340000")
    expected = sorted(set(city.cases.exclude(district=None).exclude(district="").values_list("district", flat=True)))
    assert "340101" in expected and "340199" in expected and "340000" not in expected
    assert pages.city_districts(city.pk) == expected
    assert pages.city_districts(ProvinceCity.objects.create(code="359999", name="空", key="k" * 40).pk) == []
