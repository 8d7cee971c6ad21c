"""Organisation API: units, party organisations, persons and their roles."""
from django.db.models import Q
from ninja import Field, Query, Router, Schema

from urbangrid.org.access import api_require

from . import privacy
from .models import PartyOrganization, Person, RoleAssignment, Unit

router = Router(tags=["organisation"])


class UnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    command_level: str
    parent_code: str | None
    region_code: str | None
    is_territorial: bool


class PartyOrgOut(Schema):
    id: int
    code: str
    name: str
    level: str
    parent_code: str | None
    road_segments: list[str]
    grids: list[str]
    member_count: int


class RoleOut(Schema):
    role: str
    role_label: str
    grid_code: str | None
    road_segment_code: str | None
    region_code: str | None
    unit_code: str | None


class PersonOut(Schema):
    id: int
    employee_no: str
    name: str
    unit_code: str | None
    title: str
    phone: str | None = Field(None, description="null unless the caller dispatches or supervises this person (centre posts "
                                                 "and admin; a district dispatcher in his district; a grid leader or deputy "
                                                 "for his grids' people) or is this person")
    is_party_member: bool
    party_organization_code: str | None
    roles: list[RoleOut]


class PersonFilter(Schema):
    grid: str | None = None
    role: str | None = None
    unit: str | None = None
    party_organization: str | None = None
    q: str | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10**9)  # beyond a database integer is a 422, not a 500


class PersonPage(Schema):
    total: int
    items: list[PersonOut]


@router.get("/units", response=list[UnitOut], summary="Units (单位) in a tree")
def list_units(request, command_level: str | None = None):
    api_require(request, "reference.view")
    qs = Unit.objects.select_related("parent", "region").order_by("code")
    if command_level:
        qs = qs.filter(command_level=command_level)
    return [
        {"id": u.pk, "code": u.code, "name": u.name, "kind": u.kind, "command_level": u.command_level,
         "parent_code": u.parent.code if u.parent else None, "region_code": u.region.code if u.region else None,
         "is_territorial": u.is_territorial}
        for u in qs
    ]


@router.get("/party-organizations", response=list[PartyOrgOut], summary="Party organisations (党总支 › 党支部 › 党小组)")
def list_party_organizations(request, level: str | None = None):
    api_require(request, "reference.view")
    qs = PartyOrganization.objects.select_related("parent").prefetch_related("road_segments", "grids", "members").order_by("code")
    if level:
        qs = qs.filter(level=level)
    return [
        {"id": p.pk, "code": p.code, "name": p.name, "level": p.level, "parent_code": p.parent.code if p.parent else None,
         "road_segments": [s.code for s in p.road_segments.all()], "grids": [g.code for g in p.grids.all()],
         "member_count": len(p.members.all())}
        for p in qs
    ]


@router.get("/persons", response=PersonPage, summary="Persons and the roles they hold")
def list_persons(request, filters: Query[PersonFilter]):
    actor = api_require(request, "reference.view")
    qs = Person.objects.select_related("unit", "party_organization").order_by("employee_no")
    if filters.grid:
        qs = qs.filter(roles__grid__code=filters.grid)
    if filters.role:
        qs = qs.filter(roles__role=filters.role)
    if filters.unit:
        qs = qs.filter(unit__code=filters.unit)
    if filters.party_organization:
        qs = qs.filter(party_organization__code=filters.party_organization)
    if filters.q:
        qs = qs.filter(Q(name__icontains=filters.q) | Q(employee_no__icontains=filters.q))
    qs = qs.distinct()
    total = qs.count()
    people = list(qs[filters.offset: filters.offset + filters.limit])
    roles = {}
    for ra in RoleAssignment.objects.filter(person__in=people).select_related("grid", "road_segment", "region", "unit"):
        roles.setdefault(ra.person_id, []).append(ra)
    phones = privacy.visible_phone_ids(actor, people)
    items = []
    for p in people:
        mine = roles.get(p.pk, [])
        items.append({
            "id": p.pk, "employee_no": p.employee_no, "name": p.name, "unit_code": p.unit.code if p.unit else None,
            "title": p.title, "phone": privacy.phone_or_none(actor, p, phones),
            "is_party_member": p.is_party_member,
            "party_organization_code": p.party_organization.code if p.party_organization else None,
            "roles": [
                {"role": ra.role, "role_label": str(ra.get_role_display()), "grid_code": ra.grid.code if ra.grid else None,
                 "road_segment_code": ra.road_segment.code if ra.road_segment else None,
                 "region_code": ra.region.code if ra.region else None, "unit_code": ra.unit.code if ra.unit else None}
                for ra in mine
            ],
        })
    return {"total": total, "items": items}
