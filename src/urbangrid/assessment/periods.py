"""统计期间: the one period helper of the assessment — a period's bounds (day, week, month, quarter, year or an
explicit range), parsing one from request parameters (bounded: ``URBANGRID_EVALUATION_MAX_DAYS``), the previous
period, and a running period's label and comparison span. Evaluation, deductions and reviews all use it."""
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.core.bounds import EARLIEST, LATEST, date_in_range
from urbangrid.worktime import clock as wt
from urbangrid.worktime.periods import KINDS, Period, PeriodError, period_of
from urbangrid.worktime.periods import midnight as _midnight
from django.utils import dateformat

TZ = wt.TZ


def max_period_days():
    """The longest period a request may ask for (default three years and a day: any three calendar years fit)."""
    return int(settings.URBANGRID_EVALUATION_MAX_DAYS)


_FROM_SETTINGS = object()
PERIOD_KINDS = KINDS


def _date(value, name):
    if isinstance(value, date):
        d = value
    else:
        try:
            d = date.fromisoformat(str(value))
        except ValueError:
            msg = _("%(name)s 应为 YYYY-MM-DD 格式的日期") % {"name": name}
            raise PeriodError(msg, {name: msg}) from None
    if not date_in_range(d):
        msg = _("%(name)s 应在 %(a)s 至 %(b)s 之间") % {"name": name, "a": EARLIEST, "b": LATEST}
        raise PeriodError(msg, {name: msg})
    return d


def parse_period(period=None, day=None, date_from=None, date_to=None, now=None, max_days=_FROM_SETTINGS):
    """A Period from ``period`` + ``day`` (default: this month) or ``date_from``/``date_to`` (both
    included). Raises PeriodError (with the parameters to fix in ``fields``) for a reversed range, a period
    that has not started yet, or one longer than ``max_days`` days (default ``URBANGRID_EVALUATION_MAX_DAYS``;
    ``None``: no limit, for plain list filters that evaluate nothing)."""
    now = now or timezone.now()
    today = now.astimezone(TZ).date()
    if date_from or date_to:
        if not (date_from and date_to):
            msg = _("自定义期间须同时提供起始日期 from 和截止日期 to")
            raise PeriodError(msg, {"to" if date_from else "from": msg})
        a, b = _date(date_from, "from"), _date(date_to, "to")
        if a > b:
            msg = _("起始日期 %(a)s 晚于截止日期 %(b)s") % {"a": a, "b": b}
            raise PeriodError(msg, {"from": msg, "to": msg})
        p = Period(_midnight(a), _midnight(b + timedelta(days=1)), "custom")
    else:
        p = period_of(period or "month", _date(day, "date") if day else today)
    if p.first_day > today:
        msg = _("统计期间 %(p)s 尚未开始，不能评价未来的期间") % {"p": p.label()}
        raise PeriodError(msg, {"from" if p.kind == "custom" else "date": msg})
    limit = max_period_days() if max_days is _FROM_SETTINGS else max_days
    days = (p.last_day - p.first_day).days + 1
    if limit is not None and days > limit:
        msg = _("统计期间最长 %(n)s 天，%(a)s 至 %(b)s 共 %(d)s 天，请缩短期间") % {
            "n": limit, "a": p.first_day, "b": p.last_day, "d": days}
        raise PeriodError(msg, {"from": msg, "to": msg})
    return p


# --- scoring ------------------------------------------------------------------------------------


def previous(p):
    """The period of the same kind just before ``p`` (a custom period: the same number of days)."""
    if p.kind in ("day", "week", "month", "quarter", "year"):
        return period_of(p.kind, p.first_day - timedelta(days=1))
    days = (p.last_day - p.first_day).days + 1
    return Period(p.start - timedelta(days=days), p.start, "custom")


RUNNING_LABELS = {"day": gettext_lazy("本日进行中"), "week": gettext_lazy("本周进行中"), "month": gettext_lazy("本月进行中"),
                  "quarter": gettext_lazy("本季进行中"), "year": gettext_lazy("本年进行中"), "custom": gettext_lazy("期间进行中")}


def running(p, now):
    """Whether ``p`` is still running at ``now`` (its figures are partial)."""
    return p.start <= now < p.end


def _day_label(d):
    """"12月3日" / "3 Dec": the msgid is a date format (Django's format characters; 月 and 日 are literal)."""

    return dateformat.format(d, _("n月j日"))


def partial_label(p, now):
    """"截至12月3日（本月进行中）" for a period still running, else ""."""
    if not running(p, now):
        return ""
    return _("截至%(date)s（%(running)s）") % {"date": _day_label(now.astimezone(TZ).date()),
                                              "running": RUNNING_LABELS.get(p.kind, RUNNING_LABELS["custom"])}


def compared_spans(p, now):
    """(current, previous, note): what a summary compares. A finished period: it and the whole previous one.
    A period still running: its days so far (to ``now``) and the same number of days from the start of the
    previous period (3 days of December: 1–3 November), whole days so that the daily tallies answer it."""
    prev = previous(p)
    if not running(p, now):
        return p, prev, _("上期：%(p)s") % {"p": prev.label()}
    days = (now.astimezone(TZ).date() - p.first_day).days + 1
    cut = min(prev.end, _midnight(prev.first_day + timedelta(days=days)))
    span = Period(prev.start, cut, prev.kind)
    note = _("本期%(partial)s，与上期同期（%(a)s — %(b)s，共 %(n)s 天）比较") % {
        "partial": partial_label(p, now), "a": span.first_day, "b": span.last_day, "n": (span.last_day - span.first_day).days + 1}
    return p, span, note


def months_of(p):
    """The calendar months inside ``p`` (clipped to it)."""
    out, day = [], p.first_day
    while day <= p.last_day:
        m = period_of("month", day)
        out.append(Period(max(m.start, p.start), min(m.end, p.end), "month"))
        day = m.last_day + timedelta(days=1)
    return out


# --- the reviews --------------------------------------------------------------------------------
