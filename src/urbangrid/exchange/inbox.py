"""上级交办: the city fetches the tasks its province assigned it (省级交办任务: 督办, 专项任务) and makes each one a
case of source ``province`` through the intake's province door (``cases/intake.py``), which then runs the city's
loop like any other (受理, 立案, 派遣, 处置, 反馈, 核查, 结案). The case keeps the task's deadline (``due_at``, 上级时限)
and its id (``external_ref`` ``province:<id>``), which the outbox sends back up in the case's summary
(``province_task``) so the province follows the task (docs/exchange.md §8).

Exactly once: the request names the last task made a case (``ExchangeState.tasks_after``); each task becomes its
case, then the cursor moves past it. A city that crashes between the two fetches the task again and ``report``
finds the case by its external reference (a unique column): no second case. The province's answer is signed with
the city's key and checked before anything is made of it.

Where a task does not fit the city (a class code its catalogue lacks, a point outside its area, a grid it does not
have), the case is still made: the class falls back to ``URBANGRID_PROVINCE_TASK_CLASS`` and the place to 待定位 for
the centre to place, with the task's words on the case. Without a usable class the fetch stops at that task (an
error the command and the status show) rather than skip it.
"""
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.cases import intake, services
from urbangrid.cases.states import Source, Urgency
from urbangrid.catalog.models import CatalogClass
from urbangrid.core import tenancy
from urbangrid.grids.models import UnitGrid
from urbangrid.org.roles import Role
from urbangrid.org.scope import system_actor
from urbangrid.province import wire

from .models import ExchangeState

log = logging.getLogger(__name__)

TASKS_PATH = "/province/api/v1/exchange/tasks"
# Fetches in one pull at most (each answers up to wire.TASKS_PER_FETCH tasks).
MAX_FETCHES = 50
KIND_LABELS = {"supervision": "督办", "special": "专项任务"}


class Refused(Exception):
    """The province's answer cannot be trusted or read (signature, format); nothing was made of it."""


@dataclass
class PullResult:
    fetched: int = 0
    created: int = 0
    existing: int = 0
    after: int = 0
    error: str = ""
    cases: list = field(default_factory=list)


def fetch(cfg, after):
    """The province's answer for the tasks after ``after``: checked signature and format, or Refused / OSError."""
    ts = str(int(time.time()))
    query = urllib.parse.urlencode({"city": cfg.city, "after": after})
    request = urllib.request.Request(f"{cfg.url}{TASKS_PATH}?{query}", headers={
        wire.TIMESTAMP_HEADER: ts, wire.SIGNATURE_HEADER: wire.sign(cfg.key, wire.tasks_message(cfg.city, ts, after))})
    try:
        with urllib.request.urlopen(request, timeout=cfg.timeout) as response:
            body, signature = response.read(), response.headers.get(wire.SIGNATURE_HEADER, "")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            detail = json.loads(raw.decode("utf-8")).get("reason", "")
        except (UnicodeDecodeError, ValueError, AttributeError):
            detail = raw[:200].decode("utf-8", "replace")
        raise Refused(f"HTTP {exc.code} {detail}".strip()) from None
    return read_answer(cfg, after, body, signature)


def read_answer(cfg, after, body, signature):
    """The answer's document if its signature (the city's key over its bytes) verifies and it is well formed."""
    if not wire.signature_ok(cfg.key, body, signature):
        raise Refused("the answer's signature does not verify with the city's key")
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refused(f"the answer is not UTF-8 JSON: {exc}") from None
    problems = wire.check_tasks(doc, cfg.city)
    if not problems and doc["after"] != after:
        problems.add("after", f"asked after {after}")
    if problems:
        raise Refused("malformed answer: " + "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5]))
    return doc


def _catalog_class(code):
    current = CatalogClass.objects.current().select_related("version")
    found = current.filter(code=code).order_by("version__code").first() if code else None
    fallback = tenancy.setting("URBANGRID_PROVINCE_TASK_CLASS")  # a city's catalogue may differ: its own entry's
    if found is None and fallback:
        found = current.filter(code=fallback).order_by("version__code").first()
    return found


def _point(task):
    """(lon, lat) of the task's point, else of its unit grid's inside point, else (None, None)."""
    if task.get("lon") is not None:
        return task["lon"], task["lat"]
    grid = UnitGrid.objects.filter(code=task["unit_grid"]).first() if task.get("unit_grid") else None
    shape = grid.shape if grid is not None and grid.geometry else None
    if shape is not None and not shape.is_empty:
        p = shape.representative_point()
        return p.x, p.y
    return None, None


def description_of(task):
    kind = KIND_LABELS.get(task["kind"], task["kind"])
    parts = [f"【省级{kind}】{task['title']}", task["description"].strip()]
    if task.get("class_code"):
        parts.append(f"省级指定小类：{task['class_code']}")
    if task.get("unit_grid"):
        parts.append(f"省级指定单元网格：{task['unit_grid']}")
    return "\n".join(p for p in parts if p)[:services.MAX_TEXT]


def make_case(task):
    """The case of one province task: (case, created). Raises services.CaseError when it cannot be made."""
    ref = intake.province_ref(task["id"])
    catalog_class = _catalog_class(task.get("class_code"))
    if catalog_class is None:
        raise services.Invalid(_("省级任务 %(id)s 的小类 %(code)s 不在本市现行分类中，URBANGRID_PROVINCE_TASK_CLASS 也未配置或不在现行分类中")
                               % {"id": task["id"], "code": task.get("class_code") or "—"}, "invalid_input",
                               {"class_code": task.get("class_code") or ""})
    lon, lat = _point(task)
    common = dict(catalog_class=catalog_class, description=description_of(task), source=Source.PROVINCE,
                  urgency=Urgency.URGENT if task["kind"] == "supervision" else Urgency.NORMAL,
                  require_photos=False, external_ref=ref, door=intake.PROVINCE,
                  due_at=wire.parse_instant(task["deadline"]), reporter_name="省级平台")
    actor = system_actor(Role.INTAKE_OPERATOR)
    try:
        return services.report(actor, lon=lon, lat=lat, address=task.get("address") or "", **common)
    except services.Invalid as exc:
        if not set(exc.fields) & {"location", "address"}:
            raise
    # the place does not fit the city (outside its area, an address it cannot read): the centre places it
    log.warning("province task %s: its place does not fit the city; the case waits to be placed", task["id"])
    return services.report(actor, lon=None, lat=None, address="", **common)


def pull(cfg, max_fetches=MAX_FETCHES):
    """Fetch the new tasks and make each a case (exactly once); stops at the first task that cannot be made."""
    result = PullResult(after=ExchangeState.load().tasks_after)
    try:
        for _fetch in range(max_fetches):
            after = ExchangeState.load().tasks_after
            doc = fetch(cfg, after)
            result.fetched += len(doc["tasks"])
            for task in doc["tasks"]:
                with transaction.atomic():
                    case, created = make_case(task)
                    ExchangeState.objects.filter(pk=1, tasks_after__lt=task["id"]).update(tasks_after=task["id"])
                result.created += created
                result.existing += not created
                result.cases.append((task["id"], case.number, created))
            # past ids no task of this city has (other cities', rolled-back ones): asked after no more
            ExchangeState.objects.filter(pk=1, tasks_after__lt=doc["next"]).update(tasks_after=doc["next"])
            if not doc.get("more"):
                break
    except (Refused, OSError) as exc:
        result.error = f"fetching tasks: {exc}"
    except services.CaseError as exc:
        result.error = f"task {task['id']}: {exc.message} {exc.fields or ''}".strip()
    now = timezone.now()
    ExchangeState.objects.filter(pk=1).update(tasks_pulled_at=now, tasks_error=result.error[:500])
    result.after = ExchangeState.load().tasks_after
    if result.error:
        log.warning("exchange: %s", result.error)
    return result
