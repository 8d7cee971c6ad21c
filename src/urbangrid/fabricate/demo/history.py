"""Three years of case history for the demo city, produced by the workflow itself.

Every step goes through the same rules as a live request: the action must be allowed from the case's
state by the workflow table, the actor (a real person of the demo city) must hold the permission and
have the case in scope (``services._in_scope``), and ``engine.apply`` moves the clocks and counters and
``services._event`` builds the event exactly as ``services.transition`` does. Only the saving differs:
cases and events are written with bulk inserts at the end, because 30,000 cases with ~260,000 events
one transaction at a time would take ten minutes. History carries no photos.

Shape (the defaults give the demo's story, README, Quick start): 30,861 cases received, of which 30,831 finished and 30 still
open; no step is dated after the moment of building, so the finishing cases still in flight then stay open
too (taken from the 30,831); ~93 % found by inspectors; small ads, clutter, exposed garbage, manhole covers
and bins most common; ~2 % rework, some returns, extensions, suspensions and late closures; dissatisfied
callbacks answered by keeping the closure.
"""
import random
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from urbangrid.cases import chain, engine
from urbangrid.cases.chain import seal
from urbangrid.cases.duplicates import M_PER_DEG_LAT, _distance
from urbangrid.cases.models import Case, CaseEvent, CaseNumberSequence, CaseUnit
from urbangrid.cases.services import (
    Context,
    _in_scope,
    auto_dispatch_inputs,
    clean_inputs,
    dispatch_inputs,
    report_inputs,
    reverse_address,
    system_actor,
)
from urbangrid.cases.states import NEEDS_VERIFICATION, OPEN, Satisfaction, Source, State
from urbangrid.cases.workflow import TABLE, Action, guard_ok, implied_inputs
from urbangrid.catalog.models import CatalogClass, ResponsibilityRule
from urbangrid.catalog.responsibility import _pick, explain_rule
from urbangrid.core.bulk import fast_insert, next_id
from urbangrid.grids.locator import locator
from urbangrid.grids.models import Region, UnitGrid
from urbangrid.org.models import RoleAssignment, Unit
from urbangrid.org.roles import Role
from urbangrid.org.scope import actor_for, actor_for_person
from urbangrid.worktime import clock as wt

RECEIVED, STILL_OPEN = 30_861, 30
SOURCES = [(Source.INSPECTOR, 930), (Source.HOTLINE_12345, 25), (Source.HOTLINE_12319, 10), (Source.PUBLIC_APP, 18),
           (Source.PUBLIC_WEB, 8), (Source.VIDEO, 5), (Source.MEDIA, 2), (Source.LEADER, 2)]
# Relative frequencies of the commonest classes (version, code): small ads, clutter, garbage, covers, bins.
HOT_CLASSES = {("local-demo", "0201"): 160, ("local-demo", "0507"): 120, ("local-demo", "0102"): 110,
               ("local-demo", "0504"): 70, ("local-demo", "0104"): 60, ("local-demo", "0506"): 45,
               ("local-demo", "0512"): 40, ("local-demo", "0115"): 35, ("cjt214-2007", "0102"): 30,
               ("cjt214-2007", "0103"): 28, ("cjt214-2007", "0101"): 22, ("cjt214-2007", "0305"): 25,
               ("local-demo", "0501"): 25, ("local-demo", "0110"): 15, ("cjt214-2007", "0118"): 18}


class _Resolver:
    """Responsibility resolution with the rules held in memory (same ``_pick`` as ``resolve``)."""

    def __init__(self):
        self.rules = {}
        for rule in (ResponsibilityRule.objects.filter(active=True, unit__active=True)
                     .select_related("unit__region__parent", "region", "responsibility_grid")):
            self.rules.setdefault(rule.catalog_class_id, []).append(rule)
        self.levels = dict(Region.objects.values_list("pk", "level"))
        self.parents = dict(Region.objects.values_list("pk", "parent_id"))
        self.territorial = {u.region_id: u for u in Unit.objects.filter(is_territorial=True)}
        self.cache = {}
        self.explained = {}
        self.grids = {}  # unit grid id -> UnitGrid, set by the run

    def explain(self, cls, rule):
        key = (cls.pk, rule.pk)
        if key not in self.explained:
            self.explained[key] = explain_rule(cls, rule)
        return self.explained[key]

    def for_case(self, case):
        return self(case.catalog_class, self.grids[case.unit_grid_id])

    def territorial_unit(self, ug):
        node = ug.community_id
        while node and node not in self.territorial:
            node = self.parents.get(node)
        return self.territorial[node]

    def __call__(self, cls, ug):
        key = (cls.pk, ug.community_id, ug.responsibility_grid_id)
        if key not in self.cache:
            chain, node = [], ug.community_id
            while node:
                chain.append(node)
                node = self.parents.get(node)
            loc = type("Loc", (), {"responsibility_grid_id": ug.responsibility_grid_id})
            best, _ = _pick(self.rules.get(cls.pk, []), loc, {i: self.levels[i] for i in chain}, "")
            unit = best.unit if best else next(self.territorial[i] for i in chain if i in self.territorial)
            self.cache[key] = (best, unit)
        return self.cache[key]


class _Cast:
    """The people who act on cases, as actors with their real roles and scopes."""

    def __init__(self):
        self.actors = {}

        def actor(person):
            if person.pk not in self.actors:
                self.actors[person.pk] = actor_for(person.user) if person.user_id else actor_for_person(person)
            return self.actors[person.pk]

        def holders(role):
            return [actor(ra.person) for ra in RoleAssignment.objects.filter(role=role).select_related("person__user")
                    .order_by("person__employee_no").distinct()]

        self.intake = _dedupe(holders(Role.INTAKE_OPERATOR))
        self.shift = _dedupe(holders(Role.SHIFT_LEAD))
        self.dispatch = _dedupe(holders(Role.DISPATCHER))
        self.leaders = _dedupe(holders(Role.LEADER))
        self.inspector_of = {}
        for ra in RoleAssignment.objects.filter(role=Role.INSPECTOR).select_related("person__user"):
            self.inspector_of.setdefault(ra.grid_id, actor(ra.person))
        self.district_dispatcher = {}
        for ra in RoleAssignment.objects.filter(role=Role.DISTRICT_DISPATCHER).select_related("person__user"):
            self.district_dispatcher.setdefault(ra.region_id, actor(ra.person))
        self.handler_of = {}
        for ra in RoleAssignment.objects.filter(role=Role.UNIT_HANDLER).select_related("person__user").order_by("person__employee_no"):
            self.handler_of.setdefault(ra.unit_id, actor(ra.person))


def _dedupe(actors):
    seen, out = set(), []
    for a in actors:
        if a.person.pk not in seen:
            seen.add(a.person.pk)
            out.append(a)
    return out


class HistoryError(RuntimeError):
    pass


class _MemoryLookup:
    """``services.Lookup`` over the demo city held in memory: the history cleans its inputs with the live
    ``services.clean_inputs`` and never queries the database case by case."""

    def __init__(self, resolver):
        self.resolver = resolver
        self.units = {u.code: u for u in Unit.objects.filter(active=True).select_related("region__parent")}
        self.districts = {r.code: r for r in Region.objects.filter(level=Region.Level.DISTRICT)}
        self.parents = dict(Region.objects.values_list("pk", "parent_id"))

    def unit(self, code):
        return self.units.get(code)

    def district(self, code):
        return self.districts.get(code)

    def assignment(self, case):
        rule, _unit = self.resolver.for_case(case)
        if rule is None:
            return engine.Assignment.of(None, None, None)
        return engine.Assignment.of(rule.pk, rule.time_limit_value, rule.time_limit_unit, rule.urgency)

    def asked_extension(self, case):
        return case._asked_extension

    def master(self, number):  # the history merges nothing
        return None

    def handler(self, case, employee_no):  # nor hands tasks on inside a unit
        return None

    def unit_in_district(self, unit, district_id):
        node = unit.region_id
        while node is not None:
            if node == district_id:
                return True
            node = self.parents.get(node)
        return False


class _Recurrences:
    """``duplicates.previous_closed`` over the cases already run, in memory: the latest case of the same class
    closed within the window and radius before a report (same distance, same order: closing time, then id)."""

    def __init__(self):
        self.radius = settings.URBANGRID_RECURRENCE_RADIUS_M
        self.window = timedelta(days=settings.URBANGRID_RECURRENCE_DAYS)
        self.cell_lat = self.radius / M_PER_DEG_LAT
        self.cell_lon = self.radius / (111_320.0 * 0.5)  # cells at least the radius wide up to latitude 60°
        self.cells = {}
        self.order = 0

    def _cell(self, lon, lat):
        return int(lon // self.cell_lon), int(lat // self.cell_lat)

    def add(self, case, cls_pk):
        if case.state == State.CLOSED and case.closed_at is not None:
            self.order += 1
            x, y = self._cell(case.lon, case.lat)
            self.cells.setdefault((cls_pk, x, y), []).append((case.closed_at, self.order, case))

    def previous(self, cls_pk, lon, lat, at):
        since, best = at - self.window, None
        x, y = self._cell(lon, lat)
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for closed_at, order, case in self.cells.get((cls_pk, x + dx, y + dy), ()):
                    if since <= closed_at <= at and _distance(case.lon, case.lat, lon, lat) <= self.radius:
                        if best is None or (closed_at, order) > best[:2]:
                            best = (closed_at, order, case)
        return best[2] if best else None


class _Run:
    def __init__(self, seed, now=None):
        self.rng = random.Random(f"history-{seed}")
        # No step happens after the moment of building: the cases meant to finish fit their remaining steps
        # in before it; the few left open stop at their step or at the moment, in flight (their clocks then
        # run on real time).
        self.cutoff = now or timezone.now()
        chain.keys()  # the audit key exists before any worker process seals with it
        self.ctx = Context.load()
        self.cal = self.ctx.calendar
        self.resolver = _Resolver()
        self.lookup = _MemoryLookup(self.resolver)
        self.recurrences = _Recurrences()
        self.cast = _Cast()
        self.system = system_actor()
        self.events = []
        self.links = []
        self.stats = Counter()
        self.script = None  # a list to record each step as a live request would make it (the one-writer proof)
        self.finishing = False
        self.keep_closures = True  # closed cases go to the recurrence index (not while a case is replayed)
        classes = list(CatalogClass.objects.current().select_related("version"))
        weights = [HOT_CLASSES.get((c.version.code, c.code), 4 if c.kind == "event" else 1) for c in classes]
        self.classes, self.class_weights = classes, weights
        self.grids = list(UnitGrid.objects.select_related("community").only(
            "pk", "code", "community_id", "responsibility_grid_id", "min_lon", "min_lat", "max_lon", "max_lat",
            "community__parent_id"))
        self.resolver.grids = {ug.pk: ug for ug in self.grids}
        self.street_of = dict(Region.objects.filter(level="street").values_list("pk", "parent_id"))

    # one step, with the checks and the input cleaning a live request gets, carried out by the engine
    def step(self, case, action, actor, at, **raw):
        t = TABLE[action]
        if case.state not in t.sources:
            raise HistoryError(f"{case.number}: {action} not allowed from {case.state}")
        if not self.may(actor, t, case) or not guard_ok(t, case):
            raise HistoryError(f"{case.number}: {actor.person} may not {action}")
        if self.script is not None:
            self.script.append((case.number, action, actor, at, dict(raw)))
        inputs = report_inputs(case) if t.action == Action.REPORT else dict(raw)
        inputs.update(implied_inputs(t, case, actor))
        cleaned = clean_inputs(t, case, inputs, require_photos=False, lookup=self.lookup)
        outcome = self.apply(case, t, cleaned, at, actor)
        if outcome.unit is not None and t.concerns == "assigned":
            self.links.append((case, outcome.unit))
        event = self.new_event(case, outcome)
        self.events.append(event)
        self.seal(event, case)
        self.stats[action] += 1
        return case

    def may(self, actor, t, case):
        return actor.can(t.permission) and _in_scope(actor, t, case)

    def apply(self, case, t, cleaned, at, actor):
        return engine.apply(case, t, cleaned, at, self.cal, self.ctx.limits, actor=actor)

    def new_event(self, case, outcome):
        return CaseEvent(case=case, **outcome.event)

    def seal(self, event, case):
        seal(event, case)

    def later(self, at, lo_h, hi_h):
        """A time ``lo_h``–``hi_h`` working hours after ``at``."""
        return self.fit(at, self.add_hours(at, round(self.rng.uniform(lo_h, hi_h), 3)))

    def add_hours(self, at, hours, places=3):
        return wt.add_working_time(at, Decimal(str(hours)), self.cal)

    def handle_time(self, case, at, late):
        """When the unit feeds back: within its limit, or late by up to its limit again."""
        budget_h = case.stage_budget_seconds / 3600
        share = self.rng.uniform(1.05, 1.9) if late else self.rng.uniform(0.08, 0.85)
        return self.fit(at, self.add_hours(at, round(budget_h * share, 4), 4))

    def fit(self, at, then):
        """A finishing case's next step, brought before the moment of building when it would fall after it."""
        if self.finishing and then > self.cutoff:
            return at + (self.cutoff - at) / 2
        return then

    def make_case(self, **fields):
        return Case(**fields)

    def place(self, ug, lon, lat):
        """Where the point lies, as a live report finds it (``grids.locator``: grids, regions, nearest road; the
        gazetteer's words for the point, as a report without an address gets them: ~80 µs a case)."""
        loc = locator.locate(lon, lat)
        return {"unit_grid_id": loc.unit_grid_id, "responsibility_grid_id": loc.responsibility_grid_id,
                "community_id": loc.community_id, "street_id": loc.street_id, "district_id": loc.district_id,
                "road_segment_id": loc.road_segment_id, "address": reverse_address(lon, lat)}

    def new_case(self, number, at, finish=True):
        rng = self.rng
        cls = rng.choices(self.classes, self.class_weights)[0]
        ug = rng.choice(self.grids)
        lon = round(rng.uniform(ug.min_lon, ug.max_lon), 7)
        lat = round(rng.uniform(ug.min_lat, ug.max_lat), 7)
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        where = self.place(ug, lon, lat)
        ug = self.resolver.grids[where["unit_grid_id"]]
        case = self.make_case(
            number=number, source=str(source), catalog_class=cls, class_code=cls.code, catalog_version=cls.version.code,
            kind=cls.kind, description=f"{cls.name}（巡查发现）" if source == Source.INSPECTOR else f"群众反映：{cls.name}",
            lon=lon, lat=lat, **where,
            needs_verification=source in NEEDS_VERIFICATION, created_at=at, updated_at=at, state=None, version=0,
        )
        case._asked_extension = None
        self.set_tracking(case, _tracking(rng))
        inspector = self.cast.inspector_of[ug.responsibility_grid_id]
        reporter = inspector if source == Source.INSPECTOR else rng.choice(self.cast.intake)
        case.reporter = reporter.person
        case.reporter_user = reporter.user if getattr(reporter.user, "pk", None) else None
        case.self_handled = finish and source == Source.INSPECTOR and cls.kind == "event" and rng.random() < 0.05
        case.recurrence_of = self.recurrences.previous(cls.pk, lon, lat, at)
        self.step(case, Action.REPORT, reporter, at)
        return case, cls, ug, inspector

    def set_tracking(self, case, code):
        case.tracking_code = code

    def run_case(self, number, at, finish):
        """Drive one case through the loop; ``finish`` False leaves it open at a random step."""
        self.finishing = False  # the report itself is never moved
        case, cls, ug, inspector = self.new_case(number, at, finish)
        self.finishing = finish
        try:
            self._course(case, cls, ug, inspector, at, finish)
        finally:
            self.finishing = False
        if self.keep_closures:
            self.recurrences.add(case, cls.pk)
        return case

    def _course(self, case, cls, ug, inspector, at, finish):
        rng = self.rng
        cast = self.cast
        stop_at = rng.randint(1, 6) if not finish else None
        steps = 0

        def go(action, actor, at, **inputs):
            """Stop here (before the case is touched) if this is the step left undone or it lies after now."""
            nonlocal steps
            if stop_at is not None and steps + 1 >= stop_at:
                raise _Stop
            if at > self.cutoff:
                raise _Stop(in_flight=True)
            steps += 1
            return self.step(case, action, actor, at, **inputs)

        try:
            intake, shift, dispatcher = rng.choice(cast.intake), rng.choice(cast.shift), rng.choice(cast.dispatch)
            at = self.later(at, 0.05, 0.6)
            if case.needs_verification:
                go(Action.SEND_VERIFY, intake, at)
                at = self.later(at, 0.1, 0.6)
                confirmed = not finish or rng.random() > 0.08
                go(Action.VERIFY, inspector, at, confirmed=confirmed, opinion="属实" if confirmed else "现场未发现")
                if not confirmed:
                    return
            else:
                if finish and rng.random() < 0.006:
                    go(Action.NOT_FILE, intake, at, reason="不属于城市管理范围")
                    return
                go(Action.ACCEPT, intake, at)
                if case.self_handled:
                    at = self.later(at, 0.1, 1.0)
                    go(Action.CLOSE, shift, at)
                    return
            at = self.later(at, 0.05, 0.8)
            if finish and rng.random() < 0.004:
                go(Action.VOID, shift, at, reason="重复上报")
                return
            go(Action.FILE, shift, at)
            rework_left = 1 if rng.random() < 0.02 else 0
            returned = rng.random() < 0.012
            rule, unit = self.resolver(cls, ug)
            if rule is not None and rule.auto_dispatch:  # 自动派遣, in the same moment as the filing (as live)
                go(Action.DISPATCH, self.system, at, **auto_dispatch_inputs(unit, self.resolver.explain(cls, rule)))
            else:
                at = self.later(at, 0.05, 0.9)
                go(Action.DISPATCH, dispatcher, at, **dispatch_inputs(unit))
            while True:
                if case.district_centre_id and not case.current_unit_id:  # 二级派遣 by the district's sub-centre
                    at = self.later(at, 0.05, 0.8)
                    go(Action.DISPATCH_SECOND, cast.district_dispatcher[case.district_centre_id], at, unit=unit.code)
                handler = cast.handler_of[unit.pk]
                approver = cast.district_dispatcher[case.district_centre_id] if case.district_centre_id else dispatcher
                if not returned:
                    break
                returned = False
                at = self.later(at, 0.2, 2)
                go(Action.REQUEST_RETURN, handler, at, reason="不属于本单位职责")
                at = self.later(at, 0.1, 1)
                go(Action.APPROVE_RETURN, approver, at, opinion="同意回退，重新派遣")
                unit = self.resolver.territorial_unit(ug)  # 属地兜底 after a return
                at = self.later(at, 0.05, 0.9)
                go(Action.DISPATCH, dispatcher, at, **dispatch_inputs(unit))
            late = rng.random() < 0.07
            if rng.random() < 0.006:
                at = self.later(at, 0.5, 3)
                go(Action.REQUEST_EXTENSION, handler, at, reason="需协调材料", extra_value="1", extra_unit=wt.WORKING_DAYS)
                case._asked_extension = ["1", wt.WORKING_DAYS]
                at = self.later(at, 0.1, 1)
                go(Action.APPROVE_EXTENSION, approver, at, opinion="同意延期")
            if rng.random() < 0.004:
                at = self.later(at, 0.5, 3)
                go(Action.REQUEST_SUSPENSION, handler, at, reason="需上级协调")
                at = self.later(at, 0.1, 1)
                go(Action.APPROVE_SUSPENSION, approver, at, opinion="同意挂账")
                at = self.later(at, 7, 70)
                go(Action.RESUME, approver, at)
            if rng.random() < 0.01 and cast.leaders:
                go(Action.SUPERVISE, rng.choice(cast.leaders), self.later(at, 0.1, 1), opinion="请加快处置")
            while True:
                at = self.handle_time(case, at, late)
                go(Action.FEED_BACK, handler, at, opinion="已处置完毕")
                at = self.later(at, 0.05, 0.8)
                go(Action.SEND_CHECK, rng.choice(cast.intake), at)
                at = self.later(at, 0.1, 0.5)
                if rework_left:
                    rework_left -= 1
                    go(Action.CHECK_FAIL, inspector, at, reason="现场未处置到位")
                    late = False
                    continue
                go(Action.CHECK_PASS, inspector, at, opinion="已处置到位")
                break
            at = self.later(at, 0.05, 0.8)
            go(Action.CLOSE, shift, at)
            if case.source in NEEDS_VERIFICATION:
                at = self.later(at, 1, 7)
                sat = rng.choices(list(Satisfaction), [80, 15, 5])[0]
                go(Action.CALLBACK, intake, at, satisfaction=str(sat))
                if sat == Satisfaction.DISSATISFIED:  # the centre answers it (here: explains, keeps the closure)
                    at = self.later(at, 0.5, 4)
                    go(Action.KEEP_CLOSED, intake, at, reason="已向市民解释处置标准，维持结案")
        except _Stop as stop:
            if stop.in_flight and case.state in OPEN:
                self.stats["in_flight"] += 1


class _Stop(Exception):
    def __init__(self, in_flight=False):
        super().__init__()
        self.in_flight = in_flight  # a case meant to finish, stopped by the moment of building


def _tracking(rng):
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(rng.choice(alphabet) for _ in range(10))


def _arrival_times(rng, n, start, end, cal):
    """``n`` report times spread over working hours between ``start`` and ``end``, in order."""
    days = []
    d = start.date()
    while d <= end.date():
        days.append(d)
        d += timedelta(days=1)
    weights = [1.0 if cal.is_workday(d) else 0.35 for d in days]  # inspectors patrol at weekends too, less
    picks = sorted(rng.choices(range(len(days)), weights, k=n))
    times = []
    for i in picks:
        minute = rng.randint(8 * 60, 18 * 60)
        times.append(datetime(days[i].year, days[i].month, days[i].day, minute // 60, minute % 60, rng.randint(0, 59),
                              tzinfo=wt.TZ))
    return sorted(times)


def last_arrival(now):
    """Where a history ending "now" stops its arrivals: 17:00 the day before, Beijing time."""
    return now.astimezone(wt.TZ).replace(hour=17, minute=0, second=0, microsecond=0) - timedelta(days=1)


def build_history(seed=2024, received=RECEIVED, still_open=STILL_OPEN, years=3, end=None, log=print, now=None):
    """Generate the history once (skips when cases exist); returns counts."""
    if Case.objects.exists():
        return {"skipped": True, "cases": Case.objects.count()}
    now = now or timezone.now()
    end = end or last_arrival(now)
    start = end - timedelta(days=365 * years)
    run = _Run(seed, now)
    times = _arrival_times(run.rng, received, start, end, run.cal)
    cases, seq = [], Counter()
    for i, at in enumerate(times):
        seq[at.year] += 1
        number = f"{at.year}{seq[at.year]:07d}"
        # The newest cases are the ones still open; all others finish before the moment of building.
        cases.append(run.run_case(number, at, finish=i < received - still_open))
    open_now = [c for c in cases if c.state in OPEN]
    with transaction.atomic():
        for i, case in enumerate(cases, start=next_id(Case)):
            case.pk = i
        for case in cases:  # relations to cases saved in the same bulk insert take their ids now
            case.recurrence_of_id = case.recurrence_of.pk if case.recurrence_of is not None else None
        fast_insert(Case, cases)
        first_event = next_id(CaseEvent)
        for i, e in enumerate(run.events):
            e.pk, e.case_id = first_event + i, e.case.pk
        fast_insert(CaseEvent, run.events)
        CaseUnit.objects.bulk_create([CaseUnit(case_id=c.pk, unit_id=u.pk) for c, u in run.links], batch_size=5000,
                                     ignore_conflicts=True)
        for year, last in seq.items():
            CaseNumberSequence.objects.update_or_create(year=year, defaults={"last": last})
    return {"received": len(cases), "finished": len(cases) - len(open_now), "open": len(open_now),
            "events": len(run.events), **{f"n_{k}": v for k, v in run.stats.items()}}
