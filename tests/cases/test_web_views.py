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


# --- unit workbench: 签收 and 转交/指派 --------------------------------------------------------------

def teammate(username="handler2", unit_code=None):
    """Another 处置人员 of the demo unit_handler's unit (or of ``unit_code``), with a login."""
    from urbangrid.org.models import Person, Unit

    unit = Unit.objects.get(code=unit_code or handler_unit())
    user = get_user_model().objects.create_user(username, password="x")
    person = Person.objects.create(name=f"队员{username}", employee_no=f"T-{username}", user=user, unit=unit)
    RoleAssignment.objects.create(person=person, role="unit_handler", unit=unit)
    return person


def test_unit_handler_signs_for_a_task_and_hands_it_to_a_teammate(demo_city):
    from urbangrid.cases.models import CaseEvent

    case = new_case(until="dispatch")
    mate = teammate()
    c = client("unit_handler")
    bench = c.get("/unit/").content.decode()
    assert f'data-accept-task="{case.number}"' in bench
    r = c.post(f"/cases/{case.number}/act/accept_task/", {"expected_version": case.version, "next": "/unit/"})
    assert r.status_code == 302 and r["Location"] == "/unit/"
    signed = Case.objects.get(pk=case.pk)
    me = get_user_model().objects.get(username="unit_handler").person
    assert signed.current_person == me and signed.state == "handling"
    assert signed.stage_deadline == case.stage_deadline and signed.stage == case.stage  # no clock change
    mine = c.get("/unit/?tab=mine").content.decode()
    assert f'data-number="{case.number}"' in mine and 'data-mine="1"' in mine
    # Signed once: a second 签收 is refused, and the case page no longer offers it.
    again = c.post(f"/cases/{case.number}/act/accept_task/", {})
    assert again.status_code == 409
    page = c.get(f"/cases/{case.number}/").content.decode()
    assert 'class="action-form" data-action="accept_task"' not in page and 'class="action-form" data-action="assign"' in page
    assert f'<option value="{mate.employee_no}">' in page  # the team's handlers are the choices
    r = c.post(f"/cases/{case.number}/act/assign/", {"person": mate.employee_no, "opinion": "请你去现场"})
    assert r.status_code == 302
    handed = Case.objects.get(pk=case.pk)
    assert handed.current_person == mate and handed.state == "handling" and handed.stage_deadline == case.stage_deadline
    event = CaseEvent.objects.filter(case=case, action="assign").get()
    assert event.data["person"] == mate.employee_no and event.note == "请你去现场" and event.unit.code == handler_unit()
    # The teammate sees it among his tasks, first.
    rows = client("handler2").get("/unit/").content.decode()
    assert rows.index(f'data-number="{case.number}"') < rows.index("</tbody>")
    assert f'data-number="{case.number}"' in client("handler2").get("/unit/?tab=mine").content.decode()
    assert f'data-number="{case.number}"' not in c.get("/unit/?tab=mine").content.decode()


def test_assign_refuses_a_person_outside_the_unit_with_a_field_error(demo_city):
    case = new_case(until="dispatch")
    outsider = teammate("outsider", unit_code="CGJ-GS" if handler_unit() != "CGJ-GS" else "CGJ-RQ")
    c = client("unit_handler")
    for person, status in ((outsider.employee_no, 422), ("", 422), ("NO-SUCH", 422)):
        r = c.post(f"/api/v1/cases/{case.number}/actions/assign", {"person": person})
        assert r.status_code == status and "person" in r.json()["fields"], (person, r.json())
    page = c.post(f"/cases/{case.number}/act/assign/", {"person": outsider.employee_no, "opinion": "留着"})
    assert page.status_code == 422 and 'id="assign-person-error"' in page.content.decode() and "留着" in page.content.decode()
    assert Case.objects.get(pk=case.pk).version == case.version and Case.objects.get(pk=case.pk).current_person is None
    # Through the API the same action succeeds with a member, and the case's person is set.
    me = get_user_model().objects.get(username="unit_handler").person
    ok = c.post(f"/api/v1/cases/{case.number}/actions/assign", {"person": me.employee_no, "expected_version": case.version})
    assert ok.status_code == 200 and Case.objects.get(pk=case.pk).current_person == me
    # Not while the case is elsewhere in the loop.
    early = new_case(until="file")
    assert client("dispatcher").post(f"/api/v1/cases/{early.number}/actions/assign", {"person": me.employee_no}).status_code == 403


def test_my_tasks_come_first_on_the_unit_bench(demo_city):
    import re

    first, second = new_case(until="dispatch"), new_case(until="dispatch")
    me = get_user_model().objects.get(username="unit_handler").person
    services.transition(actor("unit_handler"), second.number, "assign", {"person": me.employee_no})
    numbers = re.findall(r'<tr data-number="([^"]+)"', client("unit_handler").get("/unit/").content.decode())
    assert numbers.index(second.number) < numbers.index(first.number)
    assert numbers[0] == second.number or Case.objects.get(number=numbers[0]).current_person == me


# --- supervision centre: duplicates inline, merge in one click ------------------------------------

def test_centre_intake_suggests_duplicates_and_merges_in_one_click(demo_city):
    master, dup = new_case(), new_case()
    c = client("intake_operator")
    bench = c.get("/centre/?q=" + dup.number).content.decode()
    assert f'data-merge="{dup.number}" data-master="{master.number}"' in bench
    r = c.post(f"/cases/{dup.number}/act/merge/", {"master": master.number, "expected_version": dup.version, "next": "/centre/"})
    assert r.status_code == 302 and r["Location"] == "/centre/"
    merged = Case.objects.get(pk=dup.pk)
    assert merged.state == "merged" and merged.duplicate_of_id == master.pk
    # The merged case leaves the queue and is no longer offered as a master.
    after = c.get("/centre/").content.decode()
    assert f'data-number="{dup.number}"' not in after and f'data-master="{dup.number}"' not in after


def test_filing_page_suggests_duplicates_and_the_reporter_follows_the_master(demo_city):
    first, second, third = new_case(until="accept"), new_case(until="accept"), new_case()
    lead = client("shift_lead")
    page = lead.get(f"/cases/{second.number}/").content.decode()
    assert 'id="duplicates"' in page and f'data-master="{first.number}"' in page and 'data-action="file"' in page
    assert lead.post(f"/cases/{second.number}/act/merge/", {"master": first.number}).status_code == 302
    # third → second is refused (second is merged, not open); third → first works.
    assert lead.post(f"/cases/{third.number}/act/merge/", {"master": second.number}).status_code == 422
    assert lead.post(f"/cases/{third.number}/act/merge/", {"master": first.number}).status_code == 302
    services.transition(actor("shift_lead"), first.number, "file")
    for case in (second, third):
        track = Client().get(f"/track/{case.tracking_code}/").content.decode()
        assert "已立案" in track, case.number  # the master's status, not "merged"


def test_intake_sorting_by_report_time(demo_city):
    import re

    cases = [new_case() for _ in range(3)]
    c = client("intake_operator")
    oldest = re.findall(r'<tr data-number="([^"]+)"', c.get("/centre/", {"sort": "reported"}).content.decode())
    newest = re.findall(r'<tr data-number="([^"]+)"', c.get("/centre/", {"sort": "-reported"}).content.decode())
    mine = [x.number for x in cases]
    assert [n for n in oldest if n in mine] == mine and [n for n in newest if n in mine] == mine[::-1]


def test_a_reporter_follows_the_master_through_a_chain_of_merges(demo_city):
    a, b, c = new_case(), new_case(), new_case(until="accept")
    operator = client("intake_operator")
    assert operator.post(f"/cases/{a.number}/act/merge/", {"master": b.number}).status_code == 302
    assert operator.post(f"/cases/{b.number}/act/merge/", {"master": c.number}).status_code == 302  # the master itself merged on
    services.transition(actor("shift_lead"), c.number, "file")
    track = Client().get(f"/track/{a.tracking_code}/").content.decode()
    assert "已立案" in track  # c's status, not b's "merged"


def test_centre_answers_a_dissatisfied_callback_from_the_case_page(demo_city):
    """A closed case rated dissatisfied offers 重新派遣 and 维持结案 to the intake operator; keeping the closure
    takes a reason, leaves the case closed and takes it off the centre's to-do list."""
    case = new_case(until="dispatch")
    services.transition(actor("unit_handler"), case.number, "feed_back", {"opinion": "已修复"}, photos=[photo()])
    services.transition(actor("intake_operator"), case.number, "send_check")
    services.transition(actor("inspector"), case.number, "check_pass", {"opinion": "好"}, photos=[photo()])
    services.transition(actor("shift_lead"), case.number, "close")
    services.transition(actor("intake_operator"), case.number, "callback", {"satisfaction": "dissatisfied"})
    c = client("intake_operator")
    page = c.get(f"/cases/{case.number}/").content.decode()
    assert 'id="reopen-reason"' in page and 'id="keep_closed-reason"' in page  # the two forms
    assert case.number in c.get("/centre/").content.decode()
    missing = c.post(f"/cases/{case.number}/act/keep_closed/", {})
    assert missing.status_code == 422 and 'id="keep_closed-reason-error"' in missing.content.decode()
    ok = c.post(f"/cases/{case.number}/act/keep_closed/", {"reason": "诉求超出城市管理职责，已解释"})
    assert ok.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.satisfaction, case.kept_closed) == ("closed", "dissatisfied", True)
    after = c.get(f"/cases/{case.number}/").content.decode()
    assert 'id="keep_closed-reason"' not in after and 'id="reopen-reason"' not in after
    assert "诉求超出城市管理职责，已解释" in after
    assert case.number not in c.get("/centre/").content.decode()


def test_case_page_names_its_places_its_master_and_its_sub_centre(demo_city):
    """The case page's header: district, street and community names, the responsibility grid's code, the case a
    merged one went to, the district sub-centre handling it; read by one query that joins only the small rows it
    shows whole (a join of all the case's relations cost PostgreSQL's planner 25-45 ms per page)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    master, dup = new_case(until="file", code="0102"), new_case()
    services.transition(actor("intake_operator"), dup.number, "merge", {"master": master.number})
    services.transition(actor("dispatcher"), master.number, "dispatch", {"district": "349902"})
    master = Case.objects.select_related("district", "street", "community", "responsibility_grid",
                                         "district_centre").get(pk=master.pk)
    leader = client("leader")
    with CaptureQueriesContext(connection) as queries:
        page = leader.get(f"/cases/{master.number}/").content.decode()
    # read now: the captured list is a view of the connection's log, which the next request empties
    case_reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and '"ref_district_centre_name"' in q["sql"]]
    assert master.district_centre is not None and master.community is not None
    location = page.split("责任网格")[0].rsplit("<dd>", 1)[1]
    for region in (master.district, master.street, master.community):
        assert region.name in location
    assert f"责任网格 {master.responsibility_grid.code}" in page and f"二级派遣：{master.district_centre.name}" in page
    merged = leader.get(f"/cases/{dup.number}/").content.decode()
    assert f'<a href="/cases/{master.number}/">{master.number}</a>' in merged
    assert case_reads and all(q.count(" JOIN ") <= 4 for q in case_reads), case_reads
