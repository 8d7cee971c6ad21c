"""Statutory holidays (法定节假日) for the years the official notice has not reached, from the ``holidays`` package.

The official calendar of a year is the State Council General Office's notice (国务院办公厅关于某年部分节假日安排的
通知): holidays and make-up working days (调休上班). ``chinese_calendar`` carries the notices it has been released
with (2004–2026 in 1.11.0); a later year is known only once its notice is imported (``worktime.notice``) or a newer
``chinese_calendar`` is installed and the calendar re-seeded. Until then the platform counts the year with the days
the law itself fixes: 《全国年节及纪念日放假办法》 — 元旦, 春节 (除夕 and the first three days), 清明, 劳动节 (two days),
端午, 中秋, 国庆 (three days) — and its article 6: a holiday falling on a Saturday or Sunday is made up on the next
working day (补假). ``holidays.China`` computes exactly these for any year from 1950 to 2100 (lunar dates included),
with the 补假 as "observed" days; it knows no 调休 beyond the notices it was released with. Such days are
*unconfirmed*: the notice may add make-up working weekends and move days off (docs/standards.md, "Working calendar").
"""
from datetime import date
from functools import lru_cache

import holidays

_CHINA = holidays.China


def supported(year):
    """Whether the package computes China's holidays for ``year``."""
    return _CHINA.start_year <= year <= getattr(_CHINA, "end_year", 2100)


@lru_cache(maxsize=None)
def statutory_days(year):
    """{date: name} of the statutory days off in ``year`` (补假 included), or None for a year the package does not
    cover. Names are Chinese ("元旦", "春节（补假）")."""
    if not supported(year):
        return None
    return dict(_CHINA(years=year, language="zh_CN", categories=(holidays.PUBLIC,)).items())


def is_workday(d: date) -> bool:
    """Monday to Friday except the statutory days off; plain Monday–Friday for a year the package does not cover."""
    if d.weekday() >= 5:
        return False
    days = statutory_days(d.year)
    return days is None or d not in days
