"""监督检查 (downward): the province's tasks for its cities (省级交办任务: 统筹布置、按责转办、重点督办、限时反馈).

A province user assigns a city a task (``TaskForm``, from the page or the JSON API); the city fetches its new
tasks with a signed request (``fetch``: the tasks after its cursor, the answer signed with the city's key) and
makes each one a case of source 上级交办, keyed by the task's id, so a task fetched twice is one case. The city's
batches then carry, in that case's summary, ``province_task``: ``follow_cases`` moves the task's state and times
with the case (received, in progress, fed back, closed; declined when the city did not file it). A task past its
deadline and not closed is overdue (red on the task list).
"""
import math
import re

from django import forms
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import wire
from .models import ProvinceCity, ProvinceTask

CLASS_CODE = re.compile(r"^[0-9A-Za-z._-]{1,40}$")
GRID_CODE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")

# The city's case state → the task's state (docs/exchange.md §8).
RECEIVED = ("unlocated", "reported", "verifying", "pending_filing")
IN_PROGRESS = ("pending_dispatch", "pending_district_dispatch", "handling", "return_requested", "extension_requested",
               "suspension_requested", "suspended")
FED_BACK = ("fed_back", "checking", "pending_close")
DECLINED = ("not_filed", "voided", "merged")


def state_of(case_state):
    S = ProvinceTask.State
    if case_state == "closed":
        return S.CLOSED
    for states, task_state in ((RECEIVED, S.RECEIVED), (IN_PROGRESS, S.IN_PROGRESS), (FED_BACK, S.FED_BACK),
                               (DECLINED, S.DECLINED)):
        if case_state in states:
            return task_state
    return S.RECEIVED  # a state this province does not know yet: the city has the task, at least


# --- creating a task (the page and the JSON API) ---------------------------------------------------------

class TaskForm(forms.Form):
    """A new task: the city, its kind, title and content, where (a point, an address or a unit grid; all
    optional: the city places it), the class it concerns (optional) and the deadline (in the future)."""

    city = forms.ModelChoiceField(ProvinceCity.objects.order_by("code"), to_field_name="code",
                                  label=gettext_lazy("城市"), error_messages={"invalid_choice": gettext_lazy("未登记的城市")})
    kind = forms.ChoiceField(choices=ProvinceTask.Kind.choices, label=gettext_lazy("任务类型"))
    title = forms.CharField(max_length=100, label=gettext_lazy("标题"))
    description = forms.CharField(max_length=4000, widget=forms.Textarea(attrs={"rows": 5}),
                                  label=gettext_lazy("任务内容"))
    # ISO 8601 (the JSON API, with or without an offset) or the browser's datetime-local; no offset: local time
    deadline = forms.DateTimeField(label=gettext_lazy("办理时限"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    address = forms.CharField(max_length=200, required=False, label=gettext_lazy("地点"))
    lon = forms.FloatField(required=False, min_value=-180, max_value=180, label=gettext_lazy("经度"))
    lat = forms.FloatField(required=False, min_value=-90, max_value=90, label=gettext_lazy("纬度"))
    class_code = forms.CharField(max_length=40, required=False, label=gettext_lazy("小类代码"))
    unit_grid = forms.CharField(max_length=32, required=False, label=gettext_lazy("单元网格"))

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError(_("必须填写"))
        return title

    def clean_class_code(self):
        code = self.cleaned_data["class_code"].strip()
        if code and not CLASS_CODE.match(code):
            raise forms.ValidationError(_("小类代码只能包含字母、数字、点、- 或 _"))
        return code

    def clean_unit_grid(self):
        code = self.cleaned_data["unit_grid"].strip()
        if code and not GRID_CODE.match(code):
            raise forms.ValidationError(_("单元网格代码只能包含字母、数字、- 或 _"))
        return code

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        if deadline <= timezone.now():
            raise forms.ValidationError(_("办理时限必须晚于现在"))
        return deadline

    def clean(self):
        data = super().clean()
        lon, lat = data.get("lon"), data.get("lat")
        if (lon is None) != (lat is None) and "lon" not in self.errors and "lat" not in self.errors:
            self.add_error("lon" if lon is None else "lat", _("经度和纬度须同时填写"))
        for name in ("lon", "lat"):
            if data.get(name) is not None and not math.isfinite(data[name]):
                self.add_error(name, _("必须是数字"))
        return data


def create(user, form):
    """The task of a valid ``TaskForm``, by ``user`` (who must hold ``province.add_provincetask``)."""
    d = form.cleaned_data
    return ProvinceTask.objects.create(
        city=d["city"], kind=d["kind"], title=d["title"], description=d["description"].strip(),
        address=d["address"].strip(), lon=d["lon"], lat=d["lat"], class_code=d["class_code"],
        unit_grid=d["unit_grid"], deadline=d["deadline"], created_by=user if user.is_authenticated else None)


def as_json(task, now=None):
    """A task as the province's JSON API shows it (its state and times, whether it is overdue)."""
    return {"id": task.pk, "city": task.city.code, "kind": task.kind, "title": task.title,
            "description": task.description, "address": task.address, "lon": task.lon, "lat": task.lat,
            "class_code": task.class_code, "unit_grid": task.unit_grid, "deadline": wire.iso(task.deadline),
            "created_at": wire.iso(task.created_at), "state": task.state, "overdue": task.is_overdue(now),
            "fetched_at": wire.iso(task.fetched_at), "received_at": wire.iso(task.received_at),
            "dispatched_at": wire.iso(task.dispatched_at), "fed_back_at": wire.iso(task.fed_back_at),
            "closed_at": wire.iso(task.closed_at), "case_number": task.case_number, "case_state": task.case_state}


# --- the city fetches its tasks ----------------------------------------------------------------------------

def horizon():
    """The largest task id below which every task is committed (as the outbox's event horizon: on PostgreSQL
    the SHARE lock waits out transactions creating tasks, which commit out of id order; SQLite has one writer)."""
    table = connection.ops.quote_name(ProvinceTask._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL lock_timeout = '10s'")
            cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        cursor.execute(f"SELECT MAX(id) FROM {table}")
        return cursor.fetchone()[0] or 0


def task_document(task):
    """A task as it travels down to its city (docs/exchange.md §8)."""
    return {"id": task.pk, "kind": task.kind, "title": task.title, "description": task.description,
            "address": task.address, "lon": task.lon, "lat": task.lat, "class_code": task.class_code,
            "unit_grid": task.unit_grid, "deadline": wire.iso(task.deadline), "created_at": wire.iso(task.created_at)}


# --- the city's batches move the tasks -----------------------------------------------------------------------

def follow_cases(city, cases, now):
    """Inside a batch's transaction: each described case that names a task of this city moves it (a description
    older than the one the task follows is ignored; a task already followed by another case keeps it). Returns
    how many tasks moved."""
    linked = {c["province_task"]: c for c in cases if isinstance(c.get("province_task"), int)}
    if not linked:
        return 0
    moved = 0
    for task in ProvinceTask.objects.select_for_update().filter(city=city, pk__in=list(linked)).order_by("pk"):
        c = linked[task.pk]
        if task.case_number and task.case_number != c["number"]:
            continue
        if task.case_number == c["number"] and c["version"] < task.case_version:
            continue
        task.case_number, task.case_state, task.case_version = c["number"], c["state"], c["version"]
        task.state = state_of(c["state"])
        task.received_at = wire.parse_instant(c["reported_at"])
        task.dispatched_at = wire.parse_instant(c["dispatched_at"])
        task.fed_back_at = wire.parse_instant(c["fed_back_at"])
        task.closed_at = wire.parse_instant(c["closed_at"]) if task.state == ProvinceTask.State.CLOSED else None
        task.updated_at = now
        task.save(update_fields=["case_number", "case_state", "case_version", "state", "received_at", "dispatched_at",
                                 "fed_back_at", "closed_at", "updated_at"])
        moved += 1
    return moved
