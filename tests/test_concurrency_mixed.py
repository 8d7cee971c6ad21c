"""Concurrency across modules, with real threads and one database connection each (issue 8): the standard
evaluation while the case loop runs, and the imports (grids, responsibility list, deduction standard)
while cases are created. Both run on SQLite, where writers queue on the database lock (``BEGIN IMMEDIATE``
with a timeout, as in production), and on PostgreSQL, where they really overlap."""
import io
import json
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from openpyxl import load_workbook

from urbangrid.assessment import periods
from urbangrid.assessment.evaluation import evaluate, rules
from urbangrid.assessment.reviews import periodic
from urbangrid.cases import services
from urbangrid.cases.chain import verify
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.catalog.models import CatalogClass
from urbangrid.grids.locator import locator
from urbangrid.org.models import RoleAssignment
from urbangrid.org.reach import Reach
from urbangrid.org.scope import actor_for

pytestmark = pytest.mark.django_db(transaction=True)
STAFF = ("inspector", "intake_operator", "shift_lead", "dispatcher", "unit_handler")


@pytest.fixture
def city(settings, tmp_path):
    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    # Today's tally refreshed on every evaluation (exact), so each one can be bracketed by direct counts.
    settings.URBANGRID_TALLY_TODAY_MAX_AGE = 0
    build_demo(seed=1, log=lambda m: None)
    users = get_user_model().objects
    actors = {name: actor_for(users.get(username=name)) for name in STAFF}
    actors["unit"] = RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code
    actors["class"] = CatalogClass.objects.get(version__code="local-demo", code="0401")
    return actors


class Threads:
    """Start named workers together (a barrier); each uses its own connection and closes it at the end.
    Exceptions are collected per worker, for the test to assert on."""

    def __init__(self):
        self.targets, self.errors = [], []

    def add(self, name, target):
        self.targets.append((name, target))

    def run(self):
        barrier = threading.Barrier(len(self.targets))

        def worker(name, target):
            try:
                barrier.wait()
                target()
            except Exception as exc:  # collected and asserted on by the test
                self.errors.append((name, exc))
            finally:
                connection.close()

        threads = [threading.Thread(target=worker, args=t) for t in self.targets]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads), "a worker is still running after 120 s"
        return self.errors


def _centres(grids):
    return [((g.min_lon + g.max_lon) / 2, (g.min_lat + g.max_lat) / 2) for g in grids]


# --- 1. evaluation while transitions run ------------------------------------------------------------

PATHS = ("full", "rework", "not_filed", "void", "open")


def _drive(a, point, path):
    """One case through the loop by the real service layer; returns its number."""
    case, created = services.report(a["inspector"], catalog_class=a["class"], lon=point[0], lat=point[1],
                                    description="路面塌陷", source="inspector", require_photos=False)
    assert created
    n = case.number

    def step(role, action, **inputs):
        return services.transition(a[role], n, action, inputs, require_photos=False)

    if path == "not_filed":
        step("shift_lead", "not_file", reason="不属于受理范围")
        return n
    step("intake_operator", "accept")
    if step("shift_lead", "file").state == "pending_dispatch":  # unless the list dispatched it automatically
        step("dispatcher", "dispatch", unit=a["unit"])
    if path == "void":
        step("shift_lead", "void", reason="重复上报")
        return n
    if path == "open":
        return n
    step("unit_handler", "feed_back", opinion="已修复")
    step("intake_operator", "send_check")
    if path == "rework":
        step("inspector", "check_fail", reason="未修复到位")
        step("unit_handler", "feed_back", opinion="已返工")
        step("intake_operator", "send_check")
    step("inspector", "check_pass", opinion="已修复")
    step("shift_lead", "close")
    return n


def _tables(ev):
    return {"units": ev.units(), "positions": ev.positions(),
            "regions": {level: ev.regions(level) for level in rules.LEVELS}}


def _direct(start, end):
    """The figures straight from the CaseEvent table, for the period."""
    events = CaseEvent.objects.filter(at__gte=start, at__lt=end)
    return {
        "file": events.filter(action="file").count(),
        "closed_cases": events.filter(action="close").values("case_id").distinct().count(),
        "feed_back": events.filter(action="feed_back").count(),
        "dispatched": events.filter(action__in=("dispatch", "dispatch_second")).exclude(actor_person=None).count(),
        "reported": events.filter(action="report", case__source="inspector").count(),
    }


def _figures(t):
    """The evaluation's totals of the same figures as ``_direct``."""
    pos = t["positions"]
    return {
        "file": sum(r["filed"] for r in t["regions"]["district"]),
        "closed_cases": sum(r["closed"] for r in t["regions"]["district"]),
        "feed_back": sum(r["handled"] for r in t["units"]),
        "dispatched": sum(r["indicators"]["dispatched"] for r in pos if r["role"] == "dispatcher"),
        "reported": sum(r["indicators"]["reported"] for r in pos if r["role"] == "inspector"),
    }


def _inconsistencies(t):
    """What one evaluation says that cannot be true of any event log."""
    out = []

    def rate(where, key, value, upper=1):
        if value is not None and not (0 <= value <= upper):
            out.append(f"{where}: {key}={value}")

    for r in t["units"]:
        where = f"unit {r['unit_code']}"
        if not (r["closed"] <= r["due_closed"] and r["ontime_handled"] <= r["handled"] <= r["due_handled"]):
            out.append(f"{where}: {r}")
        if r["due_handled"] != r["handled"] + r["overdue_unhandled"]:
            out.append(f"{where}: due_handled {r}")
        for key in ("close_rate", "ontime_handle_rate"):
            rate(where, key, r[key])
        rate(where, "rework_rate", r["rework_rate"], upper=float("inf"))
    for level, rows in t["regions"].items():
        for r in rows:
            where = f"{level} {r['code']}"
            if not (r["ontime_closed"] <= r["closed"] <= r["due_closed"]):
                out.append(f"{where}: {r}")
            for key in ("close_rate", "ontime_close_rate"):
                rate(where, key, r[key])
            rate(where, "report_rate", r["report_rate"], upper=float("inf"))
    # Every case lies in one region of each level: the levels add up to the same totals.
    for key in ("filed", "closed", "due_closed", "ontime_closed"):
        sums = {level: sum(r[key] for r in rows) for level, rows in t["regions"].items()}
        if len(set(sums.values())) != 1:
            out.append(f"{key} differs between levels: {sums}")
    for r in t["positions"]:
        ind = r["indicators"]
        for num, den in (("valid_reported", "reported"), ("ontime_checked", "checked"), ("ontime_filed", "filed"),
                         ("ontime_closed", "closed"), ("ontime_dispatched", "dispatched"), ("ontime_sent_check", "sent_check")):
            if num in ind and not ind[num] <= ind[den]:
                out.append(f"{r['role']} {r['employee_no']}: {num} {ind[num]} > {den} {ind[den]}")
        for key, value in ind.items():
            if key.endswith("_rate"):
                rate(f"{r['role']} {r['employee_no']}", key, value)
    return out


def _monotone_counts(t):
    """Counts of events (or distinct cases with an event) in the period, by subject: appending events to
    the log can only raise them."""
    out = {}
    for r in t["units"]:
        for key in ("filed", "closed", "handled", "rework"):
            out["unit", r["unit_code"], key] = r[key]
    for level, rows in t["regions"].items():
        for r in rows:
            for key in ("filed", "closed", "ontime_closed", "verified_reports"):
                out[level, r["code"], key] = r[key]
    for r in t["positions"]:
        for key in ("reported", "valid_reported", "checked", "accepted", "sent_check", "filed", "closed", "dispatched"):
            if key in r["indicators"]:
                out[r["role"], r["person_id"], key] = r["indicators"][key]
    return out


def test_evaluation_while_transitions_run(city):
    from urbangrid.grids.models import UnitGrid

    points = _centres(UnitGrid.objects.filter(responsibility_grid__code="WG01").order_by("code")[:6])
    today = timezone.localdate()
    # A fixed window of whole days around now (yesterday to tomorrow), as the pages' periods are.
    start = periods.period_of("day", today - timedelta(days=1)).start
    end = periods.period_of("day", today + timedelta(days=1)).end
    writers, per_writer = 3, 25
    numbers, runs, reviews_built = [], [], []
    done = threading.Event()
    remaining = [writers]
    lock = threading.Lock()

    def writer(w):
        def run():
            try:
                for k in range(per_writer):
                    n = _drive(city, points[(w + k) % len(points)], PATHS[(w + k) % len(PATHS)])
                    with lock:
                        numbers.append(n)
            finally:
                with lock:
                    remaining[0] -= 1
                    if not remaining[0]:
                        done.set()
        return run

    def evaluator():
        scope = Reach(everything=True)
        i = 0
        while not done.is_set() or len(runs) < 3:
            before = _direct(start, end)
            tables = _tables(evaluate.evaluate(start, end))
            runs.append((before, tables, _direct(start, end)))
            if i % 4 == 0:  # what the review pages show, built from the same log
                for kind in ("daily", "monthly"):
                    p = periods.period_of(periodic.KINDS[kind][0], today)
                    reviews_built.append(periodic.build(kind, p, scope).as_dict())
            i += 1

    threads = Threads()
    for w in range(writers):
        threads.add(f"writer {w}", writer(w))
    threads.add("evaluator", evaluator)
    errors = threads.run()
    assert not errors, errors
    assert len(numbers) == len(set(numbers)) == writers * per_writer
    # A feedback names the unit that gave it: 部门评价 counts 处置数 and 结案数 by that unit.
    unitless = CaseEvent.objects.filter(action="feed_back", unit=None).count()
    assert not unitless, f"{unitless} feed_back events name no unit"

    previous = None
    for i, (before, tables, after) in enumerate(runs):
        assert not _inconsistencies(tables), (i, _inconsistencies(tables))
        # Every event committed before the evaluation started is in it; nothing not yet committed after it is.
        figures = _figures(tables)
        for key, value in figures.items():
            assert before[key] <= value <= after[key], (i, key, before, figures, after)
        counts = _monotone_counts(tables)
        if previous is not None:
            fell = {k: (previous[k], v) for k, v in counts.items() if k in previous and v < previous[k]}
            assert not fell, (i, fell)
            assert not set(previous) - set(counts), (i, set(previous) - set(counts))
        previous = counts
    assert reviews_built and all(r["sections"] for r in reviews_built)

    # The writers have stopped: the evaluation equals one computed from scratch from the raw events and
    # agrees with the event table.
    final = _tables(evaluate.evaluate(start, end))
    reference = rules.EventEvaluation  # the raw-event rules
    scratch = _tables(reference(start, end))
    assert final["units"] == scratch["units"]
    assert final["positions"] == scratch["positions"]
    for level in rules.LEVELS:
        assert final["regions"][level] == scratch["regions"][level], level
    direct = _direct(start, end)
    assert _figures(final) == direct
    assert direct["file"] > 0 and direct["closed_cases"] > 0
    events = CaseEvent.objects.filter(at__gte=start, at__lt=end)
    by_unit = dict(events.filter(action="feed_back").values_list("unit__code").annotate(n=Count("pk")))
    assert {r["unit_code"]: r["handled"] for r in final["units"] if r["handled"]} == by_unit
    by_district = dict(events.filter(action="file").values_list("case__district__code").annotate(n=Count("pk")))
    assert {r["code"]: r["filed"] for r in final["regions"]["district"] if r["filed"]} == by_district
    assert sum(r["rework"] for r in final["units"]) == events.filter(action="check_fail").count()
    # The daily review's totals are the day's events too.
    day = periods.period_of("day", today)
    daily = periodic.build("daily", day, Reach(everything=True))
    assert sum(r["reported"] for r in daily.section("by_grid").rows) == CaseEvent.objects.filter(
        action="report", at__gte=day.start, at__lt=day.end).count()
    for n in numbers:
        assert verify(Case.objects.get(number=n)) is None, n


# --- 2. imports while cases are created ---------------------------------------------------------------

EAST = 117.30  # east of the demo city (which ends at 117.2872): new unit grids go here, away from the old ones
SIZE = 0.002


def _batch(k):
    """Import k: a new community with a responsibility grid of four unit grids (2 × 2) east of the city."""
    community = f"34990200190{k}"
    lon0, lat0 = EAST + (k - 1) * 0.01, 31.86
    grids = {}
    for j, (dx, dy) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1)), start=1):
        x, y = lon0 + dx * SIZE, lat0 + dy * SIZE
        ring = [[round(x, 7), round(y, 7)], [round(x + SIZE, 7), round(y, 7)], [round(x + SIZE, 7), round(y + SIZE, 7)],
                [round(x, 7), round(y + SIZE, 7)], [round(x, 7), round(y, 7)]]
        grids[f"{community}{j:03d}"] = ring
    return community, f"WGX{k}", grids


def _grid_doc(k, updated):
    """The GeoJSON of import k: its new grids, plus new land-use values for ``updated`` existing grids."""
    community, rg, grids = _batch(k)
    features = [
        {"type": "Feature", "geometry": None, "properties": {"layer": "region", "code": community, "name": f"新区{k}社区",
                                                             "level": "community", "parent_code": "349902001"}},
        {"type": "Feature", "geometry": None, "properties": {"layer": "responsibility_grid", "code": rg, "name": f"新区{k}网格",
                                                             "region_code": community}},
    ]
    for code, ring in grids.items():
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"layer": "unit_grid", "code": code, "community_code": community,
                                        "responsibility_grid_code": rg, "management_level": 1, "land_use": ""}})
    for f in updated:
        features.append({**f, "properties": {**f["properties"], "land_use": f"第{k}次导入"}})
    return {"type": "FeatureCollection", "features": features}


def _centre_of_ring(ring):
    return (ring[0][0] + ring[2][0]) / 2, (ring[0][1] + ring[2][1]) / 2


def _sheet(src, dst, edit):
    """Copy an exported workbook with ``edit(row dict)`` applied to every data row (headers are the keys)."""
    wb = load_workbook(src)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    for cells in ws.iter_rows(min_row=2):
        row = {h: c.value for h, c in zip(header, cells)}
        edit(row)
        for h, c in zip(header, cells):
            c.value = row[h]
    wb.save(dst)
    return dst


def test_imports_while_cases_are_created(city, tmp_path):
    from urbangrid.assessment.deductions.rules import export_items
    from urbangrid.assessment.models import InspectionItem
    from urbangrid.catalog.excel import export_rules
    from urbangrid.catalog.models import ResponsibilityRule
    from urbangrid.grids.importer import export_geojson
    from urbangrid.grids.models import GridDataVersion, Region, ResponsibilityGrid, UnitGrid

    counts0 = (Region.objects.count(), ResponsibilityGrid.objects.count(), UnitGrid.objects.count())
    version0 = GridDataVersion.current()
    limits0 = dict(ResponsibilityRule.objects.values_list("pk", "time_limit_value"))
    standards0 = dict(InspectionItem.objects.values_list("code", "standard"))
    exported = {f["properties"]["code"]: f for f in export_geojson()["features"]}
    updated = [exported[c] for c in UnitGrid.objects.filter(responsibility_grid__code="WG02").order_by("code")
               .values_list("code", flat=True)[:5]]
    docs = {}
    for k in (1, 2, 3):
        docs[k] = tmp_path / f"grids{k}.geojson"
        docs[k].write_text(json.dumps(_grid_doc(k, updated), ensure_ascii=False), encoding="utf-8")
    # Refused: a grid of the new community laid over an old one, and a region that must not appear either.
    bad = _grid_doc(2, updated)
    old = exported["349902001001001"]
    bad["features"].append({"type": "Feature", "geometry": old["geometry"], "properties": {
        "layer": "unit_grid", "code": "349902001901099", "community_code": "349902001901", "responsibility_grid_code": "WGX1"}})
    bad["features"].append({"type": "Feature", "geometry": None, "properties": {
        "layer": "region", "code": "349902001999", "name": "不应出现", "level": "community", "parent_code": "349902001"}})
    docs["bad"] = tmp_path / "bad.geojson"
    docs["bad"].write_text(json.dumps(bad, ensure_ascii=False), encoding="utf-8")
    export_rules(tmp_path / "rules.xlsx")
    rules_new = _sheet(tmp_path / "rules.xlsx", tmp_path / "rules1.xlsx",
                       lambda r: r.update(time_limit_value=float(r["time_limit_value"]) + 1))

    def bad_rule(r):
        r["time_limit_value"] = float(r["time_limit_value"]) + 5
        if r["class_code"] == "0401":
            r["unit_code"] = "NO-SUCH-UNIT"
    rules_bad = _sheet(tmp_path / "rules1.xlsx", tmp_path / "rules_bad.xlsx", bad_rule)
    export_items(tmp_path / "items.xlsx")
    items_new = _sheet(tmp_path / "items.xlsx", tmp_path / "items1.xlsx",
                       lambda r: r.update(standard=f"{r['standard'] or ''}（修订）"))

    imported = {k: threading.Event() for k in (1, 2, 3)}
    rules_imported = threading.Event()
    importer_done = threading.Event()
    outcomes, created, refused, after_rules = [], [], [], []
    lock = threading.Lock()

    def cli(*args):
        out, err = io.StringIO(), io.StringIO()
        try:
            call_command(*args, stdout=out, stderr=err)
        except CommandError as exc:
            return "refused", f"{exc}\n{err.getvalue()}"
        return "ok", out.getvalue()

    def importer():
        try:
            steps = [("grids 1", ("grids", "import", str(docs[1])), 1),
                     ("rules", ("catalog", "rules-import", str(rules_new)), None),
                     ("grids 2", ("grids", "import", str(docs[2])), 2),
                     ("items", ("deductions", "items-import", str(items_new)), None),
                     ("bad grids", ("grids", "import", str(docs["bad"])), None),
                     ("bad rules", ("catalog", "rules-import", str(rules_bad)), None),
                     ("grids 3", ("grids", "import", str(docs[3])), 3)]
            for name, args, k in steps:
                outcomes.append((name, *cli(*args)))
                if k is not None:
                    imported[k].set()  # committed: a report from now on must land in the new grids
                if name == "rules":
                    rules_imported.set()  # committed: a dispatch from now on must take the new limits
        finally:
            importer_done.set()

    old_points = _centres(UnitGrid.objects.filter(responsibility_grid__code__in=("WG01", "WG40")).order_by("code")[:4])
    old_grids = [locator.locate(*p, with_road=False).unit_grid_code for p in old_points]
    new_points = {k: [(code, _centre_of_ring(ring)) for code, ring in _batch(k)[2].items()] for k in (1, 2, 3)}

    def writer(w):
        def report(point, batch, expect_code):
            known = batch is not None and imported[batch].is_set()
            try:
                case, _new = services.report(city["intake_operator"], catalog_class=city["class"], lon=point[0], lat=point[1],
                                             description="热线反映路面塌陷", source="hotline_12345", require_photos=False)
            except services.Invalid as exc:
                if batch is not None and not known and "location" in exc.fields:
                    with lock:  # outside the managed area until the import commits: expected
                        refused.append((batch, point))
                    return None
                raise
            with lock:
                created.append((case.number, batch, expect_code, known))
            return case

        def run():
            rounds, last = 0, False
            while not last:
                last = importer_done.is_set()  # one full round after the importer has finished
                for i, (point, code) in enumerate(zip(old_points, old_grids)):
                    case = report(point, None, code)
                    if (i + w + rounds) % 2 == 0:  # the responsibility list is read while it is re-imported
                        if rules_imported.is_set():
                            with lock:
                                after_rules.append(case.number)
                        services.transition(city["intake_operator"], case.number, "accept")
                        if services.transition(city["shift_lead"], case.number, "file").state == "pending_dispatch":
                            services.transition(city["dispatcher"], case.number, "dispatch", {"unit": city["unit"]})
                for k, grid_points in new_points.items():
                    code, point = grid_points[(w + rounds) % len(grid_points)]
                    report(point, k, code)
                rounds += 1
                if not last:
                    time.sleep(0.05)  # a bounded number of cases however long the imports take
        return run

    threads = Threads()
    threads.add("importer", importer)
    for w in range(3):
        threads.add(f"writer {w}", writer(w))
    errors = threads.run()
    assert not errors, errors

    # The imports: the good ones all went in, the bad ones were refused with their reasons and wrote nothing.
    results = {name: (status, text) for name, status, text in outcomes}
    assert [name for name, *_r in outcomes] == ["grids 1", "rules", "grids 2", "items", "bad grids", "bad rules", "grids 3"]
    for name in ("grids 1", "rules", "grids 2", "items", "grids 3"):
        assert results[name][0] == "ok", (name, results[name])
    assert results["bad grids"][0] == "refused" and "重叠" in results["bad grids"][1], results["bad grids"]
    assert results["bad rules"][0] == "refused" and "NO-SUCH-UNIT" in results["bad rules"][1], results["bad rules"]
    assert (Region.objects.count(), ResponsibilityGrid.objects.count(), UnitGrid.objects.count()) == (
        counts0[0] + 3, counts0[1] + 3, counts0[2] + 12)
    assert not Region.objects.filter(code="349902001999").exists()
    assert not UnitGrid.objects.filter(code="349902001901099").exists()
    assert GridDataVersion.current() == version0 + 3  # once per good grid import
    land_use = UnitGrid.objects.filter(code__in=[f["properties"]["code"] for f in updated]).values_list("land_use", flat=True)
    assert set(land_use) == {"第3次导入"}
    assert dict(ResponsibilityRule.objects.values_list("pk", "time_limit_value")) == {pk: v + 1 for pk, v in limits0.items()}
    assert dict(InspectionItem.objects.values_list("code", "standard")) == {c: f"{s}（修订）" for c, s in standards0.items()}

    # The cases: unique numbers, each stored once with an intact event chain, located in the new grids.
    numbers = [n for n, *_r in created]
    assert len(numbers) == len(set(numbers))
    stored = Counter(Case.objects.values_list("number", flat=True))
    assert stored == Counter(numbers)
    for case in Case.objects.all():
        assert verify(case) is None
        assert CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True)[0] == "report"
        assert CaseEvent.objects.filter(case=case).count() == case.version
    located = {c.number: (c.unit_grid.code, c.responsibility_grid.code, c.community.code) for c in Case.objects.select_related(
        "unit_grid", "responsibility_grid", "community")}
    for number, batch, code, known in created:
        if batch is None:  # the old grids kept their shapes: same grid as before the imports
            assert located[number][0] == code, (number, located[number])
        else:
            assert located[number] == (code, f"WGX{batch}", f"34990200190{batch}"), (number, batch, located[number])
    # A dispatch took the handling limit of its rule as it was before or after the re-import, never another.
    dispatched = Case.objects.exclude(rule=None).values_list("number", "rule_id", "handle_limit_value")
    assert dispatched
    for number, rule_id, value in dispatched:
        assert value in (limits0[rule_id], limits0[rule_id] + 1), (number, rule_id, value)
    late = [(n, r, v) for n, r, v in dispatched if n in set(after_rules)]
    assert late and all(v == limits0[r] + 1 for _n, r, v in late), [x for x in late if x[2] != limits0[x[1]] + 1]
    for k in (1, 2, 3):  # each import was followed by reports in its grids
        assert any(b == k and known for _n, b, _c, known in created), k


def test_grid_index_rebuilt_while_an_import_commits(settings):
    """A process rebuilds its grid index (a new grid data version) in the moment an import that adds a
    community commits: the index reads unit grids and regions in two statements, and must not find a
    grid whose community it did not read (once a KeyError, a failed report). The rebuild is held after
    its first statement until the import has committed."""
    from urbangrid.grids.importer import import_geojson
    from urbangrid.grids.models import Region, UnitGrid

    regions = [("349900", "city", None), ("349902", "district", "349900"), ("349902001", "street", "349902"),
               ("349902001001", "community", "349902001")]
    ring = [[117.23, 31.87], [117.232, 31.87], [117.232, 31.872], [117.23, 31.872], [117.23, 31.87]]
    import_geojson({"type": "FeatureCollection", "features": [
        *[{"type": "Feature", "geometry": None, "properties": {"layer": "region", "code": code, "name": code, "level": level,
                                                                "parent_code": parent}} for code, level, parent in regions],
        {"type": "Feature", "geometry": None, "properties": {"layer": "responsibility_grid", "code": "WG01", "name": "网格一",
                                                             "region_code": "349902001001"}},
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {
            "layer": "unit_grid", "code": "349902001001001", "community_code": "349902001001",
            "responsibility_grid_code": "WG01"}},
    ]})
    first_read, committed = threading.Event(), threading.Event()
    found = {}

    def hold_after_first_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not first_read.is_set() and any(t in sql for t in ('"grids_region"', '"grids_unitgrid"')):
            first_read.set()
            committed.wait(60)
        return result

    def rebuild():
        locator.invalidate()
        with connection.execute_wrapper(hold_after_first_read):
            found["old"] = locator.locate(117.231, 31.871, with_road=False).unit_grid_code
        found["new"] = locator.locate(*_centre_of_ring(_batch(1)[2]["349902001901001"]), with_road=False).unit_grid_code

    def import_():
        try:
            assert first_read.wait(60)
            import_geojson(_grid_doc(1, []))
        finally:
            committed.set()

    threads = Threads()
    threads.add("rebuild", rebuild)
    threads.add("import", import_)
    errors = threads.run()
    assert not errors, errors
    assert found == {"old": "349902001001001", "new": "349902001901001"}
    assert Region.objects.filter(code="349902001901").exists() and UnitGrid.objects.count() == 5
