"""The case loop's web pages (workbenches and the case page) on the demo city, through the test client."""
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from urbangrid.cases import services
from urbangrid.cases.models import Case
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.models import RoleAssignment
from urbangrid.org.scope import actor_for

from ug_testing import jpeg, login_client

pytestmark = pytest.mark.django_db
INSIDE_WG01 = (117.2352, 31.8785)
BENCHES = {"/centre/": "intake_operator", "/command/": "dispatcher", "/district/": "district_dispatcher",
           "/unit/": "unit_handler", "/cases/": "leader"}


def actor(username):
    return actor_for(get_user_model().objects.get(username=username))


def client(username):
    return login_client(Client(), username)


def handler_unit():
    return RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code


def photo():
    return SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")


def new_case(until=None, code="0401"):
    """A case reported in WG01 by the demo inspector, taken through the loop up to (and including) ``until``."""
    cls = CatalogClass.objects.get(version__code="local-demo", code=code)
    case, _ = services.report(actor("inspector"), catalog_class=cls, lon=INSIDE_WG01[0], lat=INSIDE_WG01[1],
                              description="路面塌陷", source="inspector", photos=[photo()])
    steps = [("accept", "intake_operator", {}), ("file", "shift_lead", {}),
             ("dispatch", "dispatcher", {"unit": handler_unit()})]
    for action, who, inputs in steps:
        if until is None:
            break
        services.transition(actor(who), case.number, action, inputs)
        if action == until:
            break
    return Case.objects.get(pk=case.pk)


@pytest.mark.parametrize("url,username", BENCHES.items())
def test_each_workbench_renders_for_its_role(demo_city, url, username):
    r = client(username).get(url)
    assert r.status_code == 200
    assert 'id="bench-table"' in r.content.decode()
    partial = client(username).get(url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and "<html" not in partial.content.decode() and "<table" in partial.content.decode()


@pytest.mark.parametrize("url,username", [("/centre/", "unit_handler"), ("/command/", "intake_operator"),
                                          ("/district/", "dispatcher"), ("/unit/", "shift_lead"), ("/cases/", "assessor")])
def test_workbench_refused_without_permission(demo_city, url, username):
    assert client(username).get(url).status_code == 403


def test_anonymous_is_sent_to_login(demo_city):
    r = Client().get("/centre/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_case_page_shows_only_allowed_actions(demo_city):
    case = new_case()
    page = client("intake_operator").get(f"/cases/{case.number}/").content.decode()
    assert 'data-action="accept"' in page and 'data-action="not_file"' in page
    assert 'data-action="file"' not in page and 'data-action="dispatch"' not in page
    lead = client("shift_lead").get(f"/cases/{case.number}/").content.decode()
    assert 'data-action="accept"' not in lead and 'data-action="not_file"' in lead and 'data-action="void"' in lead
    inspector = client("inspector").get(f"/cases/{case.number}/")
    assert inspector.status_code == 200 and 'id="no-actions"' in inspector.content.decode()
    assert 'id="case-map"' in page and "/cases/photos/" in page  # the map and the before-photo


def test_dispatch_form_is_prefilled_from_the_responsibility_list(demo_city):
    case = new_case(until="file")
    page = client("dispatcher").get(f"/cases/{case.number}/").content.decode()
    assert '<option value="CGJ-SZ" selected>' in page and "路面塌陷" in page


def test_missing_input_rerenders_with_field_error_and_keeps_input(demo_city):
    case = new_case(until="dispatch")
    c = client("unit_handler")
    r = c.post(f"/cases/{case.number}/act/feed_back/", {"opinion": "已回填修复，待核查", "expected_version": case.version})
    assert r.status_code == 422
    body = r.content.decode()
    assert 'id="feed_back-photos-error"' in body and "已回填修复，待核查" in body
    assert Case.objects.get(pk=case.pk).state == "handling"
    ok = c.post(f"/cases/{case.number}/act/feed_back/", {"opinion": "已修复", "photos": [photo()], "expected_version": case.version})
    assert ok.status_code == 302 and ok["Location"] == f"/cases/{case.number}/"
    assert Case.objects.get(pk=case.pk).state == "fed_back"
    assert "已完成" in c.get(ok["Location"]).content.decode()


def test_wrong_state_and_stale_version_show_the_conflict(demo_city):
    case = new_case(until="accept")
    c = client("intake_operator")
    r = c.post(f"/cases/{case.number}/act/accept/", {})
    assert r.status_code == 409 and "不能执行" in r.content.decode() and 'id="action-error"' in r.content.decode()
    stale = client("shift_lead").post(f"/cases/{case.number}/act/file/", {"expected_version": case.version - 1})
    assert stale.status_code == 409 and "已被他人更新" in stale.content.decode()


def test_out_of_scope_case_is_404(demo_city):
    case = new_case()
    c = client("unit_handler")
    assert c.get(f"/cases/{case.number}/").status_code == 404
    assert c.post(f"/cases/{case.number}/act/request_return/", {"reason": "x"}).status_code == 404
    assert c.get("/cases/19990000001/").status_code == 404


def test_one_click_dispatch_from_the_command_bench(demo_city):
    case = new_case(until="file")
    c = client("dispatcher")
    page = c.get("/command/?q=" + case.number).content.decode()
    assert f'data-dispatch="{case.number}"' in page and "按责任清单" in page
    r = c.post(f"/cases/{case.number}/act/dispatch/", {"unit": "CGJ-SZ", "expected_version": case.version, "next": "/command/"})
    assert r.status_code == 302 and r["Location"] == "/command/"
    assert Case.objects.get(pk=case.pk).current_unit.code == "CGJ-SZ"
    assert c.post(f"/cases/{case.number}/act/dispatch/", {"unit": "CGJ-SZ", "next": "https://evil.example/"}).status_code == 409


def test_filters_and_sorting(demo_city):
    case = new_case(until="file")
    c = client("leader")
    row = f'data-number="{case.number}"'
    assert row in c.get("/cases/", {"q": case.number}).content.decode()
    assert row not in c.get("/cases/", {"q": case.number, "state": "closed"}).content.decode()
    assert row in c.get("/cases/", {"q": case.number, "state": "pending_dispatch", "light": "green",
                                            "grid": "WG01", "class_code": "0401", "source": "inspector"}).content.decode()
    assert c.get("/cases/", {"date_from": "not-a-date"}).status_code == 200
    assert c.get("/cases/", {"sort": "-deadline", "page": "2"}).status_code == 200


def test_workbench_query_count_is_bounded(demo_city, django_assert_max_num_queries):
    for i in range(30):
        new_case(until=[None, "file", "dispatch"][i % 3])
    for url, username in BENCHES.items():
        c = client(username)
        c.get(url)  # warm the calendar and limits caches
        with django_assert_max_num_queries(14):
            r = c.get(url)
        assert r.status_code == 200
    assert client("unit_handler").get("/unit/").content.decode().count('data-number="') >= 10


def test_deadline_sort_nearest_first_by_default(demo_city):
    import re

    for until in (None, "accept", "file", "dispatch"):
        new_case(until=until)
    c = client("leader")

    def deadlines(**params):
        page = c.get("/cases/", params).content.decode()
        return [d for d in re.findall(r'data-deadline="([^"]*)"', page) if d]

    assert len(deadlines()) >= 4
    assert deadlines() == sorted(deadlines())
    assert deadlines(sort="-deadline") == sorted(deadlines(), reverse=True)


def test_district_level_suggestion_goes_to_the_sub_centre(demo_city):
    case = new_case(until="file", code="0102")  # 暴露垃圾 in 中山区 is the district's
    bench = client("dispatcher").get("/command/", {"q": case.number}).content.decode()
    assert 'name="district" value="349902"' in bench
    r = client("dispatcher").post(f"/cases/{case.number}/act/dispatch/", {"district": "349902", "next": "/command/"})
    assert r.status_code == 302 and Case.objects.get(pk=case.pk).state == "pending_district_dispatch"
    c = client("district_dispatcher")
    assert f'data-number="{case.number}"' in c.get("/district/").content.decode()
    page = c.get(f"/cases/{case.number}/").content.decode()
    assert 'data-action="dispatch_second"' in page and 'value="D349902-HW"' in page and 'value="D349903-HW"' not in page
    assert c.post(f"/cases/{case.number}/act/dispatch_second/", {"unit": "D349902-HW"}).status_code == 302
    assert Case.objects.get(pk=case.pk).current_unit.code == "D349902-HW"
