"""综合评价 (standard evaluation) computed from the case event log, per period [start, end) in Asia/Shanghai.

Plain Python. ``EventEvaluation(start, end)`` is the reference: it reads the period's ``CaseEvent`` rows
(by their time ``at``, the ``(action, at)`` index), never the counters kept on ``Case``, and counts them in
Python. The on-time results are the ones the workflow engine fixed on each event (``data["stopped"]``),
so a suspended (挂账) clock that the engine paused is judged as the engine judged it. Its cost is about
fifteen queries whose rows grow with the period's events (about 50–100 µs per event), plus the search for
overdue handling clocks, which reads the 处置 deadlines set in the scheme's look-back window (an anti-join
keeps only the clocks still running when the period began) and the histories of those cases.

``Evaluation(start, end)`` (what pages, reports and the API call) answers from the daily tallies
(``tallies.TallyEvaluation``, same tables, cost growing with the days and subjects of the period, not
its events) unless the period ends mid-day in the past, which only the raw events can answer.

Bounded cost per request: a period is at most ``URBANGRID_EVALUATION_MAX_DAYS`` days (``parse_period``
refuses longer ones with the fields to fix), and a request never tallies: the worker (``tasks``) and
``urbangrid tallies build`` do. When some days of a period have no ready tally (never tallied, or events
arrived since), ``Evaluation`` answers from the raw events if the period holds at most
``URBANGRID_EVALUATION_RAW_MAX_EVENTS`` events (exact, bounded), else from the tallies that are ready and
lists the other days (``ev.missing``; ``tracking_gaps()`` collects them for a page or an API answer, which
say so). ``evaluate()`` and ``Evaluation(..., build=True)`` are for the worker, commands and tests: they
tally what is missing first.

Definitions: docs/standards.md, "Evaluation indicators" (one entry per indicator, the standard it follows and
the readings decided). In short:
- Rates are ``None`` when the denominator is zero and score ``scheme.zero_denominator_score`` (100 by
  default: nothing was due, so nothing failed — the same logic that gives 0 立案 the best 立案数分值).
- 超期 (overdue handling): a 处置 clock is overdue from its passed deadline while it runs until it is suspended,
  given a new deadline or stopped (``handle_clocks``: its spans); overdue at any moment of a period, it is
  overdue in that period — in every period it stays so (``overdue_in_period``, both paths).
- Units (every active unit, and any unit with activity in the period): 立案数 = distinct cases dispatched to
  the unit (dispatch or 二级派遣 naming it) in the period; 处置数 = its feed_back events; 按期处置数 = those whose
  stopped 处置 clock was on time; 结案数 = distinct cases it fed back; 超期未处置 = its clocks overdue in the
  period and not stopped by its end; 应结案数 = 结案数 ∪ those cases; 应处置数 = 处置数 + 超期未处置;
  返工数 = check_fail events against the unit (one per failed check); 返工率 = 返工数 / 应结案数.
- Regions: 监督举报核实数 = confirmed verify events; 立案数 = file events; 结案数 = close events (distinct
  cases); 按期结案数 = those closed with no late clock in any stage up to the close (正常结案, as the
  engine's archive type); 应结案数 = 结案数 ∪ the cases overdue in the period (fed back since or not: a late
  feedback does not take a case out before it is closed), less those voided in it; 平均处置时长 = working hours
  from each 处置 clock start (dispatch to a unit, 二级派遣, 返工) to its stop (feed_back or 回退) minus the 挂账
  intervals (whole seconds per case), averaged over the cases closed in the period. Cases reported as 自行处置
  count in none of these by default (their closures are listed as 自行处置结案数); with the scheme's
  ``self_handled_in_regions`` their acceptance counts as a 立案 and their closure as a 结案.
- Positions: 回退 (whenever it happens) counts against the dispatch just before it, when that dispatch
  is in the period; 作废 after filing (whenever) against each filing of the case in the period; a report
  is 有效 when its case was ever filed or accepted as self-handled.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.cases.effects import HandOver
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.states import IN_HANDLING, Stage
from urbangrid.cases.workflow import Action, Branch, rows_that
from urbangrid.grids.models import Region, ResponsibilityGrid, UnitGrid
from urbangrid.org.models import Person, RoleAssignment, Unit
from urbangrid.org.roles import Role
from urbangrid.worktime import clock as wt

from ..models import EvaluationScheme
from ..periods import PeriodError

TZ = wt.TZ


def _starts(t):
    """The clocks a workflow row may start (either branch of a ``Branch``)."""
    return set(t.starts.targets.values()) if isinstance(t.starts, Branch) else {t.starts}


# The counters of the workflow table (its ``counts`` column) this evaluation reads, and the events that carry
# them: the period's events it loads (not 不予立案, 延期, 挂账, 合并, 督办, 回访, 重新派遣).
EVALUATED_COUNTS = frozenset({"report", "send_verify", "verify", "accept", "file", "dispatch", "second_dispatch",
                              "return", "handle", "send_check", "check", "close", "void"})
COUNTED = rows_that(lambda t: not EVALUATED_COUNTS.isdisjoint(t.counts))
# 派遣 and 二级派遣: the steps that hand the case to a unit (a unit's 立案数 counts the cases they name it in).
DISPATCHES = rows_that(lambda t: any(isinstance(e, HandOver) for e in t.effects))
# The 处置 clock: the steps that start it (派遣 to a unit, 二级派遣, 返工) and those that stop it while it runs.
HANDLE_STARTS = rows_that(lambda t: Stage.HANDLE in _starts(t) or t.clock == "restart_handle")
HANDLE_STOPS = rows_that(lambda t: Stage.HANDLE in t.stops and not IN_HANDLING.isdisjoint(t.sources))
# The steps that give a running 处置 clock a new deadline (延期, 挂账恢复, a recomputation on a changed working
# calendar); 挂账 pauses it.
HANDLE_DEADLINES = rows_that(lambda t: t.clock in ("extend", "resume", "recalendar"))
HANDLE_PAUSES = (Action.APPROVE_SUSPENSION,)
BEFORE_FILING = ("reported", "verifying", "pending_filing")
VALIDATING = (Action.FILE, Action.ACCEPT)  # a report is 有效 once filed or accepted (not an accept to pending_filing)
ID_CHUNK = 5000  # case ids per IN list (well under SQLite's variable limit)

ROLE_LABELS = {
    "inspector": gettext_lazy("巡查员"), "intake_operator": gettext_lazy("受理员"),
    "shift_lead": gettext_lazy("值班长"), "dispatcher": gettext_lazy("派遣员"),
}
LEVELS = {
    "grid": gettext_lazy("单元网格"), "responsibility_grid": gettext_lazy("责任网格"),
    "community": gettext_lazy("社区"), "street": gettext_lazy("街道"), "district": gettext_lazy("区"),
}
LEVEL_FIELD = {"grid": "case__unit_grid_id", "responsibility_grid": "case__responsibility_grid_id",
               "community": "case__community_id", "street": "case__street_id", "district": "case__district_id"}


# --- periods ------------------------------------------------------------------------------------

def band_score(table, value):
    for row in table:
        if "max" in row:
            if value <= row["max"]:
                return float(row["score"])
        elif "below" in row:
            if value < row["below"]:
                return float(row["score"])
        else:
            return float(row["score"])
    return 0.0


def ratio(num, den):
    return None if not den else num / den


# --- activity -------------------------------------------------------------------------------------

# What a subject without activity shows instead of a score and a grade.
NO_DATA = gettext_lazy("无数据")


def has_activity(counts):
    """The one rule for every subject (unit, region at any level, post holder) and both evaluation paths:
    a subject has activity in the period when any of its counted figures is non-zero. A subject without
    activity has no score, no grade and no rank (``rank_rows``), and is never an award candidate or a
    performance-pay input: nothing was due, so "nothing failed" must not read as the best result."""
    return any(v for v in counts.values())


def no_data(row, score_keys=()):
    """Mark ``row`` as without activity: ``has_data`` false, no score, grade or colour, nor part scores."""
    row.update({"has_data": False, "score": None, "grade": "", "color": ""})
    for k in score_keys:
        row[k] = None
    return row


def rank_rows(rows, score_key="score"):
    """{id(row): rank} among the rows with a score (ties share the rank); rows without one get no rank."""
    scored = sorted((r for r in rows if r.get(score_key) is not None), key=lambda r: -r[score_key])
    ranks, last, rank = {}, None, 0
    for i, r in enumerate(scored, start=1):
        if r[score_key] != last:
            rank, last = i, r[score_key]
        ranks[id(r)] = rank
    return ranks


def with_ranks(rows):
    """Set each row's ``rank`` (None without activity) and return the rows."""
    ranks = rank_rows(rows)
    for r in rows:
        r["rank"] = ranks.get(id(r))
    return rows


class Scorer:
    def __init__(self, scheme):
        self.scheme = scheme
        self.zero = float(scheme.zero_denominator_score)
        self.grades = sorted(scheme.grade_bands, key=lambda b: -float(b["min"]))

    def rate(self, r, inverse=False):
        if r is None:
            return self.zero
        value = (1 - r) if inverse else r
        return round(min(100.0, max(0.0, value * 100)), 2)

    @staticmethod
    def composite(weights, scores):
        return round(sum(float(weights[k]) * scores[k] for k in weights) / 100, 2)

    def grade(self, score):
        for band in self.grades:
            if score >= float(band["min"]):
                return band["grade"], band.get("color", "")
        last = self.grades[-1] if self.grades else {"grade": "", "color": ""}
        return last["grade"], last.get("color", "")


# --- the evaluation -----------------------------------------------------------------------------

@dataclass
class Ev:
    case_id: int
    seq: int
    action: str
    at: datetime
    person_id: int
    role: str
    unit_id: int
    data: dict
    from_state: str
    to_state: str
    source: str
    regions: tuple  # (unit_grid, responsibility_grid, community, street, district) ids
    self_handled: bool  # reported as 自行处置 (the case's report says so)


def handle_clocks(evs, end=None):
    """The 处置 clocks of one case, followed event by event as the engine ran them.

    ``evs``: (action, at, unit_id, deadline, stage) in ``seq`` order. Returns one dict per clock: ``unit``,
    ``stop_at`` (when it stopped or was replaced; None: still running or suspended after the last event) and
    ``spans``, the times it was overdue while it ran (超期未处置), each a ``Span``:

    - ``start``: when its running deadline passed (never before that deadline was set);
    - ``until``: when the span ended: 挂账 (suspension), a new deadline (延期, 挂账恢复, a recomputation), or the
      stop of the clock; None while it lasts;
    - ``replaced``: it ended because a recomputation on a changed working calendar (重算时限) replaced the
      deadline: the replaced deadline is not judged from then on, so the span counts only for periods that
      end before the recomputation (evaluated on the log as it stood then);
    - ``set_at``: when the deadline that passed was set (the scheme's look-back bound).

    For the clock still running after the last event, a deadline before ``end`` opens a span (``end=None``:
    any deadline does — its would-be overdue time, which the caller compares with its period). ``overdue_at``
    (``overdue_set_at``) is the start (deadline set time) of the clock's first span not replaced, or None."""
    clocks, clock = [], None

    def open_span(c, upto):
        if c["open"] is None and not c["paused"] and c["deadline"] and (upto is None or c["deadline"] < upto):
            c["open"] = [max(c["deadline"], c["set_at"]), None, False, c["set_at"]]
            c["spans"].append(c["open"])

    def close_span(c, at, replaced=False):
        if c["open"] is not None:
            c["open"][1], c["open"][2] = at, replaced
            c["open"] = None

    for action, at, unit_id, deadline, stage in evs:
        if clock is not None and action == Action.RECALENDAR and stage == "handle":
            open_span(clock, at)
            close_span(clock, at, replaced=True)
            clock["deadline"], clock["set_at"] = deadline, at
            continue
        if clock is not None:
            open_span(clock, at)
        if action in HANDLE_STARTS and stage == "handle":
            if clock is not None:
                close_span(clock, at)
                clock["stop_at"] = at
            clock = {"unit": unit_id, "deadline": deadline, "set_at": at, "paused": False, "open": None, "spans": [],
                     "stop_at": None}
            clocks.append(clock)
        elif clock is None:
            continue
        elif action == Action.APPROVE_SUSPENSION:
            close_span(clock, at)
            clock["paused"] = True
        elif action == Action.RESUME:
            clock["paused"] = False
            clock["deadline"], clock["set_at"] = deadline, at
        elif action == Action.APPROVE_EXTENSION:
            close_span(clock, at)
            clock["deadline"], clock["set_at"] = deadline, at
        elif action in HANDLE_STOPS:
            close_span(clock, at)
            clock["stop_at"] = at
            clock = None
    if clock is not None:
        open_span(clock, end)
    for c in clocks:
        c["spans"] = [Span(*s) for s in c.pop("spans")]
        del c["open"], c["paused"]
        first = next((s for s in c["spans"] if not s.replaced), None)
        c["overdue_at"], c["overdue_set_at"] = (first.start, first.set_at) if first else (None, None)
    return clocks


@dataclass(frozen=True)
class Span:
    """A time a 处置 clock was overdue while it ran (see ``handle_clocks``)."""

    start: datetime
    until: datetime | None
    replaced: bool
    set_at: datetime

    def counts(self, start, end, lookback):
        """Whether this span makes its case overdue (超期) in the period [start, end): it began before the end,
        lasted into the period (a replaced span: to its end), and its deadline was set after ``lookback``."""
        if self.start >= end or self.set_at < lookback:
            return False
        if self.until is None:
            return True
        return self.until >= end if self.replaced else self.until > start


def overdue_in_period(clocks, voided, start, end, lookback):
    """The two overdue rules of a period [start, end) over ``clocks`` [(case_id, unit, stop_at, spans)]:

    - units (超期未处置): [(case_id, unit, overdue since)] for each clock with a span counting in the period
      (``Span.counts``) that was not stopped before the period's end — in every period it stays so;
    - regions: {case_id} of the cases with a clock counting in the period, stopped since or not (a late
      feedback does not take the case out: it stays due until closed), less the cases ``voided`` in it.

    Both evaluations (raw events and tallies) decide with this function."""
    units, cases = [], set()
    for case_id, unit, stop_at, spans in clocks:
        span = next((s for s in spans if s.counts(start, end, lookback)), None)
        if span is None:
            continue
        if case_id not in voided:
            cases.add(case_id)
        if stop_at is None or stop_at >= end:
            units.append((case_id, unit, span.start))
    return units, cases


def close_verdicts(evs, late, calendar):
    """结案 verdicts of one case: {close seq: (on time, handling seconds or None)}, each judged over the
    case's whole history up to that close. ``evs``: (seq, action, at, data, stage) in ``seq`` order;
    ``late(data, at)`` says whether an event stopped a clock late. Handling time is the working time of
    every 处置 clock (dispatch, 二级派遣, 返工 → feed back or 回退) minus its 挂账 intervals, in whole seconds."""
    out = {}
    is_late, total, started, paused_at, any_clock = False, 0.0, None, None, False
    for seq, action, at, data, stage in evs:
        if late(data, at):
            is_late = True
        if action in HANDLE_STARTS and stage == "handle":
            if started is not None:  # defensive: a clock restarted without a stop
                total += wt.working_time_between(started, at, calendar)
            started, paused_at, any_clock = at, None, True
        elif started is not None:
            if action == Action.APPROVE_SUSPENSION:
                paused_at = at
            elif action == Action.RESUME and paused_at is not None:
                total -= wt.working_time_between(paused_at, at, calendar)
                paused_at = None
            elif action in HANDLE_STOPS:
                if paused_at is not None:  # stopped while suspended: the pause runs to the stop
                    total -= wt.working_time_between(paused_at, at, calendar)
                total += wt.working_time_between(started, at, calendar)
                started, paused_at = None, None
        if action == Action.CLOSE:
            out[seq] = (not is_late, round(total) if any_clock else None)
    return out


class Judge:
    """The on-time rules of a scheme (the engine's verdicts plus the scheme's grace)."""

    def __init__(self, grace):
        self.grace = grace

    def on_time(self, data, stage, at):
        """The engine's on-time verdict for ``stage`` on this event (None if that clock was not stopped)."""
        for rec in (data or {}).get("stopped") or ():
            if rec and rec.get("stage") == stage:
                if rec.get("on_time"):
                    return True
                if self.grace and rec.get("deadline"):
                    return at <= datetime.fromisoformat(rec["deadline"]) + self.grace
                return False
        return None

    def late_any(self, data, at):
        return any(rec and self.on_time(data, rec.get("stage"), at) is False for rec in (data or {}).get("stopped") or ())


# The on-time verdict each post is judged on, by the action that stops its clock.
POST_ONTIME = {Action.VERIFY: ("inspector", "verified", Stage.VERIFY), Action.CHECK_PASS: ("inspector", "checked", Stage.CHECK),
               Action.CHECK_FAIL: ("inspector", "checked", Stage.CHECK),
               Action.SEND_CHECK: ("intake_operator", "sent_check", Stage.SEND_CHECK),
               Action.FILE: ("shift_lead", "filed", Stage.FILE), Action.CLOSE: ("shift_lead", "closed", Stage.CLOSE),
               Action.DISPATCH: ("dispatcher", "dispatched", Stage.DISPATCH),
               Action.DISPATCH_SECOND: ("dispatcher", "dispatched", Stage.SECOND_DISPATCH)}


def post_counts(action, source, data, at, on_time):
    """The 岗位 counters one event by a person adds: [(post, counter, n)] (both evaluations count with it)."""
    if action == Action.REPORT:
        return [("inspector", "reported", 1)] if source == "inspector" else []
    if action == Action.ACCEPT:
        return [("intake_operator", "accepted", 1)]
    if action == Action.SEND_VERIFY:
        ontime = int(bool(on_time(data, Stage.ACCEPT, at)))
        return [("intake_operator", "accepted", 1), ("intake_operator", "sent_verify", 1),
                ("intake_operator", "ontime_sent_verify", ontime)]
    if action in POST_ONTIME:
        post, counter, stage = POST_ONTIME[action]
        return [(post, counter, 1), (post, f"ontime_{counter}", int(bool(on_time(data, stage, at))))]
    return []


def is_self_filing(to_state):
    """Whether an accept event took a 自行处置 report straight to 待结案 (its 立案, where the scheme counts one)."""
    return to_state == "pending_close"


def new_position_counter():
    return defaultdict(lambda: defaultdict(int))


class EventEvaluation(Judge):
    """One period's evaluation straight from the event log (the reference implementation);
    ``units()``, ``positions()``, ``regions(level)`` give the tables. ``TallyEvaluation``
    (``tallies``) gives the same tables from the daily tallies."""

    source = "events"
    missing = ()  # the days it could not count: none, it reads every event

    def __init__(self, start, end, scheme=None, calendar=None, now=None):
        if start >= end:
            raise PeriodError(_("统计期间为空"))
        self.start, self.end = start, end
        self.now = now or timezone.now()
        self.eff_end = min(end, self.now)
        self.scheme = scheme or EvaluationScheme.current()
        self.scorer = Scorer(self.scheme)
        super().__init__(timedelta(minutes=int(self.scheme.ontime_grace_minutes or 0)))
        self._calendar = calendar
        self._events = None
        self._overdue = None
        self._closed = None
        self._regions = None

    @property
    def calendar(self):
        if self._calendar is None:
            self._calendar = wt.get_calendar()
        return self._calendar

    @property
    def lookback(self):
        return self.start - timedelta(days=int(self.scheme.deadline_lookback_days))

    # the period's events (one indexed query), with their cases' source and regions
    @property
    def events(self):
        if self._events is None:

            rows = list(CaseEvent.objects.filter(action__in=COUNTED, at__gte=self.start, at__lt=self.eff_end).order_by()
                        .values_list("case_id", "seq", "action", "at", "actor_person_id", "role", "unit_id", "data",
                                     "from_state", "to_state").iterator(chunk_size=5000))
            # The cases by id (primary key look-ups), not a join: a join hashes the whole case table, whose
            # cost would grow with the history instead of the period.
            ids = sorted({r[0] for r in rows})
            fields = [f.replace("case__", "") for f in LEVEL_FIELD.values()]
            cases = {}
            for i in range(0, len(ids), ID_CHUNK):
                for pk, source, self_handled, *regions in (Case.objects.filter(pk__in=ids[i:i + ID_CHUNK]).order_by()
                                                           .values_list("pk", "source", "self_handled", *fields)):
                    cases[pk] = (source, tuple(regions), self_handled)
            self._events = [Ev(*r, *cases[r[0]]) for r in rows]
        return self._events

    # handling clocks overdue (超期) in the period
    def _overdue_in_period(self):
        """(unit rows, region cases): see ``overdue_in_period``; the candidates are the cases with a 处置 deadline
        set since the look-back bound and passed before the period's end, on a clock not stopped before the
        period began (an anti-join on the (case, seq) index)."""
        if self._overdue is not None:
            return self._overdue
        ended = (CaseEvent.objects.filter(case_id=OuterRef("case_id"), seq__gt=OuterRef("seq"), at__lt=self.start)
                 .filter(Q(action__in=HANDLE_STOPS) | Q(action__in=HANDLE_STARTS, stage="handle")))
        cands = (CaseEvent.objects.filter(action__in=HANDLE_STARTS + HANDLE_DEADLINES, stage="handle", at__gte=self.lookback,
                                          at__lt=self.eff_end, deadline__lt=self.eff_end)
                 .exclude(Exists(ended)).order_by().values("case_id"))
        rows = (CaseEvent.objects.filter(case_id__in=cands, at__lt=self.eff_end).order_by("case_id", "seq")
                .values_list("case_id", "action", "at", "unit_id", "deadline", "stage"))
        by_case = defaultdict(list)
        for r in rows:
            by_case[r[0]].append(r[1:])
        clocks, voided = [], set()
        for case_id, evs in by_case.items():
            clocks.extend((case_id, c["unit"], c["stop_at"], c["spans"]) for c in handle_clocks(evs, end=self.eff_end))
            if any(a == Action.VOID and at >= self.start for a, at, *_r in evs):
                voided.add(case_id)
        self._overdue = overdue_in_period(clocks, voided, self.start, self.eff_end, self.lookback)
        return self._overdue

    def overdue_clocks(self):
        """[(case_id, unit_id, overdue since)]: the 处置 clocks overdue in the period and not stopped by its end
        (超期未处置, the units' rule)."""
        return self._overdue_in_period()[0]

    def overdue_cases(self):
        """{case_id}: the cases whose handling was overdue in the period, whether fed back since or not, and not
        voided in it (the regions' rule: such a case stays due until it is closed)."""
        return self._overdue_in_period()[1]

    # cases closed in the period: on time or not, handling time
    def closed_cases(self):
        """{case_id: {"ontime": bool, "handle_seconds": float|None}} for cases closed in the period (the
        verdict of each case's last close in the period)."""
        if self._closed is not None:
            return self._closed
        result = {}
        if not any(e.action == Action.CLOSE for e in self.events):
            self._closed = result
            return result
        ids = (CaseEvent.objects.filter(action=Action.CLOSE, at__gte=self.start, at__lt=self.eff_end).order_by().values("case_id"))
        rows = (CaseEvent.objects.filter(case_id__in=ids, at__lt=self.eff_end).order_by("case_id", "seq")
                .values_list("case_id", "seq", "action", "at", "data", "stage"))
        by_case = defaultdict(list)
        for r in rows:
            by_case[r[0]].append(r[1:])
        for case_id, evs in by_case.items():
            last_close = max((seq for seq, a, at, _d, _s in evs if a == Action.CLOSE and self.start <= at), default=None)
            if last_close is None:
                continue
            ontime, seconds = close_verdicts([e for e in evs if e[0] <= last_close], self.late_any, self.calendar)[last_close]
            result[case_id] = {"ontime": ontime, "handle_seconds": seconds}
        self._closed = result
        return result

    # --- the counts behind each table (TallyEvaluation answers the same from the tallies) -----------
    def unit_counts(self):
        """{unit_id: {"filed", "closed", "due", "handled", "ontime", "rework", "overdue"}} for units with activity."""
        filed, fed, handled, ontime, rework = (defaultdict(set), defaultdict(set), defaultdict(int), defaultdict(int),
                                               defaultdict(int))
        for e in self.events:
            if e.unit_id is None:
                continue
            if e.action in DISPATCHES:
                filed[e.unit_id].add(e.case_id)
            elif e.action == Action.FEED_BACK:
                fed[e.unit_id].add(e.case_id)
                handled[e.unit_id] += 1
                if self.on_time(e.data, "handle", e.at):
                    ontime[e.unit_id] += 1
            elif e.action == Action.CHECK_FAIL:
                rework[e.unit_id] += 1
        overdue_cases, overdue_clocks = defaultdict(set), defaultdict(int)
        for case_id, unit_id, _at in self.overdue_clocks():
            if unit_id is not None:
                overdue_cases[unit_id].add(case_id)
                overdue_clocks[unit_id] += 1
        return {u: {"filed": len(filed[u]), "closed": len(fed[u]), "due": len(fed[u] | overdue_cases[u]),
                    "handled": handled[u], "ontime": ontime[u], "rework": rework[u], "overdue": overdue_clocks[u]}
                for u in set(filed) | set(fed) | set(rework) | set(overdue_cases)}

    def position_counts(self):
        """(counters by (role, person), confirmed public reports by responsibility grid, filings by
        responsibility grid)."""
        c = new_position_counter()
        reports_by_person = defaultdict(list)  # person -> case ids reported (inspector source)
        files_by_person = defaultdict(list)
        dispatches = {}  # (case, seq) -> person, the period's dispatches
        verified_public_by_grid, filed_by_grid = defaultdict(int), defaultdict(int)
        for e in self.events:
            p, a = e.person_id, e.action
            if a == Action.VERIFY and (e.data or {}).get("confirmed") and e.regions[1] is not None:
                verified_public_by_grid[e.regions[1]] += 1
            if e.regions[1] is not None and (a == Action.FILE or (
                    a == Action.ACCEPT and is_self_filing(e.to_state) and self.scheme.self_handled_in_regions)):
                filed_by_grid[e.regions[1]] += 1  # the grid's 立案数, as its region counts it
            if p is None:
                continue
            for role, counter, n in post_counts(a, e.source, e.data, e.at, self.on_time):
                c[role, p][counter] += n
            if a == Action.REPORT and e.source == "inspector":
                reports_by_person[p].append(e.case_id)
            elif a == Action.FILE:
                files_by_person[p].append(e.case_id)
            elif a in DISPATCHES:
                dispatches[e.case_id, e.seq] = p
        window = CaseEvent.objects.filter(at__gte=self.start, at__lt=self.eff_end).order_by()
        # 有效上报: the inspector's reports that were filed (or accepted as self-handled), whenever
        if reports_by_person:
            # by the period's case ids (the (case, seq) index): cost follows the period, not the table
            ids = sorted({x for cases in reports_by_person.values() for x in cases})
            valid = set()
            for i in range(0, len(ids), ID_CHUNK):
                valid.update(CaseEvent.objects.filter(case_id__in=ids[i:i + ID_CHUNK], action__in=VALIDATING)
                             .exclude(action=Action.ACCEPT, to_state="pending_filing").order_by()
                             .values_list("case_id", flat=True))
            for p, cases in reports_by_person.items():
                c["inspector", p]["valid_reported"] = sum(1 for x in cases if x in valid)
        # 作废 after filing (whenever) lowers the filer's 准确立案
        if files_by_person:
            ids = window.filter(action=Action.FILE).values("case_id")
            voided = set(CaseEvent.objects.filter(case_id__in=ids, action=Action.VOID).exclude(from_state__in=BEFORE_FILING)
                         .order_by().values_list("case_id", flat=True))
            for p, cases in files_by_person.items():
                c["shift_lead", p]["voided_after_filing"] = sum(1 for x in cases if x in voided)
        # 回退 (whenever) charged to the dispatch just before it, when that dispatch is in the period
        if dispatches:
            ids = window.filter(action__in=DISPATCHES).values("case_id")
            evs = defaultdict(list)
            for case_id, seq, action in (CaseEvent.objects.filter(case_id__in=ids, action__in=DISPATCHES + (Action.APPROVE_RETURN,))
                                         .order_by("case_id", "seq").values_list("case_id", "seq", "action")):
                evs[case_id].append((seq, action))
            for case_id, seqs in evs.items():
                for d_seq in returned_dispatches(seqs):
                    if (case_id, d_seq) in dispatches:
                        c["dispatcher", dispatches[case_id, d_seq]]["returned"] += 1
        return c, verified_public_by_grid, filed_by_grid

    def region_counts(self, level):
        """{region id at ``level``: {"verified", "filed", "closed", "due", "ontime", "handle_sum", "handle_n",
        "self_closed"}}. 自行处置 cases count as the scheme says (``self_handled_in_regions``): by default in
        none of the figures but ``self_closed`` (their closures); if set, their acceptance counts as a 立案 and
        their closure as a 结案."""
        idx = list(LEVELS).index(level)
        with_self = bool(self.scheme.self_handled_in_regions)
        verified, filed, closed, self_closed = defaultdict(int), defaultdict(int), defaultdict(set), defaultdict(set)
        case_region, self_cases = {}, set()
        for e in self.events:
            key = e.regions[idx]
            case_region[e.case_id] = key
            if e.self_handled:
                self_cases.add(e.case_id)
                if e.action == Action.CLOSE:
                    self_closed[key].add(e.case_id)
                if not with_self:
                    continue
            if e.action == Action.VERIFY and (e.data or {}).get("confirmed"):
                verified[key] += 1
            elif e.action == Action.FILE or (e.action == Action.ACCEPT and is_self_filing(e.to_state)):
                filed[key] += 1
            elif e.action == Action.CLOSE:
                closed[key].add(e.case_id)
        overdue = defaultdict(set)
        missing = {cid for cid in self.overdue_cases() if cid not in case_region}
        if missing:

            field = LEVEL_FIELD[level].replace("case__", "")
            for pk, region, flag in Case.objects.filter(pk__in=missing).values_list("pk", field, "self_handled"):
                case_region[pk] = region
                if flag:
                    self_cases.add(pk)
        for cid in self.overdue_cases():
            if with_self or cid not in self_cases:
                overdue[case_region.get(cid)].add(cid)
        info = self.closed_cases() if any(closed.values()) else {}
        out = {}
        for key in set(verified) | set(filed) | set(closed) | set(overdue) | set(self_closed):
            handle = [info[cid]["handle_seconds"] for cid in closed[key] if info.get(cid, {}).get("handle_seconds") is not None]
            out[key] = {"verified": verified[key], "filed": filed[key], "closed": len(closed[key]),
                        "due": len(closed[key] | overdue[key]),
                        "ontime": sum(1 for cid in closed[key] if info.get(cid, {}).get("ontime")),
                        "handle_sum": sum(handle), "handle_n": len(handle), "self_closed": len(self_closed[key])}
        return out

    # --- 部门评价 -------------------------------------------------------------------------------
    def units(self):
        sc, w = self.scorer, self.scheme.unit_weights
        counts = self.unit_counts()
        zero = dict.fromkeys(("filed", "closed", "due", "handled", "ontime", "rework", "overdue"), 0)
        rows = []
        # every active unit, and any unit with activity in the period (even if inactive now)
        units = list(Unit.objects.filter(Q(active=True) | Q(pk__in=list(counts))).order_by("code").values_list("pk", "code", "name"))
        for pk, code, name in units:
            k = counts.get(pk, zero)
            due_handle = k["handled"] + k["overdue"]
            close_rate, ontime_rate, rework_rate = (ratio(k["closed"], k["due"]), ratio(k["ontime"], due_handle),
                                                    ratio(k["rework"], k["due"]))
            scores = {"filed": band_score(self.scheme.unit_filed_bands, k["filed"]), "close_rate": sc.rate(close_rate),
                      "ontime_handle_rate": sc.rate(ontime_rate), "rework_rate": sc.rate(rework_rate, inverse=True)}
            total = sc.composite(w, scores)
            grade, color = sc.grade(total)
            rows.append({
                "unit_code": code, "unit_name": name, "filed": k["filed"], "closed": k["closed"], "due_closed": k["due"],
                "close_rate": close_rate, "handled": k["handled"], "ontime_handled": k["ontime"], "due_handled": due_handle,
                "overdue_unhandled": k["overdue"], "ontime_handle_rate": ontime_rate, "rework": k["rework"],
                "rework_rate": rework_rate, "filed_score": scores["filed"], "close_rate_score": scores["close_rate"],
                "ontime_handle_rate_score": scores["ontime_handle_rate"], "rework_rate_score": scores["rework_rate"],
                "score": total, "grade": grade, "color": color, "has_data": True,
            })
            if not has_activity(k):
                no_data(rows[-1], UNIT_SCORE_KEYS)
        return with_ranks(rows)

    # --- 岗位评价 -------------------------------------------------------------------------------
    def positions(self):
        sc, pw = self.scorer, self.scheme.position_weights
        c, verified_public_by_grid, filed_by_grid = self.position_counts()
        # people holding the posts are listed even without activity
        holders = {"inspector": {Role.INSPECTOR}, "intake_operator": {Role.INTAKE_OPERATOR},
                   "shift_lead": {Role.SHIFT_LEAD}, "dispatcher": {Role.DISPATCHER, Role.DISTRICT_DISPATCHER}}
        role_of = {r.value: key for key, rs in holders.items() for r in rs}
        inspector_grids = defaultdict(set)
        for person_id, role, grid_id in RoleAssignment.objects.filter(role__in=list(role_of)).values_list("person_id", "role", "grid_id"):
            c[role_of[role], person_id]  # noqa: B018 - creates the row
            if role == Role.INSPECTOR and grid_id:
                inspector_grids[person_id].add(grid_id)
        people = {p.pk: p for p in Person.objects.filter(pk__in={p for _r, p in c}).only("pk", "name", "employee_no")}
        rows = []
        order = list(ROLE_LABELS)
        for (role, pid), k in sorted(c.items(), key=lambda kv: (order.index(kv[0][0]), getattr(people.get(kv[0][1]), "employee_no", ""))):
            person = people.get(pid)
            if person is None:
                continue
            ind, scores = {}, {}
            if role == "inspector":
                missed = sum(verified_public_by_grid[g] for g in inspector_grids[pid])
                grid_filed = sum(filed_by_grid[g] for g in inspector_grids[pid])
                ind = {"reported": k["reported"], "valid_reported": k["valid_reported"],
                       "valid_report_rate": ratio(k["valid_reported"], k["reported"]),
                       "missed": missed, "grid_filed": grid_filed, "missed_rate": ratio(missed, grid_filed),
                       "verified": k["verified"], "ontime_verified": k["ontime_verified"],
                       "ontime_verify_rate": ratio(k["ontime_verified"], k["verified"]),
                       "checked": k["checked"], "ontime_checked": k["ontime_checked"],
                       "ontime_check_rate": ratio(k["ontime_checked"], k["checked"])}
                scores = {"valid_report_rate": sc.rate(ind["valid_report_rate"]),
                          "missed_rate": sc.rate(ind["missed_rate"], inverse=True),
                          "ontime_verify_rate": sc.rate(ind["ontime_verify_rate"]),
                          "ontime_check_rate": sc.rate(ind["ontime_check_rate"])}
            elif role == "intake_operator":
                ind = {"accepted": k["accepted"], "sent_verify": k["sent_verify"], "ontime_sent_verify": k["ontime_sent_verify"],
                       "ontime_send_verify_rate": ratio(k["ontime_sent_verify"], k["sent_verify"]),
                       "sent_check": k["sent_check"], "ontime_sent_check": k["ontime_sent_check"],
                       "ontime_send_check_rate": ratio(k["ontime_sent_check"], k["sent_check"])}
                scores = {"accepted": band_score(self.scheme.accept_bands, k["accepted"]),
                          "ontime_send_verify_rate": sc.rate(ind["ontime_send_verify_rate"]),
                          "ontime_send_check_rate": sc.rate(ind["ontime_send_check_rate"])}
            elif role == "shift_lead":
                accurate = k["filed"] - k["voided_after_filing"]
                ind = {"filed": k["filed"], "ontime_filed": k["ontime_filed"], "ontime_file_rate": ratio(k["ontime_filed"], k["filed"]),
                       "voided_after_filing": k["voided_after_filing"], "accurate_filed": accurate,
                       "accurate_file_rate": ratio(accurate, k["filed"]), "closed": k["closed"],
                       "ontime_closed": k["ontime_closed"], "ontime_close_rate": ratio(k["ontime_closed"], k["closed"])}
                scores = {"ontime_file_rate": sc.rate(ind["ontime_file_rate"]),
                          "accurate_file_rate": sc.rate(ind["accurate_file_rate"]),
                          "ontime_close_rate": sc.rate(ind["ontime_close_rate"])}
            else:
                ind = {"dispatched": k["dispatched"], "ontime_dispatched": k["ontime_dispatched"],
                       "ontime_dispatch_rate": ratio(k["ontime_dispatched"], k["dispatched"]), "returned": k["returned"],
                       "accurate_dispatch_rate": None if not k["dispatched"] else 1 - k["returned"] / k["dispatched"]}
                scores = {"dispatched": band_score(self.scheme.dispatch_bands, k["dispatched"]),
                          "ontime_dispatch_rate": sc.rate(ind["ontime_dispatch_rate"]),
                          "accurate_dispatch_rate": sc.rate(ind["accurate_dispatch_rate"])}
            total = sc.composite(pw[role], scores)
            grade, color = sc.grade(total)
            rows.append({"role": role, "role_label": str(ROLE_LABELS[role]), "person_id": pid, "employee_no": person.employee_no,
                         "name": person.name, "indicators": ind, "scores": scores, "score": total, "grade": grade,
                         "color": color, "has_data": True})
            # his own counted work, and for an inspector the public reports he missed (charged to him)
            if not has_activity({**k, "missed": ind.get("missed", 0)}):
                no_data(rows[-1])["scores"] = {}
        for role in ROLE_LABELS:
            with_ranks([r for r in rows if r["role"] == role])
        return rows

    # --- 区域评价 -------------------------------------------------------------------------------
    def regions(self, level="district"):
        if level not in LEVELS:
            raise PeriodError(_("区域层级应为 grid、responsibility_grid、community、street 或 district"))
        sc, w = self.scorer, self.scheme.region_weights
        counts = self.region_counts(level)
        zero = dict.fromkeys(("verified", "filed", "closed", "due", "ontime", "handle_sum", "handle_n", "self_closed"), 0)
        # the objects of the level, their codes, names, unit-grid counts and ancestors' codes
        if self._regions is None:  # shared by the levels
            self._regions = {r[0]: r for r in Region.objects.values_list("pk", "code", "name", "level", "parent_id")}
        regions = self._regions

        def chain_codes(region_id):
            codes = []
            while region_id is not None and region_id in regions:
                codes.append(regions[region_id][1])
                region_id = regions[region_id][4]
            return codes

        objects = []  # (pk, code, name, ancestor codes, unit grid count)
        if level == "grid":
            for pk, code, name, community_id in UnitGrid.objects.order_by("code").values_list("pk", "code", "code", "community_id"):
                objects.append((pk, code, name, [code, *chain_codes(community_id)], 1))
        elif level == "responsibility_grid":
            counts_by = dict(UnitGrid.objects.order_by().values_list("responsibility_grid_id").annotate(n=Count("pk")))
            for pk, code, name, region_id in ResponsibilityGrid.objects.order_by("code").values_list("pk", "code", "name", "region_id"):
                objects.append((pk, code, name, [code, *chain_codes(region_id)], counts_by.get(pk, 0)))
        else:
            per_community = dict(UnitGrid.objects.order_by().values_list("community_id").annotate(n=Count("pk")))
            counts_by = defaultdict(int)
            for community_id, n in per_community.items():
                node = community_id
                while node is not None and node in regions:
                    counts_by[node] += n
                    node = regions[node][4]
            for pk, code, name, lv, parent_id in sorted(regions.values(), key=lambda r: r[1]):
                if lv == level:
                    objects.append((pk, code, name, chain_codes(pk), counts_by.get(pk, 0)))
        class_two = set(self.scheme.class_two_regions or ())
        rows = []
        for pk, code, name, codes, n_grids in objects:
            k = counts.get(pk, zero)
            region_class = "2" if class_two.intersection(codes) else "1"
            n_filed = k["filed"]
            per_grid = n_filed / n_grids if n_grids else float(n_filed)
            report_rate, close_rate, ontime_rate = ratio(k["verified"], n_filed), ratio(k["closed"], k["due"]), ratio(k["ontime"], k["due"])
            bands = self.scheme.region_class_bands.get(region_class) or next(iter(self.scheme.region_class_bands.values()))
            scores = {"report_rate": sc.rate(report_rate, inverse=True), "filed": band_score(bands, per_grid),
                      "close_rate": sc.rate(close_rate), "ontime_close_rate": sc.rate(ontime_rate)}
            total = sc.composite(w, scores)
            grade, color = sc.grade(total)
            rows.append({
                "level": level, "code": code, "name": name, "region_class": region_class, "unit_grids": n_grids,
                "verified_reports": k["verified"], "filed": n_filed, "filed_per_grid": round(per_grid, 4),
                "report_rate": report_rate, "closed": k["closed"], "due_closed": k["due"], "close_rate": close_rate,
                "ontime_closed": k["ontime"], "ontime_close_rate": ontime_rate,
                "avg_handle_hours": round(k["handle_sum"] / k["handle_n"] / 3600, 2) if k["handle_n"] else None,
                "report_rate_score": scores["report_rate"], "filed_score": scores["filed"],
                "close_rate_score": scores["close_rate"], "ontime_close_rate_score": scores["ontime_close_rate"],
                "self_handled_closed": k["self_closed"], "score": total, "grade": grade, "color": color, "has_data": True,
            })
            # 自行处置 closures shown beside the figures count as activity only where the scheme counts them
            if not has_activity({n: v for n, v in k.items() if n != "self_closed"}):
                no_data(rows[-1], REGION_SCORE_KEYS)
        return with_ranks(rows)


UNIT_SCORE_KEYS = ("filed_score", "close_rate_score", "ontime_handle_rate_score", "rework_rate_score")
REGION_SCORE_KEYS = ("report_rate_score", "filed_score", "close_rate_score", "ontime_close_rate_score")


def returned_dispatches(evs):
    """The dispatches charged with a 回退: for each approve_return, the dispatch just before it.
    ``evs``: (seq, action) of a case's dispatch, dispatch_second and approve_return events in seq order."""
    last = None
    for seq, action in evs:
        if action == Action.APPROVE_RETURN:
            if last is not None:
                yield last
        else:
            last = seq


def unit_columns():
    return [("unit_code", _("单位编码")), ("unit_name", _("单位名称")), ("filed", _("立案数")), ("closed", _("结案数")),
            ("due_closed", _("应结案数")), ("close_rate", _("结案率")), ("handled", _("处置数")),
            ("ontime_handled", _("按期处置数")), ("due_handled", _("应处置数")), ("ontime_handle_rate", _("按期处置率")),
            ("rework", _("返工数")), ("rework_rate", _("返工率")), ("filed_score", _("立案数分值")),
            ("close_rate_score", _("结案率分值")), ("ontime_handle_rate_score", _("按期处置率分值")),
            ("rework_rate_score", _("返工率分值")), ("score", _("综合指标值")), ("grade", _("等级"))]


def position_columns(role):
    base = [("employee_no", _("工号")), ("name", _("姓名"))]
    spec = {
        "inspector": [("reported", _("上报数")), ("valid_reported", _("有效上报数")), ("valid_report_rate", _("有效上报率")),
                      ("missed", _("漏报数")), ("missed_rate", _("漏报率")), ("verified", _("核实数")),
                      ("ontime_verified", _("按时核实数")), ("ontime_verify_rate", _("按时核实率")), ("checked", _("核查数")),
                      ("ontime_checked", _("按时核查数")), ("ontime_check_rate", _("按时核查率"))],
        "intake_operator": [("accepted", _("受理数")), ("sent_verify", _("应发核实数")), ("ontime_sent_verify", _("按时发核实数")),
                            ("ontime_send_verify_rate", _("核实按时派发率")), ("sent_check", _("应发核查数")),
                            ("ontime_sent_check", _("按时发核查数")), ("ontime_send_check_rate", _("核查按时派发率"))],
        "shift_lead": [("filed", _("立案数")), ("ontime_filed", _("按时立案数")), ("ontime_file_rate", _("按时立案率")),
                       ("voided_after_filing", _("作废数")), ("accurate_file_rate", _("准确立案率")), ("closed", _("结案数")),
                       ("ontime_closed", _("按时结案数")), ("ontime_close_rate", _("按时结案率"))],
        "dispatcher": [("dispatched", _("派遣数")), ("ontime_dispatched", _("按时派遣数")),
                       ("ontime_dispatch_rate", _("按时派遣率")), ("returned", _("回退数")),
                       ("accurate_dispatch_rate", _("准确派遣率"))],
    }[role]
    return base + spec + [("score", _("综合指标值")), ("grade", _("等级"))]


def region_columns():
    return [("code", _("代码")), ("name", _("名称")), ("region_class", _("区域类别")), ("verified_reports", _("监督举报核实数")),
            ("filed", _("立案数")), ("report_rate", _("监督举报率")), ("closed", _("结案数")), ("due_closed", _("应结案数")),
            ("close_rate", _("结案率")), ("ontime_closed", _("按期结案数")), ("ontime_close_rate", _("按期结案率")),
            ("avg_handle_hours", _("平均处置时长（工作时）")), ("self_handled_closed", _("自行处置结案数")),
            ("score", _("综合指标值")), ("grade", _("等级"))]


RATE_KEYS = frozenset({"close_rate", "ontime_handle_rate", "rework_rate", "valid_report_rate", "missed_rate",
                       "ontime_verify_rate", "ontime_check_rate", "ontime_send_verify_rate", "ontime_send_check_rate",
                       "ontime_file_rate", "accurate_file_rate", "ontime_close_rate", "ontime_dispatch_rate",
                       "accurate_dispatch_rate", "report_rate"})


def cell(row, key):
    """A row's value for a column (position rows keep their indicators in a nested dict); the score and
    grade of a subject without activity read "无数据"."""
    if key in ("score", "grade") and row.get("has_data") is False:
        return str(NO_DATA)
    if key in row:
        return row[key]
    return row.get("indicators", {}).get(key)
