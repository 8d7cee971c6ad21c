"""Deadline arithmetic, no database. Expected values are worked out by hand in the comments
(periods 08:30–12:00 and 14:00–17:30, 7 working hours a day)."""
from datetime import time, timedelta
from decimal import Decimal

import chinese_calendar
import pytest

from urbangrid.worktime import clock
from urbangrid.worktime.clock import (
    Calendar, Clock, add_calendar_hours, add_working_days, add_working_time, deadline, light,
    next_working_instant, resume_deadline, working_time_between,
)

from .helpers import CN, H, at


def add(start, hours, cal=CN):
    return add_working_time(at(start), hours, cal)


# --- weekends --------------------------------------------------------------------------------

def test_friday_afternoon_runs_into_monday():
    # Fri 16:00–17:30 = 1.5 h, Mon 08:30 + 2.5 h = 11:00
    assert add("2026-03-13 16:00", 4) == at("2026-03-16 11:00")


def test_domain_example_holds_with_an_eight_oclock_start():
    # domain.md's "Fri 16:00 + 4 工作时 = Mon 10:30" needs 8 h days, e.g. 08:00–12:00/14:00–17:30:
    # Fri 1.5 h, Mon 08:00 + 2.5 h. With the default 08:30 start it is Mon 11:00 (above).
    cal = Calendar(periods=[(time(8), time(12)), (time(14), time(17, 30))])
    assert add("2026-03-13 16:00", 4, cal) == at("2026-03-16 10:30")


def test_limit_ending_at_the_end_of_a_period_ends_there():
    assert add("2026-03-13 17:00", Decimal("0.5")) == at("2026-03-13 17:30")
    assert add("2026-03-13 17:30", Decimal("0.5")) == at("2026-03-16 09:00")


def test_start_on_saturday_counts_from_monday_morning():
    assert add("2026-03-14 10:00", 1) == at("2026-03-16 09:30")


# --- 2026 National Day + Mid-Autumn, 调休 -------------------------------------------------------

def test_2026_autumn_holidays_match_chinese_calendar():
    off = ["2026-09-25", "2026-09-26", "2026-09-27"] + [f"2026-10-0{d}" for d in range(1, 8)]
    makeup = ["2026-09-20", "2026-10-10"]  # Sunday and Saturday worked in lieu
    for d in off:
        assert not chinese_calendar.is_workday(at(d).date()) and not CN.is_workday(at(d).date())
    for d in makeup:
        assert at(d).weekday() >= 5
        assert chinese_calendar.is_workday(at(d).date()) and CN.is_workday(at(d).date())


def test_across_national_day():
    # Wed 09-30 16:00–17:30 = 1.5 h; 10-01…10-07 off; Thu 10-08 08:30 + 2.5 h = 11:00
    assert add("2026-09-30 16:00", 4) == at("2026-10-08 11:00")
    assert working_time_between(at("2026-09-30 17:30"), at("2026-10-08 08:30"), CN) == 0


def test_across_mid_autumn():
    # Thu 09-24 17:00–17:30 = 0.5 h; Fri 09-25 中秋, weekend; Mon 09-28 08:30 + 0.5 h
    assert add("2026-09-24 17:00", 1) == at("2026-09-28 09:00")


def test_makeup_sunday_and_saturday_are_working_days():
    assert add("2026-09-19 10:00", 1) == at("2026-09-20 09:30")  # Sat off → Sun 09-20 调休上班
    assert add("2026-10-09 17:00", 1) == at("2026-10-10 09:00")  # Fri 0.5 h + Sat 10-10 调休 0.5 h


def test_working_days_across_national_day():
    # 1st working day after Wed 09-30 is Thu 10-08, 3rd is Sat 10-10 (调休)
    assert add_working_days(at("2026-09-30 10:00"), 1, CN) == at("2026-10-08 10:00")
    assert add_working_days(at("2026-09-30 10:00"), 3, CN) == at("2026-10-10 10:00")


# --- Spring Festival 2026: Sat 02-14 worked, 02-15…02-23 off, Sat 02-28 worked ----------------------

def test_spring_festival_2026():
    # Fri 02-13 15:00–17:30 2.5 h; Sat 02-14 7 h (9.5); Tue 02-24 08:30–12:00 3.5 h (13); 14:00 + 1 h
    assert add("2026-02-13 15:00", 14) == at("2026-02-24 15:00")
    assert add_working_days(at("2026-02-13 15:00"), 2, CN) == at("2026-02-24 15:00")
    assert working_time_between(at("2026-02-13 17:30"), at("2026-02-24 08:30"), CN) == 7 * H
    assert add("2026-02-27 17:30", 1) == at("2026-02-28 09:30")


# --- years without data: Monday–Friday, never a crash -------------------------------------------

def test_into_2027_uses_monday_to_friday():
    # Thu 12-31 17:00–17:30 = 0.5 h; Fri 2027-01-01 counts as a workday on the fallback: 08:30 + 3.5 h
    assert add("2026-12-31 17:00", 4) == at("2027-01-01 12:00")


def test_empty_calendar_in_2030():
    empty = Calendar()
    assert add("2030-06-01 10:00", 1, empty) == at("2030-06-03 09:30")  # Sat → Mon
    assert add_working_days(at("2030-06-01 10:00"), 5, empty) == at("2030-06-07 17:30")  # Mon–Fri 35 h
    assert working_time_between(at("2030-06-01 00:00"), at("2030-06-08 00:00"), empty) == 35 * H


# --- outside working hours and at lunch ----------------------------------------------------------

@pytest.mark.parametrize("start, hours, expected", [
    ("2026-03-16 07:00", 1, "2026-03-16 09:30"),    # before work: from 08:30
    ("2026-03-16 12:30", 1, "2026-03-16 15:00"),    # lunch: from 14:00
    ("2026-03-16 12:00", 1, "2026-03-16 15:00"),    # exactly at the end of the morning
    ("2026-03-16 20:00", 1, "2026-03-17 09:30"),    # evening: next morning
    ("2026-03-16 08:30", Decimal("3.5"), "2026-03-16 12:00"),
    ("2026-03-16 08:30", 7, "2026-03-16 17:30"),
])
def test_outside_working_hours(start, hours, expected):
    assert add(start, hours) == at(expected)


def test_zero_and_next_working_instant():
    assert add("2026-03-16 20:00", 0) == at("2026-03-16 20:00")
    assert next_working_instant(at("2026-03-16 20:00"), CN) == at("2026-03-17 08:30")
    assert next_working_instant(at("2026-03-16 12:00"), CN) == at("2026-03-16 14:00")
    assert next_working_instant(at("2026-03-16 10:00"), CN) == at("2026-03-16 10:00")
    assert next_working_instant(at("2026-09-30 18:00"), CN) == at("2026-10-08 08:30")


# --- fractions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("start, hours, expected", [
    ("2026-03-16 11:45", Decimal("0.5"), "2026-03-16 14:15"),   # 15 min before lunch, 15 after
    ("2026-03-16 11:00", 1.5, "2026-03-16 14:30"),              # float works too
    ("2026-03-16 08:30", Decimal("0.25"), "2026-03-16 08:45"),
    ("2026-03-16 08:30", Decimal("0.01"), "2026-03-16 08:30:36"),
    ("2026-03-16 08:30", 0.1, "2026-03-16 08:36"),              # no float drift
])
def test_fractional_hours(start, hours, expected):
    assert add(start, hours) == at(expected)


def test_working_days_definition():
    assert add_working_days(at("2026-03-13 16:00"), 1, CN) == at("2026-03-16 16:00")  # same clock time
    assert add_working_days(at("2026-03-16 10:00"), 2, CN) == at("2026-03-18 10:00")
    assert add_working_days(at("2026-03-16 20:00"), 1, CN) == at("2026-03-17 17:30")  # all of Tuesday
    assert add_working_days(at("2026-03-16 08:30"), Decimal("0.5"), CN) == at("2026-03-16 12:00")


def test_calendar_hours_and_generic_deadline():
    assert add_calendar_hours(at("2026-03-13 16:00"), 24) == at("2026-03-14 16:00")
    assert deadline(at("2026-03-13 16:00"), 24, clock.CALENDAR_HOURS, CN) == at("2026-03-14 16:00")
    assert deadline(at("2026-03-13 16:00"), 4, clock.WORKING_HOURS, CN) == at("2026-03-16 11:00")
    assert deadline(at("2026-03-13 16:00"), 1, clock.WORKING_DAYS, CN) == at("2026-03-16 16:00")
    with pytest.raises(ValueError):
        deadline(at("2026-03-13 16:00"), 1, "fortnights", CN)


def test_results_are_aware_shanghai_time():
    utc_start = at("2026-03-13 16:00").astimezone(clock.ZoneInfo("UTC"))  # 08:00 UTC
    result = add_working_time(utc_start, 4, CN)
    assert result.tzinfo == clock.TZ and result == at("2026-03-16 11:00")


def test_bad_input():
    from datetime import datetime
    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 3, 16, 9), 1, CN)  # naive
    with pytest.raises(ValueError):
        add("2026-03-16 09:00", -1)


def test_custom_and_overlapping_periods():
    cal = Calendar(periods=[(time(13, 30), time(17, 0)), (time(8, 0), time(12, 0))])
    assert cal.day_length == timedelta(hours=7.5)
    assert add_working_time(at("2026-03-16 11:00"), 2, cal) == at("2026-03-16 14:30")
    merged = Calendar(periods=[(time(9), time(12)), (time(11), time(13)), (time(15), time(14))])
    assert merged.periods == ((time(9), time(13)),) and merged.day_length == timedelta(hours=4)
    assert Calendar(periods=[]).periods == clock.DEFAULT_PERIODS  # never without periods


# --- working time between ------------------------------------------------------------------------

def test_working_time_between():
    assert working_time_between(at("2026-03-13 16:00"), at("2026-03-16 11:00"), CN) == 4 * H
    assert working_time_between(at("2026-03-16 11:00"), at("2026-03-13 16:00"), CN) == -4 * H
    assert working_time_between(at("2026-03-16 12:00"), at("2026-03-16 14:00"), CN) == 0
    assert working_time_between(at("2026-03-16 11:00"), at("2026-03-16 15:00"), CN) == 2 * H
    assert working_time_between(at("2026-09-30 16:00"), at("2026-10-08 11:00"), CN) == 4 * H
    assert working_time_between(at("2026-03-16 09:00"), at("2026-03-16 09:00:00.5"), CN) == 0.5


# --- pause / resume / extension ---------------------------------------------------------------------

def started_clock():
    return Clock.start(at("2026-03-13 16:00"), 4, clock.WORKING_HOURS, CN)  # due Mon 03-16 11:00


def test_pause_and_resume_carries_the_remaining_time():
    c = started_clock()
    assert c.deadline == at("2026-03-16 11:00") and c.budget == timedelta(hours=4)
    paused = c.pause(at("2026-03-13 17:00"))  # left: Fri 0.5 h + Mon 2.5 h = 3 h
    assert paused.remaining(at("2026-03-20 09:00")) == timedelta(hours=3)  # frozen
    assert paused.pause(at("2026-03-14 09:00")) == paused  # pausing twice changes nothing
    resumed = paused.resume(at("2026-03-17 14:00"))  # Tue 14:00 + 3 h
    assert resumed.deadline == at("2026-03-17 17:00") and resumed.paused_at is None
    assert resumed.resume(at("2026-03-18 09:00")) == resumed


def test_pause_over_a_weekend_changes_nothing():
    assert resume_deadline(at("2026-03-16 10:30"), at("2026-03-14 10:00"), at("2026-03-15 10:00"), CN) == at("2026-03-16 10:30")


def test_overdue_at_pause_stays_overdue_by_the_same_amount():
    # due Mon 11:00, paused Mon 11:30 (0.5 h late), resumed Wed 09:00: the 11.5 working hours of the
    # pause (Mon 0.5 + 3.5, Tue 7, Wed 0.5) move the deadline to Mon 11:00 + 11.5 h = Tue 17:30
    c = started_clock().pause(at("2026-03-16 11:30")).resume(at("2026-03-18 09:00"))
    assert c.deadline == at("2026-03-17 17:30")
    assert c.remaining(at("2026-03-18 09:00")) == -timedelta(hours=0.5)
    assert c.light(at("2026-03-18 09:00"), Decimal("0.2")) == clock.RED


def test_natural_time_suspension():
    # due Fri 18:00 (2 自然时), paused 16:30 with 1.5 h left, resumed Sat 09:00
    c = Clock.start(at("2026-03-13 16:00"), 2, clock.CALENDAR_HOURS, CN)
    assert c.deadline == at("2026-03-13 18:00") and c.natural
    assert c.pause(at("2026-03-13 16:30")).resume(at("2026-03-14 09:00")).deadline == at("2026-03-14 10:30")


def test_extension_adds_time_after_the_deadline():
    c = started_clock().extend(2, clock.WORKING_HOURS)  # Mon 11:00–12:00 1 h, 14:00 + 1 h
    assert c.deadline == at("2026-03-16 15:00") and c.budget == timedelta(hours=6)
    c = c.extend(1, clock.WORKING_DAYS)  # + 7 h: Mon 2.5 h, Tue 08:30–12:00 3.5 h, 14:00 + 1 h
    assert c.deadline == at("2026-03-17 15:00") and c.budget == timedelta(hours=13)


# --- lights --------------------------------------------------------------------------------------

def test_light_boundaries():
    # 1 工作时 from Mon 11:30: due 14:30 (lunch does not count); yellow below 0.2 × 60 min = 12 min left
    started, due = at("2026-03-16 11:30"), at("2026-03-16 14:30")
    assert add_working_time(started, 1, CN) == due

    def lit(now, share=Decimal("0.2")):
        return light(at(now), started, due, share, CN)

    assert lit("2026-03-16 11:30") == "green"
    assert lit("2026-03-16 12:30") == "green"              # lunch: still 30 min of working time left
    assert lit("2026-03-16 14:18") == "green"              # exactly 12 min left is not below the share
    assert lit("2026-03-16 14:18:00.000001") == "yellow"
    assert lit("2026-03-16 14:30") == "yellow"             # due now, not yet overdue
    assert lit("2026-03-16 14:30:00.000001") == "red"
    assert lit("2026-03-16 14:30", share=0) == "green"     # no yellow phase when the share is 0
    assert lit("2026-03-16 11:00") == "green"              # before the clock started


def test_light_red_after_a_deadline_at_the_end_of_a_period():
    started, due = at("2026-03-16 11:00"), at("2026-03-16 12:00")
    assert light(at("2026-03-16 13:00"), started, due, 0.2, CN) == "red"  # no working time, but past it


def test_light_in_natural_time():
    started, due = at("2026-03-16 10:00"), at("2026-03-16 20:00")  # 10 自然时
    assert light(at("2026-03-16 18:00"), started, due, 0.2, CN, natural=True) == "green"  # 2 h of 10 left
    assert light(at("2026-03-16 18:00:01"), started, due, 0.2, CN, natural=True) == "yellow"
    assert light(at("2026-03-16 18:00"), started, due, 0.2, CN) == "yellow"  # no working time left today


def test_paused_clock_keeps_its_light():
    c = Clock.start(at("2026-03-16 11:30"), 1, clock.WORKING_HOURS, CN)  # due 14:30
    paused = c.pause(at("2026-03-16 14:25"))  # 5 min left of 60: yellow
    assert paused.light(at("2026-03-20 10:00"), 0.2) == "yellow"  # days later, still not red
    resumed = paused.resume(at("2026-03-18 09:00"))
    assert resumed.deadline == at("2026-03-18 09:05")
    assert resumed.light(at("2026-03-18 09:00"), 0.2) == "yellow"
    assert resumed.light(at("2026-03-18 09:06"), 0.2) == "red"
    assert c.light(at("2026-03-16 12:30"), 0.2) == "green"
