"""Model rules for regions, units, party organisations, persons and role assignments."""
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from urbangrid.grids.models import Region, ResponsibilityGrid
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment, Unit
from urbangrid.org.roles import ROLE_PERMISSIONS, Role, permissions_for
from urbangrid.org.scope import actor_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    city = Region.objects.create(code="349900", name="示范市", level="city")
    district = Region.objects.create(code="349902", name="中山区", level="district", parent=city)
    street = Region.objects.create(code="349902001", name="一街道", level="street", parent=district)
    community = Region.objects.create(code="349902001001", name="杏花社区", level="community", parent=street)
    grid = ResponsibilityGrid.objects.create(code="WG01", name="杏花网格", region=community)
    return city, district, street, community, grid


def test_region_codes_and_levels(tree):
    city, district, street, community, _ = tree
    Region(code="349902002", name="二街道", level="street", parent=district).full_clean()
    with pytest.raises(ValidationError) as e:
        Region(code="34990200", name="x", level="street", parent=district).full_clean()
    assert "code" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        Region(code="349903002", name="x", level="street", parent=district).full_clean()
    assert "349902" in str(e.value.message_dict["code"])
    with pytest.raises(ValidationError) as e:
        Region(code="349902001002", name="x", level="community", parent=district).full_clean()
    assert "parent" in e.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        Region.objects.create(code="349902", name="dup", level="district", parent=city)
    assert [r.code for r in community.ancestors()] == ["349902001001", "349902001", "349902", "349900"]


def test_party_hierarchy_and_membership(tree):
    gb = PartyOrganization.objects.create(code="G1", name="总支", level="general_branch")
    br = PartyOrganization(code="B1", name="支部", level="branch", parent=gb)
    br.full_clean()
    br.save()
    with pytest.raises(ValidationError):
        PartyOrganization(code="P1", name="小组", level="group", parent=gb).full_clean()
    with pytest.raises(ValidationError):
        PartyOrganization(code="G2", name="总支", level="general_branch", parent=gb).full_clean()
    with pytest.raises(ValidationError) as e:
        Person(name="张三", employee_no="E1", is_party_member=False, party_organization=br).full_clean()
    assert "party_organization" in e.value.message_dict
    with pytest.raises(ValidationError) as e:
        Person(name="张三", employee_no="E2", phone="not a phone!").full_clean()
    assert "phone" in e.value.message_dict


def test_territorial_unit_rules(tree):
    _, district, street, _, _ = tree
    with pytest.raises(ValidationError):
        Unit(code="U1", name="x", is_territorial=True).full_clean()
    Unit.objects.create(code="U2", name="区城管局", region=district, is_territorial=True, command_level="district")
    with pytest.raises(IntegrityError), transaction.atomic():
        Unit.objects.create(code="U3", name="另一个", region=district, is_territorial=True, command_level="district")


def test_role_assignment_rules(tree):
    city, district, _, _, grid = tree
    p = Person.objects.create(name="李四", employee_no="E9", is_party_member=True)
    unit = Unit.objects.create(code="HW", name="环卫处")
    with pytest.raises(ValidationError) as e:
        RoleAssignment(person=p, role=Role.INSPECTOR).full_clean()
    assert "grid" in e.value.message_dict
    with pytest.raises(ValidationError):
        RoleAssignment(person=p, role=Role.DISPATCHER, grid=grid).full_clean()
    with pytest.raises(ValidationError):
        RoleAssignment(person=p, role=Role.DISTRICT_DISPATCHER, region=city).full_clean()
    with pytest.raises(ValidationError):
        RoleAssignment(person=p, role=Role.UNIT_HANDLER).full_clean()
    RoleAssignment(person=p, role=Role.DISTRICT_DISPATCHER, region=district).full_clean()
    RoleAssignment.objects.create(person=p, role=Role.INSPECTOR, grid=grid)
    RoleAssignment.objects.create(person=p, role=Role.UNIT_HANDLER, unit=unit)
    # The same role twice in the same place is refused by the database, also where other columns are NULL.
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(person=p, role=Role.INSPECTOR, grid=grid)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(person=p, role=Role.UNIT_HANDLER, unit=unit)


def test_every_role_has_permissions_and_scope(tree, django_user_model):
    _, district, _, _, grid = tree
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert "case.dispatch" in permissions_for([Role.DISPATCHER]) and "case.dispatch" not in permissions_for([Role.INSPECTOR])
    assert "assessment.deduct" in permissions_for([Role.ASSESSOR])
    assert "reference.manage" not in permissions_for([r for r in Role if r != Role.ADMIN])
    user = django_user_model.objects.create_user("insp", password="long-enough-pass")
    p = Person.objects.create(name="王五", employee_no="E10", user=user)
    RoleAssignment.objects.create(person=p, role=Role.INSPECTOR, grid=grid)
    actor = actor_for(user)
    assert actor.grid_ids == {grid.pk} and not actor.city_wide and actor.can("case.report") and not actor.can("case.file")
    RoleAssignment.objects.create(person=p, role=Role.DISTRICT_DISPATCHER, region=district)
    actor = actor_for(user)
    assert actor.district_ids == {district.pk} and actor.can("case.dispatch_second") and not actor.city_wide
    RoleAssignment.objects.create(person=p, role=Role.DISPATCHER)
    assert actor_for(user).city_wide
