"""The province's evaluation of its cities (province/evaluation.py) against the fixture's figures, counted by
hand (conftest.py), the grades at their thresholds, the periods."""
from datetime import date, datetime

import pytest

from urbangrid.province import evaluation as ev

from .conftest import MARCH, TZ

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 1, 12, tzinfo=TZ)  # after March: T is the end of March


def _rows(period=MARCH, now=NOW):
    return {r["code"]: r for r in ev.evaluate(period, now)}


def test_the_counts_and_rates_of_each_city(cities):
    rows = _rows()
    hf, wh, bb = rows["340100"], rows["340200"], rows["340300"]
    # 合肥: A1–A4, A6, A7 reported in March; A1–A4, A7 filed; A1, A2, A4 closed (A1, A4 on time; A2 reworked);
    # rated A1 satisfied, A2 dissatisfied, A4 basic; overdue at the end of March: A3 (still handling) and A5
    # (fed back in April)
    assert {k: hf[k] for k in ev.COUNTS} == {
        "reported": 6, "filed": 5, "filed_closed": 3, "closed": 3, "ontime": 2, "reworked": 1, "rated": 3,
        "satisfied": 2, "overdue_open": 2}
    assert hf["ontime_rate"] == pytest.approx(2 / 3)
    assert hf["closure_rate"] == pytest.approx(3 / 5)
    assert hf["rework_rate"] == pytest.approx(1 / 3)
    assert hf["overdue_rate"] == pytest.approx(2 / 5)
    assert hf["satisfaction_rate"] == pytest.approx(2 / 3)
    assert hf["parts"] == {"ontime_rate": 66.67, "closure_rate": 60.0, "rework_rate": 66.67, "overdue_rate": 60.0,
                           "satisfaction_rate": 66.67}
    # (35 × 66.67 + 25 × 60 + 15 × 66.67 + 15 × 60 + 10 × 66.67) / 100 = 64.002
    assert (hf["score"], hf["grade"], hf["rank"]) == (64.0, "D", 2)
    # 芜湖: 3 of 4 filings closed, all on time, none reworked or overdue, none rated: satisfaction leaves the
    # score and the other weights count out of 90: (35 × 100 + 25 × 75 + 15 × 100 + 15 × 100) / 90 = 93.06
    assert {k: wh[k] for k in ev.COUNTS} == {
        "reported": 4, "filed": 4, "filed_closed": 3, "closed": 3, "ontime": 3, "reworked": 0, "rated": 0,
        "satisfied": 0, "overdue_open": 0}
    assert wh["satisfaction_rate"] is None and "satisfaction_rate" not in wh["parts"]
    assert (wh["score"], wh["grade"], wh["rank"]) == (93.06, "A", 1)
    # 蚌埠: nothing in the period: no score, no grade, no rank, listed last
    assert (bb["has_data"], bb["score"], bb["grade"], bb["rank"]) == (False, None, "", None)
    assert [r["code"] for r in ev.evaluate(MARCH, NOW)] == ["340200", "340100", "340300"]


def test_the_tally_figures_are_the_cities_own_complete_days(cities):
    hf = _rows()["340100"]
    assert (hf["tally_days"], hf["expected_days"], hf["t_filed"], hf["t_closed"], hf["t_ontime"]) == (2, 31, 5, 2, 1)
    assert hf["t_ontime_rate"] == 0.5
    assert hf["handle_hours"] == 1.5  # (7200 + 3600) s over 2 cases
    assert _rows()["340300"]["tally_days"] == 0


def test_a_running_period_counts_overdue_now_and_only_complete_days(cities):
    now = datetime(2026, 3, 11, 12, tzinfo=TZ)
    hf = _rows(now=now)["340100"]
    # a running period asks about now (a handling state past its deadline): on 11 March at noon A3 (deadline
    # 12 March) is not yet overdue, and A5 is no longer in a handling state
    assert hf["overdue_open"] == 0
    assert hf["expected_days"] == 10


def test_quarter_and_year_take_in_the_later_closures(cities):
    q1 = _rows(ev.period_of("quarter", date(2026, 2, 10)))["340100"]
    assert (q1["reported"], q1["filed"], q1["closed"]) == (7, 6, 3)
    # A5 was overdue at the end of the quarter as at the end of March; A3 still is
    assert q1["overdue_open"] == 2
    year = _rows(ev.period_of("year", date(2026, 7, 1)))["340100"]
    # T = now (1 May): A3 and A7, whose deadline of 10 April has passed
    assert (year["closed"], year["ontime"], year["overdue_open"]) == (4, 2, 2)


@pytest.mark.parametrize("score, grade", [
    (100, "A"), (90, "A"), (89.99, "B"), (80, "B"), (79.99, "C"), (70, "C"), (69.99, "D"), (60, "D"),
    (59.99, "E"), (0, "E")])
def test_grades_at_the_thresholds(score, grade):
    assert ev.grade_of(score)[0] == grade


def test_score_of_counts_without_activity_or_without_any_denominator():
    zero = dict.fromkeys(ev.COUNTS, 0)
    assert ev.score_row(zero)["score"] is None
    # reported only: activity, but no indicator has a denominator: no score
    row = ev.score_row({**zero, "reported": 3})
    assert (row["has_data"], row["score"], row["grade"]) == (True, None, "")


def test_ties_share_a_rank():
    rows = [{"score": 80.0}, {"score": 90.0}, {"score": 80.0}, {"score": None}]
    assert [r["rank"] for r in ev.with_ranks(rows)] == [2, 1, 2, None]


def test_the_weights_are_one_table_summing_to_100():
    assert sum(i.weight for i in ev.INDICATORS) == 100
    assert [g for g, _m, _c in ev.GRADES] == ["A", "B", "C", "D", "E"]
    assert ev.rule_table()["grades"] == [{"grade": "A", "min": 90}, {"grade": "B", "min": 80},
                                         {"grade": "C", "min": 70}, {"grade": "D", "min": 60},
                                         {"grade": "E", "min": 0}]


def test_periods_from_parameters():
    p = ev.parse_period("quarter", "2026-11-30")
    assert (p.first_day, p.last_day, p.label()) == (date(2026, 10, 1), date(2026, 12, 31), "2026Q4")
    assert ev.parse_period(None, "2026-02-10").label() == "2026-02"
    assert ev.parse_period("year", "2026-02-10").last_day == date(2026, 12, 31)
    with pytest.raises(ev.PeriodError) as exc:
        ev.parse_period("week", "2026-13-01")
    assert set(exc.value.fields) == {"period", "date"}
    with pytest.raises(ev.PeriodError):
        ev.parse_period("month", "0001-01-01")
