"""Authorization matrix: every demo role × the API endpoints, pages and transitions × a case inside and a
case outside the role's scope, each with the expected answer. Out of scope answers 404 (no existence
leak); anonymous access only where public."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from urbangrid.cases import services
from urbangrid.cases.models import Case
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.models import RoleAssignment
from urbangrid.org.roles import GRID_ROLES
from urbangrid.org.scope import actor_for

from ug_testing import settle_constraints

pytestmark = pytest.mark.django_db

ROLES = ["grid_leader", "deputy_grid_leader", "sub_grid_leader", "grid_liaison", "grid_officer", "inspector", "assessor",
         "intake_operator", "shift_lead", "dispatcher", "district_dispatcher", "leader", "unit_handler", "admin"]
CITY_WIDE = {"intake_operator", "shift_lead", "dispatcher", "leader", "admin"}
GRID_ROLE_LOGINS = {"grid_leader", "deputy_grid_leader", "sub_grid_leader", "grid_liaison", "grid_officer", "inspector", "assessor"}

# (method, url, {role: expected status}, expected for everyone else, anonymous)
REFERENCE = [
    ("get", "/api/v1/grids", {}, 200, 401),
    ("get", "/api/v1/regions", {}, 200, 401),
    ("get", "/api/v1/units", {}, 200, 401),
    ("get", "/api/v1/persons", {}, 200, 401),
    ("get", "/api/v1/catalog/classes?version=local-demo", {}, 200, 401),
    ("get", "/api/v1/catalog/recount", {"leader": 200, "admin": 200}, 403, 401),  # 跨版本统计: the dashboard's readers
    ("get", "/api/v1/cases", {}, 200, 401),
    ("get", "/api/v1/cases/todo", {}, 200, 401),
    ("get", "/healthz", {}, 200, 200),
    ("get", "/public/", {}, 200, 200),
    ("get", "/report/WG01/", {}, 200, 200),
]
PAGES = [  # page: roles allowed (200); others 403; anonymous → login (302)
    # The administrator manages reference data and reads the dashboard; he works no queue of the loop.
    ("/centre/", {"intake_operator", "shift_lead"}),
    ("/command/", {"dispatcher"}),
    ("/district/", {"district_dispatcher"}),
    ("/unit/", {"unit_handler", "sub_grid_leader", "grid_officer"}),
    ("/dashboard/", {"leader", "admin"}),
    ("/catalog/recount/", {"leader", "admin"}),
    ("/grids/", set(ROLES)),
    # The province's pages: the Django permission province.view_provincecity (the superuser "admin" holds it).
    ("/province/", {"admin"}),
    ("/province/evaluation/", {"admin"}),
]


@pytest.fixture(scope="module")
def world(demo_city, django_db_blocker):
    """Case A inside the grid-role logins' grids (WG01) and handled by the unit_handler's unit; case B in a
    grid none of the grid-role logins hold, handled by another unit."""
    with django_db_blocker.unblock():
        User = get_user_model()
        users = {r: User.objects.get(username=r) for r in ROLES}
        actors = {r: actor_for(u) for r, u in users.items()}
        login_grids = set(RoleAssignment.objects.filter(person__user__username__in=GRID_ROLE_LOGINS, role__in=GRID_ROLES,
                                                        grid__isnull=False).values_list("grid__code", flat=True))
        handler_unit = RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code
        cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
        from urbangrid.grids.models import ResponsibilityGrid

        far = ResponsibilityGrid.objects.exclude(code__in=login_grids).exclude(region__parent__parent__code="349902").order_by("code").first()
        point_b = far.shape.representative_point()
        case_a, _ = services.report(actors["inspector"], catalog_class=cls, lon=117.2352, lat=31.8785, description="A",
                                    source="inspector", require_photos=False)
        case_b, _ = services.report(actors["leader"], catalog_class=cls, lon=point_b.x, lat=point_b.y, description="B",
                                    source="leader", require_photos=False)
        for case, unit in ((case_a, handler_unit), (case_b, "CGJ-GS" if handler_unit != "CGJ-GS" else "CGJ-RQ")):
            services.transition(actors["intake_operator"], case.number, "accept")
            services.transition(actors["shift_lead"], case.number, "file")
            services.transition(actors["dispatcher"], case.number, "dispatch", {"unit": unit})
        settle_constraints()
        yield {"A": case_a.number, "B": case_b.number, "users": users, "far": far.code}


def _client(world, role):
    c = Client()
    if role:
        c.force_login(world["users"][role])
    return c


# Holds grids but no case.view (考核员): sees only the cases he reported himself, not his grids' (docs/security-access.md).
NO_CASE_VIEW = {"assessor"}


def _visible(role, which, world):
    if role in CITY_WIDE:
        return True
    return which == "A" and role not in NO_CASE_VIEW


@pytest.mark.parametrize("role", ROLES + [None])
def test_reference_and_public_endpoints(world, role):
    c = _client(world, role)
    for method, url, special, default, anonymous in REFERENCE:
        expected = anonymous if role is None else special.get(role, default)
        assert getattr(c, method)(url).status_code == expected, (role, url)


@pytest.mark.parametrize("role", ROLES + [None])
def test_workbench_pages(world, role):
    c = _client(world, role)
    for url, allowed in PAGES:
        status = c.get(url).status_code
        if role is None:
            assert status == 302, url
        else:
            assert status == (200 if role in allowed else 403), (role, url, status)


@pytest.mark.parametrize("role", ROLES)
def test_case_visibility_inside_and_outside_scope(world, role):
    c = _client(world, role)
    for which in ("A", "B"):
        number = world[which]
        expected = 200 if _visible(role, which, world) else 404
        assert c.get(f"/api/v1/cases/{number}").status_code == expected, (role, which)
        assert c.get(f"/cases/{number}/").status_code == expected, (role, which, "page")
        listed = {x["number"] for x in c.get("/api/v1/cases?limit=500").json()["items"]}
        assert (number in listed) == (expected == 200), (role, which, "list")


# Transitions on a case in handling: who may take each, inside scope (case A) and outside (case B).
HANDLING_ACTIONS = {
    "accept_task": {"unit_handler"},  # 签收
    "assign": {"unit_handler"},  # 转交/指派 to a handler of the case's unit (here: himself)
    "request_extension": {"unit_handler"},
    "request_suspension": {"unit_handler"},
    "supervise": {"dispatcher", "leader", "grid_leader"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(HANDLING_ACTIONS))
def test_transitions_by_role_and_scope(world, role, action):
    c = _client(world, role)
    inputs = {"reason": "x", "opinion": "x", "extra_value": "1", "extra_unit": "working_days",
              "person": world["users"]["unit_handler"].person.employee_no}
    for which in ("A", "B"):
        number = world[which]
        before = Case.objects.get(number=number).version
        status = c.post(f"/api/v1/cases/{number}/actions/{action}", inputs).status_code
        visible = _visible(role, which, world)
        allowed = role in HANDLING_ACTIONS[action] and (which == "A" or role in CITY_WIDE)
        if role == "admin":
            allowed = False  # the administrator manages reference data; he takes no step of the loop
        if allowed:
            assert status == 200, (role, action, which, status)
        elif not visible:
            assert status == 404, (role, action, which, status)
        else:
            assert status == 403, (role, action, which, status)
        # Undo nothing: every test runs in its own transaction; a refusal changed nothing.
        if status != 200:
            assert Case.objects.get(number=number).version == before
