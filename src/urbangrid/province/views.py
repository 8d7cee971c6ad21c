"""The province's endpoints (thin: ``receive`` and ``supervision`` decide). The exchange's: JSON in and out, no
session, no CSRF token: a city authenticates each request with its key's signature. The tasks' (省级交办任务):
pages and a JSON API for the province's logged-in users, by Django permission (``province.add_provincetask`` to
assign, ``province.view_provincetask`` to read)."""
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from urbangrid.core.ratelimit import client_address

from . import receive, supervision, wire
from .models import ProvinceTask, Rejection


def _header(request, name):
    return request.headers.get(name, "")


def _refused_unread(request, city, status, reason, body_bytes, recorded, answered):
    """A batch refused before its content is read (too large, cut off): recorded, and answered as receive's are."""
    Rejection.objects.create(city_code=city[:40], reason=reason, status=status, body_bytes=body_bytes,
                             remote_addr=client_address(request)[:64], detail=recorded)
    return JsonResponse({"accepted": False, "reason": reason, "detail": answered}, status=status)


@csrf_exempt
@require_POST
def batches(request):
    """POST /province/api/v1/exchange/batches: one batch (docs/exchange.md)."""
    limit = settings.URBANGRID_PROVINCE_MAX_BATCH_BYTES
    city = _header(request, wire.CITY_HEADER)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    body = request.read(limit + 1) if declared <= limit else b""
    if declared > limit or len(body) > limit:
        return _refused_unread(request, city, 413, "too_large", max(declared, len(body)), f"more than {limit} bytes",
                               f"a batch is at most {limit} bytes")
    if len(body) < declared:
        # The sender's connection ended mid-body (a city process killed or cut off while sending): recorded as
        # such, not judged as a forged signature, which the cut-off bytes would fail.
        detail = f"{len(body)} of {declared} bytes arrived: the connection ended"
        return _refused_unread(request, city, 400, "incomplete", len(body), detail, detail)
    status, answer = receive.receive_batch(body, city, _header(request, wire.SIGNATURE_HEADER),
                                           client_address(request))
    return JsonResponse(answer, status=status, json_dumps_params={"ensure_ascii": False})


@require_GET
def cursor(request):
    """GET /province/api/v1/exchange/cursor?city=X: where the city's stream stands (signed request)."""
    status, answer = receive.cursor(request.GET.get("city", ""), _header(request, wire.TIMESTAMP_HEADER),
                                    _header(request, wire.SIGNATURE_HEADER), client_address(request))
    return JsonResponse(answer, status=status, json_dumps_params={"ensure_ascii": False})


@require_GET
def exchange_tasks(request):
    """GET /province/api/v1/exchange/tasks?city=X&after=N: the city's tasks after task N (signed request; the
    answer is signed with the city's key too)."""
    status, answer, key = receive.fetch(request.GET.get("city", ""), request.GET.get("after", "0"),
                                        _header(request, wire.TIMESTAMP_HEADER), _header(request, wire.SIGNATURE_HEADER),
                                        client_address(request))
    body = wire.canonical(answer)
    response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    if key is not None:
        response[wire.SIGNATURE_HEADER] = wire.sign(key, body)
    return response


# --- the province's users: its tasks for the cities (省级交办任务) -------------------------------------------

VIEW_TASKS, ADD_TASKS = "province.view_provincetask", "province.add_provincetask"


def _may(user, perm):
    return user.has_perm(perm) or (perm == VIEW_TASKS and user.has_perm(ADD_TASKS))


@login_required
@require_GET
def task_list(request):
    """省级交办任务 list: each task with its state and the city's case; overdue ones in red."""
    if not _may(request.user, VIEW_TASKS):
        raise PermissionDenied
    tasks = ProvinceTask.objects.select_related("city").order_by("-pk")
    state = request.GET.get("state", "")
    if state in ProvinceTask.State.values:
        tasks = tasks.filter(state=state)
    page = Paginator(tasks, 50).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(t, t.is_overdue(now)) for t in page]
    return render(request, "province/task_list.html", {
        "rows": rows, "page": page, "states": ProvinceTask.State.choices, "state": state,
        "can_add": _may(request.user, ADD_TASKS)})


@login_required
@require_http_methods(["GET", "POST"])
def task_new(request):
    """A new task for a city (the province user holds ``province.add_provincetask``)."""
    if not _may(request.user, ADD_TASKS):
        raise PermissionDenied
    form = supervision.TaskForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            task = supervision.create(request.user, form)
        messages.success(request, _("已向%(city)s交办任务“%(title)s”") % {"city": task.city.name, "title": task.title})
        return redirect("province:task-list")
    return render(request, "province/task_form.html", {"form": form}, status=422 if form.errors else 200)


def _json(answer, status=200):
    return JsonResponse(answer, status=status, json_dumps_params={"ensure_ascii": False})


@require_http_methods(["GET", "POST"])
def task_api(request):
    """GET /province/api/v1/tasks: the tasks (``?city=``, ``?state=``, ``?overdue=1``); POST: a new task (JSON
    object with TaskForm's fields; 422 with field messages). A logged-in province user with the permission."""
    if not request.user.is_authenticated:
        return _json({"detail": _("请先登录"), "code": "login_required"}, 401)
    if request.method == "GET":
        if not _may(request.user, VIEW_TASKS):
            return _json({"detail": _("您无权查看省级交办任务"), "code": "forbidden"}, 403)
        tasks = ProvinceTask.objects.select_related("city").order_by("-pk")
        if request.GET.get("city"):
            tasks = tasks.filter(city__code=request.GET["city"])
        if request.GET.get("state"):
            if request.GET["state"] not in ProvinceTask.State.values:
                return _json({"detail": _("未知的状态"), "code": "invalid_input",
                              "fields": {"state": _("未知的状态")}}, 422)
            tasks = tasks.filter(state=request.GET["state"])
        now = timezone.now()
        if request.GET.get("overdue") in ("1", "true"):
            tasks = tasks.exclude(state=ProvinceTask.State.CLOSED).filter(deadline__lt=now)
        return _json({"items": [supervision.as_json(t, now) for t in tasks[:500]]})
    if not _may(request.user, ADD_TASKS):
        return _json({"detail": _("您无权交办任务"), "code": "forbidden"}, 403)
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _json({"detail": _("请求体不是 JSON"), "code": "invalid_json"}, 400)
    if not isinstance(data, dict):
        return _json({"detail": _("请求体应为 JSON 对象"), "code": "invalid_json"}, 400)
    form = supervision.TaskForm({k: ("" if v is None else v) for k, v in data.items()})
    if not form.is_valid():
        return _json({"detail": _("输入有误"), "code": "invalid_input",
                      "fields": {k: " ".join(v) for k, v in form.errors.items()}}, 422)
    with transaction.atomic():
        task = supervision.create(request.user, form)
    return _json(supervision.as_json(task), 201)
