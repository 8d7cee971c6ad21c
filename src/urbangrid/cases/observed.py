"""When a report was made (observed) versus when it reached us (received).

A report queued offline on a phone reaches the server hours later; its report time, case number year and stage
clocks should start when the inspector saw the problem, not when the phone found a network. The phone sends its
observation time (``observed_at``, ISO 8601 with a UTC offset); the server keeps both and uses the observed one
when it is plausible:

* not later than the received time plus ``URBANGRID_OBSERVED_FUTURE_SKEW_SECONDS`` (a phone clock a little fast);
  a little ahead is clamped to the received time;
* not older than ``URBANGRID_OBSERVED_MAX_AGE_HOURS`` before the received time (a queue forgotten for a week or a
  phone clock set years back must not back-date a case past its deadlines).

Otherwise the received time is the report time and the report event notes why. An observed time that cannot be
read at all (not ISO 8601, no offset) is bad input: the caller answers 422 with the field's message.
"""
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _


def parse(value):
    """An aware datetime from an ISO 8601 string (``Z`` or an offset required); None for empty; ValueError else."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    else:
        text = str(value).strip()
        if len(text) > 40:
            raise ValueError(_("观察时间格式无效，应为带时区的 ISO 8601 时间"))
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise ValueError(_("观察时间格式无效，应为带时区的 ISO 8601 时间")) from None
    if timezone.is_naive(parsed):
        raise ValueError(_("观察时间须带时区（如 2026-12-03T08:00:00+08:00）"))
    return parsed


FUTURE, TOO_OLD = "future", "too_old"


def report_time(observed, received, *, max_age=None, skew=None):
    """(report time, rule): the observed time and "" when plausible, else the received time and the rule it broke
    (``{"rule": FUTURE|TOO_OLD, "bound_s": the bound in seconds}``), which the report event records."""
    if observed is None:
        return received, ""
    max_age = timedelta(hours=settings.URBANGRID_OBSERVED_MAX_AGE_HOURS) if max_age is None else max_age
    skew = timedelta(seconds=settings.URBANGRID_OBSERVED_FUTURE_SKEW_SECONDS) if skew is None else skew
    if observed > received + skew:
        return received, {"rule": FUTURE, "bound_s": int(skew.total_seconds())}
    if observed < received - max_age:
        return received, {"rule": TOO_OLD, "bound_s": int(max_age.total_seconds())}
    return min(observed, received), ""


def explain(rule):
    """Why the observed time was not used, in the reader's language ("" when it was)."""
    if not isinstance(rule, dict):
        return ""
    if rule.get("rule") == FUTURE:
        return _("观察时间晚于接收时间（超过允许的 %(s)s 秒误差），按接收时间计") % {"s": rule.get("bound_s", 0)}
    if rule.get("rule") == TOO_OLD:
        return _("观察时间早于接收时间 %(h)s 小时以上，按接收时间计") % {"h": round(rule.get("bound_s", 0) / 3600)}
    return ""
