"""Persons and their roles ⇄ Excel: one row per (person, role); a person without roles has one row with
the role columns empty. For every person in the sheet the sheet is the truth: their roles not in the
sheet are removed. People not in the sheet are not touched."""
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _, gettext_lazy as _l

from urbangrid.core.excel import Column, ErrorCollector, parse_bool, parse_choice, read_sheet, write_workbook
from urbangrid.grids.models import Region, ResponsibilityGrid, RoadSegment

from .models import PartyOrganization, Person, RoleAssignment, Unit
from .roles import Role

PEOPLE_COLUMNS = [
    Column("employee_no", _l("工号"), required=True, width=12),
    Column("name", _l("姓名"), required=True, width=10),
    Column("unit_code", _l("单位编码"), width=14),
    Column("phone", _l("电话"), width=14),
    Column("is_party_member", _l("中共党员"), width=8),
    Column("party_org_code", _l("党组织编码"), width=14),
    Column("role", _l("角色"), width=12),
    Column("grid_code", _l("责任网格编号"), width=14),
    Column("segment_code", _l("路段编号"), width=14),
    Column("region_code", _l("岗位区域代码"), width=14),
    Column("role_unit_code", _l("岗位单位编码"), width=14),
]
PERSON_KEYS = ("name", "unit_code", "phone", "is_party_member", "party_org_code")
ROLE_KEYS = ("grid_code", "segment_code", "region_code", "role_unit_code")
PERSON_FIELDS = {"unit": "unit_code", "party_organization": "party_org_code"}
ROLE_FIELDS = {"grid": "grid_code", "road_segment": "segment_code", "region": "region_code", "unit": "role_unit_code"}


@dataclass
class PeopleImportResult:
    persons_created: int = 0
    persons_updated: int = 0
    roles_created: int = 0
    roles_deleted: int = 0


def _role_key(a):
    return (a.role, a.grid_id, a.road_segment_id, a.region_id, a.unit_id)


def export_people(path):
    rows = []
    people = Person.objects.select_related("unit", "party_organization").prefetch_related(
        "roles__grid", "roles__road_segment", "roles__region", "roles__unit")
    for p in people:
        base = {"employee_no": p.employee_no, "name": p.name, "unit_code": p.unit.code if p.unit else "", "phone": p.phone,
                "is_party_member": _("是") if p.is_party_member else _("否"),
                "party_org_code": p.party_organization.code if p.party_organization else ""}
        roles = list(p.roles.all())
        rows.extend({**base, "role": a.get_role_display(), "grid_code": a.grid.code if a.grid else "",
                     "segment_code": a.road_segment.code if a.road_segment else "", "region_code": a.region.code if a.region else "",
                     "role_unit_code": a.unit.code if a.unit else ""} for a in roles)
        if not roles:
            rows.append(base)
    write_workbook(path, [(_("人员与角色"), PEOPLE_COLUMNS, rows)])
    return len(rows)


def import_people(path):
    """Validate the whole sheet, then write it in one transaction; raises ``ImportErrors`` on any bad row."""
    errors = ErrorCollector()
    rows = read_sheet(path, PEOPLE_COLUMNS, errors=errors)
    tables = {
        "unit_code": {u.code: u for u in Unit.objects.all()},
        "party_org_code": {o.code: o for o in PartyOrganization.objects.all()},
        "grid_code": {g.code: g for g in ResponsibilityGrid.objects.all()},
        "segment_code": {s.code: s for s in RoadSegment.objects.all()},
        "region_code": {r.code: r for r in Region.objects.all()},
    }
    tables["role_unit_code"] = tables["unit_code"]
    existing = {p.employee_no: p for p in Person.objects.all()}

    def ref(row, rec, column):
        code = rec[column]
        if code and code not in tables[column]:
            errors.add(row, column, _("编码“%(code)s”不存在") % {"code": code})
        return tables[column].get(code) if code else None

    people = {}   # employee_no → (first row, person fields, person, [role assignments], {role key: row})
    for row, rec in rows:
        if errors.has_row(row):  # an empty required cell, already reported
            continue
        no = rec["employee_no"]
        if no in people:
            first_row, first = people[no][0], people[no][1]
            for k in PERSON_KEYS:
                if rec[k] != first[k]:
                    errors.add(row, k, _("与第%(n)s行同一人员的信息不一致") % {"n": first_row})
        else:
            person = existing.get(no) or Person(employee_no=no)
            person.name, person.phone = rec["name"], rec["phone"]
            person.unit = ref(row, rec, "unit_code")
            person.party_organization = ref(row, rec, "party_org_code")
            try:
                person.is_party_member = parse_bool(rec["is_party_member"])
            except ValueError as exc:
                errors.add(row, "is_party_member", exc)
            try:
                person.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
            except ValidationError as exc:
                errors.add_validation(row, exc, PERSON_FIELDS)
            people[no] = (row, rec, person, [], {})
        _first_row, _rec, person, assignments, role_rows = people[no]
        if not rec["role"]:
            if any(rec[k] for k in ROLE_KEYS):
                errors.add(row, "role", _("填写了岗位信息但没有填角色"))
            continue
        try:
            role = parse_choice(rec["role"], Role)
        except ValueError as exc:
            errors.add(row, "role", exc)
            continue
        a = RoleAssignment(role=role, grid=ref(row, rec, "grid_code"), road_segment=ref(row, rec, "segment_code"),
                           region=ref(row, rec, "region_code"), unit=ref(row, rec, "role_unit_code"))
        try:
            a.full_clean(exclude=["person"], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.add_validation(row, exc, ROLE_FIELDS)
            continue
        if _role_key(a) in role_rows:
            errors.add(row, "role", _("与第%(n)s行重复") % {"n": role_rows[_role_key(a)]})
            continue
        role_rows[_role_key(a)] = row
        assignments.append(a)

    errors.raise_if_any()
    result = PeopleImportResult()
    with transaction.atomic():
        for _row, _rec, person, assignments, _seen in people.values():
            is_new = person.pk is None
            if is_new or _person_changed(person):
                person.save()
                result.persons_created += is_new
                result.persons_updated += not is_new
            have = {_role_key(a): a for a in person.roles.all()}
            want = {_role_key(a): a for a in assignments}
            stale = [a.pk for k, a in have.items() if k not in want]
            if stale:
                RoleAssignment.objects.filter(pk__in=stale).delete()
                result.roles_deleted += len(stale)
            for k, a in want.items():
                if k not in have:
                    a.person = person
                    a.save()
                    result.roles_created += 1
    return result


def _person_changed(person):
    fields = ["name", "phone", "unit_id", "party_organization_id", "is_party_member"]
    stored = Person.objects.filter(pk=person.pk).values(*fields).first()
    return stored != {f: getattr(person, f) for f in fields}
