"""Our catalogue classes and cases as GeoReport v2 services, requests and request updates.

service_code = "<catalogue version>:<kind>:<class code>", e.g. ``gbt47678.5-2026:event:06010`` or
``local-demo-2026:event:21001``: unique across the catalogue versions that are current together
(a code may exist in two versions, and as both a component and an event within one version). A request keeps
the code it was filed under after the city switches its catalogue (``cases.catalog_switch``): the definition of such
a code still answers, marked replaced, with the current code(s) the crosswalk gives it.
"""
from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from urbangrid.cases.models import CaseEvent, CaseUnit
from urbangrid.cases.states import TERMINAL, State
from urbangrid.cases.workflow import TABLE, Action
from urbangrid.catalog.crosswalk import Crosswalk, Status
from urbangrid.catalog.models import CatalogClass, CatalogVersion
from urbangrid.catalog.responsibility import responsible_units

from ..timeline import PUBLIC_STEPS, public_note, status_note


def service_code(catalog_class):
    return f"{catalog_class.version.code}:{catalog_class.kind}:{catalog_class.code}"


def case_service_code(case):
    return f"{case.catalog_version}:{case.kind}:{case.class_code}"


def parse_service_code(code):
    """(version, kind, class code) or None."""
    parts = (code or "").strip().split(":")
    if len(parts) != 3 or not all(parts) or parts[1] not in CatalogClass.Kind.values:
        return None
    return tuple(parts)


def current_services():
    return (CatalogClass.objects.current().select_related("version")
            .order_by("version__code", "kind", "code"))


def find_service(code):
    """The current, active class for a service code, or None."""
    parsed = parse_service_code(code)
    if parsed is None:
        return None
    version, kind, class_code = parsed
    return current_services().filter(version__code=version, kind=kind, code=class_code).first()


def find_replaced(code):
    """The class of a service code whose catalogue is no longer current (None for a current or unknown one)."""
    parsed = parse_service_code(code)
    if parsed is None:
        return None
    version, kind, class_code = parsed
    return (CatalogClass.objects.filter(version__code=version, version__is_current=False, kind=kind, code=class_code)
            .select_related("version").first())


def successors(cls):
    """The current service codes that replace ``cls`` through the crosswalk (several for a split not decided;
    none when the class has no counterpart)."""

    found = Crosswalk().counterpart(cls, list(CatalogVersion.objects.filter(is_current=True)))
    classes = [found.target] if found.status in (Status.MAPPED, Status.UNVERIFIED) else found.candidates
    return [service_code(c) for c in classes if c.active]


def replaced_definition_out(cls, codes):
    """A replaced code's definition: no input to give, one informational attribute saying what replaces it."""

    if codes:
        words = _("该类别属于已停用的分类版本（%(v)s），已由 %(new)s 替代；新上报请使用现行类别。") % {
            "v": cls.version.code, "new": "、".join(codes)}
    else:
        words = _("该类别属于已停用的分类版本（%(v)s），现行分类中没有对应类别；新上报请从现行类别中选择。") % {
            "v": cls.version.code}
    return {"service_code": service_code(cls), "attributes": [{
        "variable": False, "code": "replaced_by", "datatype": "string", "required": False, "datatype_description": None,
        "order": 1, "description": words}], "replaced": True, "replaced_by": codes}


def service_out(cls, kind_label=None):
    """One service; ``kind_label``: the class's kind in words, given by a caller formatting many."""
    name = cls.plain_name or cls.name
    kind_label = kind_label if kind_label is not None else str(cls.get_kind_display())
    keywords = [w for w in dict.fromkeys([cls.name, cls.plain_name, cls.major_name, kind_label, cls.code]) if w]
    return {
        "service_code": service_code(cls),
        "service_name": name,
        "description": cls.description or f"{cls.major_name} · {cls.name}（{kind_label} {cls.code}）",
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(w.replace(",", " ") for w in keywords),
        "group": cls.major_name,
    }


def definition_out(cls):
    return {"service_code": service_code(cls), "attributes": []}


# --- requests -------------------------------------------------------------------------------------

def open_or_closed(state):
    return "closed" if state in TERMINAL else "open"


REQUEST_RELATED = ("catalog_class", "unit_grid", "current_unit", "community", "street", "district", "open311_request")


class RequestSerializer:
    """Serialises a page of cases with a fixed number of queries (notes and units are fetched per page)."""

    def __init__(self, extensions=False):
        self.extensions = extensions
        self._resolved = {}

    def many(self, cases):
        cases = list(cases)
        ids = [c.pk for c in cases]
        events = {}
        if ids:
            for e in CaseEvent.objects.filter(case_id__in=ids, public=True).order_by("case_id", "seq"):
                events.setdefault(e.case_id, []).append(e)
        last_units = {}
        missing = [c.pk for c in cases if c.current_unit_id is None and c.state in TERMINAL]
        if missing:
            for link in CaseUnit.objects.filter(case_id__in=missing).select_related("unit").order_by("pk"):
                last_units[link.case_id] = link.unit
        # Who would answer for the unassigned ones: the page's distinct places and classes resolved at once.
        unassigned = [_where(c) for c in cases if c.current_unit_id is None and c.state not in TERMINAL and c.lon is not None]
        if unassigned:

            self._resolved.update(responsible_units(unassigned))
        return [self.one(c, events.get(c.pk, []), last_units.get(c.pk)) for c in cases]

    def _agency(self, case, last_unit):
        if case.current_unit_id:
            return case.current_unit.name
        if last_unit is not None:
            return last_unit.name
        if case.state in TERMINAL or case.lon is None:  # nowhere yet (待定位): nobody answers for it
            return None
        unit = self._resolved.get(_where(case))
        return unit.name if unit is not None else None

    def one(self, case, events, last_unit=None):
        status = open_or_closed(case.state)
        o311 = getattr(case, "open311_request", None) if _has_o311(case) else None
        address = case.address or " ".join(str(r.name) for r in (case.district, case.street, case.community) if r is not None)
        out = {
            "service_request_id": case.number,
            "status": status,
            # The state in plain words and the steps' answer to the citizen; never an opinion (event notes).
            "status_notes": status_note(case, events),
            "service_name": case.catalog_class.plain_name or case.catalog_class.name,
            "service_code": case_service_code(case),
            "description": case.description,
            "agency_responsible": self._agency(case, last_unit),
            "service_notice": str(case.get_state_display()),
            "requested_datetime": case.created_at,
            "updated_datetime": (case.closed_at or case.updated_at) if status == "closed" else case.updated_at,
            "expected_datetime": case.handle_deadline,
            "address": address,
            "address_id": case.unit_grid.code if case.unit_grid_id else None,
            "zipcode": None,
            "lat": case.lat,
            "long": case.lon,
            "media_url": (o311.media_url or None) if o311 is not None else None,
        }
        if self.extensions:
            # The steps the citizens' tracking page shows, no internal ones (supervision, approvals, returns).
            out["notes"] = [note_out(e) for e in events if e.action in PUBLIC_STEPS]
        return out


def _where(case):
    return (case.catalog_class_id, case.lon, case.lat)


def _has_o311(case):
    try:
        case.open311_request
    except ObjectDoesNotExist:
        return False
    return True


NOTE_TYPES = {Action.REPORT: "submitted", Action.FILE: "opened", Action.ACCEPT: "opened", Action.CLOSE: "closed",
              Action.NOT_FILE: "closed", Action.VOID: "closed", Action.MERGE: "closed", Action.REOPEN: "opened",
              Action.KEEP_CLOSED: "closed"}


def action_label(action):
    # Every event's action is a row of the table (merged_in too); an unknown one is shown as it is.
    return str(TABLE[action].label) if action in TABLE else action


def note_out(event):
    """One entry of the flow log: no person, no reporter contact, no internal note; the words only of the
    step's answer to the citizen (公开答复)."""
    return {
        "datetime": event.at,
        "type": NOTE_TYPES.get(event.action, "activity"),
        "action": event.action,
        "summary": action_label(event.action),
        "description": public_note(event.data) or None,
        "status": open_or_closed(event.to_state) if event.to_state else None,
    }


# --- request updates (FixMyStreet extended statuses) ----------------------------------------------

STATE_STATUS = {
    State.REPORTED: "OPEN", State.VERIFYING: "INVESTIGATING", State.PENDING_FILING: "INVESTIGATING",
    State.PENDING_DISPATCH: "ACTION_SCHEDULED", State.PENDING_DISTRICT_DISPATCH: "ACTION_SCHEDULED",
    State.HANDLING: "IN_PROGRESS", State.RETURN_REQUESTED: "IN_PROGRESS", State.EXTENSION_REQUESTED: "IN_PROGRESS",
    State.SUSPENSION_REQUESTED: "IN_PROGRESS", State.SUSPENDED: "ACTION_SCHEDULED", State.FED_BACK: "IN_PROGRESS",
    State.CHECKING: "INVESTIGATING", State.PENDING_CLOSE: "FIXED", State.CLOSED: "CLOSED",
    State.NOT_FILED: "NO_FURTHER_ACTION", State.VOIDED: "CANCELLED", State.MERGED: "DUPLICATE",
}
ACTION_STATUS = {Action.REOPEN: "REOPEN", Action.APPROVE_RETURN: "INTERNAL_REFERRAL", Action.MERGE: "DUPLICATE",
                 Action.VOID: "CANCELLED", Action.NOT_FILE: "NO_FURTHER_ACTION"}


def update_status(event):
    return ACTION_STATUS.get(event.action) or STATE_STATUS.get(event.to_state, "OPEN")


def update_out(event):
    return {
        "update_id": str(event.pk),
        "service_request_id": event.case.number,
        "status": update_status(event),
        "updated_datetime": event.at,
        "description": public_note(event.data) or action_label(event.action),
        "media_url": None,
        "external_status_code": event.action,
    }
