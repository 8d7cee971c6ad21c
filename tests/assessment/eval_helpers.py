"""Hand-built event logs for the evaluation tests: cases and events written straight with the ORM."""
import itertools
from datetime import datetime

from urbangrid.cases.models import Case, CaseEvent
from urbangrid.catalog.models import CatalogClass
from urbangrid.grids.models import UnitGrid
from urbangrid.org.models import Person, RoleAssignment, Unit
from urbangrid.worktime.clock import TZ

_numbers = itertools.count(1)


def T(*args):
    """An aware Asia/Shanghai datetime."""
    return datetime(*args, tzinfo=TZ)


class Log:
    """Builds cases and their events; ``log.case()`` then ``log.ev(case, "dispatch", at, ...)``."""

    def __init__(self):
        self.cls = CatalogClass.objects.order_by("pk").first()
        grids = list(UnitGrid.objects.select_related("community__parent__parent", "responsibility_grid").order_by("code"))
        self.grid = grids[0]
        # a unit grid in another district, for region separation
        self.other_grid = next(g for g in grids if g.community.parent.parent_id != self.grid.community.parent.parent_id)
        units = list(Unit.objects.order_by("code"))
        self.u1, self.u2 = units[0], units[1]
        self.inspector = RoleAssignment.objects.filter(role="inspector", grid=self.grid.responsibility_grid).first().person
        self.intake = RoleAssignment.objects.filter(role="intake_operator").order_by("pk").first().person
        self.shift = RoleAssignment.objects.filter(role="shift_lead").order_by("pk").first().person
        self.dispatcher = RoleAssignment.objects.filter(role="dispatcher").order_by("pk").first().person
        self.seqs = {}

    def case(self, grid=None, source="inspector", reporter=None):
        g = grid or self.grid
        n = next(_numbers)
        case = Case.objects.create(
            number=f"T{n:09d}", tracking_code=f"TC{n:08d}", source=source, catalog_class=self.cls,
            class_code=self.cls.code, catalog_version=self.cls.version.code, kind=self.cls.kind, description="测试",
            lon=(g.min_lon + g.max_lon) / 2, lat=(g.min_lat + g.max_lat) / 2, unit_grid=g,
            responsibility_grid=g.responsibility_grid, community=g.community, street=g.community.parent,
            district=g.community.parent.parent, reporter=reporter, state="reported")
        self.seqs[case.pk] = 0
        return case

    def ev(self, case, action, at, person=None, unit=None, stopped=(), deadline=None, stage="", from_state="",
           to_state="x", role="", **data):
        self.seqs[case.pk] += 1
        payload = dict(data)
        payload["counts"] = []
        if stopped:
            payload["stopped"] = [{"stage": s, "started": None, "deadline": d.isoformat() if d else None, "on_time": ok}
                                  for s, ok, d in (x if len(x) == 3 else (*x, None) for x in stopped)]
        e = CaseEvent(case=case, seq=self.seqs[case.pk], action=action, at=at, actor_person=person, unit=unit, role=role,
                      data=payload, deadline=deadline, stage=stage, from_state=from_state, to_state=to_state)
        e.save()
        return e

    # common steps
    def dispatch(self, case, at, unit, deadline, person=None):
        return self.ev(case, "dispatch", at, person=person or self.dispatcher, unit=unit, stopped=[("dispatch", True)],
                       deadline=deadline, stage="handle", from_state="pending_dispatch", to_state="handling")

    def feed_back(self, case, at, unit, on_time=True):
        return self.ev(case, "feed_back", at, unit=unit, stopped=[("handle", on_time)], stage="send_check",
                       from_state="handling", to_state="fed_back")


def person(pk):
    return Person.objects.get(pk=pk)
