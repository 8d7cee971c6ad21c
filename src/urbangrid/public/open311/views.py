"""Open311 GeoReport v2 endpoint (base /open311/v2/), XML and JSON, with the pagination and
FixMyStreet servicerequestupdates extensions. The contract as served is ``openapi.py`` beside this module
(``/open311/v2/openapi.json``).

Choices where the specification leaves room:
- one jurisdiction: ``jurisdiction_id`` is ignored unless settings.URBANGRID_OPEN311_JURISDICTION is set,
  then any other value is 404;
- POST requests needs ``lat`` and ``long`` (WGS84), or ``address_id`` = a unit-grid code (located at a
  point inside that grid), or ``address_string`` alone, located through the gazetteer (gazetteer/geocoder.py)
  when its best candidate is confident; an address that is not is accepted all the same (201): the case waits
  待定位 (state ``unlocated``) until the centre places it, its ranked candidates recorded, and its GET shows
  status open, the address_string and no lat/long;
- GET requests: default the last 90 days, newest first, ``page_size`` ≤ 1000 (default 1000), ``page`` from 1;
  a start/end range longer than 90 days is 400; dates without a timezone are read as Asia/Shanghai;
- POSTs are limited per client address (the Open311 door of cases/intake.py) to settings.URBANGRID_OPEN311_POSTS_PER_HOUR
  (default 120) per clock hour, and per API key to the key's ``posts_per_hour`` or else
  settings.URBANGRID_OPEN311_KEY_POSTS_PER_HOUR (default 600), both counted in the store every server process
  shares (core/ratelimit.py: Redis, else the database); over either limit: 429 naming it;
- a body longer than ``max_body()`` is 413 before it is read; every other error, here or before a view
  (unknown path, a body Django refuses, a server error), is a GeoReport error list too (``errors.py``).
"""
import hashlib
import math
import re
from datetime import datetime, timedelta
from functools import wraps

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from urbangrid.cases import intake, services
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.photos import max_photos_per_request
from urbangrid.cases.states import Source, State
from urbangrid.cases.workflow import Action
from urbangrid.catalog.models import CatalogVersion
from urbangrid.core.bounds import EARLIEST, LATEST, date_in_range
from urbangrid.core.tenancy import setting as city_setting
from urbangrid.gazetteer.geocoder import GeocodeInputError, geocoder
from urbangrid.grids.models import UnitGrid
from urbangrid.org.scope import anonymous_actor, unit_system_actor
from urbangrid.worktime.clock import TZ

from ..models import Open311Request, Open311Update
from . import fastread, keys
from . import serializers as ser
from . import services_doc
from .errors import too_large
from .render import JSON_TYPE, XML_TYPE, errors, respond, w3c

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_PAGE = 1000
MAX_RANGE = timedelta(days=90)
UPDATES_DEFAULT_WINDOW = timedelta(hours=24)
MAX_DESCRIPTION = 4000


class Open311Error(Exception):
    def __init__(self, status, description, code=None):
        super().__init__(description)
        self.status, self.description, self.code = status, str(description), code or status


def _too_long(request):
    """A body longer than any acceptable POST (the allowed photos at their largest, plus the form fields) is
    refused before it is read: URBANGRID_OPEN311_MAX_BODY, by default from the upload limits."""

    limit = settings.URBANGRID_OPEN311_MAX_BODY or (
        max_photos_per_request() * settings.URBANGRID_MAX_PHOTO_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django answers a bad length itself
    return length > limit


def endpoint(*methods):
    """CSRF-exempt (API keys, no cookies), method check, body size, POST rate limit, errors as GeoReport error
    lists (bodies Django refuses while reading them and server errors: ``errors.py``)."""

    def deco(view):
        @csrf_exempt
        @wraps(view)
        def wrapper(request, fmt, **kwargs):
            if request.method not in methods:
                response = errors(fmt, 405, (405, f"method {request.method} not allowed; use {' or '.join(methods)}"))
                response["Allow"] = ", ".join(methods)
                return response
            if request.method == "POST" and _too_long(request):
                return too_large(fmt)
            over = intake.over_limit(intake.OPEN311, request) if request.method == "POST" else None
            if over is not None:
                return errors(fmt, 429, (429, f"too many requests from this address (limit {over} POSTs per hour); "
                                              "try again later"))
            try:
                _check_jurisdiction(request)
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return errors(fmt, exc.status, (exc.code, exc.description))
            except DataError:  # text PostgreSQL refuses (NUL characters): bad input, not a server error
                return errors(fmt, 400, (400, "a parameter contains characters that cannot be stored (NUL)"))
            except services.CaseError as exc:
                status = exc.status if exc.status in (403, 404) else 400
                detail = exc.message
                if exc.fields:
                    detail += ": " + "; ".join(f"{k}: {v}" for k, v in sorted(exc.fields.items()))
                return errors(fmt, status, (exc.code or status, detail))

        return wrapper

    return deco


def _params(request):
    return request.POST if request.method == "POST" else request.GET


def param(request, name):
    """A parameter's stripped value; empty counts as absent (None)."""
    value = _params(request).get(name)
    value = value.strip() if isinstance(value, str) else value
    return value or None


def _check_jurisdiction(request):
    ours = city_setting("URBANGRID_OPEN311_JURISDICTION")
    given = param(request, "jurisdiction_id")
    if ours and given and given != ours:
        raise Open311Error(404, f"jurisdiction_id {given} not found")


def _authenticate(request):
    raw = param(request, "api_key") or (request.GET.get("api_key") or "").strip() or None  # some clients put it in the URL
    if raw is None:
        raise Open311Error(403, "api_key is required")
    key = keys.authenticate(raw)
    if key is None:
        raise Open311Error(403, "invalid api_key")
    if request.method == "POST":
        allowed, limit = keys.allow_post(key)
        if not allowed:
            raise Open311Error(429, f"too many requests with this api_key (limit {limit} POSTs per hour); try again later")
    return key


_TZ_SPACE = re.compile(r" (\d{2}:?\d{2})$")


def parse_w3c(value, name):
    """An aware datetime from a W3C date-time ('+' decoded as a space is repaired; no zone = Asia/Shanghai)."""
    text = _TZ_SPACE.sub(r"+\1", value.strip())
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a W3C date-time such as 2026-11-27T08:30:00+08:00") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=TZ)
    if not date_in_range(dt):
        raise Open311Error(400, f"{name} must lie between {EARLIEST} and {LATEST}")
    return dt


def _date_range(request, default):
    start, end = param(request, "start_date"), param(request, "end_date")
    start = parse_w3c(start, "start_date") if start else None
    end = parse_w3c(end, "end_date") if end else None
    if start is None and end is None:
        end = timezone.now()
        start = end - default
    elif start is None:
        start = end - default
    elif end is None:
        end = start + default
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > MAX_RANGE:
        raise Open311Error(400, "the date range is limited to 90 days")
    return start, end


def _page(request):
    def number(name, default, high):
        raw = param(request, name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise Open311Error(400, f"{name} must be a positive integer") from None
        if value < 1:
            raise Open311Error(400, f"{name} must be a positive integer")
        return min(value, high)

    return number("page", 1, 10**6), number("page_size", MAX_PAGE, MAX_PAGE)


def _flag(request, name):
    return (param(request, name) or "").lower() in ("true", "1", "yes")


# --- discovery and services -----------------------------------------------------------------------

def _changeset():
    dates = [d for d in CatalogVersion.objects.filter(is_current=True).values_list("effective_date", flat=True) if d]
    day = max(dates) if dates else datetime(2024, 1, 1).date()
    return w3c(datetime.combine(day, datetime.min.time(), TZ))


@endpoint("GET")
def discovery(request, fmt):
    base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": "xml"}).rsplit("services.xml", 1)[0])
    changeset = _changeset()
    return respond(fmt, "discovery", {
        "changeset": changeset,
        "contact": city_setting("URBANGRID_OPEN311_CONTACT"),
        "key_service": settings.URBANGRID_OPEN311_KEY_SERVICE,
        "max_requests": MAX_PAGE,
        "endpoints": [{
            "specification": SPEC, "url": base, "changeset": changeset,
            "type": settings.URBANGRID_OPEN311_ENDPOINT_TYPE,
            "formats": ["text/xml", "application/json"],
        }],
    })


@endpoint("GET")
def service_list(request, fmt):
    # One cached document per format and language (services_doc.py), rebuilt when the catalogue changes.
    return HttpResponse(services_doc.document(fmt), content_type=JSON_TYPE if fmt == "json" else XML_TYPE)


@endpoint("GET")
def service_definition(request, fmt, code):
    cls = ser.find_service(code)
    if cls is None:
        old = ser.find_replaced(code)  # a request keeps the code of the catalogue it was filed under
        if old is None:
            raise Open311Error(404, f"service_code {code} not found")
        return respond(fmt, "service_definition", ser.replaced_definition_out(old, ser.successors(old)))
    return respond(fmt, "service_definition", ser.definition_out(cls))


# --- requests -------------------------------------------------------------------------------------

@endpoint("GET", "POST")
def requests_(request, fmt):
    if request.method == "POST":
        return _create(request, fmt)
    extensions = _flag(request, "extensions")
    ids = param(request, "service_request_id")
    if ids:  # overrides every other argument
        numbers = [n.strip() for n in ids.split(",") if n.strip()][:MAX_PAGE]
        by_number = {r[fastread.NUMBER]: r for r in fastread.rows_of(Case.objects.filter(number__in=numbers))}
        rows = [by_number[n] for n in dict.fromkeys(numbers) if n in by_number]
        return _requests(fmt, rows, extensions)
    codes = param(request, "service_code")
    parsed = [ser.parse_service_code(code) for code in codes.split(",")] if codes else []
    parsed = [p for p in parsed if p]
    status = None
    statuses = param(request, "status")
    if statuses:
        wanted = {s.strip().lower() for s in statuses.split(",") if s.strip()}
        if not wanted <= {"open", "closed"}:
            raise Open311Error(400, "status must be open, closed or both (comma-separated)")
        if len(wanted) == 1:
            status = wanted.pop()
    start, end = _date_range(request, MAX_RANGE)
    page, size = _page(request)
    if codes and not parsed:  # only codes that name no service: nothing matches
        return respond(fmt, "service_requests", [])
    rows = fastread.page_rows(start, end, page, size, codes=list(dict.fromkeys(parsed)), status=status)
    return _requests(fmt, rows, extensions)


def _requests(fmt, rows, extensions):
    """The answer of GET requests and requests/{id}: JSON from the documents' kept JSON (fastread)."""
    if fmt == "json":
        return HttpResponse(fastread.serialize_json(rows, extensions), content_type=JSON_TYPE)
    return respond(fmt, "service_requests", fastread.serialize(rows, extensions))


@endpoint("GET")
def request_detail(request, fmt, number):
    row = fastread.row_by_number(number)
    if row is None:
        raise Open311Error(404, f"service_request_id {number} not found")
    return _requests(fmt, [row], _flag(request, "extensions"))


@endpoint("GET")
def token(request, fmt, token):
    # Every service is realtime: a POST answers the service_request_id at once, so no token ever exists.
    raise Open311Error(404, f"token {token} not found (all services are realtime)")


def _float(request, name):
    raw = param(request, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a decimal number") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} must be a decimal number")
    return value


def _location(request):
    lat, lon = _float(request, "lat"), _float(request, "long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long must be given together")
    if lat is not None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise Open311Error(400, "lat/long out of range")
        return lon, lat
    address_id = param(request, "address_id")
    if address_id and address_id != "#NOTPINPOINTED#":

        grid = UnitGrid.objects.filter(code=address_id).first()
        if grid is None or not grid.geometry:
            raise Open311Error(400, f"address_id {address_id} is not a unit-grid code of this city")
        point = grid.shape.representative_point()
        return point.x, point.y
    address = param(request, "address_string")
    if address:

        try:  # the text checked here, so its errors read as Open311's; the case service places it (or not)
            geocoder.geocode(address, limit=1)
        except GeocodeInputError as exc:
            raise Open311Error(400, f"address_string: {exc}") from None
        return None, None  # located by services.report when the gazetteer is confident, else 待定位
    raise Open311Error(400, "a location is required: lat and long, address_id or address_string")


def _idempotency_key(key, request, code, lon, lat, description):
    who = param(request, "account_id") or param(request, "device_id")
    if not who:
        return None
    # Same client, service, place and text = a retry of the same submission (not every later report of the device).
    place = [f"{lon:.6f}", f"{lat:.6f}"] if lon is not None else [param(request, "address_string") or ""]
    material = "\x1f".join([str(key.pk), who, code, *place, description])
    return "o311:" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:40]


# Field limits of what is stored: longer values are refused, never cut (the sender would not know).
LIMITS = {"address_string": 256, "first_name": 24, "last_name": 24, "phone": 40, "email": 59,
          "attribute[fixmystreet_id]": 60, "update_id": 100}


def _check_text(request):
    """Every parameter free of NUL characters, and the stored ones within their limits (400 otherwise)."""
    for name, value in _params(request).items():
        if "\x00" in str(value):
            raise Open311Error(400, f"{name} contains a NUL character")
        limit = LIMITS.get(name)
        if limit is not None and len(str(value).strip()) > limit:
            raise Open311Error(400, f"{name} is longer than {limit} characters")


def _create(request, fmt):
    key = _authenticate(request)
    _check_text(request)
    code = param(request, "service_code")
    if code is None:
        raise Open311Error(400, "service_code is required")
    cls = services_doc.current_class(code)  # the current classes kept with the services document
    if cls is None:
        old = ser.find_replaced(code)
        if old is not None:  # a client with an old services list: say what to send instead
            codes = ser.successors(old)
            raise Open311Error(400, f"service_code {code} was replaced" + (f" by {', '.join(codes)}" if codes else "")
                               + "; use a current service_code (services.json)")
        raise Open311Error(404, f"service_code {code} not found")
    lon, lat = _location(request)
    description = (_params(request).get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    description = description or (cls.plain_name or cls.name)
    media_url = param(request, "media_url") or ""
    if media_url and (len(media_url) > 500 or not re.match(r"^https?://[^\s]+$", media_url)):
        raise Open311Error(400, "media_url must be an http(s) URL of at most 500 characters")
    name = " ".join(p for p in (param(request, "first_name"), param(request, "last_name")) if p)
    contact = " ".join(p for p in (param(request, "phone"), param(request, "email")) if p)
    photos = request.FILES.getlist("media[]") + request.FILES.getlist("media")  # v2.1 draft uploads
    # FixMyStreet sends its own report id: a re-sent report is recognised whatever its other fields.
    fms_id = param(request, "attribute[fixmystreet_id]")
    external_ref = intake.open311_ref(key.pk, fms_id)
    actor = anonymous_actor()

    def record(case):  # the Open311 record, in the case's own transaction
        Open311Request.objects.create(case=case, key=key, service_code=code, media_url=media_url,
                                      account_id=(param(request, "account_id") or "")[:80],
                                      device_id=(param(request, "device_id") or "")[:80])

    case, created = services.report(
        actor, catalog_class=cls, lon=lon, lat=lat, description=description, source=Source.OPEN311,
        address=param(request, "address_string") or "", photos=photos, require_photos=False, door=intake.OPEN311,
        idempotency_key=_idempotency_key(key, request, code, lon, lat, description), with_case=record,
        reporter_name=name, reporter_contact=contact, **({"external_ref": external_ref} if external_ref else {}))
    return respond(fmt, "service_requests", [{
        "service_request_id": case.number,
        "service_notice": (f"已受理，案件编号 {case.number}，查询码 {case.tracking_code}"
                           + ("；地址待定位" if case.lon is None else "")) if created else f"重复提交，原案件编号 {case.number}",
        "account_id": param(request, "account_id"),
    }])


# --- FixMyStreet servicerequestupdates ------------------------------------------------------------

@endpoint("GET", "POST")
def request_updates(request, fmt):
    key = _authenticate(request)
    if request.method == "POST":
        return _post_update(request, fmt, key)
    start, end = _date_range(request, UPDATES_DEFAULT_WINDOW)
    qs = (CaseEvent.objects.filter(public=True, at__gte=start, at__lte=end).exclude(action=Action.REPORT)
          .select_related("case").order_by("at", "pk"))
    number = param(request, "service_request_id")
    if number:
        qs = qs.filter(case__number=number)
    page, size = _page(request)
    rows = qs[(page - 1) * size: page * size]
    return respond(fmt, "service_requests_updates", [ser.update_out(e) for e in rows])


# Statuses an outside unit may post, and the transition each one takes (None = recorded only).
UPDATE_ACTIONS = {
    "FIXED": Action.FEED_BACK, "NOT_COUNCILS_RESPONSIBILITY": Action.REQUEST_RETURN,
    "INTERNAL_REFERRAL": Action.REQUEST_RETURN,
    "IN_PROGRESS": None, "ACTION_SCHEDULED": None, "INVESTIGATING": None, "OPEN": None, "PLANNED": None,
    "NO_FURTHER_ACTION": None, "CLOSED": None, "DUPLICATE": None, "FOR_TRIAGE": None,
}


def _post_update(request, fmt, key):
    if not key.can_post_updates or key.unit_id is None:
        raise Open311Error(403, "this api_key may not post updates")
    missing = [n for n in ("service_request_id", "update_id", "status", "description") if param(request, n) is None]
    if missing:
        raise Open311Error(400, "missing: " + ", ".join(missing))
    _check_text(request)
    update_id = param(request, "update_id")
    status = param(request, "status").upper()
    description = param(request, "description")
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    updated = param(request, "updated_datetime")
    updated = parse_w3c(updated, "updated_datetime") if updated else None
    if status not in UPDATE_ACTIONS:
        raise Open311Error(400, "unknown status; use one of " + ", ".join(UPDATE_ACTIONS))
    first = Open311Update.objects.filter(key=key, update_id=update_id).first()
    if first is not None:  # a re-sent update (a client retrying after a lost answer): the first answer again
        return _update_answer(fmt, first)
    case = Case.objects.filter(number=param(request, "service_request_id")).first()
    if case is None:
        raise Open311Error(404, f"service_request_id {param(request, 'service_request_id')} not found")
    unit_ids = key.unit.descendants_ids()
    if case.current_unit_id not in unit_ids:
        raise Open311Error(403, "the request is not being handled by this api_key's unit")
    action = UPDATE_ACTIONS[status]
    actor = unit_system_actor(unit_ids)
    try:
        with transaction.atomic():
            record = Open311Update.objects.create(key=key, update_id=update_id, case=case, status=status,
                                                  description=description, updated_datetime=updated)
            if action is not None:
                if case.state != State.HANDLING:
                    raise Open311Error(400, f"the request is {case.get_state_display()} ({case.state}), not in handling")
                inputs = {"opinion": description} if action == Action.FEED_BACK else {"reason": description}
                # The workflow's own requirements hold at this door too: 处置反馈 needs its after photo(s),
                # uploaded as ``media`` with the update.
                photos = request.FILES.getlist("media[]") + request.FILES.getlist("media")
                services.transition(actor, case.number, action, inputs, photos=photos)
                record.event = CaseEvent.objects.filter(case=case).order_by("-seq").first()
                record.save(update_fields=["event"])
    except IntegrityError:  # the same update posted twice at once: the one that won answers for both
        first = Open311Update.objects.filter(key=key, update_id=update_id).first()
        if first is None:
            raise
        return _update_answer(fmt, first)
    return _update_answer(fmt, record)


def _update_answer(fmt, record):
    our_id = str(record.event_id) if record.event_id else f"o311-{record.pk}"
    return respond(fmt, "service_request_updates", [{"update_id": our_id}])
