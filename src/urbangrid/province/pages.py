"""省级平台的页面: the province's view of its cities — the dashboard (驾驶舱), the cities' evaluation and ranking
(城市综合评价排名, page, JSON and workbook) and the drill-down from a city to its case summaries and one
summary's steps. Read only, from the province's own tables; the Django permission ``province.view_provincecity``
opens them (anonymous: the login page; without it: 403)."""
import functools
import io
import re
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from urbangrid.cases.states import ArchiveType, Satisfaction, Source, Stage, State
from urbangrid.cases.workflow import TRANSITIONS
from urbangrid.core.excel import XLSX, excel_safe

from . import evaluation as ev
from . import overview
from .models import ProvinceCase, ProvinceCity
from .wire import parse_instant

PERM = "province.view_provincecity"
PER_PAGE = 50
COUNT_CAP = 10_000  # a list's total is counted up to here ("more than 10,000" needs no exact figure)
# The wire's vocabularies (docs/exchange.md §2) are the city workflow's: their labels come from there.
STATE_LABELS = dict(State.choices)
STAGE_LABELS = dict(Stage.choices)
ACTION_LABELS = {t.action: t.label for t in reversed(TRANSITIONS)}  # an action's first row names it
CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")


def province_page(view):
    """Pages: anonymous → the login page, without ``PERM`` → 403."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.has_perm(PERM):
            raise PermissionDenied(PERM)
        return view(request, *args, **kwargs)
    return never_cache(require_GET(wrapped))


def province_json(view):
    """JSON: anonymous → 401, without ``PERM`` → 403, both as JSON."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"detail": _("请先登录"), "code": "login_required"}, status=401)
        if not request.user.has_perm(PERM):
            return JsonResponse({"detail": _("无权执行此操作（需要权限 %(perm)s）") % {"perm": PERM},
                                 "code": "forbidden"}, status=403)
        return view(request, *args, **kwargs)
    return never_cache(require_GET(wrapped))


def _period(request):
    return ev.parse_period(request.GET.get("period") or None, request.GET.get("date") or None)


def _period_context(request, p):
    return {"p": p, "period": request.GET.get("period") or "month", "date": request.GET.get("date", ""),
            "kinds": [("month", _("月")), ("quarter", _("季")), ("year", _("年"))],
            "query": request.GET.urlencode()}


def _pct(rate):
    return "—" if rate is None else f"{rate * 100:.1f}%"


def _display(row, key, kind):
    value = row.get(key)
    if key == "grade" and not row.get("has_data"):
        return str(ev.NO_DATA)
    if value is None or value == "":
        return "—"
    if kind == "rate":
        return f"{value * 100:.2f}%"
    if kind == "score":
        return f"{value:.2f}"
    return value


def _cases_url(code, **params):
    url = reverse("province:cases", args=[code])
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(params)}" if params else url


# --- the dashboard ------------------------------------------------------------------------------------

@province_page
def index(request):
    """GET /province/: per city the period's figures, its trend, its place on the map and its sync lag."""
    try:
        p = _period(request)
    except ev.PeriodError as exc:
        return render(request, "province/index.html", {**_period_context(request, None), "error": str(exc)},
                      status=422)
    now = timezone.now()
    rows = {r["city_id"]: r for r in ev.evaluate(p, now)}
    sync = overview.sync_status(now)
    series = overview.trend(p, now)
    period_params = {"period": p.kind, "date": p.first_day.isoformat()}
    cities = []
    for pk, r in rows.items():
        s = sync.get(pk)
        if s is None:  # registered between the two reads: on the next page view
            continue
        cities.append({
            **r, "sync": s, "lag": overview.lag_text(s["lag_seconds"]),
            "build_lag": overview.lag_text(s["build_lag_seconds"]),
            "cells": {k: _pct(r[k]) for k in ("ontime_rate", "closure_rate", "rework_rate", "satisfaction_rate")},
            "urls": {"reported": _cases_url(r["code"], by="reported", **period_params),
                     "closed": _cases_url(r["code"], by="closed", **period_params),
                     "overdue": _cases_url(r["code"], overdue="1"), "all": _cases_url(r["code"])},
        })
    chart = {"days": series["days"], "labels": {"reported": _("上报数"), "closed": _("结案数"),
                                                "no_data": _("暂无数据")},
             "cities": [{"code": c["code"], "name": c["name"], **series["cities"].get(c["city_id"], {
                 "reported": [0] * len(series["days"]), "closed": [0] * len(series["days"])})} for c in cities]}
    points = [{"code": c["code"], "name": c["name"], "lon": c["sync"]["lon"], "lat": c["sync"]["lat"],
               "late": c["sync"]["late"], "grade": c["grade"], "color": c["color"], "reported": c["reported"],
               "closed": c["closed"], "overdue_open": c["overdue_open"], "ontime_rate": c["cells"]["ontime_rate"],
               "lag": c["lag"], "url": c["urls"]["all"]}
              for c in cities if c["sync"]["lon"] is not None and c["sync"]["lat"] is not None]
    map_labels = {"reported": _("上报数"), "closed": _("结案数"), "overdue_open": _("超期未结数"),
                  "ontime_rate": _("按期结案率"), "lag": _("同步延迟"), "grade": _("等级"), "cases": _("案件摘要")}
    return render(request, "province/index.html", {
        **_period_context(request, p), "cities": cities, "chart": chart, "points": points, "map_labels": map_labels,
        "threshold": overview.lag_text(int(overview.lag_threshold().total_seconds())), "now": now,
        "without_position": [c["name"] for c in cities if c["sync"]["lon"] is None or c["sync"]["lat"] is None],
    })


# --- the evaluation -------------------------------------------------------------------------------------

def _table(rows):
    cols = ev.columns()
    return {"headers": [label for _k, label, _kind in cols],
            "rows": [{"code": r["code"], "color": r["color"],
                      "cells": [(k, _display(r, k, kind)) for k, _l, kind in cols]} for r in rows]}


@province_page
def evaluation_page(request):
    """GET /province/evaluation/?period=month|quarter|year&date=YYYY-MM-DD: the cities ranked, with grades."""
    try:
        p = _period(request)
    except ev.PeriodError as exc:
        return render(request, "province/evaluation.html", {**_period_context(request, None), "error": str(exc),
                                                            "field_errors": exc.fields}, status=422)
    rows = ev.evaluate(p)
    return render(request, "province/evaluation.html", {
        **_period_context(request, p), "table": _table(rows), "rule": ev.rule_table(),
        "period_params": {"period": p.kind, "date": p.first_day.isoformat()},
    })


@province_json
def evaluation_json(request):
    """GET /province/evaluation.json: the same rows (rates as fractions), the rule, the period."""
    try:
        p = _period(request)
    except ev.PeriodError as exc:
        return JsonResponse({"detail": str(exc), "errors": exc.fields}, status=422,
                            json_dumps_params={"ensure_ascii": False})
    rows = ev.evaluate(p)
    return JsonResponse({"period": {"kind": p.kind, "label": p.short_label(), "first_day": p.first_day.isoformat(),
                                    "last_day": p.last_day.isoformat()},
                         "rule": ev.rule_table(), "cities": [ev.as_json(r) for r in rows]},
                        json_dumps_params={"ensure_ascii": False})


@province_page
def evaluation_xlsx(request):
    """GET /province/evaluation.xlsx: the table as a workbook (rates as fractions formatted as %)."""
    try:
        p = _period(request)
    except ev.PeriodError as exc:
        return HttpResponse(str(exc), status=422, content_type="text/plain; charset=utf-8")
    rows = ev.evaluate(p)
    cols = ev.columns()
    # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only this export needs it
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    ws = wb.active
    ws.title = str(_("城市综合评价"))[:31]
    ws.append([str(label) for _k, label, _kind in cols])
    for c in ws[1]:
        c.font = Font(bold=True)
    for r in rows:
        ws.append([excel_safe(str(ev.NO_DATA) if k == "grade" and not r["has_data"] else r.get(k))
                   for k, _l, _kind in cols])
    for i, (_k, _l, kind) in enumerate(cols, start=1):
        if kind == "rate":
            for cell in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell[0].number_format = "0.00%"
    buf = io.BytesIO()
    wb.save(buf)
    resp = HttpResponse(buf.getvalue(), content_type=XLSX)
    resp["Content-Disposition"] = f'attachment; filename="province-evaluation-{p.kind}-{p.short_label()}.xlsx"'
    return resp


# --- the drill-down ---------------------------------------------------------------------------------------

class CappedPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` + 1 rows, without the ordering: a big city's whole history is millions of
    summaries, and nobody pages past page 200 (filters narrow the list). ``capped``: the total is a lower bound."""

    capped = False

    @functools.cached_property
    def count(self):
        n = self.object_list.order_by()[:COUNT_CAP + 1].count()
        self.capped = n > COUNT_CAP
        return min(n, COUNT_CAP)


class CaseFilter(forms.Form):
    """The case summaries' filters (every one optional; ``by``: which time the period applies to)."""
    state = forms.ChoiceField(label=gettext_lazy("状态"), required=False)
    district = forms.RegexField(label=gettext_lazy("区"), regex=CODE, required=False, max_length=32)
    overdue = forms.BooleanField(label=gettext_lazy("当前超期"), required=False)
    period = forms.ChoiceField(label=gettext_lazy("统计周期"), required=False)
    date = forms.DateField(label=gettext_lazy("日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(label=gettext_lazy("期间按"), required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=100_000, widget=forms.HiddenInput)

    def __init__(self, *args, districts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("全部"))] + list(State.choices)
        self.fields["period"].choices = [("", _("全部")), ("month", _("月")), ("quarter", _("季")), ("year", _("年"))]
        self.fields["by"].choices = [("reported", _("上报时间")), ("filed", _("立案时间")), ("closed", _("结案时间"))]
        self.districts = districts

    def clean(self):
        data = super().clean()
        if data.get("date") and not data.get("period"):
            self.add_error("period", _("选择日期时请同时选择统计周期"))
        if data.get("date") and data.get("period"):
            try:
                ev.parse_period(data["period"], data["date"].isoformat())
            except ev.PeriodError as exc:
                for field, message in exc.fields.items():
                    self.add_error(field, message)
        return data


def filtered_cases(city, data, now):
    qs = ProvinceCase.objects.filter(city=city)
    if data.get("state"):
        qs = qs.filter(state=data["state"])
    if data.get("district"):
        qs = qs.filter(district=data["district"])
    if data.get("overdue"):
        qs = qs.filter(ev.overdue_now(now))
    if data.get("period"):
        p = ev.parse_period(data["period"], data["date"].isoformat() if data.get("date") else None)
        by = data.get("by") or "reported"
        qs = qs.filter(ev.in_period(f"{by}_at", p.start, p.end))
        if by == "closed":
            qs = qs.filter(state="closed")
    return qs


LIST_FIELDS = ("number", "class_code", "catalog_version", "kind", "source", "state", "archive_type", "district",
               "street", "reported_at", "closed_at", "handle_deadline", "self_handled", "is_supervised")


def city_districts(city_id):
    """The district codes of a city's summaries, in order, without NULL or "": one recursive query stepping
    through the (city, district) index from one code to the next (a step per district, where DISTINCT reads
    every summary of the city: hundreds of thousands a year)."""
    table = connection.ops.quote_name(ProvinceCase._meta.db_table)
    sql = (f"WITH RECURSIVE d(code) AS ("
           f"SELECT (SELECT MIN(district) FROM {table} WHERE city_id = %s AND district > '') "
           f"UNION ALL SELECT (SELECT MIN(district) FROM {table} WHERE city_id = %s AND district > d.code) "
           f"FROM d WHERE d.code IS NOT NULL) SELECT code FROM d WHERE code IS NOT NULL")
    with connection.cursor() as cursor:
        cursor.execute(sql, [city_id, city_id])
        return [row[0] for row in cursor.fetchall()]


@province_page
def cases(request, code):
    """GET /province/cities/<code>/cases/: the city's case summaries, newest report first, 50 a page."""
    city = get_object_or_404(ProvinceCity.objects.only("pk", "code", "name"), code=code)
    districts = city_districts(city.pk)
    form = CaseFilter(request.GET or None, districts=districts)
    now = timezone.now()
    status = 200
    if form.is_bound and not form.is_valid():
        qs, status = ProvinceCase.objects.none(), 422
    else:
        qs = filtered_cases(city, form.cleaned_data if form.is_bound else {}, now)
    page = CappedPaginator(qs.only(*LIST_FIELDS).order_by("-reported_at", "-pk"), PER_PAGE).get_page(
        form.cleaned_data.get("page") if form.is_bound and form.is_valid() else 1)
    rows = [{"c": c, "state": STATE_LABELS.get(c.state, c.state),
             "archive": dict(ArchiveType.choices).get(c.archive_type, c.archive_type),
             "source": dict(Source.choices).get(c.source, c.source),
             "overdue": c.state in ev.HANDLING_STATES and c.handle_deadline is not None and c.handle_deadline < now}
            for c in page]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "province/cases.html", {
        "city": city, "form": form, "page": page, "rows": rows, "query": query.urlencode(), "districts": districts,
    }, status=status)


@province_page
def case(request, code, number):
    """GET /province/cities/<code>/cases/<number>/: one summary and its steps (no free text: the wire has none)."""
    city = get_object_or_404(ProvinceCity.objects.only("pk", "code", "name"), code=code)
    c = ProvinceCase.objects.filter(city=city, number=number).first()
    if c is None:
        raise Http404(number)
    steps = []
    for event, seq, action, frm, to, at, stage, deadline, unit in c.steps:
        at_t, deadline_t = _instant(at), _instant(deadline)
        steps.append({"event": event, "seq": seq, "action": ACTION_LABELS.get(action, action), "code": action,
                      "from": STATE_LABELS.get(frm, frm), "to": STATE_LABELS.get(to, to), "at": at_t,
                      "stage": STAGE_LABELS.get(stage, stage), "deadline": deadline_t, "unit": unit or ""})
    now = timezone.now()
    return render(request, "province/case.html", {
        "city": city, "c": c, "steps": steps, "state": STATE_LABELS.get(c.state, c.state),
        "archive": dict(ArchiveType.choices).get(c.archive_type, c.archive_type),
        "satisfaction": dict(Satisfaction.choices).get(c.satisfaction, c.satisfaction),
        "source": dict(Source.choices).get(c.source, c.source),
        "overdue": c.state in ev.HANDLING_STATES and c.handle_deadline is not None and c.handle_deadline < now,
        "counts": [(label, c.counts.get(key, 0)) for key, label in (
            ("rework", _("返工")), ("return", _("回退")), ("extension", _("延期")), ("suspension", _("挂账")),
            ("supervision", _("督办")), ("reopen", _("重新派遣")))],
    })


def _instant(text):
    try:
        return parse_instant(text)
    except (TypeError, ValueError):
        return None
