"""In a real browser: the centre places a 待定位 report by clicking a candidate; the dispatch form never sends a
unit and a district together; the district hands a case back to the city."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from urbangrid.cases import services
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.scope import actor_for
from urbangrid.public.open311 import keys

from .conftest import screenshot
from .test_case_loop_ui import INSIDE_WG01, desk  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def actor(username):
    return actor_for(get_user_model().objects.get(username=username))


def test_the_centre_clicks_a_candidate_to_place_a_report(desk):
    _key, raw = keys.issue("测试系统")
    r = Client().post("/open311/v2/requests.json", {"api_key": raw, "service_code": "local-demo-2026:event:21001",
                                                    "description": "路面塌陷", "address_string": "长江路"})
    number = r.json()[0]["service_request_id"]
    assert Case.objects.get(number=number).state == "unlocated"
    centre = desk("intake_operator")
    centre.goto(f"{desk.base}/centre/")
    centre.click(f"tr[data-number='{number}'] a")
    centre.wait_for_selector("#case-map[data-ready='1'][data-unlocated='1']")
    assert centre.inner_text("#locating-address") == "长江路"
    first = centre.locator("#candidates li").first
    label = first.get_attribute("data-label")
    # a click on the map fills the 定位 form's point; a candidate's button places the case at once
    centre.click("#case-map", position={"x": 100, "y": 100})
    assert "," in centre.locator("#locate-point").input_value()
    screenshot(centre, "case-unlocated-zh")
    first.locator("button[data-candidate]").click()
    centre.wait_for_selector("[data-state=reported]")
    assert "已完成" in centre.inner_text(".messages")
    case = Case.objects.get(number=number)
    assert case.state == "reported" and case.unit_grid_id is not None and case.lon is not None
    e = CaseEvent.objects.filter(case=case).order_by("-seq").first()
    assert e.action == "locate" and e.data["candidate"] == label
    assert centre.locator("#timeline li[data-action=locate]").count() == 1


def district_case():
    cls = CatalogClass.objects.get(version__code="local-demo", code="0102")  # 暴露垃圾 in 中山区: the district's
    case, _ = services.report(actor("inspector"), catalog_class=cls, lon=INSIDE_WG01[0], lat=INSIDE_WG01[1],
                              description="暴露垃圾", source="inspector", require_photos=False)
    services.transition(actor("intake_operator"), case.number, "accept", {})
    services.transition(actor("shift_lead"), case.number, "file", {})
    return case.number


def test_dispatch_form_sends_a_unit_or_a_district_and_the_district_hands_back(desk):
    number = district_case()
    dispatcher = desk("dispatcher")
    dispatcher.goto(f"{desk.base}/cases/{number}/")
    assert dispatcher.locator("#dispatch-district").input_value() == "349902"  # the suggestion
    dispatcher.select_option("#dispatch-unit", "CGJ-SZ")
    assert dispatcher.locator("#dispatch-district").input_value() == ""  # choosing a unit clears the district
    dispatcher.select_option("#dispatch-district", "349902")
    assert dispatcher.locator("#dispatch-unit").input_value() == ""  # and the other way round
    dispatcher.click("form[data-action=dispatch] button[type=submit]")
    dispatcher.wait_for_selector("[data-state=pending_district_dispatch]")
    page = desk.act("district_dispatcher", number, "hand_back", {"reason": "该路段属邻区管辖"}, expect="pending_dispatch")
    screenshot(page, "case-handed-back-zh")
    case = Case.objects.get(number=number)
    assert case.state == "pending_dispatch" and case.district_centre_id is None and case.stage == "dispatch"
