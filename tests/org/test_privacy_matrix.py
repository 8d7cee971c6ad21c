"""Personal data by need (docs/security-access.md): every demo role × staff phones (persons API, grid page, 六定
card and its print) and × case details and photos, through real HTTP requests on the demo city.

The rules under test live in one place each: ``org/privacy.py`` (phones) and ``cases/services.visible_cases`` /
``can_see`` (cases, their photos and timeline). The matrices below are the documented ones."""
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from urbangrid.cases import services
from urbangrid.cases.models import Case, CasePhoto
from urbangrid.catalog.models import CatalogClass
from urbangrid.grids.models import ResponsibilityGrid
from urbangrid.org.models import Person, RoleAssignment
from urbangrid.org.roles import GRID_ROLES, Role
from urbangrid.org.scope import actor_for

from ug_testing import jpeg, settle_constraints

pytestmark = pytest.mark.django_db

ROLES = ["grid_leader", "deputy_grid_leader", "sub_grid_leader", "grid_liaison", "grid_officer", "inspector", "assessor",
         "intake_operator", "shift_lead", "dispatcher", "district_dispatcher", "leader", "unit_handler", "admin"]
GRID_ROLE_LOGINS = {"grid_leader", "deputy_grid_leader", "sub_grid_leader", "grid_liaison", "grid_officer", "inspector", "assessor"}
CITY_WIDE = {"intake_operator", "shift_lead", "dispatcher", "leader", "admin"}
HOME_DISTRICT = "349902"  # the district of the demo district_dispatcher, and of WG01
INSIDE_WG01 = (117.2352, 31.8785)

# Whose phone each role reads, besides his own. The people (picked in ``world``, none of them a login):
#   in_grid: a grid officer of WG01, the grid every grid-role login holds a role in;
#   far_grid: a grid officer of a grid outside the home district that no login holds a role in;
#   centre: a dispatcher of the command centre (no grid role, unit: the centre);
#   district_unit: a handler of a district unit of the home district.
ALL = {"in_grid", "far_grid", "centre", "district_unit"}
PHONES = {role: ALL for role in CITY_WIDE} | {
    "grid_leader": {"in_grid"},  # leads WG01
    "deputy_grid_leader": {"in_grid"},
    "district_dispatcher": {"in_grid", "district_unit"},  # his district's grids and the units he dispatches to
    # sub-grid leader, liaison, grid officer, inspector, assessor, unit handler: only their own number
}
# Roles that may open a case in WG01 handled by the unit_handler's unit: everyone with case.view there. The
# assessor holds WG01 without case.view: he opens only the cases he reported himself.
NO_CASE_VIEW = {"assessor"}


def _upload():
    return SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")


def _one_person(**filters):
    return (Person.objects.filter(user__isnull=True, active=True).filter(**filters).exclude(phone="")
            .order_by("employee_no").first())


@pytest.fixture(scope="module")
def world(demo_city, django_db_blocker):
    with django_db_blocker.unblock():
        User = get_user_model()
        users = {r: User.objects.get(username=r) for r in ROLES}
        actors = {r: actor_for(u) for r, u in users.items()}
        login_grids = set(RoleAssignment.objects.filter(person__user__username__in=GRID_ROLE_LOGINS, role__in=GRID_ROLES,
                                                        grid__isnull=False).values_list("grid__code", flat=True))
        assert "WG01" in login_grids
        district = RoleAssignment.objects.get(person__user__username="district_dispatcher").region.code
        assert district == HOME_DISTRICT
        wg01 = ResponsibilityGrid.objects.get(code="WG01")
        assert wg01.region.parent.parent.code == HOME_DISTRICT
        far = (ResponsibilityGrid.objects.exclude(code__in=login_grids).exclude(region__parent__parent__code=HOME_DISTRICT)
               .order_by("code").first())
        people = {
            "in_grid": _one_person(roles__role=Role.GRID_OFFICER, roles__grid=wg01),
            # a bureau unit (no region of the home district) and no role in any login's grid
            "far_grid": _one_person(roles__role=Role.GRID_OFFICER, roles__grid=far, unit__command_level="city"),
            "centre": _one_person(roles__role=Role.DISPATCHER),
            "district_unit": _one_person(roles__role=Role.UNIT_HANDLER, roles__unit__code=f"D{HOME_DISTRICT}-HW",
                                         unit__code=f"D{HOME_DISTRICT}-HW"),
        }
        assert all(people.values()), people
        assert not RoleAssignment.objects.filter(person=people["far_grid"], grid__code__in=login_grids).exists()
        assert not RoleAssignment.objects.filter(person=people["centre"], grid__isnull=False).exists()
        cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
        # A: reported by the inspector in WG01 with a photo, dispatched to the unit_handler's unit.
        case_a, _ = services.report(actors["inspector"], catalog_class=cls, lon=INSIDE_WG01[0], lat=INSIDE_WG01[1],
                                    description="井盖缺失", source="inspector", photos=[_upload()])
        unit = RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code
        services.transition(actors["intake_operator"], case_a.number, "accept")
        services.transition(actors["shift_lead"], case_a.number, "file")
        services.transition(actors["dispatcher"], case_a.number, "dispatch", {"unit": unit})
        # M: the assessor's own report (what a deduction with "report as a case" opens), with a photo.
        case_m, _ = services.report(actors["assessor"], catalog_class=cls, lon=INSIDE_WG01[0] + 0.0003, lat=INSIDE_WG01[1],
                                    description="占道堆放", source="public_app", photos=[_upload()])
        settle_constraints()
        yield {
            "users": users, "people": people, "far": far.code, "A": case_a.number, "M": case_m.number,
            "photo_A": CasePhoto.objects.filter(case=case_a).values_list("pk", flat=True).first(),
            "photo_M": CasePhoto.objects.filter(case=case_m).values_list("pk", flat=True).first(),
        }


def _client(world, role):
    c = Client()
    c.force_login(world["users"][role])
    return c


def _api_phone(c, person):
    items = c.get(f"/api/v1/persons?q={person.employee_no}").json()["items"]
    (item,) = [i for i in items if i["employee_no"] == person.employee_no]
    return item["phone"]


def test_staff_phones_in_the_api_follow_the_matrix(world):
    wrong = []
    for role in ROLES:
        c = _client(world, role)
        for key, person in world["people"].items():
            shown = _api_phone(c, person)
            expected = person.phone if key in PHONES.get(role, set()) else None
            if shown != expected:
                wrong.append((role, key, shown, expected))
        me = getattr(world["users"][role], "person", None)
        if me is not None and _api_phone(c, me) != me.phone:  # everyone reads his own number
            wrong.append((role, "self"))
        # The grid's list: no phone of a person the rule does not open, whoever asks.
        listed = c.get("/api/v1/persons?grid=WG01&limit=1000").json()["items"]
        if role not in PHONES:
            leaks = [p["employee_no"] for p in listed if p["phone"] is not None and (me is None or p["employee_no"] != me.employee_no)]
            if leaks:
                wrong.append((role, "grid list", leaks))
    assert not wrong, wrong


def test_staff_phones_on_grid_pages_follow_the_matrix(world):
    """The grid page, the 六定 card and its A4 print show a phone only where the rule opens it; where one is held
    back the page says so."""
    in_grid, far_grid = world["people"]["in_grid"], world["people"]["far_grid"]
    pages = [("/grids/WG01/", in_grid, "in_grid"), ("/grids/WG01/card/", in_grid, "in_grid"),
             ("/grids/WG01/card/print/", in_grid, "in_grid"), (f"/grids/{world['far']}/card/", far_grid, "far_grid")]
    wrong = []
    for role in ROLES:
        c = _client(world, role)
        for url, person, key in pages:
            r = c.get(url)
            assert r.status_code == 200, (role, url)
            html = r.content.decode()
            assert person.name in html, (role, url)  # the person is listed, with or without his number
            expected = key in PHONES.get(role, set())
            if (person.phone in html) != expected:
                wrong.append((role, url, "phone shown" if not expected else "phone missing"))
            if ("data-phones-hidden" in html) == expected:
                wrong.append((role, url, "note"))
        # Nobody but the city-wide posts sees the command centre dispatcher's number anywhere on the grid pages.
        if role not in CITY_WIDE:
            for url, _person, _key in pages:
                if world["people"]["centre"].phone in c.get(url).content.decode():
                    wrong.append((role, url, "centre"))
    assert not wrong, wrong


def test_case_detail_and_photos_only_with_case_view(world):
    """Case A (WG01, the unit_handler's unit): every role with case.view there opens it and its photo; the assessor,
    who holds WG01 without case.view, gets 404 on the API, the case page, the photo, the suggestion and the
    inspector app's task, as for a case that does not exist. His own report he opens, with its photo."""
    a, photo_a = world["A"], world["photo_A"]
    urls = [f"/api/v1/cases/{a}", f"/cases/{a}/", f"/cases/photos/{photo_a}", f"/api/v1/cases/{a}/dispatch-suggestion",
            f"/api/v1/cases/{a}/similar"]
    wrong = []
    for role in ROLES:
        c = _client(world, role)
        expected = 404 if role in NO_CASE_VIEW else 200
        for url in urls:
            status = c.get(url).status_code
            if status != expected:
                wrong.append((role, url, status))
    assessor = _client(world, "assessor")
    assert assessor.get(f"/m/tasks/{a}/").content.decode().count(a) == 0
    assert assessor.post(f"/api/v1/cases/{a}/actions/supervise", {"opinion": "x"}).status_code == 404
    assert not wrong, wrong
    m = world["M"]
    detail = assessor.get(f"/api/v1/cases/{m}")
    assert detail.status_code == 200 and detail.json()["photos"]
    assert assessor.get(f"/cases/photos/{world['photo_M']}").status_code == 200


def test_assessor_lists_show_no_cases_or_photos_beyond_his_own(world):
    """Lists (the cases API, the to-do list, the grid page's open cases) give the assessor only what he reported:
    no number, no photo of a case in his grids he may not open. An inspector of WG01 sees case A there."""
    a, m, photo_a = world["A"], world["M"], world["photo_A"]
    c = _client(world, "assessor")
    listed = {x["number"] for x in c.get("/api/v1/cases?limit=500").json()["items"]}
    assert a not in listed and m in listed
    assert all(Case.objects.get(number=n).reporter_id == world["users"]["assessor"].person.pk for n in listed)
    todo = json.dumps(c.get("/api/v1/cases/todo?limit=500").json())
    assert a not in todo and f"/cases/photos/{photo_a}" not in todo
    page = c.get("/grids/WG01/").content.decode()
    assert a not in page and f"/cases/photos/{photo_a}" not in page
    inspector = _client(world, "inspector").get("/grids/WG01/").content.decode()
    assert a in inspector


def test_case_scope_follows_the_role_that_grants_case_view(world):
    """Scope is per role: the assessor given an inspector post in a far grid sees that grid's cases and still none
    of WG01's, where he is only assessor; the grid of a role without person.phone opens no phone."""
    user = world["users"]["assessor"]
    far = ResponsibilityGrid.objects.get(code=world["far"])
    RoleAssignment.objects.create(person=user.person, role=Role.INSPECTOR, grid=far)
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    point = far.shape.representative_point()
    case_far, _ = services.report(actor_for(get_user_model().objects.get(username="leader")), catalog_class=cls,
                                  lon=point.x, lat=point.y, description="far", source="leader", require_photos=False)
    actor = actor_for(user)
    assert services.can_see(actor, Case.objects.get(number=case_far.number))
    assert not services.can_see(actor, Case.objects.get(number=world["A"]))
    numbers = set(services.visible_cases(actor).values_list("number", flat=True))
    assert case_far.number in numbers and world["A"] not in numbers
    c = _client(world, "assessor")
    assert c.get(f"/api/v1/cases/{world['A']}").status_code == 404
    assert c.get(f"/api/v1/cases/{case_far.number}").status_code == 200
    assert _api_phone(c, world["people"]["far_grid"]) is None  # an inspector post opens no phone
