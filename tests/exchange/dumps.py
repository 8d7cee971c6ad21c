"""What each side holds, in one shape, for comparison: every case with its state, class, grids and regions,
step times and steps; every day's tally (row counts and sums); the grid version. ``city_dump`` reads the
city's own tables (cases, events, tallies), ``province_dump`` the province's copy; both run in the test process
or through ``urbangrid shell`` in a node's process (``shell_dump``)."""
import json
import subprocess
from datetime import timezone as dt_timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMES = ("reported_at", "filed_at", "dispatched_at", "fed_back_at", "closed_at", "handle_deadline", "updated_at")


def _iso(value):
    return value.astimezone(dt_timezone.utc).isoformat(timespec="microseconds") if value else None


def _per_day(rows, counts, prefix, rows_name):
    """Rows per day and the sums of ``counts`` per day, in one grouped query: a function of the day (zeros for a
    day without rows, as an aggregate over no rows gives)."""
    from django.db.models import Count, Sum

    got = {r.pop("day"): r for r in rows.order_by().values("day").annotate(
        **{rows_name: Count("pk")}, **{prefix + n: Sum(n) for n in counts})}
    empty = {rows_name: 0, **{prefix + n: 0 for n in counts}}
    return lambda day: {k: v or 0 for k, v in got.get(day, empty).items()}


def city_dump():
    from urbangrid.assessment.models import REGION_DAY_COUNTS, UNIT_DAY_COUNTS, RegionDay, TallyDay, UnitDay
    from urbangrid.cases.models import Case, CaseEvent
    from urbangrid.grids.models import GridDataVersion

    cases = {}
    for c in Case.objects.select_related("unit_grid", "responsibility_grid", "community", "street", "district",
                                         "current_unit"):
        cases[c.number] = {
            "state": c.state, "version": c.version, "source": c.source, "class_code": c.class_code,
            "catalog_version": c.catalog_version, "kind": c.kind, "archive_type": c.archive_type,
            "unit_grid": c.unit_grid.code if c.unit_grid else None,
            "responsibility_grid": c.responsibility_grid.code if c.responsibility_grid else None,
            "community": c.community.code if c.community else None, "street": c.street.code if c.street else None,
            "district": c.district.code if c.district else None,
            "current_unit": c.current_unit.code if c.current_unit else None,
            "reported_at": _iso(c.created_at), "filed_at": _iso(c.filed_at), "dispatched_at": _iso(c.dispatched_at),
            "fed_back_at": _iso(c.fed_back_at), "closed_at": _iso(c.closed_at),
            "handle_deadline": _iso(c.handle_deadline), "updated_at": _iso(c.updated_at),
            "rework": c.rework_count, "steps": []}
    numbers = dict(Case.objects.values_list("pk", "number"))
    for e in CaseEvent.objects.select_related("unit").order_by("pk"):
        cases[numbers[e.case_id]]["steps"].append(
            [e.pk, e.seq, e.action, e.from_state, e.to_state, _iso(e.at), e.stage, _iso(e.deadline),
             e.unit.code if e.unit else None])
    regions = _per_day(RegionDay.objects.all(), REGION_DAY_COUNTS, "", "region_rows")
    units = _per_day(UnitDay.objects.all(), UNIT_DAY_COUNTS, "u_", "unit_rows")
    tallies = {td.day.isoformat(): {"computed_at": _iso(td.computed_at), "events": td.events,
                                    **regions(td.day), **units(td.day)}
               for td in TallyDay.objects.filter(dirty=False)}
    return {"cases": cases, "tallies": tallies, "grid_version": GridDataVersion.current(),
            "events": CaseEvent.objects.count()}


def province_dump(city_code):
    from urbangrid.province.models import (ProvinceBatch, ProvinceCase, ProvinceCity, ProvinceRegionDay,
                                           ProvinceTallyDay, ProvinceUnitDay, Rejection)
    from urbangrid.province.wire import REGION_COUNTS, UNIT_COUNTS

    city = ProvinceCity.objects.get(code=city_code)
    cases = {}
    for c in ProvinceCase.objects.filter(city=city):
        cases[c.number] = {
            "state": c.state, "version": c.version, "source": c.source, "class_code": c.class_code,
            "catalog_version": c.catalog_version, "kind": c.kind, "archive_type": c.archive_type,
            "unit_grid": c.unit_grid, "responsibility_grid": c.responsibility_grid, "community": c.community,
            "street": c.street, "district": c.district, "current_unit": c.current_unit,
            **{t: _iso(getattr(c, t)) for t in TIMES}, "rework": c.counts.get("rework"), "steps": c.steps}
    regions = _per_day(ProvinceRegionDay.objects.filter(city=city), REGION_COUNTS, "", "region_rows")
    units = _per_day(ProvinceUnitDay.objects.filter(city=city), UNIT_COUNTS, "u_", "unit_rows")
    tallies = {td.day.isoformat(): {"computed_at": _iso(td.computed_at), "events": td.events,
                                    **regions(td.day), **units(td.day)}
               for td in ProvinceTallyDay.objects.filter(city=city)}
    batches = list(ProvinceBatch.objects.filter(city=city).order_by("sequence").values_list(
        "sequence", "cursor_from", "cursor_to", "digest"))
    return {"cases": cases, "tallies": tallies, "grid_version": city.grid_version,
            "events": city.events_received, "last_sequence": city.last_sequence,
            "last_received_at": _iso(city.last_received_at), "last_cursor": city.last_cursor,
            "batches": batches,
            "rejections": list(Rejection.objects.order_by("pk").values_list("reason", "status", "sequence"))}


def shell_dump(bin_dir, env, call):
    """Run ``call`` (e.g. ``"province_dump('340100')"``) in a node's own process; its JSON answer."""
    script = (f"import json, sys\nsys.path.insert(0, {str(HERE)!r})\nfrom dumps import city_dump, province_dump\n"
              f"print('JSON' + json.dumps({call}, ensure_ascii=False, default=str))\n")
    out = subprocess.run([str(Path(bin_dir) / "urbangrid"), "shell", "-c", script], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.split("JSON", 1)[1])


def same_cases(city, province):
    """The cases the two sides disagree on (every field, every step), at most ten, for the assertion message."""
    out = []
    for number in sorted(set(city) | set(province)):
        a, b = city.get(number), province.get(number)
        if a is None or b is None:
            out.append((number, "only at the city" if b is None else "only at the province"))
        else:
            diff = {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
            if diff:
                out.append((number, diff))
        if len(out) >= 10:
            break
    return out


def assert_same(city, province):
    assert city["cases"], "no cases: nothing was compared"
    assert same_cases(city["cases"], province["cases"]) == []
    assert city["tallies"] == province["tallies"]
    assert city["grid_version"] == province["grid_version"]
    assert city["events"] == province["events"]
    batches = province["batches"]
    assert [b[0] for b in batches] == list(range(1, len(batches) + 1)), "batches applied out of order"
    assert all(a[2] == b[1] for a, b in zip(batches, batches[1:])), "the cursor ranges do not chain"
