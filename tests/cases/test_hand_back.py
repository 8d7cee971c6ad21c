"""A dispatch names a unit or a district, never both; a district hands a case sent to it by mistake back to the
city's dispatcher (退回市级派遣), through the API and the case page."""
import pytest

from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.states import Stage, State

from test_web_views import client, new_case

pytestmark = pytest.mark.django_db


def to_district(code="0102"):
    case = new_case(until="file", code=code)  # 暴露垃圾 in 中山区 is the district's
    r = client("dispatcher").post(f"/api/v1/cases/{case.number}/actions/dispatch", {"district": "349902"})
    assert r.status_code == 200, r.content
    return Case.objects.get(pk=case.pk)


def test_a_dispatch_naming_both_a_unit_and_a_district_is_refused(demo_city):
    case = new_case(until="file", code="0102")
    before = CaseEvent.objects.filter(case=case).count()
    r = client("dispatcher").post(f"/api/v1/cases/{case.number}/actions/dispatch",
                                  {"unit": "CGJ-SZ", "district": "349902"})
    assert r.status_code == 422
    assert "district" in r.json()["fields"] and "之一" in r.json()["fields"]["district"]
    page = client("dispatcher").post(f"/cases/{case.number}/act/dispatch/", {"unit": "CGJ-SZ", "district": "349902"})
    assert page.status_code == 422 and 'id="dispatch-district-error"' in page.content.decode()
    case.refresh_from_db()
    assert case.state == State.PENDING_DISPATCH and CaseEvent.objects.filter(case=case).count() == before
    # either one alone still goes through
    assert client("dispatcher").post(f"/cases/{case.number}/act/dispatch/", {"unit": "CGJ-SZ", "district": ""}).status_code == 302
    assert Case.objects.get(pk=case.pk).current_unit.code == "CGJ-SZ"


def test_the_dispatch_form_clears_the_other_choice(demo_city):
    case = new_case(until="file", code="0102")
    page = client("dispatcher").get(f"/cases/{case.number}/").content.decode()
    assert 'name="district"' in page and "cases/case.js" in page
    from django.contrib.staticfiles import finders

    script = open(finders.find("cases/case.js"), encoding="utf-8").read()
    assert 'data-action="dispatch"' in script and 'district.value = ""' in script


def test_the_district_hands_a_case_back_through_the_api(demo_city):
    case = to_district()
    assert case.state == State.PENDING_DISTRICT_DISPATCH and case.stage == Stage.SECOND_DISPATCH
    d = client("district_dispatcher")
    detail = d.get(f"/api/v1/cases/{case.number}").json()
    assert "hand_back" in [a["action"] for a in detail["actions"]]
    r = d.post(f"/api/v1/cases/{case.number}/actions/hand_back", {})
    assert r.status_code == 422 and "reason" in r.json()["fields"]
    assert Case.objects.get(pk=case.pk).state == State.PENDING_DISTRICT_DISPATCH
    # the unit handler and the city dispatcher may not take it (it is the district's step)
    assert client("unit_handler").post(f"/api/v1/cases/{case.number}/actions/hand_back", {"reason": "x"}).status_code in (403, 404)
    assert client("dispatcher").post(f"/api/v1/cases/{case.number}/actions/hand_back", {"reason": "x"}).status_code == 403
    r = d.post(f"/api/v1/cases/{case.number}/actions/hand_back", {"reason": "该路段属邻区管辖"})
    assert r.status_code == 200, r.content
    case = Case.objects.get(pk=case.pk)
    assert case.state == State.PENDING_DISPATCH and case.stage == Stage.DISPATCH and case.district_centre_id is None
    assert case.stage_deadline is not None
    e = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert e.action == "hand_back" and e.note == "该路段属邻区管辖" and e.role == "district_dispatcher"
    assert e.data["district"] == "349902"
    assert [s["stage"] for s in e.data["stopped"]] == [Stage.SECOND_DISPATCH] and e.stage == Stage.DISPATCH
    # back on the city's dispatch bench, off the district's
    assert f'data-number="{case.number}"' in client("dispatcher").get("/command/").content.decode()
    assert f'data-number="{case.number}"' not in d.get("/district/").content.decode()


def test_the_district_hands_a_case_back_on_the_case_page(demo_city):
    case = to_district()
    d = client("district_dispatcher")
    page = d.get(f"/cases/{case.number}/").content.decode()
    assert 'data-action="hand_back"' in page and "退回市级派遣" in page
    r = d.post(f"/cases/{case.number}/act/hand_back/", {"reason": "", "expected_version": case.version})
    assert r.status_code == 422 and 'id="hand_back-reason-error"' in r.content.decode()
    r = d.post(f"/cases/{case.number}/act/hand_back/", {"reason": "不属本区", "expected_version": case.version})
    assert r.status_code == 302
    assert Case.objects.get(pk=case.pk).state == State.PENDING_DISPATCH
