"""Three years of case history for the demo city, produced by the workflow itself.

Every step goes through the same rules as a live request: the action must be allowed from the case's
state by the workflow table, the actor (a real person of the demo city) must hold the permission and
have the case in scope (``services._in_scope``), and ``engine.apply`` moves the clocks and counters and
``services._event`` builds the event exactly as ``services.transition`` does. Only the saving differs:
cases and events are written with bulk inserts at the end, because 30,000 cases with ~260,000 events
one transaction at a time would take ten minutes. History carries no photos.

Shape (defaults reproduce the document): 30,861 cases received, of which 30,831 finished and 30 still
open; no step is dated after the moment of building, so the finishing cases still in flight then stay open
too (taken from the 30,831); ~93 % found by inspectors; small ads, clutter, exposed garbage, manhole covers
and bins most common; ~2 % rework, some returns, extensions, suspensions and late closures; dissatisfied
callbacks answered by keeping the closure.
"""
import random
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from urbangrid.cases import engine
from urbangrid.cases.chain import seal
from urbangrid.core.bulk import fast_insert, next_id
from urbangrid.cases.models import Case, CaseEvent, CaseNumberSequence, CaseUnit
from urbangrid.cases.services import Context, _event, _in_scope, system_actor
from urbangrid.cases.states import NEEDS_VERIFICATION, OPEN, Satisfaction, Source, State
from urbangrid.cases.workflow import TABLE
from urbangrid.catalog.models import CatalogClass, ResponsibilityRule
from urbangrid.catalog.responsibility import REGION_RANK, _pick
from urbangrid.grids.models import Region, UnitGrid
from urbangrid.org.models import Person, RoleAssignment, Unit
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
        for rule in ResponsibilityRule.objects.filter(active=True).select_related("unit"):
            self.rules.setdefault(rule.catalog_class_id, []).append(rule)
        self.levels = dict(Region.objects.values_list("pk", "level"))
        self.parents = dict(Region.objects.values_list("pk", "parent_id"))
        self.territorial = {u.region_id: u for u in Unit.objects.filter(is_territorial=True)}
        self.cache = {}

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


class _Run:
    def __init__(self, seed, now=None):
        self.rng = random.Random(f"history-{seed}")
        # No step happens after the moment of building: a case whose next step would fall later is left
        # where it is, in flight, as the live system holds it now (its clocks then run on real time).
        self.cutoff = now or timezone.now()
        self.ctx = Context.load()
        self.cal = self.ctx.calendar
        self.resolver = _Resolver()
        self.cast = _Cast()
        self.system = system_actor()
        self.events = []
        self.links = []
        self.stats = Counter()
        classes = list(CatalogClass.objects.filter(version__is_current=True, active=True).select_related("version"))
        weights = [HOT_CLASSES.get((c.version.code, c.code), 4 if c.kind == "event" else 1) for c in classes]
        self.classes, self.class_weights = classes, weights
        self.grids = list(UnitGrid.objects.select_related("community").only(
            "pk", "code", "community_id", "responsibility_grid_id", "min_lon", "min_lat", "max_lon", "max_lat",
            "community__parent_id"))
        self.street_of = dict(Region.objects.filter(level="street").values_list("pk", "parent_id"))

    # one step, with the checks a live request gets
    def step(self, case, action, actor, at, **inputs):
        t = TABLE[action]
        if case.state not in t.sources:
            raise HistoryError(f"{case.number}: {action} not allowed from {case.state}")
        if not actor.can(t.permission) or not _in_scope(actor, t, case):
            raise HistoryError(f"{case.number}: {actor.person} may not {action}")
        from_state = case.state
        unit = inputs.pop("_unit", None)
        outcome = engine.apply(case, t, inputs, at, self.cal, self.ctx.limits)
        case.state = outcome.to_state
        case.version += 1
        case.updated_at = at
        event = _event(case, t, actor, at, from_state, outcome, inputs, unit=unit)
        self.events.append(event)
        if action != "report":
            seal(event, case)
        self.stats[action] += 1
        return case

    def later(self, at, lo_h, hi_h):
        """A time ``lo_h``–``hi_h`` working hours after ``at``."""
        return wt.add_working_time(at, Decimal(str(round(self.rng.uniform(lo_h, hi_h), 3))), self.cal)

    def handle_time(self, case, at, late):
        """When the unit feeds back: within its limit, or late by up to its limit again."""
        budget_h = case.stage_budget_seconds / 3600
        share = self.rng.uniform(1.05, 1.9) if late else self.rng.uniform(0.08, 0.85)
        return wt.add_working_time(at, Decimal(str(round(budget_h * share, 4))), self.cal)

    def new_case(self, number, at, finish=True):
        rng = self.rng
        cls = rng.choices(self.classes, self.class_weights)[0]
        ug = rng.choice(self.grids)
        lon = round(rng.uniform(ug.min_lon, ug.max_lon), 7)
        lat = round(rng.uniform(ug.min_lat, ug.max_lat), 7)
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        street_id = ug.community.parent_id
        case = Case(
            number=number, source=source, catalog_class=cls, class_code=cls.code, catalog_version=cls.version.code,
            kind=cls.kind, description=f"{cls.name}（巡查发现）" if source == Source.INSPECTOR else f"群众反映：{cls.name}",
            lon=lon, lat=lat, unit_grid_id=ug.pk, responsibility_grid_id=ug.responsibility_grid_id,
            community_id=ug.community_id, street_id=street_id, district_id=self.street_of.get(street_id),
            needs_verification=source in NEEDS_VERIFICATION, created_at=at, updated_at=at, state=None, version=0,
        )
        case.tracking_code = _tracking(rng)
        inspector = self.cast.inspector_of[ug.responsibility_grid_id]
        reporter = inspector if source == Source.INSPECTOR else rng.choice(self.cast.intake)
        case.reporter = reporter.person
        case.self_handled = finish and source == Source.INSPECTOR and cls.kind == "event" and rng.random() < 0.05
        self.step(case, "report", reporter, at)
        self.events[-1].data.update({"source": source, "self_handled": case.self_handled})
        seal(self.events[-1], case)
        return case, cls, ug, inspector

    def run_case(self, number, at, finish):
        """Drive one case through the loop; ``finish`` False leaves it open at a random step."""
        rng = self.rng
        case, cls, ug, inspector = self.new_case(number, at, finish)
        cast = self.cast
        stop_at = rng.randint(1, 6) if not finish else None
        steps = 0

        def due(at):
            """Stop here (before the case is touched) if the next step is the one left undone or lies after now."""
            if stop_at is not None and steps + 1 >= stop_at:
                raise _Stop
            if at > self.cutoff:
                raise _Stop(in_flight=finish)

        def go(action, actor, at, **inputs):
            nonlocal steps
            due(at)
            steps += 1
            return self.step(case, action, actor, at, **inputs)

        try:
            intake, shift, dispatcher = rng.choice(cast.intake), rng.choice(cast.shift), rng.choice(cast.dispatch)
            at = self.later(at, 0.05, 0.6)
            if case.needs_verification:
                go("send_verify", intake, at)
                at = self.later(at, 0.1, 0.6)
                confirmed = not finish or rng.random() > 0.08
                go("verify", inspector, at, confirmed=confirmed, opinion="属实" if confirmed else "现场未发现")
                if not confirmed:
                    return case
            else:
                if finish and rng.random() < 0.006:
                    go("not_file", intake, at, reason="不属于城市管理范围")
                    return case
                go("accept", intake, at, self_handled=case.self_handled)
                if case.self_handled:
                    at = self.later(at, 0.1, 1.0)
                    go("close", shift, at)
                    return case
            at = self.later(at, 0.05, 0.8)
            if finish and rng.random() < 0.004:
                go("void", shift, at, reason="重复上报")
                return case
            go("file", shift, at)
            rework_left = 1 if rng.random() < 0.02 else 0
            returned = rng.random() < 0.012
            first_pass = True
            while True:  # dispatch (after a return, to the territory's unit: 属地兜底)
                rule, unit = self.resolver(cls, ug)
                by = self.system if (first_pass and rule is not None and rule.auto_dispatch) else dispatcher
                if not first_pass:
                    unit = self.resolver.territorial_unit(ug)
                first_pass = False
                case.rule, case.urgency = rule, (rule.urgency if rule else case.urgency)
                case.handle_limit_value = rule.time_limit_value if rule else Decimal("3")
                case.handle_limit_unit = rule.time_limit_unit if rule else wt.WORKING_DAYS
                at = self.later(at, 0.05, 0.9)
                due(at)
                if unit.command_level == Unit.CommandLevel.DISTRICT and unit.region_id:
                    district = unit.region if unit.region.level == "district" else unit.region.parent
                    case.district_centre = district
                    go("dispatch", by, at, to_district=True)
                    at = self.later(at, 0.05, 0.8)
                    due(at)
                    case.current_unit = unit
                    self.links.append((case, unit))
                    go("dispatch_second", cast.district_dispatcher[district.pk], at, _unit=unit)
                else:
                    case.current_unit = unit
                    self.links.append((case, unit))
                    go("dispatch", by, at, to_district=False, _unit=unit)
                case.dispatched_at = at
                handler = cast.handler_of[unit.pk]
                approver = cast.district_dispatcher[case.district_centre_id] if case.district_centre_id else dispatcher
                if returned:
                    returned = False
                    at = self.later(at, 0.2, 2)
                    go("request_return", handler, at, reason="不属于本单位职责", _unit=unit)
                    at = self.later(at, 0.1, 1)
                    go("approve_return", approver, at, opinion="同意回退，重新派遣")
                    case.current_unit, case.district_centre = None, None
                    continue
                break
            late = rng.random() < 0.07
            if rng.random() < 0.006:
                at = self.later(at, 0.5, 3)
                go("request_extension", handler, at, reason="需协调材料", extra_time=(Decimal("1"), wt.WORKING_DAYS), _unit=unit)
                at = self.later(at, 0.1, 1)
                go("approve_extension", approver, at, opinion="同意延期", extra_time=(Decimal("1"), wt.WORKING_DAYS))
            if rng.random() < 0.004:
                at = self.later(at, 0.5, 3)
                go("request_suspension", handler, at, reason="需上级协调", _unit=unit)
                at = self.later(at, 0.1, 1)
                go("approve_suspension", approver, at, opinion="同意挂账")
                at = self.later(at, 7, 70)
                go("resume", approver, at)
            if rng.random() < 0.01 and cast.leaders:
                go("supervise", rng.choice(cast.leaders), self.later(at, 0.1, 1), opinion="请加快处置")
            while True:
                at = self.handle_time(case, at, late)
                go("feed_back", handler, at, opinion="已处置完毕", _unit=unit)
                case.fed_back_at = at
                at = self.later(at, 0.05, 0.8)
                go("send_check", rng.choice(cast.intake), at)
                at = self.later(at, 0.1, 0.5)
                if rework_left:
                    rework_left -= 1
                    go("check_fail", inspector, at, reason="现场未处置到位", _unit=unit)
                    late = False
                    continue
                go("check_pass", inspector, at, opinion="已处置到位")
                break
            at = self.later(at, 0.05, 0.8)
            go("close", shift, at)
            if case.source in NEEDS_VERIFICATION:
                at = self.later(at, 1, 7)
                sat = rng.choices(list(Satisfaction), [80, 15, 5])[0]
                due(at)
                case.satisfaction = sat
                go("callback", intake, at, satisfaction=sat)
                if sat == Satisfaction.DISSATISFIED:  # the centre answers it (here: explains, keeps the closure)
                    at = self.later(at, 0.5, 4)
                    go("keep_closed", intake, at, reason="已向市民解释处置标准，维持结案")
                    case.kept_closed = True
        except _Stop as stop:
            if stop.in_flight and case.state in OPEN:  # (a closed case awaiting its 回访 is finished)
                self.stats["in_flight"] += 1
        return case


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
        # The newest cases are the ones still open.
        cases.append(run.run_case(number, at, finish=i < received - still_open))
    open_now = [c for c in cases if c.state not in (State.CLOSED, State.NOT_FILED, State.VOIDED, State.MERGED)]
    with transaction.atomic():
        for i, case in enumerate(cases, start=next_id(Case)):
            case.pk = i
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
