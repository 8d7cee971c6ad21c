"""Event logs for the evaluation tests, written by the live case loop.

No helper here writes a case field or builds event data: a case is created by ``services.report`` and every
step is taken by ``services.transition`` (``require_photos=False``, an explicit ``at=``) for a real actor of
the demo city holding the post and the scope the step needs. The clocks, their deadlines (on the demo's
working calendar: 08:30–12:00 and 14:00–17:30 on working days) and the on-time verdicts are therefore the
engine's; a test that needs a late step or a given deadline chooses the times (or the limits) that make
the engine produce it.

What the demo city gives the tests (see ``Log.__init__``): class ``self.cls`` is handled within 1 工作日
(7 working hours: Mon 09:00 → Tue 09:00) by its responsibility rule, without automatic dispatch; every other
stage has 1 working hour except 核实 and 核查 (0.5 working hour). 2026: 28 February (Saturday) is a working
day, 16–23 February and 6 April are holidays.
"""
import itertools
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser
from shapely.geometry import Point, shape

from urbangrid.cases import services
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.catalog.models import CatalogClass
from urbangrid.grids.models import UnitGrid
from urbangrid.org.models import Person, RoleAssignment, Unit
from urbangrid.org.scope import Actor, actor_for_person, citizen_actor
from urbangrid.worktime import clock as wt
from urbangrid.worktime.clock import TZ

# The person a step is taken by when the test names no one: the post the table row asks for.
DEFAULT_POST = {
    "accept": "intake", "send_verify": "intake", "send_check": "intake", "not_file": "intake", "merge": "intake",
    "callback": "intake", "reopen": "intake", "keep_closed": "intake",
    "file": "shift", "close": "shift", "void": "shift",
    "dispatch": "dispatcher", "approve_return": "dispatcher", "refuse_return": "dispatcher",
    "approve_extension": "dispatcher", "refuse_extension": "dispatcher", "approve_suspension": "dispatcher",
    "refuse_suspension": "dispatcher", "resume": "dispatcher", "supervise": "dispatcher",
}
GRID_STEPS = ("verify", "check_pass", "check_fail")  # the inspector of the case's grid
UNIT_STEPS = ("accept_task", "assign", "request_return", "request_extension", "request_suspension", "feed_back")
SECOND = timedelta(seconds=1)
SPACING_M = 40  # the report places of one grid lie this far apart (the recurrence radius is 30 m)


def T(*args):
    """An aware Asia/Shanghai datetime."""
    return datetime(*args, tzinfo=TZ)


def _places(grid):
    """Points inside a unit grid at least SPACING_M apart, so that cases of the same class at different
    places are never taken for a recurrence (反复) of each other."""
    poly = shape(grid.geometry)
    min_lon, min_lat, max_lon, max_lat = poly.bounds
    step_lat = SPACING_M / 111_000
    step_lon = SPACING_M / 94_000  # one degree of longitude at 32° N
    points = []
    lat = min_lat + step_lat / 2
    while lat < max_lat:
        lon = min_lon + step_lon / 2
        while lon < max_lon:
            if poly.contains(Point(lon, lat)):
                points.append((lon, lat))
            lon += step_lon
        lat += step_lat
    if not points:
        p = poly.representative_point()
        points = [(p.x, p.y)]
    return points


class Log:
    """Builds cases through the case service: ``c = log.case(at)`` (上报), then ``log.ev(c, "accept", at)``,
    ``log.dispatch(c, at, unit)``, ``log.feed_back(c, at)`` … ``log.filed(at)`` is a case reported, accepted
    and filed in the three seconds before ``at`` (each step on time), ready to be dispatched at ``at``."""

    def __init__(self):
        self.cls = CatalogClass.objects.order_by("pk").first()
        grids = list(UnitGrid.objects.select_related("community__parent__parent", "responsibility_grid").order_by("code"))
        self.grid = grids[0]
        # a unit grid in another district, for region separation
        self.other_grid = next(g for g in grids if g.community.parent.parent_id != self.grid.community.parent.parent_id)
        # units a city dispatcher sends cases to directly, each with a 处置人员 of its own to feed back
        handled = set(RoleAssignment.objects.filter(role="unit_handler").values_list("unit_id", flat=True))
        units = [u for u in Unit.objects.filter(active=True, command_level=Unit.CommandLevel.CITY).order_by("code")
                 if u.pk in handled]
        self.u1, self.u2 = units[0], units[1]
        self.inspector = self.inspector_of(self.grid)
        self.intake = RoleAssignment.objects.filter(role="intake_operator").order_by("pk").first().person
        self.shift = RoleAssignment.objects.filter(role="shift_lead").order_by("pk").first().person
        self.dispatcher = RoleAssignment.objects.filter(role="dispatcher").order_by("pk").first().person
        self._actors = {}
        self._places = {}
        self._turn = itertools.count()

    # --- who ---------------------------------------------------------------------------------------
    def actor(self, person):
        if person.pk not in self._actors:
            self._actors[person.pk] = actor_for_person(person)
        return self._actors[person.pk]

    @staticmethod
    def inspector_of(grid):
        """The 监督员 patrolling a unit grid's responsibility grid."""
        ra = RoleAssignment.objects.filter(role="inspector", grid=grid.responsibility_grid_id).order_by("pk").first()
        return ra.person if ra is not None else None

    @staticmethod
    def handler(unit):
        """A 处置人员 of ``unit`` itself (his scope covers the unit and its teams)."""
        return RoleAssignment.objects.filter(role="unit_handler", unit=unit).order_by("pk").first().person

    def _default_actor(self, case, action):
        if action in GRID_STEPS:
            return self.actor(self.inspector_of(case.unit_grid))
        if action in UNIT_STEPS:
            return self.actor(self.handler(case.current_unit))
        if action == "rate":
            return citizen_actor(case.tracking_code)
        return self.actor(getattr(self, DEFAULT_POST[action]))

    # --- steps -------------------------------------------------------------------------------------
    def case(self, at, grid=None, source="inspector", reporter=None, cls=None, self_handled=False, place_of=None):
        """上报 at ``at`` through ``services.report``: by ``reporter`` (default: the grid's inspector for an
        inspector report, a member of the public otherwise) at a place of its own in the unit grid, or at
        the place of case ``place_of``."""
        g = grid or self.grid
        if place_of is not None:
            lon, lat = place_of.lon, place_of.lat
        else:
            places = self._places.setdefault(g.pk, _places(g))
            lon, lat = places[next(self._turn) % len(places)]
        if reporter is None and source == "inspector":
            reporter = self.inspector_of(g)
        actor = self.actor(reporter) if reporter is not None else Actor(user=AnonymousUser())
        case, created = services.report(actor, catalog_class=cls or self.cls, lon=lon, lat=lat, description="测试",
                                        source=source, self_handled=self_handled, at=at, require_photos=False)
        assert created and case.unit_grid_id == g.pk, (case.number, g.code)
        return case

    def ev(self, case, action, at, person=None, **inputs):
        """Take ``action`` on ``case`` at ``at`` through ``services.transition`` (by ``person``, default the
        post the step needs); returns the event it wrote. Text inputs default to a short note."""
        actor = self.actor(person) if person is not None else self._default_actor(Case.objects.get(pk=case.pk), action)
        inputs.setdefault("opinion", "测试")
        inputs.setdefault("reason", "测试")
        services.transition(actor, case.number, action, inputs, at=at, require_photos=False)
        return CaseEvent.objects.filter(case_id=case.pk).order_by("-seq").first()

    # common steps
    def filed(self, at, grid=None, source="public_app", intake=None, shift=None, **kw):
        """A case reported, accepted and filed at ``at`` − 3 s, − 2 s and − 1 s: every clock on time, the
        dispatch clock (1 working hour) started just before ``at``. By default a public report (no inspector's
        report to count) accepted by ``intake`` and filed by ``shift`` (default the log's)."""
        c = self.case(at - 3 * SECOND, grid=grid, source=source, **kw)
        self.ev(c, "accept", at - 2 * SECOND, person=intake)
        self.ev(c, "file", at - SECOND, person=shift)
        return c

    def dispatch(self, case, at, unit, person=None):
        """派遣 ``case`` (pending dispatch) to ``unit``; its handling deadline is the engine's: the class's
        1 工作日 from ``at``."""
        return self.ev(case, "dispatch", at, person=person, unit=unit.code)

    def dispatched(self, at, unit, person=None, **kw):
        """A case filed just before ``at`` (``filed``) and dispatched to ``unit`` at ``at``."""
        c = self.filed(at, **kw)
        self.dispatch(c, at, unit, person=person)
        return c

    def feed_back(self, case, at, person=None):
        """处置反馈 by a handler of the case's current unit; on time when ``at`` is not after the deadline."""
        return self.ev(case, "feed_back", at, person=person)

    def check(self, case, at, passed=True, sent=None):
        """发核查 at ``sent`` (default ``at`` − 10 minutes) and the inspector's 核查 at ``at`` (on time: the
        check clock gives half a working hour)."""
        self.ev(case, "send_check", sent or at - timedelta(minutes=10))
        return self.ev(case, "check_pass" if passed else "check_fail", at)

    def close(self, case, at):
        """发核查, 核查通过 and 结案 within the hour before ``at`` (each on time after a feedback no more than an
        hour of working time earlier)."""
        self.check(case, at - timedelta(minutes=20), sent=at - timedelta(minutes=30))
        return self.ev(case, "close", at)


def set_stage_limit(stage, value, unit=wt.WORKING_HOURS):
    """Change a stage's time limit (TimeLimitSetting) for the steps that follow; returns the old (value, unit)."""
    from urbangrid.worktime.models import TimeLimitSetting

    row = TimeLimitSetting.objects.get(stage=stage)
    old = (row.value, row.unit)
    TimeLimitSetting.objects.filter(pk=row.pk).update(value=value, unit=unit)
    wt.invalidate_calendar()  # the case service caches the stage limits with the calendar
    return old


def person(pk):
    return Person.objects.get(pk=pk)
