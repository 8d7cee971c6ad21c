"""A review of a period still running says so and compares the same span of the previous period; the quarterly
and yearly reviews have a summary like the monthly one (issue 17, 5). Hand-counted on a log of public reports:
2 on 2 February, 1 on 10 February, 1 on 2 March and 1 on 3 March 2026; "now" is 3 March 15:00."""
import pytest

from eval_helpers import T, Log
from ug_testing import login_client
from urbangrid.assessment.reviews import periodic
from urbangrid.assessment.periods import period_of
from urbangrid.org.reach import Reach
from urbangrid.assessment.periods import compared_spans, partial_label

pytestmark = pytest.mark.django_db
NOW = T(2026, 3, 3, 15)
ALL = Reach(everything=True)


def reports():
    log = Log()
    for at in (T(2026, 2, 2, 9), T(2026, 2, 2, 10), T(2026, 2, 10, 9), T(2026, 3, 2, 9), T(2026, 3, 3, 10)):
        log.case(at, source="public_app")
    return log


def summary(review):
    return {k: v for k, _label, v, _kind, _link in review.summary}


def trend(review):
    return {r["key"]: r for r in review.section("trend").rows}


def test_spans():
    march = period_of("month", NOW.date())
    _p, prev, note = compared_spans(march, NOW)
    assert (prev.first_day.isoformat(), prev.last_day.isoformat()) == ("2026-02-01", "2026-02-03")
    assert "2026-02-01 — 2026-02-03" in note and "3 天" in note
    assert partial_label(march, NOW) == "截至3月3日（本月进行中）"
    # the same span is cut at the previous period's end (31 March: all of February, 28 days)
    _p, prev, _n = compared_spans(march, T(2026, 3, 31, 12))
    assert (prev.first_day.isoformat(), prev.last_day.isoformat()) == ("2026-02-01", "2026-02-28")
    # a finished period: the whole previous one, no partial label
    feb = period_of("month", T(2026, 2, 10).date())
    _p, prev, note = compared_spans(feb, NOW)
    assert (prev.first_day.isoformat(), prev.last_day.isoformat()) == ("2026-01-01", "2026-01-31")
    assert partial_label(feb, NOW) == "" and note == "上期：2026-01-01 — 2026-01-31"


def test_running_month_compares_the_same_span(demo_city):
    reports()
    review = periodic.build("monthly", period_of("month", NOW.date()), ALL, now=NOW)
    assert review.partial == "截至3月3日（本月进行中）"
    assert "2026-02-01 — 2026-02-03" in review.span_note
    t = trend(review)["reported"]
    assert (t["current"], t["previous"], t["change"]) == (2, 2, 0)  # not the 3 reports of all February
    assert summary(review)["reported"] == 2
    assert review.section("trend").note == review.span_note
    data = review.as_dict()
    assert data["partial"] == review.partial and data["comparison"] == review.span_note


def test_finished_month_compares_the_whole_previous_month(demo_city):
    reports()
    review = periodic.build("monthly", period_of("month", T(2026, 2, 10).date()), ALL, now=NOW)
    assert review.partial == ""
    t = trend(review)["reported"]
    assert (t["current"], t["previous"]) == (3, 0)


def test_quarterly_and_yearly_have_a_summary(demo_city):
    reports()
    q = periodic.build("quarterly", period_of("quarter", NOW.date()), ALL, now=NOW)
    assert q.partial == "截至3月3日（本季进行中）"
    # 1 January – 3 March is 62 days: 1 October – 1 December 2025
    assert "2025-10-01 — 2025-12-01" in q.span_note and "62 天" in q.span_note
    s = summary(q)
    assert s["reported"] == 5 and s["filed"] == 0
    assert trend(q)["reported"]["previous"] == 0
    y = periodic.build("yearly", period_of("year", NOW.date()), ALL, now=NOW)
    assert y.partial == "截至3月3日（本年进行中）"
    assert summary(y)["reported"] == 5 and "close_rate" in summary(y)
    assert "2025-01-01 — 2025-03-03" in y.span_note


def test_page_shows_the_partial_label(demo_city, client):
    login_client(client, "leader")
    # the current month of the real clock is running
    html = client.get("/assessment/reviews/monthly/").content.decode()
    assert "本月进行中" in html and "与上期同期" in html
    html = client.get("/assessment/reviews/quarterly/").content.decode()
    assert "本季进行中" in html and 'data-kpi="reported"' in html
