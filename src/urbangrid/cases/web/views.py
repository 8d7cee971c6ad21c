"""Server-rendered web UI of the case loop: the case page with its actions, and the workbenches.

Views only read through ``services``/``queries`` and change cases through ``services.transition``;
which actions a person sees comes from ``services.available_actions`` (the workflow table).
"""
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from urbangrid.catalog.models import Component
from urbangrid.core.tenancy import setting as city_setting
from urbangrid.grids.models import Region, ResponsibilityGrid
from urbangrid.org.access import actor_of
from urbangrid.org.models import Unit
from urbangrid.org.roles import Role
from urbangrid.worktime.models import TimeUnit

from .. import duplicates, engine, indicators, intake, listing, next_step
from .. import observed as observed_times
from .. import queries, services
from ..api import PLACE_REFS, detail_out, with_refs
from ..models import Case, CaseEvent
from ..states import IN_HANDLING, OPEN, Satisfaction, Source, State
from ..workflow import PUBLIC_NOTE, TABLE, Action, takes_public_note
from .forms import FilterForm

PER_PAGE = 50
COUNT_CAP = 10_000  # a list's total is counted up to here: "more than 10,000" needs no exact figure


class CappedPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` + 1 rows, without the list's ordering: COUNT(*) of a city's whole history
    (3 million cases a year) reads every row on each page view, and nobody pages past page 200 anyway
    (filters narrow the list). ``capped`` says the total shown is a lower bound."""

    capped = False

    @cached_property
    def count(self):
        n = self.object_list.order_by()[:COUNT_CAP + 1].count()
        self.capped = n > COUNT_CAP
        return min(n, COUNT_CAP)
# What a workbench row shows (joining the case's other relations too made PostgreSQL spend longer planning
# and hashing those joins than fetching the page).
BENCH_RELATED = ("catalog_class", "responsibility_grid", "current_unit", "current_person")
APPROVALS = [State.RETURN_REQUESTED, State.EXTENSION_REQUESTED, State.SUSPENSION_REQUESTED]


# --- workbenches --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bench:
    name: str  # URL name in the "work" namespace
    title: str
    allowed: object  # actor -> bool
    states: tuple  # the states this bench lists (also the state filter's choices); () = any
    todo: bool = True  # rows come from queries.todo (what waits for me) rather than all visible cases


BENCHES = {
    "centre": Bench("centre", gettext_lazy("监督中心工作台"),
                    lambda a: a.city_wide and (a.can("case.accept") or a.can("case.file")),
                    (State.UNLOCATED, State.REPORTED, State.PENDING_FILING, State.FED_BACK, State.PENDING_CLOSE, State.CLOSED)),
    "command": Bench("command", gettext_lazy("指挥中心派遣台"), lambda a: a.can("case.dispatch"),
                     (State.PENDING_DISPATCH, *APPROVALS)),
    "district": Bench("district", gettext_lazy("区级二级派遣台"), lambda a: a.can("case.dispatch_second"),
                      (State.PENDING_DISTRICT_DISPATCH, *APPROVALS)),
    "unit": Bench("unit", gettext_lazy("处置单位工作台"), lambda a: a.can("case.handle"), tuple(IN_HANDLING), todo=False),
    "list": Bench("list", gettext_lazy("案件查询"), lambda a: a.can("case.view") or a.can("case.view_all"), (), todo=False),
}


def _benches_for(actor):
    """The workbench links this actor may open (the page's navigation)."""
    return [{"url": reverse(f"work:{b.name}"), "title": b.title, "name": b.name} for b in BENCHES.values() if b.allowed(actor)]


def _bench_rows(actor, bench, tab):
    if bench.name == "command" and tab == "supervised":
        return services.visible_cases(actor).filter(is_supervised=True, state__in=OPEN)
    if bench.name == "unit":
        return services.visible_cases(actor).filter(current_unit_id__in=actor.unit_ids, state__in=bench.states)
    qs = queries.todo(actor) if bench.todo else services.visible_cases(actor)
    return qs.filter(state__in=bench.states) if bench.states else qs


def _filtered(qs, form, queue=False):
    """The filter form applied to ``qs`` and sorted (cases/listing.py: the same filter as the API's lists)."""
    f = listing.CaseFilter.from_data(form.cleaned_data)
    return listing.ordered(listing.narrow(qs, f), f.sort, queue=queue)


def _mine_first(qs, actor):
    """The unit bench lists the cases handed to me (current person) before the rest of the unit's."""
    if actor.person is None:
        return qs
    mine = CaseWhen(When(current_person_id=actor.person.pk, then=Value(0)), default=Value(1), output_field=IntegerField())
    return qs.annotate(mine=mine).order_by("mine", *qs.query.order_by)


def _suggestions(cases):
    """Dispatch suggestions for the rows, one resolution per (class, grid, community): the responsibility
    list answers the same for the same class at the same place, so a page of N cases costs a few look-ups."""
    memo, out = {}, {}
    for case in cases:
        key = (case.catalog_class_id, case.responsibility_grid_id, case.community_id)
        if key not in memo:
            memo[key] = services.dispatch_suggestion(case)
            memo[key]["target"] = _dispatch_target(memo[key])
        out[case.pk] = memo[key]
    return out


def _bench(request, name):
    actor = actor_of(request)
    bench = BENCHES[name]
    if not bench.allowed(actor):
        raise PermissionDenied(name)
    tab = request.GET.get("tab", "todo") if name in ("command", "unit") else "todo"
    form = FilterForm(request.GET or None, states=bench.states, full=(name == "list"))
    form.is_valid()  # invalid filters are shown next to their field and ignored
    if not form.is_bound:
        form.cleaned_data = {}
    base = _bench_rows(actor, bench, tab)
    qs = _filtered(base, form, queue=bench.todo and tab == "todo")
    if name == "unit":
        qs = _mine_first(qs, actor)
        if tab == "mine":
            qs = qs.filter(current_person=actor.person) if actor.person else qs.none()
    # Sort and cut the page on the case table alone, then load that page's rows with their relations:
    # joining first would join every matching case before the sort (30k cases: 180 ms instead of 17 ms).
    page = CappedPaginator(qs.values_list("pk", flat=True), PER_PAGE).get_page(request.GET.get("page"))
    pks = list(page.object_list)
    loaded = qs.model.objects.select_related(*BENCH_RELATED).in_bulk(pks)
    now = timezone.now()
    ctx = services.Context.load()
    rows = [{"case": loaded[pk], "light": engine.light(loaded[pk], now),
             "unconfirmed": services.deadline_unconfirmed(loaded[pk], ctx.calendar, ctx.limits)} for pk in pks]
    if name == "command" and tab == "todo":
        sugg = _suggestions([r["case"] for r in rows if r["case"].state == State.PENDING_DISPATCH])
        for r in rows:
            r["suggestion"] = sugg.get(r["case"].pk)
    if name == "centre" and actor.can("case.merge"):
        dups = duplicates.similar_open_for_page([r["case"] for r in rows])
        for r in rows:
            r["duplicates"] = dups.get(r["case"].pk, [])
    unfiltered = listing.CaseFilter.from_data(form.cleaned_data).is_empty()
    if bench.todo and tab == "todo" and unfiltered:  # the list is exactly what waits: count it once
        waiting = page.paginator.count
    else:
        waiting = (queries.todo(actor).filter(state__in=bench.states) if bench.states else queries.todo(actor)).count()
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("sort", None)
    sort = form.cleaned_data.get("sort") or "deadline"
    context = {
        "bench": bench, "tab": tab, "form": form, "page": page, "rows": rows, "waiting": waiting, "total": page.paginator.count,
        "total_capped": page.paginator.capped,
        "query": params.urlencode(), "sort": sort, "next_sort": "deadline" if sort == "-deadline" else "-deadline",
        "next_reported_sort": "-reported" if sort == "reported" else "reported",
        "mine": actor.person.pk if actor.person else None,
        "benches": _benches_for(actor), "here": request.get_full_path(),
        "indicator": indicators.get(form.cleaned_data.get("kpi") or ""),
        "indicator_from": form.cleaned_data.get("date_from"), "indicator_to": form.cleaned_data.get("date_to"),
    }
    template = "cases/_bench_table.html" if request.headers.get("HX-Request") else "cases/bench.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])  # the same URL answers a page or its table
    return response


@login_required
def centre(request):
    return _bench(request, "centre")


@login_required
def command(request):
    return _bench(request, "command")


@login_required
def district(request):
    return _bench(request, "district")


@login_required
def unit(request):
    return _bench(request, "unit")


@login_required
def case_list(request):
    return _bench(request, "list")


# --- the case page ------------------------------------------------------------------------------

FIELD_LABELS = {
    "unit": gettext_lazy("处置单位"), "district": gettext_lazy("或派往区级指挥分中心"), "extra_value": gettext_lazy("延期时长"),
    "extra_unit": gettext_lazy("时长单位"), "satisfaction": gettext_lazy("满意度"), "master": gettext_lazy("主案件编号"),
    "confirmed": gettext_lazy("核实结果"), "reason": gettext_lazy("原因"), "opinion": gettext_lazy("意见"),
    "photos": gettext_lazy("照片"), "person": gettext_lazy("处置人员"),
    "point": gettext_lazy("位置（经度,纬度）"), "candidate": gettext_lazy("所选候选地址"),
    PUBLIC_NOTE: gettext_lazy("公开答复（市民可见）"),
}


def _field_names(t):
    """The inputs a table row asks for, in form order."""
    names = []
    if "unit_or_district" in t.requires:
        names += ["unit", "district"]
    if "unit" in t.requires:
        names.append("unit")
    if "point" in t.requires:  # 定位: a candidate clicked fills both; a point clicked on the map only the first
        names += ["point", "candidate"]
    if "extra_time" in t.requires or t.clock == "extend":
        names += ["extra_value", "extra_unit"]
    for name in ("satisfaction", "master", "person"):
        if name in t.requires:
            names.append(name)
    if t.action == Action.VERIFY:
        names.append("confirmed")
    names.append("reason" if "reason" in t.requires else "opinion")
    if takes_public_note(t):  # the internal note above; the answer the citizen and Open311 see here
        names.append(PUBLIC_NOTE)
    if t.photos:
        names.append("photos")
    return names


def _choices(name, t, case):
    if name == "unit":
        units = Unit.objects.filter(active=True).order_by("code")
        if t.action == Action.DISPATCH_SECOND:
            d = case.district_centre_id
            units = units.filter(Q(region_id=d) | Q(region__parent_id=d) | Q(region__parent__parent_id=d))
        return [("", _("（请选择）"))] + [(u.code, f"{u.code} {u.name}") for u in units.only("code", "name")]
    if name == "district":
        return [("", _("（不派往区级）"))] + [(r.code, f"{r.code} {r.name}") for r in
                                          Region.objects.filter(level=Region.Level.DISTRICT).order_by("code")]
    if name == "extra_unit":
        return [(TimeUnit.WORKING_DAYS.value, TimeUnit.WORKING_DAYS.label), (TimeUnit.WORKING_HOURS.value, TimeUnit.WORKING_HOURS.label),
                (TimeUnit.CALENDAR_HOURS.value, _("自然时"))]
    if name == "satisfaction":
        return [("", _("（请选择）"))] + list(Satisfaction.choices)
    if name == "person" and case.current_unit_id:
        return [("", _("（请选择）"))] + [(p.employee_no, f"{p.name}（{p.employee_no}）")
                                      for p in services.unit_handlers(case.current_unit_id).only("name", "employee_no")]
    if name == "confirmed":
        return [("true", _("属实")), ("false", _("不属实"))]
    return None


def _dispatch_target(suggestion):
    """The dispatch input the suggestion fills: ("unit", code), or ("district", code) for a district-level unit."""
    unit = suggestion.get("unit") if suggestion else None
    if unit is None:
        return None
    if suggestion.get("district_level") and unit.region_id:
        region = unit.region if unit.region.level == Region.Level.DISTRICT else unit.region.parent
        return "district", region.code
    return "unit", unit.code


def _initial(name, t, suggestion):
    target = _dispatch_target(suggestion) if t.action == Action.DISPATCH else None
    return target[1] if target and target[0] == name else ""


def _required(name, t):
    return (name in t.requires or (name == "extra_value" and "extra_time" in t.requires)
            or (name == "photos" and bool(t.photos)))


def _action_forms(actor, case, failed=None, posted=None, errors=None):
    """One form per action the viewer may take now; the failed one keeps what the user typed."""
    forms, suggestion = [], None
    for t in services.available_actions(actor, case):
        if t.action == Action.DISPATCH and suggestion is None:
            suggestion = services.dispatch_suggestion(case)
        mine = t.action == failed
        fields = []
        for name in _field_names(t):
            value = (posted.get(name, "") if mine else _initial(name, t, suggestion)) if name != "photos" else ""
            fields.append({"name": name, "id": f"{t.action}-{name}", "label": FIELD_LABELS[name], "value": value,
                           "required": _required(name, t), "error": (errors or {}).get(name, "") if mine else "",
                           "choices": _choices(name, t, case),
                           "textarea": name in ("opinion", "reason", PUBLIC_NOTE)})
        forms.append({"t": t, "fields": fields, "suggestion": suggestion if t.action == Action.DISPATCH else None,
                      "url": reverse("work:act", args=[case.number, t.action]), "multipart": bool(t.photos)})
    # The viewer's most likely next step first (the failed one when re-shown with its errors); the page opens
    # only that one and collapses the rest. Order only: the same forms, the same permissions.
    rank = {a: i for i, a in enumerate(next_step.order(case.state, [f["t"].action for f in forms], failed))}
    forms.sort(key=lambda f: rank[f["t"].action])
    return forms


def _label(enum, value):
    try:
        return enum(value).label
    except ValueError:
        return value


def _report_times(events):
    """The observed and received times the report event keeps (a report sent with its observation time), or None."""
    first = events[0] if events else None
    data = (first or {}).get("data") or {}
    if first is None or first["action"] != Action.REPORT or not data.get("observed_at"):
        return None
    try:
        return {"observed": datetime.fromisoformat(data["observed_at"]), "received": datetime.fromisoformat(data["received_at"]),
                "note": observed_times.explain(data.get("observed_ignored"))}
    except (KeyError, TypeError, ValueError):
        return None


def _case_context(actor, case, **form_state):
    # Joined: the small rows the page reads whole; the codes, numbers and place names come as scalar subqueries
    # (REFS): a join of all fourteen tables cost PostgreSQL's planner 25-45 ms per page (41 indexes on each of
    # the three case tables), against ~1 ms for five tables and the subqueries.
    case = with_refs(Case.objects.select_related("catalog_class__version", "current_unit", "current_person")).annotate(
        **PLACE_REFS).get(pk=case.pk)
    detail = detail_out(actor, case)
    forms = _action_forms(actor, case, **form_state)
    for e in detail["events"]:
        e["from_label"] = _label(State, e["from_state"]) if e["from_state"] else ""
        e["to_label"] = _label(State, e["to_state"])
        e["role_label"] = _label(Role, e["role"]) if e["role"] else ""
    locating = _locating(case) if any(f["t"].action == Action.LOCATE for f in forms) else None
    return {
        "case": case, "light": detail["light"], "events": detail["events"], "locating": locating,
        "deadline_unconfirmed": detail["deadline_unconfirmed"],
        "photos": {kind: [p for p in detail["photos"] if p["kind"] == kind] for kind in ("before", "after")},
        "forms": forms, "benches": _benches_for(actor),
        "duplicates": duplicates.similar_open_for_page([case], limit=10).get(case.pk, []) if any(f["t"].action == Action.MERGE for f in forms) else [],
        "source_label": _label(Source, case.source), "report_times": _report_times(detail["events"]),
        "due_overdue": case.due_overdue(), "province_task": intake.province_task_of(case.external_ref),
        "component": Component.objects.filter(identifier=case.component_identifier).select_related("catalog_class").first()
        if case.component_identifier else None,
        "ended_states": [str(s) for s in State if s not in OPEN],
        "tile_url": city_setting("URBANGRID_TILE_URL"), "tile_attribution": city_setting("URBANGRID_TILE_ATTRIBUTION"),
    }


def _locating(case):
    """What the 定位 form shows of a 待定位 case: the gazetteer's ranked candidates for its address now (those
    recorded at the report when the gazetteer has none), and a point to centre the map on."""

    try:
        found = [c.as_dict() for c in services.address_candidates(case.address)] if case.address.strip() else []
    except ValueError:
        found = []
    if not found:
        report = CaseEvent.objects.filter(case=case, seq=1).values_list("data", flat=True).first() or {}
        found = [c for c in report.get("candidates") or () if isinstance(c, dict) and "lon" in c]
    for i, c in enumerate(found, 1):
        c["rank"], c["point"] = i, f"{c['lon']:.7f},{c['lat']:.7f}"
        c["precision_label"] = PRECISIONS.get(c.get("precision"), c.get("precision", ""))
    centre = (found[0]["lon"], found[0]["lat"]) if found else None
    if centre is None:  # somewhere in the city: a responsibility grid's inner point

        grid = ResponsibilityGrid.objects.exclude(geometry=None).order_by("code").first()
        if grid is not None:
            p = grid.shape.representative_point()
            centre = (p.x, p.y)
    return {"candidates": found, "centre": centre}


PRECISIONS = {"doorplate": gettext_lazy("门牌"), "landmark": gettext_lazy("标志物"), "intersection": gettext_lazy("路口"),
              "road": gettext_lazy("道路"), "community": gettext_lazy("社区")}


def _visible_or_404(actor, number):
    try:
        return services.get_visible(actor, number)
    except services.NotFound:
        raise Http404(number) from None


@login_required
def case_page(request, number):
    actor = actor_of(request)
    case = _visible_or_404(actor, number)
    return render(request, "cases/case.html", _case_context(actor, case))


@login_required
@require_POST
def act(request, number, action):
    """Take one action (PRG): redirect back with a message, or re-render the page with the errors and the input kept."""
    actor = actor_of(request)
    case = _visible_or_404(actor, number)
    t = TABLE.get(action)
    if t is None or action == Action.REPORT:
        raise Http404(action)
    inputs = {k: v for k, v in request.POST.items() if k not in ("csrfmiddlewaretoken", "expected_version", "next")}
    version = request.POST.get("expected_version") or None
    try:
        services.transition(actor, number, action, inputs, photos=request.FILES.getlist("photos"),
                            expected_version=int(version) if version and version.isdigit() else None)
    except services.NotFound:
        raise Http404(number) from None
    except services.CaseError as exc:
        case.refresh_from_db()
        context = _case_context(actor, case, failed=action, posted=request.POST, errors=exc.fields)
        message = exc.message
        if exc.fields:  # name the fields as the form labels them, not by their input names
            message = _("请检查标出的输入项：%(f)s") % {"f": "、".join(str(FIELD_LABELS.get(k, k)) for k in exc.fields)}
        context.update({"error": message, "error_action": t.label})
        return render(request, "cases/case.html", context, status=exc.status)
    messages.success(request, _("已完成“%(a)s”：案件 %(n)s") % {"a": t.label, "n": number})
    target = request.POST.get("next")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return redirect(target)
    return redirect("work:case", number=number)
