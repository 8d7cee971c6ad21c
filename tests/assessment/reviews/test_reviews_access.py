"""Who sees which rows of the reviews, bad input answered with clear 4xx, and bounded query counts."""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from eval_helpers import T, Log
from test_reviews_support import by_first, section
from ug_testing import login_client
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment, Unit
from urbangrid.org.scope import actor_for

pytestmark = pytest.mark.django_db
DAY = "period=day&date=2026-03-02"


def activity(log, n=1, grids=None):
    """n reported-and-dispatched cases per grid (and unit) on 2 March 2026, each supervised once (open, overdue
    since 3 March 09:00)."""
    grids = grids or [log.grid, log.other_grid]
    units = list(Unit.objects.filter(active=True).order_by("code")[:4])
    for i in range(n):
        for j, g in enumerate(grids):
            u = units[(i + j) % len(units)]
            c = log.case(T(2026, 3, 2, 8, i % 60), grid=g)  # by the grid's inspector
            log.ev(c, "accept", T(2026, 3, 2, 8, 20))
            log.ev(c, "file", T(2026, 3, 2, 8, 30))
            log.dispatch(c, T(2026, 3, 2, 9), u)
            log.ev(c, "supervise", T(2026, 3, 2, 10))


def get(client, url, status):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.content[:300])
    return r


def test_centre_staff_leaders_admin_see_everything(demo_city, client):
    log = Log()
    activity(log)
    counts = {}
    for user in ("leader", "dispatcher", "admin", "shift_lead"):
        login_client(client, user)
        body = get(client, f"/api/v1/reviews/daily?{DAY}", 200).json()
        counts[user] = (len(section(body, "by_grid")["rows"]), len(section(body, "by_unit")["rows"]), len(body["summary"]))
    assert len(set(counts.values())) == 1 and counts["leader"][0] == 2


def test_unit_sees_its_own_rows(demo_city, client):
    log = Log()
    activity(log, n=4)
    user = get_user_model().objects.get(username="unit_handler")
    actor = actor_for(user)
    login_client(client, "unit_handler")
    body = get(client, "/api/v1/reviews/weekly?period=week&date=2026-03-02", 200).json()
    mine = set(Unit.objects.filter(pk__in=actor.unit_ids).values_list("code", flat=True))
    codes = {r["cells"]["unit_code"] for r in section(body, "units")["rows"]}
    assert codes and codes <= mine
    assert body["summary"] == [] and "districts" not in {s["key"] for s in body["sections"]}
    daily = get(client, f"/api/v1/reviews/daily?{DAY}", 200).json()
    assert {r["cells"]["unit_code"] for r in section(daily, "by_unit")["rows"]} <= mine
    assert section(daily, "by_grid")["rows"] == []
    units = {r["cells"]["unit"] for r in section(daily, "overdue")["rows"]}
    assert units <= set(Unit.objects.filter(pk__in=actor.unit_ids).values_list("name", flat=True))
    get(client, "/assessment/reviews/weekly/?period=week&date=2026-03-02", 200)


def test_grid_leader_sees_his_grids(demo_city, client):
    log = Log()
    user = get_user_model().objects.get(username="grid_leader")
    grids = actor_for(user).grids_as("grid_leader")
    other = next(g for g in log.grid.__class__.objects.exclude(responsibility_grid_id__in=grids).order_by("code"))
    mine = next(g for g in log.grid.__class__.objects.filter(responsibility_grid_id__in=grids).order_by("code"))
    activity(log, grids=[mine, other])
    login_client(client, "grid_leader")
    body = get(client, f"/api/v1/reviews/daily?{DAY}", 200).json()
    assert set(by_first(section(body, "by_grid"))) == {mine.responsibility_grid.code}
    assert set(by_first(section(body, "still_open"))) and all(
        r["cells"]["grid"] == mine.responsibility_grid.code for r in section(body, "still_open")["rows"])
    # his grid's members are visible, someone else's record answers 404
    outsider = Person.objects.exclude(roles__grid_id__in=grids).exclude(unit__isnull=True).filter(
        roles__isnull=False).exclude(pk=user.person.pk).order_by("pk").first()
    get(client, f"/api/v1/members/{outsider.pk}?period=year&date=2026-03-02", 404)
    get(client, f"/assessment/members/{outsider.pk}/?period=year&date=2026-03-02", 404)
    inside = RoleAssignment.objects.filter(grid_id__in=grids, role="inspector").first().person
    get(client, f"/api/v1/members/{inside.pk}?period=year&date=2026-03-02", 200)


def test_party_secretary_sees_his_organisation(demo_city, client):
    branch = PartyOrganization.objects.filter(level="branch").order_by("code").first()
    other = PartyOrganization.objects.filter(level="branch").exclude(pk=branch.pk).order_by("code").first()
    secretary = Person.objects.filter(party_organization__parent=branch).order_by("employee_no").first()
    Person.objects.filter(pk=secretary.pk).update(title="党支部书记", party_organization=branch)
    user = get_user_model().objects.create_user("secretary_test", password="x")
    Person.objects.filter(pk=secretary.pk).update(user=user)
    RoleAssignment.objects.filter(person=secretary).delete()  # only the party post
    client.force_login(user)
    body = get(client, "/api/v1/party?period=year&date=2026-03-02", 200).json()
    codes = {r["code"] for r in body["items"]}
    expected = {branch.code} | set(branch.children.values_list("code", flat=True))
    assert codes == expected
    get(client, f"/api/v1/party/{other.code}?period=year&date=2026-03-02", 404)
    get(client, f"/assessment/party/{other.code}/?period=year&date=2026-03-02", 404)
    get(client, f"/assessment/party/{branch.code}/?period=year&date=2026-03-02", 200)
    members = get(client, "/api/v1/members?period=year&date=2026-03-02", 200).json()["items"]
    orgs = set(PartyOrganization.objects.filter(code__in=expected).values_list("name", flat=True))
    grids = set(PartyOrganization.objects.filter(code__in=expected).values_list("grids__code", flat=True)) - {None}
    assert members and {m["party_organization"] for m in members} & orgs
    for m in members:  # his organisations' members, and the people working in their grids
        assert m["party_organization"] in orgs or set(m["grids"].split()) & grids, m
    assert len(members) < Person.objects.filter(is_party_member=True).count()


def test_others_are_refused(demo_city, client):
    login_client(client, "inspector")  # a grid inspector has no review scope
    get(client, f"/api/v1/reviews/daily?{DAY}", 403)
    get(client, "/api/v1/members", 403)
    get(client, "/api/v1/party", 403)
    get(client, f"/assessment/reviews/daily/?{DAY}", 403)
    get(client, "/assessment/reviews/", 403)
    get(client, "/assessment/members/", 403)
    client.logout()
    assert get(client, f"/assessment/reviews/daily/?{DAY}", 302)["Location"].startswith("/accounts/login/")
    assert get(client, "/assessment/reviews/daily.xlsx", 302)["Location"].startswith("/accounts/login/")
    get(client, f"/api/v1/reviews/daily?{DAY}", 401)


@pytest.mark.parametrize("url,status,words", [
    ("/api/v1/reviews/daily?period=day&date=2099-01-01", 422, "尚未开始"),
    ("/api/v1/reviews/weekly?from=2026-03-09&to=2026-03-02", 422, "晚于"),
    ("/api/v1/reviews/monthly?from=2026-03-09", 422, "同时提供"),
    ("/api/v1/reviews/quarterly?period=quarter&date=2026-13-01", 422, "YYYY-MM-DD"),
    ("/api/v1/reviews/yearly?period=decade", 422, "统计周期"),
    ("/api/v1/reviews/rankings?dim=planet", 422, "排名维度"),
    ("/api/v1/members/999999", 404, "不存在"),
    ("/api/v1/reviews/yearly?period=year&date=2026-03-02&top=0", 422, "top"),
    ("/api/v1/reviews/yearly?period=year&date=2026-03-02&top=101", 422, "top"),
    ("/assessment/reviews/yearly/?period=year&date=2026-03-02&top=x", 422, "top"),
    ("/api/v1/party/NOPE", 404, "不存在"),
    ("/api/v1/party?level=cell", 422, "层级"),
    ("/assessment/reviews/daily/?period=day&date=2099-01-01", 422, "尚未开始"),
    ("/assessment/reviews/weekly/print/?from=2026-03-09&to=2026-03-02", 422, "晚于"),
    ("/assessment/reviews/monthly.xlsx?from=2026-03-09&to=2026-03-02", 422, "晚于"),
    ("/assessment/reviews/rankings/?dim=planet", 422, "排名维度"),
    ("/assessment/reviews/rankings.xlsx?dim=unit&period=month&date=2099-02-01", 422, "尚未开始"),
    ("/assessment/members/?from=2026-03-09&to=2026-03-02", 422, "晚于"),
    ("/assessment/members.xlsx?period=year&date=x", 422, "YYYY-MM-DD"),
    ("/assessment/party/?level=cell", 422, "层级"),
    ("/assessment/reviews/hourly/", 404, ""),
    ("/assessment/reviews/hourly.xlsx", 404, ""),
    ("/assessment/members/999999/", 404, ""),
    ("/assessment/party/NOPE/", 404, ""),
])
def test_bad_input(demo_city, client, url, status, words):
    login_client(client, "leader")
    r = get(client, url, status)
    text = r.json()["detail"] if r["Content-Type"].startswith("application/json") else r.content.decode()
    assert words in text


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("url", [
    f"/api/v1/reviews/daily?{DAY}", "/api/v1/reviews/weekly?period=week&date=2026-03-02",
    "/api/v1/reviews/monthly?period=month&date=2026-03-02", "/api/v1/reviews/quarterly?period=quarter&date=2026-03-02",
    "/api/v1/reviews/yearly?period=year&date=2026-03-02", "/api/v1/members?period=year&date=2026-03-02",
    "/api/v1/party?period=year&date=2026-03-02", "/api/v1/reviews/rankings?dim=branch&period=month&date=2026-03-02",
    f"/assessment/reviews/daily/?{DAY}", "/assessment/reviews/yearly/?period=year&date=2026-03-02",
])
def test_query_count_does_not_grow_with_rows(demo_city, client, url):
    """No N+1: four times the cases and twice the unit rows cost the same number of queries (three rounds of
    ``activity`` reach all four of its units, as ten did, with a third of the cases to build)."""
    log = Log()
    login_client(client, "leader")
    activity(log, n=1)
    client.get(url)  # warm per-process caches
    few = _queries(client, url)
    activity(log, n=3)
    client.get(url)  # the daily tallies catch up with the new events (a fixed number of queries per day range)
    many = _queries(client, url)
    assert many == few, (few, many)
    assert few < (200 if "rankings" in url else 120), few  # rankings evaluate six periods for the trend


FULL = {"intake_operator", "shift_lead", "dispatcher", "leader", "admin"}
REFUSED = {"inspector", "assessor", "district_dispatcher"}


@pytest.mark.parametrize("role", sorted(FULL | REFUSED | {"grid_leader", "deputy_grid_leader", "grid_liaison",
                                                         "sub_grid_leader", "grid_officer", "unit_handler"}))
def test_role_matrix(demo_city, client, role):
    """Every demo login: the full scope sees the city summary, grid and unit people their rows, the rest 403."""
    login_client(client, role)
    for url in (f"/api/v1/reviews/daily?{DAY}", f"/assessment/reviews/daily/?{DAY}", "/api/v1/party?period=year&date=2026-03-02",
                "/assessment/reviews/yearly.xlsx?period=year&date=2026-03-02"):
        r = client.get(url)
        assert r.status_code == (403 if role in REFUSED else 200), (role, url)
    if role not in REFUSED:
        body = client.get(f"/api/v1/reviews/daily?{DAY}").json()
        assert bool(body["summary"]) == (role in FULL)
        parties = client.get("/api/v1/party?period=year&date=2026-03-02").json()["items"]
        assert bool(parties) == (role in FULL)  # no secretary among the demo logins
