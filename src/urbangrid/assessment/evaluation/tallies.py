"""日统计 (daily tallies): the standard evaluation at megacity scale.

Reading a month's raw events costs about 50–100 µs per event in Python (1.9 M events a month at 3 M
cases a year: minutes). The same rules as ``rules.EventEvaluation`` therefore count each day once,
into small derived tables, and a period's evaluation sums them:

- ``UnitDay``, ``RegionDay``, ``PostDay``: additive counts per day and unit, region (unit-grid tuple) or
  post-holder (立案, 处置, 按期处置, 返工, 核实, 上报, 派遣 …), including each case's first close with its
  verdict and handling seconds;
- ``CaseFact``: what a day's sums cannot carry, per case: a second dispatch to / feedback by the same unit
  and a second close (so a period still counts distinct cases), reports not (yet) filed, filings voided
  later, dispatches answered by 回退, and the spans of handling clocks overdue (or that will be): a case
  overdue and unhandled for months is due in each of those months, from facts written when its events'
  days were tallied (so ``build=True`` tallies from the scheme's look-back bound, not only the period).

Region rows keep 自行处置 cases apart (``RegionDay.self_handled``), so the scheme's choice for them
(``self_handled_in_regions``) applies when a period is read, without re-tallying.

A day is tallied from its events plus the whole history of the cases they touch, in one transaction that
replaces the day's rows (idempotent, rebuildable at any time: ``urbangrid tallies rebuild``). Days are
re-tallied when new events land on them: a cursor over the event ids finds the days of events added since
the last check (the demo history and the generator write events in the past), and the last two days are
also checked by counting, since a transaction may commit an event id below the cursor. Today's tally is
refreshed at most every ``URBANGRID_TALLY_TODAY_MAX_AGE`` seconds (0: exact). A change of the scheme's
on-time grace re-tallies every day it touches; editing the working calendar afterwards needs a rebuild
(handling seconds are working time).

Who tallies: the worker (``tasks``: today, yesterday and days given events later every minute; every
missing day, newest first, within a time budget every ten minutes), ``urbangrid tallies build | refresh |
rebuild``, and the demo build. Never a request: ``TallyEvaluation(build=False)`` only reads which days of
its period are ready (``unready_days``, read-only, a bounded number of queries) and leaves the others out
(``missing``). Days before the first event and after today hold nothing and are never tallied.

``TallyEvaluation`` gives the same tables as ``EventEvaluation`` (tests compare them on the demo history
and on hand-built logs); its cost grows with the number of days and subjects in the period, not with
the events.
"""
import time
from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils import timezone

from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.workflow import Action
from urbangrid.core.tenancy import PerCity
from urbangrid.worktime import clock as wt

from ..models import (
    POST_DAY_COUNTS,
    REGION_DAY_COUNTS,
    UNIT_DAY_COUNTS,
    CaseFact,
    EvaluationScheme,
    PostDay,
    RegionDay,
    TallyCursor,
    TallyDay,
    UnitDay,
)
from ..periods import PeriodError, _midnight
from .rules import (
    BEFORE_FILING,
    DISPATCHES,
    HANDLE_DEADLINES,
    HANDLE_PAUSES,
    HANDLE_STARTS,
    HANDLE_STOPS,
    ID_CHUNK,
    LEVEL_FIELD,
    LEVELS,
    TZ,
    VALIDATING,
    EventEvaluation,
    Judge,
    Span,
    close_verdicts,
    handle_clocks,
    is_self_filing,
    new_position_counter,
    overdue_in_period,
    post_counts,
    returned_dispatches,
)

REGION_FIELDS = [f.replace("case__", "") for f in LEVEL_FIELD.values()]
CLOCK_ACTIONS = frozenset(HANDLE_STARTS + HANDLE_STOPS + HANDLE_PAUSES + HANDLE_DEADLINES)
# Events whose day matters even before the range: the last dispatch, feedback or close before a repeat in it.
DAY_KEPT = frozenset(DISPATCHES + (Action.FEED_BACK, Action.CLOSE))
PER_CASE_KINDS = ("report_pending", "voided_filing", "returned", "clock")  # functions of a case's whole history
PER_DAY_KINDS = ("filed_again", "fed_again", "closed_again")  # keyed by the day of the repeated event


def local_day(at):
    return at.astimezone(TZ).date()


def _grace_minutes(scheme=None):
    return int((scheme or EvaluationScheme.current()).ontime_grace_minutes or 0)


# --- tallying one day ---------------------------------------------------------------------------

def _histories(case_ids):
    """Every event of these cases, by case, in seq order; and each case's (source, regions, self-handled)."""
    hist, cases = defaultdict(list), {}
    ids = sorted(case_ids)
    for i in range(0, len(ids), ID_CHUNK):
        chunk = ids[i:i + ID_CHUNK]
        for r in (CaseEvent.objects.filter(case_id__in=chunk).order_by("case_id", "seq")
                  .values_list("case_id", "seq", "action", "at", "actor_person_id", "unit_id", "data", "from_state",
                               "to_state", "deadline", "stage").iterator(chunk_size=5000)):
            hist[r[0]].append(r[1:])
        for pk, source, self_handled, *regions in (Case.objects.filter(pk__in=chunk).order_by()
                                                   .values_list("pk", "source", "self_handled", *REGION_FIELDS)):
            cases[pk] = (source, tuple(regions), self_handled)
    return hist, cases


class RangeCounter:
    """The additive counts of a range of days, and the facts of the cases it touches (the rules of
    EventEvaluation, applied to every event of the range with the case's whole history at hand)."""

    def __init__(self, first, last, judge, calendar):
        self.judge, self.calendar = judge, calendar
        self.a, self.b = _midnight(first), _midnight(last + timedelta(days=1))
        self.counts = defaultdict(int)  # (day, dim, keys tuple, metric) -> n
        self.events = defaultdict(int)  # day -> events
        self.facts = []

    def fact(self, case_id, kind, **fields):
        self.facts.append(CaseFact(case_id=case_id, kind=kind, **fields))

    def case(self, case_id, evs, source, regions, self_handled=False):
        j, a, b, counts = self.judge, self.a, self.b, self.counts
        rkey = (*regions, bool(self_handled))  # a region row per unit-grid tuple and 自行处置 or not
        on = j.on_time
        seen_dispatch, seen_feed = {}, {}  # unit -> day of the last such event before
        verdicts = (close_verdicts([(e[0], e[1], e[2], e[5], e[9]) for e in evs], j.late_any, self.calendar)
                    if any(e[1] == Action.CLOSE for e in evs) else {})
        prev_close = None
        for seq, action, at, p, unit, data, from_state, to_state, _deadline, _stage in evs:
            inside = a <= at < b
            day = local_day(at) if inside or action in DAY_KEPT else None
            if inside:
                self.events[day] += 1
            if action in DISPATCHES and unit is not None:
                if inside:
                    if unit in seen_dispatch:
                        self.fact(case_id, "filed_again", day=day, k1=unit, prev_day=seen_dispatch[unit])
                    else:
                        counts[day, "unit", (unit,), "filed"] += 1
                seen_dispatch[unit] = day
            elif action == Action.FEED_BACK and unit is not None:
                if inside:
                    if unit in seen_feed:
                        self.fact(case_id, "fed_again", day=day, k1=unit, prev_day=seen_feed[unit])
                    else:
                        counts[day, "unit", (unit,), "fed"] += 1
                    counts[day, "unit", (unit,), "handled"] += 1
                    if on(data, "handle", at):
                        counts[day, "unit", (unit,), "ontime"] += 1
                seen_feed[unit] = day
            elif action == Action.CHECK_FAIL and unit is not None and inside:
                counts[day, "unit", (unit,), "rework"] += 1
            if action == Action.CLOSE:
                ontime, seconds = verdicts[seq]
                if inside:
                    if prev_close is None:
                        counts[day, "region", rkey, "closed"] += 1
                        counts[day, "region", rkey, "ontime"] += int(ontime)
                        if seconds is not None:
                            counts[day, "region", rkey, "handle_sum"] += seconds
                            counts[day, "region", rkey, "handle_n"] += 1
                    else:
                        pday, pon, psec = prev_close
                        self.fact(case_id, "closed_again", day=day, k1=int(bool(self_handled)), r1=regions[0],
                                  r2=regions[1], r3=regions[2], r4=regions[3], r5=regions[4], prev_day=pday,
                                  n1=int(ontime), n2=seconds, p1=int(pon), p2=psec)
                prev_close = (day, ontime, seconds)
            if not inside:
                continue
            if action == Action.VERIFY and (data or {}).get("confirmed"):
                counts[day, "region", rkey, "verified"] += 1
            elif action == Action.FILE or (action == Action.ACCEPT and is_self_filing(to_state)):
                counts[day, "region", rkey, "filed"] += 1
            if p is None:
                continue
            for post, counter, n in post_counts(action, source, data, at, on):
                counts[day, post, (p,), counter] += n
        self.case_facts(case_id, evs, source, regions, self_handled)

    def case_facts(self, case_id, evs, source, regions, self_handled=False):
        """The facts that follow from the case's whole history (recomputed whenever it gains an event)."""
        valid = any(e[1] in VALIDATING and not (e[1] == Action.ACCEPT and e[7] == "pending_filing") for e in evs)
        voided = any(e[1] == Action.VOID and e[6] not in BEFORE_FILING for e in evs)
        by_seq = {e[0]: e for e in evs}
        for seq, action, at, p, *_rest in evs:
            if action == Action.REPORT and source == "inspector" and p is not None and not valid:
                self.fact(case_id, "report_pending", day=local_day(at), k1=p)
            elif action == Action.FILE and voided and p is not None:
                self.fact(case_id, "voided_filing", day=local_day(at), k1=p)
        dispatch_evs = [(e[0], e[1]) for e in evs if e[1] in DISPATCHES or e[1] == Action.APPROVE_RETURN]
        for d_seq in returned_dispatches(dispatch_evs):
            d = by_seq[d_seq]
            if d[3] is not None:
                self.fact(case_id, "returned", day=local_day(d[2]), k1=d[3])
        if any(e[1] in CLOCK_ACTIONS for e in evs):
            for clock in handle_clocks([(e[1], e[2], e[4], e[8], e[9]) for e in evs]):
                for span in clock["spans"]:  # one row per overdue span (the evaluation decides which periods)
                    self.fact(case_id, "clock", k1=clock["unit"], r1=regions[0], r2=regions[1], r3=regions[2],
                              r4=regions[3], r5=regions[4], overdue_at=span.start, until_at=span.until,
                              n1=int(span.replaced), n2=int(bool(self_handled)), stop_at=clock["stop_at"],
                              set_at=span.set_at)

    def table_rows(self):
        """{model: [row tuples]} for UnitDay, RegionDay and PostDay (one row per day and subject)."""
        wide = defaultdict(lambda: defaultdict(int))
        for (day, dim, keys, metric), n in self.counts.items():
            if n:
                wide[day, dim, keys][metric] += n
        out = defaultdict(list)
        for (day, dim, keys), m in wide.items():
            if dim == "unit":
                out[UnitDay].append((day, keys[0], *(m.get(k, 0) for k in UNIT_DAY_COUNTS)))
            elif dim == "region":
                out[RegionDay].append((day, *keys, *(m.get(k, 0) for k in REGION_DAY_COUNTS)))
            else:
                out[PostDay].append((day, dim, keys[0], *(m.get(k, 0) for k in POST_DAY_COUNTS)))
        return out


TABLE_FIELDS = {UnitDay: ("day", "unit", *UNIT_DAY_COUNTS),
                RegionDay: ("day", "grid", "rgrid", "community", "street", "district", "self_handled", *REGION_DAY_COUNTS),
                PostDay: ("day", "role", "person", *POST_DAY_COUNTS)}


def _insert(model, rows):
    """A plain multi-row INSERT (bulk_create's per-field preparation costs more than the counting)."""
    if not rows:
        return
    fields = TABLE_FIELDS[model]
    cols = ", ".join(connection.ops.quote_name(f) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    per = max(1, 900 // len(fields))  # under SQLite's variable limit
    with connection.cursor() as cur:
        for i in range(0, len(rows), per):
            batch = rows[i:i + per]
            cur.execute(f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({cols}) VALUES "
                        + ", ".join([one] * len(batch)), [v for row in batch for v in row])


WINDOW_DAYS = 31  # days tallied in one transaction (bounds the memory of a rebuild)


def tally_range(first, last, scheme=None, calendar=None):
    """Replace the tallies of the days ``first``..``last`` (and the facts of the cases they touch), a
    month at a time, each in one transaction; returns the number of events tallied. Each case's history is
    read once per window, whatever the number of its days in it."""
    scheme = scheme or EvaluationScheme.current()
    total, start = 0, first
    while start <= last:
        end = min(last, start + timedelta(days=WINDOW_DAYS - 1))
        total += _tally_window(start, end, scheme, calendar)
        start = end + timedelta(days=1)
    return total


def _tally_window(first, last, scheme, calendar):
    grace = _grace_minutes(scheme)
    judge = Judge(timedelta(minutes=grace))
    a, b = _midnight(first), _midnight(last + timedelta(days=1))
    days = list(_days(first, last))
    with transaction.atomic():
        TallyDay.objects.bulk_create([TallyDay(day=d, computed_at=timezone.now()) for d in days], ignore_conflicts=True)
        status = list(TallyDay.objects.select_for_update().filter(day__gte=first, day__lte=last))  # one tally of a day at a time
        touched = sorted(set(CaseEvent.objects.filter(at__gte=a, at__lt=b).order_by().values_list("case_id", flat=True)))
        counter = RangeCounter(first, last, judge, calendar or wt.get_calendar())
        for i in range(0, len(touched), ID_CHUNK):
            chunk = touched[i:i + ID_CHUNK]
            hist, cases = _histories(chunk)
            for case_id, evs in hist.items():
                source, regions, self_handled = cases[case_id]
                counter.case(case_id, evs, source, regions, self_handled)
            CaseFact.objects.filter(kind__in=PER_CASE_KINDS, case_id__in=chunk).delete()
        for model in TABLE_FIELDS:
            model.objects.filter(day__gte=first, day__lte=last).delete()
        CaseFact.objects.filter(kind__in=PER_DAY_KINDS, day__gte=first, day__lte=last).delete()
        for model, rows in counter.table_rows().items():
            _insert(model, rows)
        CaseFact.objects.bulk_create(counter.facts, batch_size=2000)
        now = timezone.now()
        for t in status:
            t.computed_at, t.events, t.grace_minutes, t.dirty = now, counter.events.get(t.day, 0), grace, False
        TallyDay.objects.bulk_update(status, ["computed_at", "events", "grace_minutes", "dirty"], batch_size=500)
    return sum(counter.events.values())


def _days(first, last):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


_seen = PerCity(lambda: {"top": None})  # the highest event id this process has accounted for (per city)


def forget_seen():
    """Tests roll back events (and SQLite may reuse their ids): forget what this process saw."""
    for seen in _seen.all():
        seen["top"] = None


def mark_new_events():
    """Mark dirty the days of the events added since the last check (one aggregate over the new ids).
    One query when nothing was added since this process last looked."""
    top = CaseEvent.objects.order_by("-id").values_list("id", flat=True).first()
    if top is None or (_seen["top"] is not None and top <= _seen["top"]):
        return
    with transaction.atomic():
        TallyCursor.objects.bulk_create([TallyCursor(pk=1)], ignore_conflicts=True)
        cursor = TallyCursor.objects.select_for_update().get(pk=1)
        agg = CaseEvent.objects.filter(id__gt=cursor.last_event_id).aggregate(lo=Min("at"), hi=Max("at"), top=Max("id"))
        if agg["top"] is None:  # another process accounted for them
            _seen["top"] = top
            return
        TallyDay.objects.filter(day__gte=local_day(agg["lo"]), day__lte=local_day(agg["hi"])).update(dirty=True)
        cursor.last_event_id = agg["top"]
        cursor.save(update_fields=["last_event_id"])
    _seen["top"] = max(top, agg["top"])


def first_event_day():
    """The day of the earliest case event (None: no events); one look-up in the ``at`` index."""
    at = CaseEvent.objects.order_by("at").values_list("at", flat=True).first()
    return None if at is None else local_day(at)


def _span(first_day, last_day, today):
    """[first_day, last_day] cut to the days that can hold events: from the first event's day to today."""
    lo = first_event_day()
    if lo is None:
        return None
    first, last = max(first_day, lo), min(last_day, today)
    return (first, last) if first <= last else None


UNACCOUNTED_PROBE = 20000  # events past the cursor a request looks at (more: every day counts as behind)


def _unaccounted_days():
    """Read-only: the days of the events the cursor has not accounted for yet (the worker marks them dirty
    within a minute). At most UNACCOUNTED_PROBE events are read; None when there are more."""
    last_id = TallyCursor.objects.filter(pk=1).values_list("last_event_id", flat=True).first() or 0
    ats = list(CaseEvent.objects.filter(id__gt=last_id).order_by("id").values_list("at", flat=True)[:UNACCOUNTED_PROBE + 1])
    if len(ats) > UNACCOUNTED_PROBE:
        return None
    return {local_day(a) for a in ats}


def _todo(first_day, last_day, grace, now, unaccounted=frozenset(), lag=timedelta(0)):
    """The days of [first_day, last_day] whose tally is missing, dirty, tallied with another grace, behind
    events not yet accounted for (``unaccounted``: a set of days, None for all), or (for the last two days)
    holds a different number of events than when tallied; today's tally younger than
    ``URBANGRID_TALLY_TODAY_MAX_AGE`` seconds (plus ``lag``; 0: always exact) is taken as it is."""
    today = local_day(now)
    status = {t.day: t for t in TallyDay.objects.filter(day__gte=first_day, day__lte=last_day)}
    max_age = timedelta(seconds=int(settings.URBANGRID_TALLY_TODAY_MAX_AGE))
    todo = []
    for d in _days(first_day, min(last_day, today)):
        t = status.get(d)
        if t is None or t.grace_minutes != grace:
            todo.append(d)
            continue
        if d == today and max_age and t.computed_at > now - max_age - lag:
            continue  # today's tally is young enough
        if t.dirty or unaccounted is None or d in unaccounted:
            todo.append(d)
        elif d >= today - timedelta(days=1):
            n = CaseEvent.objects.filter(at__gte=_midnight(d), at__lt=_midnight(d + timedelta(days=1))).count()
            if n != t.events:
                todo.append(d)
    return todo


# A request takes today's tally as ready for this long beyond URBANGRID_TALLY_TODAY_MAX_AGE: the worker
# re-tallies today every minute once it is that old, and needs a moment to do so.
WORKER_LAG = timedelta(minutes=2)


def unready_days(first_day, last_day, scheme=None, now=None):
    """Read-only (what a request may do): the days of [first_day, last_day] an evaluation cannot take from
    the tallies now. A fixed number of queries (at most two of them count one day's events)."""
    now = now or timezone.now()
    span = _span(first_day, last_day, local_day(now))
    if span is None:
        return []
    grace = _grace_minutes(scheme)
    return _todo(*span, grace, now, unaccounted=_unaccounted_days(), lag=WORKER_LAG)


def ensure_fresh(first_day, last_day, scheme=None, now=None):
    """Tally every day of [first_day, last_day] (from the first event's day to today) that is not ready
    (``_todo``). Returns the days tallied. For the worker, commands and tests: never in a request."""
    now = now or timezone.now()
    scheme = scheme or EvaluationScheme.current()
    grace = _grace_minutes(scheme)
    mark_new_events()
    span = _span(first_day, last_day, local_day(now))
    if span is None:
        return []
    todo = _todo(*span, grace, now)
    for first, last in _runs(todo):
        tally_range(first, last, scheme=scheme)
    return todo


def build_missing(first_day=None, last_day=None, budget_seconds=None, now=None):
    """Tally the days of [first_day, last_day] (default: the first event's day to today) that are not ready,
    newest first, a window (WINDOW_DAYS) at a time; with ``budget_seconds``, no new window is started once
    that much time has passed (the worker's back-fill: the rest follows on its next run). Returns the days
    tallied, in order (``urbangrid tallies build``)."""
    now = now or timezone.now()
    today = local_day(now)
    scheme = EvaluationScheme.current()
    mark_new_events()
    lo = first_event_day()
    if lo is None:
        return []
    span = _span(first_day or lo, last_day or today, today)
    if span is None:
        return []
    todo = _todo(*span, _grace_minutes(scheme), now)
    started, done = time.monotonic(), []
    for first, last in reversed(_runs(todo)):
        end = last
        while end >= first:
            if budget_seconds is not None and done and time.monotonic() - started > budget_seconds:
                return sorted(done)
            start = max(first, end - timedelta(days=WINDOW_DAYS - 1))
            tally_range(start, end, scheme=scheme)
            done.extend(_days(start, end))
            end = start - timedelta(days=1)
    return sorted(done)


def raw_affordable(start, end):
    """Whether a request may count [start, end) from the raw events: at most
    ``URBANGRID_EVALUATION_RAW_MAX_EVENTS`` events in it (0: never). Reads at most that many index entries."""
    limit = int(settings.URBANGRID_EVALUATION_RAW_MAX_EVENTS)
    if limit <= 0:
        return False
    return CaseEvent.objects.filter(at__gte=start, at__lt=end).order_by().values("pk")[:limit + 1].count() <= limit




def _runs(days):
    """Consecutive days as (first, last) runs."""
    runs = []
    for d in days:
        if runs and runs[-1][1] + timedelta(days=1) == d:
            runs[-1][1] = d
        else:
            runs.append([d, d])
    return [tuple(r) for r in runs]


def refresh(now=None):
    """Re-tally yesterday, today and any day marked dirty (the periodic task and ``tallies refresh``)."""
    now = now or timezone.now()
    today = local_day(now)
    mark_new_events()
    first = TallyDay.objects.filter(dirty=True).aggregate(lo=Min("day"))["lo"] or today
    return ensure_fresh(min(first, today - timedelta(days=1)), today, now=now)


def rebuild(first_day=None, last_day=None):
    """Re-tally every day from ``first_day`` to ``last_day`` (default: the whole event log)."""
    if first_day is None or last_day is None:
        agg = CaseEvent.objects.aggregate(lo=Min("at"), hi=Max("at"))
        if agg["lo"] is None:
            return 0
        first_day = first_day or local_day(agg["lo"])
        last_day = last_day or local_day(agg["hi"])
    if first_day > last_day:
        raise PeriodError("first day after last day")
    mark_new_events()
    return tally_range(first_day, last_day)


# --- the evaluation from the tallies --------------------------------------------------------------

class TallyEvaluation(EventEvaluation):
    """``EventEvaluation``'s tables from the daily tallies (same numbers; cost follows the days).

    ``build=False`` (requests): tallies nothing; ``missing`` lists the days of the period without a ready
    tally, which the tables leave out (or count as last tallied). ``build=True``: tallies them first."""

    source = "tallies"

    def __init__(self, start, end, scheme=None, calendar=None, now=None, build=False):
        super().__init__(start, end, scheme=scheme, calendar=calendar, now=now)
        self.first_day = local_day(self.start)
        self.last_day = local_day(self.eff_end - timedelta(microseconds=1))
        if build:
            # from the look-back bound: the clock facts of cases last touched before the period (a case overdue
            # and unhandled since then) come from the days of their events
            self.tallied = ensure_fresh(local_day(self.lookback), self.last_day, scheme=self.scheme)
            self.missing = []
        else:
            self.tallied, self.missing = [], unready_days(self.first_day, self.last_day, scheme=self.scheme)
        self._overdue_facts = None
        self._closed_overdue = None
        self._region_rows_cache = None

    def _sums(self, model, keys, counts):
        return list(model.objects.filter(day__gte=self.first_day, day__lte=self.last_day).order_by().values_list(*keys)
                    .annotate(**{f"s_{c}": Sum(c) for c in counts}))

    def _facts(self, kind):
        return CaseFact.objects.filter(kind=kind, day__gte=self.first_day, day__lte=self.last_day).order_by()

    def _overdue_in_period(self):
        """(unit rows, region cases, {case_id: (regions, self-handled)}) from the clock facts: each overdue span
        since the look-back bound that began before the period's end, on a clock not stopped before it began;
        ``overdue_in_period`` decides, as for the raw events."""
        if self._overdue_facts is None:
            rows = (CaseFact.objects.filter(kind="clock", overdue_at__gte=self.lookback, overdue_at__lt=self.eff_end,
                                            set_at__gte=self.lookback)
                    .filter(Q(stop_at__isnull=True) | Q(stop_at__gt=self.start)).order_by()
                    .values_list("case_id", "k1", "stop_at", "overdue_at", "until_at", "n1", "set_at", "n2",
                                 "r1", "r2", "r3", "r4", "r5"))
            spans, info = defaultdict(list), {}
            for case_id, unit, stop, start, until, replaced, set_at, self_handled, *regions in rows:
                spans[case_id, unit, stop].append(Span(start, until, bool(replaced), set_at))
                info[case_id] = (tuple(regions), bool(self_handled))
            clocks = [(case_id, unit, stop, ss) for (case_id, unit, stop), ss in spans.items()]
            voided = {c for c, _u in self._in_period(Action.VOID, set(info))} if info else set()
            units, cases = overdue_in_period(clocks, voided, self.start, self.eff_end, self.lookback)
            self._overdue_facts = units, cases, info
        return self._overdue_facts

    def overdue_clocks(self):
        return self._overdue_in_period()[0]

    def overdue_cases(self):
        return self._overdue_in_period()[1]

    def _in_period(self, action, case_ids):
        """(case_id, unit_id) of these cases' ``action`` events in the period."""
        out, ids = set(), sorted(case_ids)
        for i in range(0, len(ids), ID_CHUNK):
            out.update(CaseEvent.objects.filter(case_id__in=ids[i:i + ID_CHUNK], action=action, at__gte=self.start,
                                                at__lt=self.eff_end).order_by().values_list("case_id", "unit_id"))
        return out

    def unit_counts(self):
        k = defaultdict(lambda: defaultdict(int))
        for unit, *sums in self._sums(UnitDay, ["unit"], UNIT_DAY_COUNTS):
            k[unit].update(zip(UNIT_DAY_COUNTS, sums))
        for kind, metric in (("filed_again", "filed"), ("fed_again", "fed")):
            for unit, n in (self._facts(kind).filter(prev_day__lt=self.first_day).values_list("k1")
                            .annotate(n=Count("pk"))):
                k[unit][metric] += n
        overdue = self.overdue_clocks()
        fed_pairs = self._in_period(Action.FEED_BACK, {c for c, _u, _o in overdue}) if overdue else set()
        extra_due, clocks = defaultdict(set), defaultdict(int)
        for case_id, unit, _at in overdue:
            if unit is not None:
                clocks[unit] += 1
                if (case_id, unit) not in fed_pairs:
                    extra_due[unit].add(case_id)
                k[unit]  # noqa: B018 - a unit with only overdue clocks is listed
        return {u: {"filed": c["filed"], "closed": c["fed"], "due": c["fed"] + len(extra_due[u]), "handled": c["handled"],
                    "ontime": c["ontime"], "rework": c["rework"], "overdue": clocks[u]} for u, c in k.items()}

    def position_counts(self):
        c = new_position_counter()
        for role, person, *sums in self._sums(PostDay, ["role", "person"], POST_DAY_COUNTS):
            c[role, person].update((k, n) for k, n in zip(POST_DAY_COUNTS, sums) if n)
        pending = dict(self._facts("report_pending").values_list("k1").annotate(n=Count("pk")))
        for (role, person), k in c.items():
            if role == "inspector" and k["reported"]:
                k["valid_reported"] = k["reported"] - pending.get(person, 0)
        for kind, role, metric in (("voided_filing", "shift_lead", "voided_after_filing"), ("returned", "dispatcher", "returned")):
            for person, n in self._facts(kind).values_list("k1").annotate(n=Count("pk")):
                c[role, person][metric] += n
        verified, filed = defaultdict(int), defaultdict(int)
        with_self = bool(self.scheme.self_handled_in_regions)
        for _g, rgrid, _c, _s, _d, self_handled, n_verified, n_filed, *_rest in self._region_rows()[0]:
            if rgrid is not None and (with_self or not self_handled):
                verified[rgrid] += n_verified
                filed[rgrid] += n_filed
        return c, verified, filed

    def _region_rows(self):
        """The period's region sums per unit-grid tuple and 自行处置 flag, and its re-closings: read once for all
        levels."""
        if self._region_rows_cache is None:
            sums = self._sums(RegionDay, ["grid", "rgrid", "community", "street", "district", "self_handled"],
                              REGION_DAY_COUNTS)
            again = list(self._facts("closed_again").values_list("r1", "r2", "r3", "r4", "r5", "k1", "prev_day", "n1",
                                                                 "n2", "p1", "p2"))
            self._region_rows_cache = sums, again
        return self._region_rows_cache

    def region_counts(self, level):
        idx = list(LEVELS).index(level)
        with_self = bool(self.scheme.self_handled_in_regions)
        k = defaultdict(lambda: defaultdict(int))
        self_closed = defaultdict(int)
        sums, again = self._region_rows()
        for row in sums:
            if row[5]:  # 自行处置 cases: their closures are listed; the rest only where the scheme counts them
                self_closed[row[idx]] += row[6 + REGION_DAY_COUNTS.index("closed")]
                if not with_self:
                    continue
            r = k[row[idx]]
            for name, n in zip(REGION_DAY_COUNTS, row[6:]):
                r[name] += n
        for *regions, self_handled, pday, n1, n2, p1, p2 in again:
            if self_handled and pday < self.first_day:
                self_closed[regions[idx]] += 1
            if self_handled and not with_self:
                continue
            r = k[regions[idx]]
            if pday < self.first_day:  # the case's first close in the period
                r["closed"] += 1
            else:  # replaces the earlier close in the period: the last close's verdict counts
                r["ontime"] -= p1
                if p2 is not None:
                    r["handle_sum"] -= p2
                    r["handle_n"] -= 1
            r["ontime"] += n1
            if n2 is not None:
                r["handle_sum"] += n2
                r["handle_n"] += 1
        _units, overdue, info = self._overdue_in_period()
        overdue = [c for c in overdue if with_self or not info[c][1]]
        if self._closed_overdue is None:  # shared by the levels
            self._closed_overdue = {c for c, _u in self._in_period(Action.CLOSE, set(overdue))} if overdue else set()
        closed_cases = self._closed_overdue
        extra = defaultdict(set)
        for case_id in overdue:
            if case_id not in closed_cases:
                extra[info[case_id][0][idx]].add(case_id)
        out = {}
        for region in set(k) | set(extra) | set(self_closed):
            r = k[region]
            out[region] = {"verified": r["verified"], "filed": r["filed"], "closed": r["closed"],
                           "due": r["closed"] + len(extra[region]), "ontime": r["ontime"], "handle_sum": r["handle_sum"],
                           "handle_n": r["handle_n"], "self_closed": self_closed[region]}
        return out
