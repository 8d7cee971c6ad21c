"""Evaluations at bounded cost (security issue 14, item 7): periods are bounded (422 naming the fields, a form
message on the pages), requests never tally (the worker and ``urbangrid tallies build`` do, and the demo build),
and a page or API answer over days without a ready tally says so until the build has run, then shows the
numbers of the raw-event reference."""
import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from eval_helpers import Log, T
from ug_testing import login_client
from urbangrid.assessment.evaluation import tallies
from urbangrid.assessment.evaluation.rules import EventEvaluation
from urbangrid.assessment.periods import period_of
from urbangrid.assessment.models import CaseFact, PostDay, RegionDay, TallyCursor, TallyDay, UnitDay
from urbangrid.cases.models import CaseEvent

pytestmark = pytest.mark.django_db
TALLY_MODELS = (TallyDay, UnitDay, RegionDay, PostDay, CaseFact, TallyCursor)
MARCH = "from=2026-03-01&to=2026-03-31"


def tally_rows():
    return {m.__name__: m.objects.count() for m in TALLY_MODELS}


def tallied_at():
    return dict(TallyDay.objects.values_list("day", "computed_at"))


def days(a, b):
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]


def march_log():
    """Cases with events on 2, 3, 5 and 9 March 2026 only."""
    log = Log()
    a = log.dispatched(T(2026, 3, 2, 9), log.u1)
    log.feed_back(a, T(2026, 3, 2, 15))
    log.close(a, T(2026, 3, 3, 10))
    b = log.dispatched(T(2026, 3, 5, 9), log.u2, grid=log.other_grid)
    log.feed_back(b, T(2026, 3, 9, 10))  # late: due 6 March 09:00
    log.case(T(2026, 3, 9, 11))
    return log


def get(client, url, status=200):
    r = client.get(url)
    assert r.status_code == status, (url, r.status_code, r.content[:300])
    return r


def eval_tables(html):
    return re.findall(r'<table class="eval-table".*?</table>', html, re.S)


# --- the demo build (first: it builds its own city, outside the module's demo_city) -------------------

def test_the_demo_build_leaves_every_day_tallied(settings, tmp_path, client):
    from demo_snapshot import build_demo  # the session's one history: built for real by its first caller

    settings.VAR_DIR = tmp_path
    settings.URBANGRID_EVALUATION_RAW_MAX_EVENTS = 0  # only the tallies may answer
    build_demo(seed=11, log=lambda m: None, history=True, cases=3000)
    first = tallies.first_event_day()
    today = tallies.local_day(timezone.now())
    assert first is not None and tallies.unready_days(first, today) == []
    before = tally_rows()
    login_client(client, "leader")
    last = tallies.local_day(CaseEvent.objects.order_by("-at").values_list("at", flat=True).first())
    month = period_of("month", last.replace(day=1) - timedelta(days=1))
    q = f"from={month.first_day}&to={month.last_day}"
    body = get(client, f"/api/v1/evaluation/regions?{q}").json()
    assert body["complete"] is True and body["missing_days"] == []
    assert sum(r["filed"] for r in body["items"]) == CaseEvent.objects.filter(
        action="file", at__gte=month.start, at__lt=month.end).count() > 0
    assert "tally-gaps" not in get(client, f"/assessment/?{q}").content.decode()
    assert tally_rows() == before


# --- bounds -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("query,words,fields", [
    ("from=1900-01-01&to=2026-03-31", "1970-01-01", {"from"}),
    ("from=1970-01-01&to=2026-03-31", "最长 1097 天", {"from", "to"}),
    ("from=2023-03-30&to=2026-03-31", "最长 1097 天", {"from", "to"}),
])
def test_long_periods_answer_422_with_the_fields_and_tally_nothing(demo_city, client, query, words, fields):
    march_log()
    before = tally_rows()
    login_client(client, "leader")
    for url in (f"/api/v1/evaluation/units?{query}", f"/api/v1/evaluation/regions?{query}&level=grid",
                f"/api/v1/reviews/monthly?{query}", f"/api/v1/reviews/rankings?{query}", f"/api/v1/members?{query}",
                f"/api/v1/reviews/scores?{query}"):
        body = get(client, url, 422).json()
        assert words in body["detail"] and body["code"] == "invalid_period", (url, body)
        assert set(body["fields"]) == fields and all(words in m for m in body["fields"].values()), body
    for url in (f"/assessment/?{query}", f"/assessment/reviews/monthly/?{query}", f"/assessment/members/?{query}",
                f"/assessment/reviews/rankings/?{query}"):
        html = get(client, url, 422).content.decode()
        assert re.search(r'<p class="errorlist" role="alert">[^<]*' + re.escape(words), html), url
        assert "tally-gaps" not in html
    for url in (f"/assessment/export/units.xlsx?{query}", f"/assessment/reviews/monthly.xlsx?{query}"):
        assert words in get(client, url, 422).content.decode()
    assert tally_rows() == before


def test_the_span_is_configurable_and_three_years_pass(demo_city, client, settings):
    login_client(client, "leader")
    body = get(client, "/api/v1/evaluation/units?from=2023-04-01&to=2026-03-31").json()  # 1096 days
    assert body["period"]["first_day"] == "2023-04-01" and body["complete"] is True
    settings.URBANGRID_EVALUATION_MAX_DAYS = 31
    get(client, "/api/v1/evaluation/units?period=month&date=2026-03-02")
    body = get(client, "/api/v1/evaluation/units?period=quarter&date=2026-03-02", 422).json()
    assert "最长 31 天" in body["detail"] and set(body["fields"]) == {"from", "to"}
    # the deduction list is a filter, not an evaluation: no span limit there
    get(client, "/api/v1/deductions?from=2020-01-01&to=2026-03-31")


# --- requests never tally -----------------------------------------------------------------------------

UNIT_URLS = ["/assessment/reviews/monthly/?period=month&date=2026-03-02",
             "/assessment/reviews/quarterly/?period=quarter&date=2026-03-02",
             "/assessment/reviews/yearly/?period=year&date=2026-03-02",
             "/assessment/reviews/weekly/print/?period=week&date=2026-03-02",
             f"/assessment/reviews/rankings/?{MARCH}", f"/assessment/members/?{MARCH}",
             "/api/v1/reviews/monthly?period=month&date=2026-03-02", "/api/v1/reviews/yearly?period=year&date=2026-03-02",
             "/api/v1/reviews/rankings?dim=unit&period=month&date=2026-03-02", f"/api/v1/reviews/scores?{MARCH}",
             f"/api/v1/members?{MARCH}", f"/api/v1/party?{MARCH}"]


@pytest.mark.parametrize("raw_limit", [0, 20000])
def test_a_unit_handlers_evaluation_gets_write_no_tally_rows(demo_city, client, settings, raw_limit):
    """Whether the untallied days are left out (0) or counted from the raw events (small period): no row."""
    settings.URBANGRID_EVALUATION_RAW_MAX_EVENTS = raw_limit
    march_log()
    before = tally_rows()
    assert before["TallyDay"] == 0
    login_client(client, "unit_handler")
    get(client, f"/assessment/?{MARCH}", 403)
    get(client, f"/api/v1/evaluation/units?{MARCH}", 403)
    for url in UNIT_URLS:
        r = get(client, url)
        if url.startswith("/api/"):
            body = r.json()
            assert body["complete"] is (raw_limit > 0), url
            if raw_limit == 0:
                assert "2026-03-02" in body["missing_days"], url
        elif raw_limit == 0:
            assert 'class="tally-gaps"' in r.content.decode(), url
    # the yearly export would leave days out: refused, not a workbook that looks complete
    export = client.get("/assessment/reviews/yearly.xlsx?period=year&date=2026-03-02")
    assert export.status_code == (409 if raw_limit == 0 else 200)
    assert tally_rows() == before


def test_a_small_untallied_period_is_counted_from_the_raw_events(demo_city, client):
    """Default settings: a period of a few events without tallies is answered exactly (raw events), says
    nothing is missing, and writes nothing."""
    march_log()
    before = tally_rows()
    login_client(client, "leader")
    body = get(client, f"/api/v1/evaluation/units?{MARCH}").json()
    assert body["complete"] is True and body["missing_days"] == []
    p = period_of("month", T(2026, 3, 2).date())
    assert body["items"] == [{**r} for r in EventEvaluation(p.start, p.end).units()]
    assert "tally-gaps" not in get(client, f"/assessment/?{MARCH}").content.decode()
    assert tally_rows() == before


# --- partly untallied: said so, then built by the command ---------------------------------------------

def test_a_partly_untallied_period_says_so_until_the_build(demo_city, client, settings):
    settings.URBANGRID_EVALUATION_RAW_MAX_EVENTS = 0  # no raw fallback: the tallies or nothing
    log = march_log()
    call_command("tallies", "build", "--from", "2026-03-01", "--to", "2026-03-04")
    # from the first event's day (1 March holds nothing): the 2nd, the 3rd (closing) and the empty 4th
    assert sorted(tallied_at()) == days(T(2026, 3, 2).date(), T(2026, 3, 4).date())
    login_client(client, "leader")
    before = tally_rows()

    html = get(client, f"/assessment/?{MARCH}").content.decode()
    assert 'data-tally-missing="27"' in html and "2026-03-05 — 2026-03-31" in html and "日统计尚未就绪" in html
    body = get(client, f"/api/v1/evaluation/units?{MARCH}").json()
    assert body["complete"] is False
    assert body["missing_days"] == [str(d) for d in days(T(2026, 3, 5).date(), T(2026, 3, 31).date())]
    u1 = next(r for r in body["items"] if r["unit_code"] == log.u1.code)
    u2 = next(r for r in body["items"] if r["unit_code"] == log.u2.code)
    assert (u1["filed"], u1["handled"]) == (1, 1)  # the ready days count
    assert u2["filed"] == 0  # 5 March is not tallied yet: left out, and said so
    for url in ("/assessment/reviews/monthly/?period=month&date=2026-03-02", f"/assessment/members/?{MARCH}"):
        assert 'class="tally-gaps"' in get(client, url).content.decode(), url
    assert "2026-03-05" in get(client, f"/assessment/export/units.xlsx?{MARCH}", 409).content.decode()
    assert get(client, "/api/v1/reviews/monthly?period=month&date=2026-03-02").json()["complete"] is False

    # an event added later on a tallied day (an import of history) makes that day not ready either
    log.case(T(2026, 3, 3, 16))
    body = get(client, f"/api/v1/evaluation/units?{MARCH}").json()
    assert body["missing_days"][0] == "2026-03-03" and len(body["missing_days"]) == 28
    assert tally_rows() == before  # none of these requests tallied

    # the command tallies exactly the days that were not ready, through today
    stamps = tallied_at()
    call_command("tallies", "build")
    after = tallied_at()
    today = tallies.local_day(timezone.now())
    built = {d for d in after if stamps.get(d) != after[d]}
    assert built == {T(2026, 3, 3).date(), *days(T(2026, 3, 5).date(), today)}
    assert sorted(after) == days(T(2026, 3, 2).date(), today)

    # now complete, and the same numbers as the raw-event path
    html = get(client, f"/assessment/?{MARCH}").content.decode()
    assert "tally-gaps" not in html
    api = {path: get(client, f"/api/v1/evaluation/{path}?{MARCH}").json() for path in ("units", "positions", "regions")}
    assert all(b["complete"] and not b["missing_days"] for b in api.values())
    settings.URBANGRID_EVALUATION_TALLIES = False  # the raw-event reference
    assert eval_tables(get(client, f"/assessment/?{MARCH}").content.decode()) == eval_tables(html)
    for path, body in api.items():
        assert get(client, f"/api/v1/evaluation/{path}?{MARCH}").json() == body, path
    u2 = next(r for r in api["units"]["items"] if r["unit_code"] == log.u2.code)
    assert (u2["filed"], u2["handled"], u2["ontime_handled"]) == (1, 1, 0)


def test_the_worker_backfills_newest_first_within_its_budget(demo_city):
    march_log()
    today = tallies.local_day(timezone.now())
    first = tallies.build_missing(budget_seconds=0)  # one window per run, the newest
    assert first == days(today - timedelta(days=tallies.WINDOW_DAYS - 1), today)
    second = tallies.build_missing(budget_seconds=0)
    assert second[-1] == first[0] - timedelta(days=1) and len(second) == tallies.WINDOW_DAYS
    rest = tallies.build_missing()
    assert rest[0] == T(2026, 3, 2).date() and rest[-1] == second[0] - timedelta(days=1)
    assert tallies.build_missing() == [] and tallies.unready_days(T(2026, 3, 1).date(), today) == []
