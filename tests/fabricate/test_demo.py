"""The demo city: the source document's exact counts, every role, idempotent re-runs."""
import json

import pytest
from django.core import serializers

from urbangrid.fabricate.demo.build import build_demo
from urbangrid.grids.models import Region, ResponsibilityGrid, RoadSegment, UnitGrid
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment, Unit
from urbangrid.org.roles import GRID_ROLES, Role


def _snapshot():
    from urbangrid.catalog.models import CatalogClass, Component, ResponsibilityRule

    models = [Region, ResponsibilityGrid, UnitGrid, RoadSegment, Unit, PartyOrganization, Person, RoleAssignment,
              CatalogClass, ResponsibilityRule, Component]
    return {m.__name__: serializers.serialize("json", m.objects.order_by("pk")) for m in models}


def _gazetteer():
    from urbangrid.gazetteer.models import Doorplate, Intersection, Landmark, Road

    return (sorted(Road.objects.values_list("name", "aliases", "length_m")),
            sorted(Doorplate.objects.values_list("road__name", "number", "suffix", "building_name", "lon", "lat")),
            sorted(Intersection.objects.values_list("road_a__name", "road_b__name", "lon", "lat")),
            sorted((n, tuple(a), c, lon, lat) for n, a, c, lon, lat in Landmark.objects.values_list(
                "name", "aliases", "category", "lon", "lat")))


@pytest.mark.django_db
def test_demo_city_counts_roles_and_idempotency(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    lines = []
    summary, logins, path = build_demo(seed=11, log=lines.append)
    # step lines, each followed by the time it took
    steps = [i for i, line in enumerate(lines) if line.startswith("· ")]
    assert len(steps) == 5 and all(lines[i + 1].startswith("  完成，用时 ") and lines[i + 1].endswith(" 秒") for i in steps)

    assert ResponsibilityGrid.objects.count() == 53
    assert PartyOrganization.objects.filter(level="general_branch").count() == 5
    assert PartyOrganization.objects.filter(level="branch").count() == 23
    assert PartyOrganization.objects.filter(level="group").count() == 55
    assert Person.objects.filter(is_party_member=True).count() == 501
    # Every party member holds a grid role in a grid or on a segment, or a centre post.
    idle = Person.objects.filter(is_party_member=True, roles__isnull=True)
    assert not idle.exists()
    # All seven grid roles are held, and every grid has each of them.
    for role in GRID_ROLES:
        holders = RoleAssignment.objects.filter(role=role)
        assert holders.exists(), role
        assert holders.exclude(grid=None).values("grid").distinct().count() == 53, role
    for post in (Role.INTAKE_OPERATOR, Role.SHIFT_LEAD, Role.DISPATCHER, Role.DISTRICT_DISPATCHER, Role.LEADER, Role.UNIT_HANDLER):
        assert RoleAssignment.objects.filter(role=post).exists(), post
    # Unit grids tile each responsibility grid and carry valid 15-digit codes under their community.
    for ug in UnitGrid.objects.select_related("community")[:200]:
        assert len(ug.code) == 15 and ug.code.startswith(ug.community.code)
    assert all(9000 < a < 11000 for a in UnitGrid.objects.values_list("area_m2", flat=True))
    # Branches own road segments (支部在路段), groups own grids.
    assert all(b.road_segments.exists() for b in PartyOrganization.objects.filter(level="branch"))
    assert RoadSegment.objects.filter(party_organizations__level="branch").distinct().count() == RoadSegment.objects.count()
    # Bureau units and district units for two-level command, with territorial fallbacks.
    assert Unit.objects.filter(command_level="district").exists() and Unit.objects.filter(is_territorial=True).count() >= 4

    # The responsibility list: the document's 5/54 events and 6/85 components, each class with a rule.
    from urbangrid.catalog.models import CatalogClass, Component, ResponsibilityRule, validate_component_identifier

    events = CatalogClass.objects.filter(version__code="local-demo", kind="event")
    components = CatalogClass.objects.filter(version__code="cjt214-2007", kind="component")
    assert (events.values("major_code").distinct().count(), events.count()) == (5, 54)
    assert (components.values("major_code").distinct().count(), components.count()) == (6, 85)
    for cls in list(events) + list(components):
        assert ResponsibilityRule.objects.filter(catalog_class=cls, region=None, filing_condition="").exists(), cls
    assert ResponsibilityRule.objects.exclude(filing_condition="").exists()
    assert ResponsibilityRule.objects.filter(region__level="district", unit__command_level="district").exists()
    assert Component.objects.count() == 2 * UnitGrid.objects.count()
    for comp in Component.objects.select_related("catalog_class__version", "unit_grid")[:300]:
        validate_component_identifier(comp.identifier, comp.catalog_class)
        assert comp.unit_grid.shape.covers(__import__("shapely").Point(comp.lon, comp.lat))

    written = json.loads(path.read_text(encoding="utf-8"))
    for role in ("grid_leader", "inspector", "assessor", "intake_operator", "shift_lead", "dispatcher",
                 "district_dispatcher", "leader", "unit_handler", "admin"):
        assert set(written[role]) >= {"username", "password"}, role
    accounts = {k: v for k, v in written.items() if isinstance(v, dict)}
    assert len({v["username"] for v in accounts.values()}) == len(accounts)
    assert len(written["open311_api_key"]) >= 20  # the demo's Open311 key

    before, gazetteer = _snapshot(), _gazetteer()
    build_demo(seed=11, log=lambda m: None)
    assert _snapshot() == before
    assert _gazetteer() == gazetteer  # rebuilt (new rows), the same content
    assert json.loads(path.read_text(encoding="utf-8")) == written


@pytest.mark.django_db
def test_demo_logins_log_in_to_distinct_roles(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    _, logins, _ = build_demo(seed=3, log=lambda m: None)
    for role in ("inspector", "dispatcher", "unit_handler"):
        assert client.login(username=logins[role]["username"], password=logins[role]["password"])
        person = Person.objects.get(user__username=logins[role]["username"])
        assert person.roles.filter(role=role).exists()
        client.logout()
    assert not client.login(username=logins["inspector"]["username"], password="wrong-password")
