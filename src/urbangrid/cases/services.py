"""Every change to a case goes through ``report`` or ``transition`` here: one database transaction that
checks the actor's role and scope, the state and the inputs, updates the case and its clock, and
appends exactly one case event. Views and API routers call these and nothing else.
"""
import logging
import time
from dataclasses import dataclass
from datetime import datetime as _dt
from datetime import time as _time
from datetime import timedelta as _td
from datetime import timezone as _utc_zone
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.catalog.components import inventory_error
from urbangrid.catalog.models import CatalogClass, validate_component_identifier
from urbangrid.catalog.responsibility import NoResponsibleUnit, resolve
from urbangrid.core import prepared
from urbangrid.core.tenancy import PerCity
from urbangrid.gazetteer.geocoder import geocoder
from urbangrid.grids.locator import OutsideManagedArea, locator
from urbangrid.grids.models import Region
from urbangrid.org.models import Person, Unit
from urbangrid.org.reach import reach_of
from urbangrid.org.roles import Role
from urbangrid.org.scope import system_actor
from urbangrid.worktime import clock as wt
from urbangrid.worktime.models import DEFAULT_LIMITS, DEFAULT_YELLOW_SHARE, TimeLimitSetting

from . import engine, intake
from . import observed as observed_times
from .chain import seal
from .duplicates import previous_closed
from .effects import PLACE_FIELDS, class_record
from .fastload import insert_case, insert_event, load_case, photo_count, update_case
from .models import Case, CaseEvent, CaseNumberSequence, CasePhoto, CaseUnit
from .notify import on_transition
from .photos import PhotoError, clean_photo, photo_count_error
from .states import NEEDS_VERIFICATION, OPEN, PhotoKind, Satisfaction, Source, Urgency
from .workflow import PUBLIC_NOTE, TABLE, Action, allowed_from, guard_ok, implied_inputs, takes_public_note

MAX_TEXT = 4000
_utc = _utc_zone.utc

log = logging.getLogger(__name__)


class CaseError(Exception):
    status = 400

    def __init__(self, message, code="", fields=None):
        super().__init__(message)
        self.message, self.code, self.fields = str(message), code, fields or {}


class Forbidden(CaseError):
    status = 403


class NotFound(CaseError):
    status = 404


class Conflict(CaseError):
    status = 409


class Invalid(CaseError):
    status = 422


@dataclass
class Context:
    """What a transition needs besides the case: the calendar and the stage limits."""

    calendar: object
    limits: engine.Limits

    @classmethod
    def load(cls):
        """The calendar and stage limits, cached per process like the calendar (same TTL and invalidation)."""

        calendar = wt.get_calendar()
        cached = _limits_cache.get("limits")
        ttl = settings.URBANGRID_WORKTIME_CALENDAR_TTL
        if cached is None or _limits_cache.get("calendar") is not calendar or time.monotonic() - _limits_cache["at"] > ttl:
            cached = load_limits()
            _limits_cache.update({"limits": cached, "calendar": calendar, "at": time.monotonic()})
        return cls(calendar, cached)


def load_limits():
    """The stage limits from ``worktime.TimeLimitSetting`` and the settings, uncached. A stage without its row
    has the documented default (``worktime.models.DEFAULT_LIMITS``, the data migration's values), as
    ``TimeLimitSetting.for_stage`` reads it, not the engine's flat hour."""

    stages = {stage: (value, unit, DEFAULT_YELLOW_SHARE) for stage, (value, unit) in DEFAULT_LIMITS.items()}
    stages.update({s.stage: (s.value, s.unit, s.yellow_share) for s in TimeLimitSetting.objects.all()})
    keep = settings.URBANGRID_REWORK_KEEPS_FIRST_DEADLINE
    handle = stages.pop(TimeLimitSetting.Stage.HANDLE, None)  # its limit is the responsibility list's
    return engine.Limits(stages, keep, **({"handle_yellow_share": handle[2]} if handle else {}))


# Stage limits follow the calendar cache: any edit to the working-time tables invalidates both.
_limits_cache = PerCity(dict)  # each city its own limits


def drop_limits_cache(**_):
    """The calendar was dropped (worktime.signals.calendar_invalidated): the limits cached beside it go too."""
    _limits_cache.clear()


# --- who sees what ------------------------------------------------------------------------------

def visible_cases(actor):
    """Cases the actor may see (``org/reach.py``, rule ``case.view``): the centre all; a unit its own; grid people
    their grids, where they hold a role with ``case.view`` (a grid held only as 考核员 opens none); a district
    dispatcher his district; anyone the cases they reported. Lists, pages, photos and the API all ask here (or
    ``can_see``)."""
    return Case.objects.filter(reach_of(actor, "case.view").q(**_CASE_PARTS))


# How a case falls in each part of a reach (a unit: any unit that has handled it).
_CASE_PARTS = {
    "grids": "responsibility_grid_id",
    "units": lambda ids: Exists(CaseUnit.objects.filter(case=OuterRef("pk"), unit_id__in=ids)),
    "districts": "district_id",
    "person": "reporter_id",
    "tracking": "tracking_code",
}


def can_see(actor, case):
    """``visible_cases`` for one loaded case, in Python (a query only for a unit's past cases)."""
    # The case's current unit always has its CaseUnit row (written with the hand-over by every writer), so a unit
    # handling it sees it without the query; a unit it has left still needs the row.
    return reach_of(actor, "case.view").holds(
        grids=case.responsibility_grid_id, districts=case.district_id, person=case.reporter_id,
        tracking=case.tracking_code or None, units=lambda ids: case.current_unit_id in ids or CaseUnit.objects.filter(
            case_id=case.pk, unit_id__in=ids).exists())


def get_visible(actor, number, for_update=False):
    return check_visible(actor, load_case(number, for_update=for_update), number)


def check_visible(actor, case, number):
    """``case`` (loaded by ``number``, or None) if the actor may see it; out of scope answers like missing
    (no existence leak)."""
    if case is None or not can_see(actor, case):
        raise NotFound(_("案件 %(n)s 不存在") % {"n": number}, "not_found")
    return case


def _in_scope(actor, t, case):
    scope = t.scope
    if scope == "report":  # an inspector reports in the grids he patrols; other channels anywhere
        return case.source != Source.INSPECTOR or actor.city_wide or case.responsibility_grid_id in actor.grids_as(Role.INSPECTOR)
    if scope == "centre":
        return actor.city_wide
    if scope == "grid_inspector":
        return case.responsibility_grid_id in actor.grids_as(Role.INSPECTOR)
    if scope == "district":
        return case.district_centre_id is not None and case.district_centre_id in actor.district_ids
    if scope == "unit":
        return case.current_unit_id is not None and case.current_unit_id in actor.unit_ids
    if scope == "approver":  # the city dispatcher, or the district dispatcher for cases sent to his district
        city = Role.DISPATCHER in actor.roles and actor.city_wide
        return city or (case.district_centre_id is not None and case.district_centre_id in actor.district_ids)
    if scope == "citizen":
        return case.tracking_code in actor.tracking_codes
    if scope == "supervisor":
        return actor.city_wide or case.responsibility_grid_id in actor.grids_as(Role.GRID_LEADER)
    return False


def available_actions(actor, case):
    """The table rows this actor may take on this case now (what the case page offers)."""
    return [t for t in allowed_from(case.state) if t.action != Action.REPORT and actor.can(t.permission)
            and _in_scope(actor, t, case) and guard_ok(t, case)]


def unit_handlers(unit_id):
    """处置人员 of a unit and its teams (sub-units): whom a case of that unit may be handed to."""

    units = Unit.objects.get(pk=unit_id).descendants_ids()
    return (Person.objects.filter(active=True, roles__role=Role.UNIT_HANDLER, roles__unit_id__in=units)
            .distinct().order_by("employee_no"))


# --- inputs -------------------------------------------------------------------------------------

def _text(inputs, name, errors, required):
    value = inputs.get(name)
    value = "" if value is None else str(value).strip()
    if required and not value:
        errors[name] = _("必须填写")
    elif len(value) > MAX_TEXT:
        errors[name] = _("不能超过 %(n)s 个字") % {"n": MAX_TEXT}
    return value


class Lookup:
    """What cleaning a step's inputs reads besides the request: the database here; the demo history and the
    generator pass one that holds the same things in memory (``fabricate.demo.history._MemoryLookup``), so every
    writer cleans its inputs with the same ``clean_inputs``."""

    def unit(self, code):
        return Unit.objects.filter(code=code, active=True).select_related("region").first()

    def district(self, code):
        return Region.objects.filter(code=code, level=Region.Level.DISTRICT).first()

    def assignment(self, case):
        return assignment_for(case)

    def asked_extension(self, case):
        """The extra time the unit's last extension request asked for, as recorded: [value, unit]."""
        return (CaseEvent.objects.filter(case=case, action=Action.REQUEST_EXTENSION).order_by("-seq")
                .values_list("data", flat=True).first() or {}).get("extra_time")

    def master(self, number):
        return Case.objects.filter(number=number or "").first()

    def handler(self, case, employee_no):
        return unit_handlers(case.current_unit_id).filter(employee_no=employee_no).first()

    def locate(self, lon, lat):
        return locator.locate(lon, lat)

    def address_at(self, lon, lat):
        return reverse_address(lon, lat)

    def unit_in_district(self, unit, district_id):
        region = unit.region
        return region is not None and any(r.pk == district_id for r in region.ancestors())


DATABASE = Lookup()


def clean_inputs(t, case, raw, photos=(), require_photos=True, lookup=DATABASE):
    """Check and normalise the inputs row ``t`` requires (codes become objects); raise Invalid with field
    messages. The one cleaning of every writer: live requests, the demo history and the generator."""
    errors, inputs = {}, dict(raw)
    inputs["opinion"] = _text(raw, "opinion", errors, "opinion" in t.requires)
    inputs["reason"] = _text(raw, "reason", errors, "reason" in t.requires)
    # The answer to the citizen, on the rows that take one; elsewhere it is refused, not dropped (the sender
    # would believe it published).
    public_note = _text(raw, PUBLIC_NOTE, errors, False)
    if takes_public_note(t):
        inputs[PUBLIC_NOTE] = public_note
    else:
        inputs.pop(PUBLIC_NOTE, None)
        if public_note:
            errors[PUBLIC_NOTE] = _("这一步不能填写公开答复")
    if t.clock == "extend" and raw.get("extra_value") in (None, ""):
        # The approver grants what the unit asked for unless he sets another amount.
        asked = lookup.asked_extension(case)
        if asked:
            inputs["extra_time"] = (Decimal(asked[0]), asked[1])
        else:
            errors["extra_value"] = _("请填写延期时长")
    if "extra_time" in t.requires or (t.clock == "extend" and raw.get("extra_value") not in (None, "")):
        try:
            value = Decimal(str(raw.get("extra_value")))
            unit = raw.get("extra_unit") or wt.WORKING_DAYS
            if value <= 0 or value > 1000 or unit not in (wt.WORKING_HOURS, wt.WORKING_DAYS, wt.CALENDAR_HOURS):
                raise ValueError
            inputs["extra_time"] = (value, unit)
        except (InvalidOperation, ValueError, TypeError):
            errors["extra_value"] = _("延期时长必须是大于 0 的数字，单位为 working_hours、working_days 或 calendar_hours")
    if "unit_or_district" in t.requires or "unit" in t.requires:
        unit_code, district_code = raw.get("unit"), raw.get("district")
        if "unit_or_district" in t.requires and unit_code and district_code:
            # Either the unit itself or a district's sub-centre: naming both is refused, never settled silently.
            errors["district"] = _("派遣只能选择处置单位或二级派遣的区之一，不能两项都选")
        elif "unit_or_district" in t.requires and district_code and not unit_code:
            district = lookup.district(district_code)
            if district is None:
                errors["district"] = _("区 %(c)s 不存在") % {"c": district_code}
            inputs["to_district"], inputs["district_obj"] = True, district
        elif unit_code:
            unit = lookup.unit(unit_code)
            if unit is None:
                errors["unit"] = _("单位 %(c)s 不存在或已停用") % {"c": unit_code}
            inputs["to_district"], inputs["unit_obj"] = False, unit
            inputs["assignment"] = lookup.assignment(case)
        else:
            errors["unit"] = _("请选择处置单位") if "unit" in t.requires else _("请选择处置单位或二级派遣的区")
    if "point" in t.requires:
        _clean_point(raw, inputs, errors, lookup)
    if "satisfaction" in t.requires:
        if raw.get("satisfaction") not in Satisfaction.values:
            errors["satisfaction"] = _("满意度应为 satisfied、basic 或 dissatisfied")
    if "master" in t.requires:
        master = lookup.master(raw.get("master"))
        if master is None:
            errors["master"] = _("主案件不存在")
        elif master.pk == case.pk:
            errors["master"] = _("不能合并到自身")
        elif master.state not in OPEN:
            errors["master"] = _("主案件已办结，不能合并")
        inputs["master_obj"] = master
    if "person" in t.requires:  # a person named by employee number, who must handle cases for the case's unit
        employee_no = str(raw.get("person") or "").strip()
        person = lookup.handler(case, employee_no) if employee_no else None
        if not employee_no:
            errors["person"] = _("请选择处置人员")
        elif person is None:
            errors["person"] = _("%(p)s 不是本单位在岗的处置人员") % {"p": employee_no}
        inputs["person"], inputs["person_obj"] = employee_no, person
    if "confirmed" in t.records:
        confirmed = raw.get("confirmed", True)
        inputs["confirmed"] = confirmed if isinstance(confirmed, bool) else str(confirmed).lower() not in ("0", "false", "no", "")
    if t.photos and not photos and require_photos:
        errors["photos"] = _("请上传照片")
    if t.guard == "unit_in_district" and inputs.get("unit_obj") is not None:
        if not lookup.unit_in_district(inputs["unit_obj"], case.district_centre_id):
            errors["unit"] = _("二级派遣只能派给本区的单位")
    if t.guard == "dissatisfied" and case.satisfaction != Satisfaction.DISSATISFIED:
        errors["reason"] = _("只有回访不满意的案件才能重新派遣或维持结案")
    elif t.guard == "dissatisfied" and case.kept_closed:
        errors["reason"] = _("该不满意件已维持结案")
    if t.guard == "not_rated" and case.satisfaction:
        errors["satisfaction"] = _("该案件已评价过")
    if errors:
        raise Invalid(_("输入有误：%(fields)s") % {"fields": "、".join(sorted(errors))}, "invalid_input", errors)
    return inputs


def _clean_point(raw, inputs, errors, lookup):
    """定位's point: ``point`` as "lon,lat" (the case page) or ``lon`` and ``lat`` (the API), WGS84, inside the
    managed area; the locator's ``Location`` and the gazetteer's address there go into the inputs, with the
    candidate chosen (its label, recorded) when one was."""
    text = str(raw.get("point") or "").strip()
    lon, lat = raw.get("lon"), raw.get("lat")
    if text:
        parts = text.replace("，", ",").split(",")
        lon, lat = (parts + [None])[:2] if len(parts) == 2 else (None, None)
        if len(parts) != 2:
            errors["point"] = _("位置应写作“经度,纬度”，例如 117.2352,31.8785")
            return
    if lon in (None, "") or lat in (None, ""):
        errors["point"] = _("请选择一个候选地址，或在地图上点选位置")
        return
    try:
        lon, lat = float(str(lon).strip()), float(str(lat).strip())
        if not (-180 <= lon <= 180 and -90 <= lat <= 90) or lon != lon or lat != lat:
            raise ValueError
    except (TypeError, ValueError):
        errors["point"] = _("经纬度必须是数字（经度 -180～180，纬度 -90～90）")
        return
    try:
        location = lookup.locate(lon, lat)
    except (OutsideManagedArea, ValueError) as exc:
        errors["point"] = str(exc)
        return
    inputs["lon"], inputs["lat"], inputs["location"] = lon, lat, location
    inputs["address"] = lookup.address_at(lon, lat)
    inputs["candidate"] = str(raw.get("candidate") or "").strip()[:256]


def _check_photo_count(photos, existing, field="photos"):
    message = photo_count_error(len(photos), existing)
    if message:
        raise Invalid(message, "too_many_photos", {field: message})


def _clean_photos(photos, field="photos"):
    cleaned = []
    for upload in photos or ():
        try:
            cleaned.append(clean_photo(upload))
        except PhotoError as exc:
            raise Invalid(str(exc), "invalid_photo", {field: str(exc)}) from None
    return cleaned


# --- numbers ------------------------------------------------------------------------------------

def next_number(at):
    """Year + 7-digit sequence, unique under concurrency (the sequence row is locked)."""

    year = timezone.localtime(at).year
    table, last, year_col = (connection.ops.quote_name(n) for n in (CaseNumberSequence._meta.db_table, "last", "year"))
    for _attempt in range(3):
        # One statement takes the next number and holds the row lock until the case commits.
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {last} = {last} + 1 WHERE {year_col} = %s RETURNING {last}", [year])
            row = cursor.fetchone()
        if row is not None:
            return f"{year}{row[0]:07d}"
        try:  # the year's first case
            with transaction.atomic():
                CaseNumberSequence.objects.create(year=year, last=1)
            return f"{year}{1:07d}"
        except IntegrityError:  # another request created the year's row first
            continue
    raise Conflict(_("案件编号分配冲突，请重试"), "number_conflict")


# --- the two entry points -----------------------------------------------------------------------

def _new_event(case, outcome):
    """The CaseEvent row of an engine outcome."""
    return CaseEvent(case=case, **outcome.event)


def _save_photos(case, event, kind, cleaned):
    for content, w, h, _hint in cleaned:
        photo = CasePhoto(case=case, event=event, kind=kind, width=w, height=h)
        photo.image.save("photo.jpg", content, save=False)
        photo.save()


def _store_photo_files(kind, cleaned):
    """Unsaved photo rows whose files are already stored: written before the report's transaction, so
    the file system is not waited on while the database is locked; ``_drop_photo_files`` undoes it."""
    rows = []
    try:
        for content, w, h, _hint in cleaned:
            photo = CasePhoto(kind=kind, width=w, height=h)
            photo.image.save("photo.jpg", content, save=False)
            rows.append(photo)
    except BaseException:
        _drop_photo_files(rows)
        raise
    return rows


def _drop_photo_files(rows):
    for photo in rows:
        photo.image.delete(save=False)


_IDEMPOTENCY = "\x1fidempotency-key\x1f"  # the placeholder of the compiled look-up


def _by_idempotency_key(key):
    """``Case.objects.filter(idempotency_key=key).first()``: every Open311 POST and app report asks it, so its
    statement is compiled once per connection (core/prepared.py) and the rare case found loaded as the transition
    path loads one."""
    found = prepared.rows("case-by-idempotency-key", lambda: Case.objects.filter(idempotency_key=_IDEMPOTENCY).order_by(
        "pk").values_list("number")[:1], {_IDEMPOTENCY: key})
    return load_case(found[0][0]) if found else None


def report(actor, *, catalog_class, lon, lat, description, source, address="", urgency=None, self_handled=False,
           photos=(), after_photos=(), idempotency_key=None, reporter_name="", reporter_contact="",
           component_identifier="", at=None, context=None, require_photos=True, external_ref=None, door=None,
           observed_at=None, due_at=None, with_case=None):
    """信息收集: create a case in ``reported``; returns (case, created).

    Every check, the location, the photos' re-encoding and files and the recurrence look-up come before
    the transaction, which holds only the number, the case, its event and its photo rows: on SQLite the
    write lock is database-wide and on PostgreSQL the year's number row stays locked until commit, so
    whatever runs inside makes every concurrent report wait. A created case carries ``location`` (the
    ``Location`` it was placed by), so callers can show its codes without reading it back.

    ``observed_at`` (the client's time of observation, e.g. a report queued offline) becomes the report time and
    starts the clocks when plausible (``observed.report_time``); the report event keeps both times and, when the
    observed one was not used, why. ``due_at``: the assigning body's deadline (上级时限, a province task's),
    recorded on the report event. ``with_case(case)``: more rows of the door's own written in the case's transaction
    (the Open311 record), not called for a re-sent report.
    """
    received = at or timezone.now()
    at = received
    if source not in Source.values:
        raise Invalid(_("未知的案件来源"), "invalid_input", {"source": _("未知的案件来源")})
    anonymous = not actor.is_authenticated
    door = door or intake.door_of_source(source)
    refused = intake.refusal(door, actor, source)  # the door's rules (intake.py)
    if refused:
        raise Forbidden(*refused)
    key = None
    if idempotency_key:
        key = f"{actor.user.pk if not anonymous else 'public'}:{str(idempotency_key)[:80]}"
        existing = _by_idempotency_key(key)
        if existing is not None:
            return existing, False
    if external_ref:
        existing = Case.objects.filter(external_ref=external_ref).first()
        if existing is not None:  # a hotline re-sent its work order
            return existing, False
    errors = {}
    if not isinstance(catalog_class, CatalogClass):
        errors["catalog_class"] = _("未知的问题类别")
    description = (description or "").strip()
    if not description:
        errors["description"] = _("请描述问题")
    elif len(description) > MAX_TEXT:
        errors["description"] = _("不能超过 %(n)s 个字") % {"n": MAX_TEXT}
    loc, candidates = None, None
    if lon is None and lat is None and not (address or "").strip() and intake.DOORS[door].unplaced:
        candidates = []  # no place given at all, through a door that allows it: 待定位, the centre places it
    elif lon is None and lat is None:  # an address without a point: placed by the gazetteer, or 待定位
        lon, lat, candidates = _place_address(source, address, errors)
    if lon is not None or lat is not None:
        try:
            loc = locator.locate(lon, lat)
        except OutsideManagedArea as exc:
            errors["location"] = str(exc)
        except (ValueError, TypeError) as exc:
            errors["location"] = str(exc)
    observed = observed_rule = None
    try:
        observed = observed_times.parse(observed_at)
    except ValueError as exc:
        errors["observed_at"] = str(exc)
    else:
        at, observed_rule = observed_times.report_time(observed, received)
    component_identifier = str(component_identifier or "").strip()
    if component_identifier and isinstance(catalog_class, CatalogClass):
        problem = component_identifier_error(component_identifier, catalog_class, loc)
        if problem:
            errors["component_identifier"] = problem
    if self_handled and source != Source.INSPECTOR:
        errors["self_handled"] = _("只有巡查员上报的案件可以自行处置")
    if require_photos and source == Source.INSPECTOR and not photos:
        errors["photos"] = _("巡查员上报须附现场照片")
    if self_handled and require_photos and not after_photos:
        errors["after_photos"] = _("自行处置须附处置后照片")
    # Counted before any photo is opened: one request's before and after photos together.
    n_before, n_after = len(photos or ()), len(after_photos or ())
    too_many = photo_count_error(n_before + n_after)
    if too_many:
        errors["after_photos" if n_after and not photo_count_error(n_before) else "photos"] = too_many
    if errors:
        raise Invalid(_("输入有误：%(fields)s") % {"fields": "、".join(sorted(errors))}, "invalid_input", errors)
    before, after = _clean_photos(photos), _clean_photos(after_photos, "after_photos")
    if loc is not None and not (address or "").strip():
        # no words given: the point's own (路名 + 门牌/标志物 + 方位), before the transaction
        address = reverse_address(lon, lat)
    ctx = context or Context.load()
    case = Case(
        number="", source=source, catalog_class=catalog_class, class_code=catalog_class.code,
        catalog_version=catalog_class.version.code, kind=catalog_class.kind, urgency=urgency or Urgency.NORMAL,
        description=description, lon=float(lon) if loc else None, lat=float(lat) if loc else None,
        address=(address or "")[:256], **{name: getattr(loc, name) if loc else None for name in PLACE_FIELDS},
        component_identifier=component_identifier, reporter_user=actor.user if not anonymous and getattr(actor.user, "pk", None) else None,
        reporter=actor.person, reporter_name=(reporter_name or "")[:50], reporter_contact=(reporter_contact or "")[:100],
        idempotency_key=key, external_ref=external_ref or None, due_at=due_at,
        needs_verification=source in NEEDS_VERIFICATION, self_handled=bool(self_handled),
        created_at=at, updated_at=at, state=None, version=0,
    )
    t = TABLE[Action.REPORT]
    if not _in_scope(actor, t, case):
        raise Forbidden(_("该位置不在您负责巡查的网格内"), "out_of_scope")

    case.recurrence_of = previous_closed(catalog_class.pk, case.lon, case.lat, at) if loc is not None else None
    outcome = engine.apply(case, t, report_inputs(case, candidates), at, ctx.calendar, ctx.limits, actor=actor)
    event = _new_event(case, outcome)
    if observed is not None:  # both times kept in the sealed report event
        event.data = {**event.data, "observed_at": observed.isoformat(), "received_at": received.isoformat(),
                      "observed_ignored": observed_rule or None}
    stored = _store_photo_files(PhotoKind.BEFORE, before)
    try:
        stored += _store_photo_files(PhotoKind.AFTER, after)
        with transaction.atomic():
            # The number is taken only once the report is accepted, so refusals leave no gaps, and
            # as late as possible: its row stays locked until the case commits.
            case.number = next_number(at)
            seal(event, case)
            insert_case(case)  # case.save(force_insert=True), its statement built once per connection
            event.case = case
            insert_event(event)
            for photo in stored:
                photo.case, photo.event = case, event
            if stored:
                CasePhoto.objects.bulk_create(stored)
            if with_case is not None:
                with_case(case)
    except IntegrityError:
        _drop_photo_files(stored)
        # Rolled back (to its savepoint inside a caller's transaction), so the connection answers again:
        # a concurrent retry of the same submission may have won.
        if key and Case.objects.filter(idempotency_key=key).exists():
            return Case.objects.get(idempotency_key=key), False
        if external_ref and Case.objects.filter(external_ref=external_ref).exists():
            return Case.objects.get(external_ref=external_ref), False
        raise
    except BaseException:
        _drop_photo_files(stored)
        raise
    case.location = loc
    return case, True


def transition(actor, number, action, inputs=None, photos=(), expected_version=None, at=None, context=None,
               require_photos=True):
    """Take ``action`` on case ``number`` for ``actor``; returns the updated case.

    Raises NotFound (not visible), Forbidden (role or scope), Conflict (state or version moved on),
    Invalid (inputs). Nothing is written unless everything passes.
    """
    t = TABLE.get(action)
    if t is None or t.action == Action.REPORT or t.internal:
        raise Invalid(_("未知的操作 %(a)s") % {"a": action}, "unknown_action", {"action": _("未知的操作")})
    inputs = dict(inputs or {})
    at = at or timezone.now()
    # Image work happens before the write lock is taken (on SQLite the lock is database-wide); the number of
    # photos, per request and per case, is checked before any of them is opened.
    photos = list(photos or ()) if t.photos else []
    if photos:
        _check_photo_count(photos, photo_count(get_visible(actor, number).pk))
    photo_files = _clean_photos(photos)
    with transaction.atomic():
        case = get_visible(actor, number, for_update=True)
        if not actor.can(t.permission):
            raise Forbidden(_("您的角色不能执行“%(a)s”") % {"a": t.label}, "forbidden_role")
        if expected_version is not None and int(expected_version) != case.version:
            raise Conflict(_("案件已被他人更新（版本 %(v)s），请刷新后再试") % {"v": case.version}, "stale_version")
        if case.state not in t.sources:
            raise Conflict(_("案件当前状态为“%(s)s”，不能执行“%(a)s”") % {"s": case.get_state_display(), "a": t.label},
                           "wrong_state")
        if not _in_scope(actor, t, case):
            raise Forbidden(_("该案件不在您的职责范围内，不能执行“%(a)s”") % {"a": t.label}, "out_of_scope")
        if t.guard == "unclaimed" and not guard_ok(t, case):
            raise Conflict(_("案件已有处理人，不能再签收"), "already_claimed")
        inputs.update(implied_inputs(t, case, actor))
        cleaned = clean_inputs(t, case, inputs, photos, require_photos)
        ctx = context or Context.load()
        outcome, event = _write_step(case, t, cleaned, at, ctx, actor)
        if outcome.unit is not None and t.concerns == "assigned":  # one statement, had the unit the case before or not
            CaseUnit.objects.bulk_create([CaseUnit(case=case, unit=outcome.unit)], ignore_conflicts=True)
        if t.notifies:

            on_transition(case, t, event)  # the outbox row commits with the transition, or not at all
        if t.photos:
            if photo_files:  # again under the case's lock: photos another request added meanwhile count too
                _check_photo_count(photo_files, photo_count(case.pk))
            _save_photos(case, event, t.photos, photo_files)
        if "master_obj" in cleaned:
            _follow_master(cleaned["master_obj"], case, actor, at, ctx)
        if t.action == Action.FILE:
            case = _auto_dispatch(case, at, ctx) or case
    return case


def _auto_dispatch(case, at, ctx):
    """自动派遣: when the class's rule says so and resolution is unambiguous (a rule, not the fallback)."""

    try:
        res = resolve(case.catalog_class_id, case.lon, case.lat)
    except (NoResponsibleUnit, OutsideManagedArea, ValueError):
        return None
    if res.fallback or res.rule is None or not res.rule.auto_dispatch:
        return None
    inputs = auto_dispatch_inputs(res.unit, res.explanation)
    return transition(system_actor(), case.number, Action.DISPATCH, inputs, at=at, context=ctx)


def sub_centre_of(unit):
    """The district whose sub-centre dispatches to ``unit`` (二级派遣), or None for a unit the city dispatches to."""
    if unit.command_level == Unit.CommandLevel.DISTRICT and unit.region_id:
        return unit.region if unit.region.level == "district" else unit.region.parent
    return None


def dispatch_inputs(unit, opinion=""):
    """The request that sends a case to ``unit``: to the unit itself, or to its district's sub-centre."""
    district = sub_centre_of(unit)
    inputs = {"district": district.code} if district is not None else {"unit": unit.code}
    if opinion:
        inputs["opinion"] = opinion
    return inputs


def auto_dispatch_inputs(unit, explanation):
    return dispatch_inputs(unit, _("按责任清单自动派遣：%(e)s") % {"e": explanation})


_CASE_FIELDS = None


def _snapshot(case):
    """Column values of a case, to save only what a transition changed."""
    global _CASE_FIELDS
    if _CASE_FIELDS is None:
        _CASE_FIELDS = [(f.name, f.attname) for f in Case._meta.concrete_fields if not f.primary_key]
    return {name: getattr(case, attname) for name, attname in _CASE_FIELDS}


def assignment_for(case):
    """The handling limit and urgency the responsibility list gives the case's class at its place
    (``engine.Assignment``; the fallback limit when no rule covers it: 属地兜底)."""

    try:
        res = resolve(case.catalog_class_id, case.lon, case.lat)
    except (NoResponsibleUnit, OutsideManagedArea, ValueError):
        res = None
    if res is None or res.time_limit_value is None:
        return engine.Assignment.of(None, None, None)
    return engine.Assignment.of(res.rule.pk if res.rule else None, res.time_limit_value, res.time_limit_unit, res.urgency)


def reverse_address(lon, lat):
    """The gazetteer's words for a point ("长江路318号东约20米，杏花小学北约40米"), or "" (far from every road and
    landmark, or no gazetteer). Never an error: the case's location is already settled by the locator."""

    try:
        found = geocoder.reverse(float(lon), float(lat))
    except Exception:  # noqa: BLE001 - an address is a convenience; a report must not fail for it
        log.exception("reverse geocoding failed for %s, %s", lon, lat)
        return ""
    return (found or {}).get("address", "")[:256]


def report_inputs(case, candidates=None):
    """What the report's event records of the case it creates; a case without a point (待定位) records the
    gazetteer's ranked candidates for its address as they were at the report."""
    previous = case.recurrence_of  # (in a bulk history, a case not saved yet: no id to test)
    out = {"opinion": case.description[:200], "source": str(case.source), "self_handled": bool(case.self_handled),
           "recurrence_of": previous.number if previous is not None else None, "external_ref": case.external_ref,
           "due_at": case.due_at.astimezone(_utc).isoformat() if case.due_at is not None else None}
    if case.lon is None:
        out.update(unlocated=True, candidates=list(candidates or []))
    return out


# The channels whose reports may arrive as an address alone (the inspectors' app always sends its point).
ADDRESS_ONLY_SOURCES = frozenset(set(Source) - {Source.INSPECTOR})
CANDIDATES_KEPT = 5


def address_candidates(address, limit=CANDIDATES_KEPT):
    """The gazetteer's ranked candidates for an address text (best first): ``geocoder.Candidate`` objects.
    Raises ValueError for a text that cannot be geocoded at all (empty, too long, control characters)."""

    return geocoder.geocode(address, limit=limit)


def component_identifier_error(identifier, catalog_class, loc):
    """Why a case's 部件标识码 cannot stand, or "": it names an asset of the case's own component class (the
    standard's digits, the class code inside them) in the district where the case is, and one the inventory
    holds when it holds that class (``catalog.components.inventory_error``); an event class has none. Every door
    that takes an identifier (API, mobile app, hotline form and work orders, citizens' form) comes here."""

    try:
        validate_component_identifier(identifier, catalog_class)
    except ValidationError as exc:
        return " ".join(exc.messages)
    if loc is not None and identifier[:6] != loc.unit_grid_code[:6]:
        return _("标识码的区划代码%(code)s与所在单元网格的区划%(grid)s不符") % {"code": identifier[:6], "grid": loc.unit_grid_code[:6]}
    return inventory_error(identifier, catalog_class)


def _place_address(source, address, errors):
    """(lon, lat, None) for an address the gazetteer places with confidence; (None, None, [candidates]) for one it
    does not (the case is created 待定位); errors filled for a report with neither point nor usable address."""
    address = (address or "").strip()
    if not address:
        errors["location"] = _("请给出位置：经纬度，或地址")
        return None, None, None
    if source not in ADDRESS_ONLY_SOURCES:
        errors["location"] = _("巡查员上报须有经纬度")
        return None, None, None
    try:
        found = address_candidates(address)
    except ValueError as exc:
        errors["address"] = str(exc)
        return None, None, None
    if found and found[0].confident:
        return found[0].lon, found[0].lat, None
    return None, None, [c.as_dict() for c in found]


def _follow_master(master, duplicate, actor, at, ctx):
    """The master case notes the merged duplicate (its reporter follows the master from now on)."""
    master = Case.objects.select_for_update().get(pk=master.pk)
    _write_step(master, TABLE[Action.MERGED_IN], {"opinion": duplicate.number, "duplicate": duplicate.number}, at, ctx,
                actor)


def _write_step(case, t, inputs, at, ctx, actor, public=True):
    """Carry row ``t`` out on a loaded, locked case through the engine, save the fields it changed and its sealed
    event (inside the caller's transaction); returns (outcome, event)."""
    before = _snapshot(case)
    outcome = engine.apply(case, t, inputs, at, ctx.calendar, ctx.limits, actor=actor, public=public)
    event = _new_event(case, outcome)
    seal(event, case)
    # case.save(update_fields=…) and event.save(), without the ORM's per-call compiling (fastload.py)
    update_case(case, [name for name, value in _snapshot(case).items() if before[name] != value])
    insert_event(event)
    return outcome, event


def dispatch_suggestion(case):
    """The unit, urgency and deadline the responsibility list gives for this case, with the rule behind it."""

    try:
        res = resolve(case.catalog_class_id, case.lon, case.lat)
    except (NoResponsibleUnit, OutsideManagedArea, ValueError) as exc:
        return {"unit": None, "explanation": str(exc)}
    due = None
    if res.time_limit_value is not None:
        due = wt.deadline(timezone.now(), res.time_limit_value, res.time_limit_unit, wt.get_calendar())
    return {
        "unit": res.unit, "urgency": res.urgency, "time_limit_value": res.time_limit_value,
        "time_limit_unit": res.time_limit_unit, "deadline_if_now": due, "rule_id": res.rule.pk if res.rule else None,
        "fallback": res.fallback, "explanation": res.explanation, "auto_dispatch": bool(res.rule and res.rule.auto_dispatch),
        "district_level": res.unit.command_level == Unit.CommandLevel.DISTRICT,
    }


# --- the working calendar changed: running clocks recomputed ----------------------------------------

def _span_touches(case, dates):
    a, b = (timezone.localtime(x, wt.TZ).date() for x in (case.stage_started_at, case.stage_deadline))
    return any(a <= d <= b for d in dates)


def recalendar_receiver(dates=None, note="", calendar=None, at=None, **_):
    """worktime.signals.days_changed → ``recalendar``."""
    return recalendar(dates=dates, note=note, at=at, calendar=calendar)


def recalendar(dates=None, note="", at=None, calendar=None, context=None):
    """Recompute the running clock of every open case whose clock spans one of ``dates`` (all open cases with a
    clock when None) on the working calendar as it is now (``calendar``: the one just written, inside the caller's
    transaction), through the workflow row ``recalendar``: a case whose deadline, light or first handling deadline
    moves gets an event recording the new deadline and the old one (``deadline_from``), not public; the others are
    left alone. Returns the number of cases changed. Run inside the transaction that changed the calendar, so the
    change and its consequences commit together."""
    at = at or timezone.now()
    if dates is not None:
        dates = sorted(set(dates))
        if not dates:
            return 0
    # Read afresh, not through the per-process cache: inside the caller's transaction the calendar may be rolled
    # back yet, and a cache filled from it would outlive the rollback.
    ctx = Context(calendar or wt.load_calendar(), context.limits if context else load_limits())
    qs = Case.objects.filter(state__in=OPEN, stage_deadline__isnull=False, stage_started_at__isnull=False).exclude(stage="")
    if dates is not None:

        qs = qs.filter(stage_started_at__lt=_dt.combine(dates[-1] + _td(days=1), _time(), wt.TZ),
                       stage_deadline__gte=_dt.combine(dates[0], _time(), wt.TZ))
    actor = system_actor()
    t = TABLE[Action.RECALENDAR]
    changed = 0
    with transaction.atomic():
        for pk in list(qs.order_by("pk").values_list("pk", flat=True)):
            case = Case.objects.select_for_update().get(pk=pk)
            if case.state not in OPEN or not case.stage or (dates is not None and not _span_touches(case, dates)):
                continue
            events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
            clock = engine.recompute_clock(case, events, ctx.calendar, ctx.limits, at)
            if clock is None or all(_same_instant(getattr(case, k), v) for k, v in clock.items()):
                continue
            _write_step(case, t, {"clock": clock, "opinion": note}, at, ctx, actor, public=False)
            changed += 1
    return changed


# --- the city's catalogue switched: open cases reclassified ------------------------------------------

def reclassify(number, catalog_class, note="", relation="", at=None, context=None, actor=None):
    """Move the open case ``number`` to ``catalog_class`` through the workflow row ``reclassify``: its class fields
    change and a sealed event, not public, records the class before and after and the crosswalk's ``relation``.
    Runs inside the caller's transaction (``cases.catalog_switch``, all or nothing); ``actor``: who switched (the platform
    when None). Returns the case, or None when it is no longer open (a closed case keeps the class it was closed
    under) or is already under that class."""
    at = at or timezone.now()
    t = TABLE[Action.RECLASSIFY]
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("catalog_class__version").get(number=number)
        if case.state not in t.sources or case.catalog_class_id == catalog_class.pk:
            return None
        inputs = {"class_obj": catalog_class, "class_from": class_record(case.catalog_class), "relation": relation,
                  "opinion": note}
        _write_step(case, t, inputs, at, context or Context.load(), actor or system_actor(), public=False)
    return case


def _same_instant(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return abs((a or 0) - (b or 0)) < 1e-6
    return a == b


def deadline_unconfirmed(case, calendar=None, limits=None):
    """Whether the case's running deadline was counted over a day no official notice stands behind yet (期限待确认):
    a day on the statutory estimate or the Monday–Friday fallback between the clock's start and its deadline. A
    natural-time (自然时) clock never is."""
    if not case.stage or case.stage_deadline is None or case.stage_started_at is None:
        return False
    calendar = calendar or wt.get_calendar()
    limits = limits or Context.load().limits
    if limits.natural(case):
        return False
    return calendar.unconfirmed_between(case.stage_started_at, case.stage_deadline)
