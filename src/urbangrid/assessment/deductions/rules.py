"""倒扣分 (deductions) and 申诉 (appeals): the domain rules. Views and the API call these functions only.

An assessor (考核员) records a problem found on the street against a target — a responsibility grid, a
road segment, a unit, a party organisation or a person — under one item of the deduction standard
(检查项目). The target's people may appeal within the policy's days; a reviewer upholds or cancels.
States: recorded → appealed → upheld | cancelled. Every change appends one ``DeductionEvent``.
"""
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from importlib import import_module

from django.apps import apps as django_apps
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from urbangrid.cases import intake
from urbangrid.cases import services as case_services
from urbangrid.cases.photos import PhotoError, clean_photo, max_photos_per_request
from urbangrid.cases.services import CaseError
from urbangrid.cases.states import ArchiveType
from urbangrid.catalog.models import CatalogClass
from urbangrid.core.excel import Column, ErrorCollector, parse_bool, parse_choice, read_sheet, write_workbook
from urbangrid.grids.locator import OutsideManagedArea, locator
from urbangrid.grids.models import ResponsibilityGrid, RoadSegment
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment, Unit
from urbangrid.org.reach import reach_of
from urbangrid.org.roles import Role

from ..models import item_errors  # noqa: F401  (the standard's field rules, asked by the admin and the import)
from ..models import (
    CountPeriod,
    Deduction,
    DeductionEvent,
    DeductionPhoto,
    DeductionPolicy,
    InspectionItem,
    SixFixed,
    TargetType,
)
from ..periods import TZ, period_of

State = Deduction.State
MAX_NOTE = 2000
MAX_PHOTOS = 6  # per deduction; never more than URBANGRID_MAX_PHOTOS_PER_REQUEST
# Future timestamps from a phone with a drifting clock are accepted up to this much.
CLOCK_SKEW = timedelta(minutes=10)
# Grid roles that answer for (and may appeal) a deduction against their responsibility grid.
# A case opened from a deduction: assessors are residents' council representatives, so their finding enters
# the loop like a public report (the grid inspector verifies it on site before filing).
CASE_SOURCE = "public_app"


# The API's error body {detail, code, fields} comes from the shared CaseError handler.
class DeductionError(CaseError):
    status = 400


class Invalid(DeductionError):
    status = 400


class Forbidden(DeductionError):
    status = 403


class NotFound(DeductionError):
    status = 404


class Conflict(DeductionError):
    status = 409


def _invalid(errors):
    return Invalid(_("输入有误：%(fields)s") % {"fields": "、".join(sorted(errors))}, "invalid_input",
                   {k: str(v) for k, v in errors.items()})


# --- the deduction standard ---------------------------------------------------------------------

def active_items():
    return InspectionItem.objects.filter(active=True).select_related("catalog_class__version").order_by("code")


# --- targets ------------------------------------------------------------------------------------

TARGET_FIELD = {"grid": "grid", "segment": "road_segment", "unit": "unit", "party": "party_organization",
                "person": "person"}


def _target_model(target_type):
    return {"grid": (ResponsibilityGrid, "code"), "segment": (RoadSegment, "code"), "unit": (Unit, "code"),
            "party": (PartyOrganization, "code"), "person": (Person, "employee_no")}[target_type]


def find_target(target_type, ref):
    """The target object by its code (grid, segment, unit, party organisation) or employee number (person)."""
    model, key = _target_model(target_type)
    ref = str(ref or "").strip()
    if not ref:
        return None
    return model.objects.filter(**{key: ref}).first()


def target_label(target_type, obj):
    if obj is None:
        return ""
    if target_type == "person":
        return f"{obj.name}（{obj.employee_no}）"
    if target_type in ("grid", "segment"):
        return f"{obj.code} {obj.name}"
    return obj.name


def _place_q(loc, grid_field, segment_field):
    """Rows tied to the place's responsibility grid or nearest segment (a missing one matches nothing)."""
    q = Q(pk__in=[])
    if loc.responsibility_grid_id:
        q |= Q(**{grid_field: loc.responsibility_grid_id})
    if loc.road_segment_id:
        q |= Q(**{segment_field: loc.road_segment_id})
    return q


def _consistency_error(target_type, obj, loc):
    """Why ``obj`` cannot answer for a problem at ``loc`` (None if it can): a deduction goes to the grid,
    segment, party organisation or person that owns the place, or to an active unit."""

    if target_type == "grid":
        if obj.pk != loc.responsibility_grid_id:
            return _("该位置属于责任网格 %(g)s，不属于 %(t)s") % {"g": loc.responsibility_grid_code or "-", "t": obj.code}
    elif target_type == "segment":
        if obj.pk != loc.road_segment_id and not obj.unit_grids.filter(pk=loc.unit_grid_id).exists():
            return _("路段 %(t)s 不经过该位置") % {"t": obj.code}
    elif target_type == "unit":
        if not obj.active:
            return _("单位 %(t)s 已停用") % {"t": obj.name}
    elif target_type == "party":
        # The organisation owns the place's grid or segment itself or through its groups and branches.
        owners = set(PartyOrganization.objects.filter(_place_q(loc, "grids", "road_segments"))
                     .values_list("pk", "parent_id", "parent__parent_id"))
        owner_ids = {i for row in owners for i in row if i}
        if obj.pk not in owner_ids:
            return _("党组织 %(t)s 不包保该位置的网格或路段") % {"t": obj.name}
    elif target_type == "person":
        if not obj.active:
            return _("人员 %(t)s 不在岗") % {"t": obj.name}
        held = RoleAssignment.objects.filter(person=obj).filter(_place_q(loc, "grid", "road_segment"))
        if not held.exists():
            return _("人员 %(t)s 在该位置的网格或路段没有职责") % {"t": obj.name}
    return None


# --- who sees and who answers ---------------------------------------------------------------------

# How a deduction falls in each part of a reach: its target is that grid, segment, unit, organisation or person.
_TARGET_PARTS = {
    "grids": lambda ids: Q(target_type="grid", grid_id__in=ids),
    "segments": lambda ids: Q(target_type="segment", road_segment_id__in=ids),
    "units": lambda ids: Q(target_type="unit", unit_id__in=ids),
    "parties": lambda ids: Q(target_type="party", party_organization_id__in=ids),
    "person": lambda ids: Q(target_type="person", person_id__in=ids),
}
_TARGET_PART = {"grid": "grids", "segment": "segments", "unit": "units", "party": "parties", "person": "person"}


def answerable_q(actor):
    """Deductions against targets the actor answers for (and may appeal): ``org/reach.py``, rule
    ``deduction.answer``."""
    return reach_of(actor, "deduction.answer").q(**_TARGET_PARTS)


def answers_for(actor, target_type, obj):
    """Whether the actor answers for this target (the same rule as ``answerable_q``, for one object)."""
    part = _TARGET_PART.get(target_type)
    if obj is None or part is None:
        return False
    return reach_of(actor, "deduction.answer").holds(**{part: obj.pk})


def sees_all(actor):
    return actor.can("assessment.review_appeal") or (
        actor.city_wide and (actor.can("assessment.deduct") or actor.can("assessment.view")))


def visible_deductions(actor):
    """Reviewers, leaders and admin see everything; assessors their own records (the city with city scope);
    a target's people the deductions against it."""
    qs = Deduction.objects.all()
    if not actor.is_authenticated:
        return qs.none()
    if sees_all(actor):
        return qs
    q = answerable_q(actor)
    if actor.person is not None:
        q |= Q(assessor_id=actor.person.pk)
    if getattr(actor.user, "pk", None):
        q |= Q(recorded_by_id=actor.user.pk)
    return qs.filter(q)


def get_visible(actor, pk, for_update=False):
    qs = visible_deductions(actor)
    if for_update:
        qs = qs.select_for_update()
    try:
        return qs.get(pk=int(pk))
    except (Deduction.DoesNotExist, TypeError, ValueError):  # out of scope answers like missing
        raise NotFound(_("扣分记录 %(n)s 不存在") % {"n": pk}, "not_found") from None


def can_appeal(actor, d):
    return Deduction.objects.filter(answerable_q(actor), pk=d.pk).exists()


def reviewer_conflict(actor, d):
    """A reviewer may not decide on his own deduction or his own appeal."""
    person = actor.person
    return person is not None and person.pk in (d.assessor_id, d.appealed_by_id)


# --- recording ----------------------------------------------------------------------------------

def _decimal(value, field, errors):
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors[field] = _("应为数字")
        return None
    if not d.is_finite():
        errors[field] = _("应为数字")
        return None
    return d


def _event(d, action, from_state, actor, at, note="", role=""):
    DeductionEvent(deduction=d, action=action, from_state=from_state or "", to_state=d.state,
                   user_id=getattr(actor.user, "pk", None), person=actor.person, role=role, note=note, at=at).save()


def _times_used(item, target_type, obj, occurred_at):
    p = period_of(item.count_period, occurred_at.astimezone(TZ).date())
    return (Deduction.objects.filter(item=item, target_type=target_type, **{TARGET_FIELD[target_type]: obj},
                                     occurred_at__gte=p.start, occurred_at__lt=p.end)
            .exclude(state=State.CANCELLED).count())


@dataclass
class _Checked:
    item: object
    loc: object
    target: object
    points: Decimal
    occurred_at: object
    catalog_class: object


def _check_record(actor, *, item, lon, lat, target_type, target, points, note, occurred_at, open_case, catalog_class,
                  photos, require_photos, now):
    errors = {}
    it = item if isinstance(item, InspectionItem) else InspectionItem.objects.filter(
        code=str(item or "").strip(), active=True).select_related("catalog_class").first()
    if it is None:
        errors["item"] = _("未知的检查项目 %(c)s") % {"c": item or ""}
    loc = None
    try:
        loc = locator.locate(lon, lat)
    except OutsideManagedArea as exc:
        errors["location"] = str(exc)
    except ValueError as exc:
        errors["location"] = str(exc)
    obj = None
    if target_type not in TargetType.values:
        errors["target_type"] = _("考核对象类型应为：%(v)s") % {"v": "、".join(TargetType.values)}
    else:
        if it is not None and target_type not in it.target_types:
            errors["target_type"] = _("检查项目 %(c)s 不适用于该类考核对象") % {"c": it.code}
        if target in (None, "") and loc is not None and target_type in ("grid", "segment"):
            # The place decides the grid or the segment when the assessor does not name one.
            from urbangrid.grids.models import ResponsibilityGrid, RoadSegment

            pk = loc.responsibility_grid_id if target_type == "grid" else loc.road_segment_id
            obj = (ResponsibilityGrid if target_type == "grid" else RoadSegment).objects.filter(pk=pk).first()
            if obj is None:
                errors["target"] = _("该位置没有可扣分的责任网格或路段，请指明考核对象")
        elif target in (None, ""):
            errors["target"] = _("请指明考核对象")
        else:
            obj = target if not isinstance(target, str) else find_target(target_type, target)
            if obj is None:
                errors["target"] = _("考核对象 %(t)s 不存在") % {"t": target}
            elif loc is not None and (msg := _consistency_error(target_type, obj, loc)):
                errors["target"] = msg
    value = None
    if it is not None:
        if points in (None, ""):
            value = Decimal(it.default_points)
        else:
            value = _decimal(points, "points", errors)
            if value is not None:
                if value <= 0 or value > Decimal(it.max_points):
                    errors["points"] = _("扣分应大于 0 且不超过 %(m)s") % {"m": it.max_points}
                elif value != value.quantize(Decimal("0.01")):
                    errors["points"] = _("扣分最多两位小数")
    if occurred_at is None:
        occurred_at = now
    elif occurred_at > now + CLOCK_SKEW:
        errors["occurred_at"] = _("发现时间不能晚于现在")
    if len(note or "") > MAX_NOTE:
        errors["note"] = _("不能超过 %(n)s 个字") % {"n": MAX_NOTE}
    if require_photos and not photos:
        errors["photos"] = _("请附至少一张现场照片")
    elif len(photos) > min(MAX_PHOTOS, max_photos_per_request()):  # counted before any photo is opened
        errors["photos"] = _("最多 %(n)s 张照片") % {"n": min(MAX_PHOTOS, max_photos_per_request())}
    cls = None
    if open_case:
        cls = catalog_class or (it.catalog_class if it is not None else None)
        if cls is None:
            errors["catalog_class"] = _("立案须指定问题类别（该检查项目未对应案件小类）")
    if it is not None and obj is not None and it.max_times and "target" not in errors and "occurred_at" not in errors:
        if _times_used(it, target_type, obj, occurred_at) >= it.max_times:
            errors["item"] = _("该考核对象本%(p)s已按此项目扣分 %(n)s 次，达到上限") % {
                "p": CountPeriod(it.count_period).label, "n": it.max_times}
    if errors:
        raise _invalid(errors)
    return _Checked(it, loc, obj, value, occurred_at, cls)


def record(actor, *, item, lon, lat, target_type, target=None, points=None, note="", occurred_at=None, photos=(),
           idempotency_key=None, open_case=False, catalog_class=None, address="", at=None, require_photos=None):
    """记录倒扣分; returns (deduction, created). A repeated idempotency key returns the first record."""
    if not actor.can("assessment.deduct"):
        raise Forbidden(_("只有考核员可以记录扣分"), "forbidden")
    now = at or timezone.now()
    key = None
    if idempotency_key:
        key = f"{actor.user.pk}:{str(idempotency_key)[:80]}"
        existing = Deduction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing, False
    policy = DeductionPolicy.current()
    photos = list(photos or ())
    c = _check_record(actor, item=item, lon=lon, lat=lat, target_type=target_type, target=target, points=points, note=note,
                      occurred_at=occurred_at, open_case=open_case, catalog_class=catalog_class, photos=photos,
                      require_photos=True if require_photos is None else require_photos, now=now)

    cleaned = []
    for upload in photos:  # image work before the write transaction
        try:
            cleaned.append(clean_photo(upload))
        except PhotoError as exc:
            raise _invalid({"photos": str(exc)}) from None
        if hasattr(upload, "seek"):
            upload.seek(0)  # the case service reads the same uploads again
    d = Deduction(
        item=c.item, points=c.points, earn_back_points=c.item.earn_back_for(c.points), target_type=target_type,
        **{TARGET_FIELD[target_type]: c.target}, lon=float(lon), lat=float(lat), address=(address or "")[:256],
        unit_grid_id=c.loc.unit_grid_id, place_grid_id=c.loc.responsibility_grid_id, place_segment_id=c.loc.road_segment_id,
        note=(note or "").strip(), occurred_at=c.occurred_at, recorded_at=now, assessor=actor.person,
        recorded_by_id=getattr(actor.user, "pk", None), idempotency_key=key,
        appeal_deadline=now + timedelta(days=policy.appeal_days), state=State.RECORDED,
    )
    try:
        with transaction.atomic():
            d.save()
            for content, w, h, _hint in cleaned:
                photo = DeductionPhoto(deduction=d, width=w, height=h)
                photo.image.save("photo.jpg", content, save=False)
                photo.save()
            _event(d, "record", "", actor, now, d.note, actor.role_for("assessment.deduct"))
            if open_case:
                text = f"【{_('倒扣分')} {c.item.code} {c.item.name}】{d.note}".strip()
                case, _created = case_services.report(
                    actor, catalog_class=c.catalog_class, lon=d.lon, lat=d.lat, description=text, source=CASE_SOURCE,
                    address=d.address, photos=photos, reporter_name=actor.person.name if actor.person else "",
                    idempotency_key=f"deduction-{d.pk}", at=now, door=intake.DEDUCTION)
                d.case = case
                d.save(update_fields=["case"])
    except IntegrityError:
        if key and Deduction.objects.filter(idempotency_key=key).exists():  # a concurrent retry won
            return Deduction.objects.get(idempotency_key=key), False
        raise
    return d, True


# --- appeal and review ---------------------------------------------------------------------------

def appeal(actor, pk, reason, at=None):
    """申诉: the target's people contest a deduction within the appeal days; once only."""
    now = at or timezone.now()
    reason = (reason or "").strip()
    with transaction.atomic():
        d = get_visible(actor, pk, for_update=True)
        if not can_appeal(actor, d):
            raise Forbidden(_("只有被考核方可以申诉"), "forbidden")
        if d.state != State.RECORDED:
            raise Conflict(_("该扣分已申诉或已复核，不能再次申诉"), "state_conflict", {"state": d.get_state_display()})
        errors = {}
        if now > d.appeal_deadline:
            errors["appeal_deadline"] = _("申诉期限已于 %(t)s 截止") % {
                "t": timezone.localtime(d.appeal_deadline).strftime("%Y-%m-%d %H:%M")}
        if not reason:
            errors["reason"] = _("请填写申诉理由")
        elif len(reason) > MAX_NOTE:
            errors["reason"] = _("不能超过 %(n)s 个字") % {"n": MAX_NOTE}
        if errors:
            raise _invalid(errors)
        d.state, d.appeal_reason, d.appealed_at, d.appealed_by = State.APPEALED, reason, now, actor.person
        d.save(update_fields=["state", "appeal_reason", "appealed_at", "appealed_by"])
        _event(d, "appeal", State.RECORDED, actor, now, reason)
    return d


DECISIONS = {"uphold": State.UPHELD, "cancel": State.CANCELLED}


def action_label(action):
    return str({"record": gettext_lazy("记录扣分"), "appeal": gettext_lazy("申诉"), "uphold": gettext_lazy("维持扣分"),
                "cancel": gettext_lazy("撤销扣分")}.get(action, action))


def review(actor, pk, decision, note, at=None):
    """复核: a reviewer upholds (维持) or cancels (撤销) an appealed deduction, with a note."""
    now = at or timezone.now()
    if not actor.can("assessment.review_appeal"):
        # Only say "forbidden" about a deduction the actor may see at all.
        get_visible(actor, pk)
        raise Forbidden(_("无权复核申诉（需要权限 %(perm)s）") % {"perm": "assessment.review_appeal"}, "forbidden")
    note = (note or "").strip()
    with transaction.atomic():
        d = get_visible(actor, pk, for_update=True)
        if reviewer_conflict(actor, d):
            raise Forbidden(_("不能复核本人记录或本人申诉的扣分"), "forbidden")
        if d.state != State.APPEALED:
            raise Conflict(_("只有申诉中的扣分可以复核"), "state_conflict", {"state": d.get_state_display()})
        errors = {}
        if decision not in DECISIONS:
            errors["decision"] = _("复核结论应为 uphold（维持）或 cancel（撤销）")
        if not note:
            errors["note"] = _("请填写复核意见")
        elif len(note) > MAX_NOTE:
            errors["note"] = _("不能超过 %(n)s 个字") % {"n": MAX_NOTE}
        if errors:
            raise _invalid(errors)
        d.state, d.review_note, d.reviewed_at = DECISIONS[decision], note, now
        d.reviewed_by_id = getattr(actor.user, "pk", None)
        d.save(update_fields=["state", "review_note", "reviewed_at", "reviewed_by"])
        _event(d, decision, State.APPEALED, actor, now, note, actor.role_for("assessment.review_appeal"))
    return d


def earned_back(d):
    """Points returned to the target because the linked case closed on time (正常结案) and the item allows it."""

    if not d.item.earn_back or d.case_id is None or d.state in (State.CANCELLED, State.APPEALED):
        return Decimal("0")
    case = d.case
    if case.closed_at is None or case.archive_type != ArchiveType.NORMAL:
        return Decimal("0")
    return d.earn_back_points


# --- Excel: the deduction standard ------------------------------------------------------------------

def item_columns():
    return [
        Column("code", _("项目编号"), required=True, width=10),
        Column("name", _("检查内容"), required=True, width=22),
        Column("standard", _("扣分标准"), width=40),
        Column("aspect", _("所属六定"), required=True, width=10),
        Column("default_points", _("默认扣分"), required=True, width=10),
        Column("max_points", _("单次最高扣分"), width=10),
        Column("max_times", _("每期最多扣分次数"), width=10),
        Column("count_period", _("计次周期"), width=8),
        Column("target_types", _("适用考核对象"), width=24),
        Column("earn_back", _("可整改返还"), width=8),
        Column("earn_back_ratio", _("返还比例"), width=8),
        Column("earn_back_points", _("返还分值"), width=8),
        Column("class_version", _("案件分类版本"), width=14),
        Column("class_code", _("案件小类代码"), width=10),
        Column("active", _("启用"), width=6),
    ]


def export_items(path):
    rows = []
    for it in InspectionItem.objects.select_related("catalog_class__version").order_by("code"):
        rows.append({
            "code": it.code, "name": it.name, "standard": it.standard, "aspect": it.aspect,
            "default_points": float(it.default_points), "max_points": float(it.max_points),
            "max_times": it.max_times, "count_period": it.count_period, "target_types": ",".join(it.target_types),
            "earn_back": "是" if it.earn_back else "否", "earn_back_ratio": float(it.earn_back_ratio),
            "earn_back_points": None if it.earn_back_points is None else float(it.earn_back_points),
            "class_version": it.catalog_class.version.code if it.catalog_class else "",
            "class_code": it.catalog_class.code if it.catalog_class else "", "active": "是" if it.active else "否",
        })

    write_workbook(path, [(str(_("检查项目")), item_columns(), rows)])
    return len(rows)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0


def import_items(path):
    """Create or update items by code; every row is checked first and a bad file changes nothing."""

    errors = ErrorCollector()
    rows = read_sheet(path, item_columns(), errors=errors)
    existing = {it.code: it for it in InspectionItem.objects.all()}
    seen, planned = {}, []
    for number, r in rows:
        code = r["code"]
        if code in seen:
            errors.add(number, "code", _("项目编号与第%(n)s行重复") % {"n": seen[code]})
            continue
        seen[code] = number
        item = existing.get(code) or InspectionItem(code=code)
        item.name, item.standard = r["name"][:100], r["standard"]
        if len(code) > 20:
            errors.add(number, "code", _("不能超过 %(n)s 个字符") % {"n": 20})
        try:
            item.aspect = parse_choice(r["aspect"], SixFixed)
        except ValueError as exc:
            errors.add(number, "aspect", exc)
        for key, required in (("default_points", True), ("max_points", False), ("earn_back_ratio", False),
                              ("earn_back_points", False)):
            text = r[key]
            if not text:
                value = None
            else:
                try:
                    value = Decimal(text)
                    if not value.is_finite():
                        raise InvalidOperation
                except (InvalidOperation, ValueError):
                    errors.add(number, key, _("应为数字"))
                    continue
            if key == "max_points" and value is None:
                value = item.default_points
            if key == "earn_back_ratio" and value is None:
                value = Decimal("0.5")
            setattr(item, key, value)
        if r["max_times"]:
            try:
                item.max_times = int(r["max_times"])
            except ValueError:
                errors.add(number, "max_times", _("应为整数"))
        else:
            item.max_times = None
        try:
            item.count_period = parse_choice(r["count_period"] or "month", CountPeriod)
        except ValueError as exc:
            errors.add(number, "count_period", exc)
        types = [t.strip() for t in r["target_types"].replace("，", ",").replace("、", ",").split(",") if t.strip()]
        try:
            item.target_types = [parse_choice(t, TargetType) for t in types] if types else list(TargetType.values)
        except ValueError as exc:
            errors.add(number, "target_types", exc)
        for key, default in (("earn_back", False), ("active", True)):
            try:
                setattr(item, key, parse_bool(r[key]) if r[key] else default)
            except ValueError as exc:
                errors.add(number, key, exc)
        item.catalog_class = None
        if r["class_code"] or r["class_version"]:
            cls = CatalogClass.objects.filter(version__code=r["class_version"], code=r["class_code"]).first()
            if cls is None:
                errors.add(number, "class_code", _("分类版本 %(v)s 中没有小类 %(c)s") % {"v": r["class_version"], "c": r["class_code"]})
            item.catalog_class = cls
        if not errors.has_row(number):
            for field, msg in item_errors(item).items():
                errors.add(number, field, msg)
        planned.append(item)
    errors.raise_if_any()
    result = ImportResult()
    with transaction.atomic():
        for item in planned:
            if item.pk:
                result.updated += 1
            else:
                result.created += 1
            item.save()
    return result


# --- the phone page's helpers ---------------------------------------------------------------------

def candidates(lon, lat):
    """The targets that may answer for a problem at a point, for the assessor to pick from: the place's
    grid and segments, the party organisations owning them, the people with roles there and their units."""

    try:
        loc = locator.locate(lon, lat)
    except (OutsideManagedArea, ValueError) as exc:
        raise _invalid({"location": str(exc)}) from None
    out = {t: [] for t in TargetType.values}
    grid = ResponsibilityGrid.objects.filter(pk=loc.responsibility_grid_id).first()
    if grid:
        out["grid"].append({"code": grid.code, "name": target_label("grid", grid)})
    segs = RoadSegment.objects.filter(Q(pk=loc.road_segment_id) | Q(unit_grids=loc.unit_grid_id)).distinct().order_by("code")
    out["segment"] = [{"code": s.code, "name": target_label("segment", s)} for s in segs]
    # Nearest segment first: it is the usual choice.
    out["segment"].sort(key=lambda s: s["code"] != loc.road_segment_code)
    orgs = set()
    for row in PartyOrganization.objects.filter(_place_q(loc, "grids", "road_segments")).values_list(
            "pk", "parent_id", "parent__parent_id"):
        orgs.update(i for i in row if i)
    out["party"] = [{"code": o.code, "name": o.name} for o in PartyOrganization.objects.filter(pk__in=orgs).order_by("level", "code")]
    people = (Person.objects.filter(active=True).filter(_place_q(loc, "roles__grid", "roles__road_segment"))
              .exclude(roles__role=Role.ASSESSOR).distinct().order_by("employee_no"))
    out["person"] = [{"code": p.employee_no, "name": target_label("person", p)} for p in people[:60]]
    unit_ids = {p.unit_id for p in people if p.unit_id}
    out["unit"] = [{"code": u.code, "name": u.name} for u in Unit.objects.filter(pk__in=unit_ids, active=True).order_by("code")]
    return loc, out


def link_default_classes():
    """Point the seeded items at the local catalogue's classes (the catalogue loads after the migrations)."""

    n = 0
    for code, class_code in DEFAULT_ITEM_CLASSES.items():
        cls = CatalogClass.objects.filter(version__code="local-demo", code=class_code).first()
        if cls is not None:
            n += InspectionItem.objects.filter(code=code, catalog_class__isnull=True).update(catalog_class=cls)
    return n


DEFAULT_ITEM_CLASSES = {"HW01": "0102", "HW02": "0103", "HW03": "0115", "RZ01": "0507", "RZ02": "0201", "RZ03": "0512",
                        "RZ04": "0504"}


def ensure_default_standard():
    """The default deduction standard and policy, as the migration seeds them, when the tables are empty (a
    database flushed after migrating, a demo rebuilt); items get their local class once the catalogue exists."""

    seeding = import_module("urbangrid.assessment.migrations.0004_default_deduction_standard")
    seeding.seed(django_apps, None)
    wanted = {code: cls for code, *_rest, cls in seeding.ITEMS if cls}
    for item in InspectionItem.objects.filter(code__in=wanted, catalog_class__isnull=True):
        item.catalog_class = CatalogClass.objects.filter(version__code="local-demo", code=wanted[item.code]).first()
        if item.catalog_class is not None:
            item.save(update_fields=["catalog_class"])
