"""A citizen in the browser: report from the grid's QR page, track by code, rate; dissatisfied reopens."""
import pytest
from PIL import Image

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_citizen_reports_tracks_and_rates(live_server, browser, settings, tmp_path):
    from django.contrib.auth import get_user_model

    from urbangrid.cases import services
    from urbangrid.cases.models import Case
    from demo_snapshot import build_demo
    from urbangrid.org.scope import actor_for

    settings.VAR_DIR = tmp_path
    build_demo(seed=5, log=lambda m: None)
    photo = tmp_path / "p.jpg"
    Image.new("RGB", (300, 200), (160, 120, 40)).save(photo, "JPEG")
    context = browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server.url}/report/WG01/")
    page.wait_for_selector("#pick-map .leaflet-marker-icon")  # pinned to the grid's centre
    page.get_by_label("垃圾没人清").check()
    page.fill("#id_description", "小区门口垃圾三天没人清")
    page.set_input_files("#id_photos", str(photo))
    page.click("button.primary")
    page.wait_for_load_state("load")
    if not page.query_selector("#tracking-code"):
        screenshot(page, "public-report-error")
        raise AssertionError(page.inner_text("main"))
    page.wait_for_selector("#tracking-code")
    code = page.inner_text("#tracking-code")
    screenshot(page, "public-tracking-zh")
    case = Case.objects.get(tracking_code=code)
    assert case.source == "public_web" and case.responsibility_grid.code == "WG01" and case.photos.count() == 1
    # Staff take it through the loop (self-handled path is not for the public: verify, file, dispatch…).
    users = get_user_model().objects
    a = {n: actor_for(users.get(username=n)) for n in ("intake_operator", "inspector", "shift_lead", "dispatcher")}
    services.transition(a["intake_operator"], case.number, "send_verify")
    services.transition(a["inspector"], case.number, "verify", {"opinion": "属实"}, require_photos=False)
    services.transition(a["shift_lead"], case.number, "file")
    services.transition(a["dispatcher"], case.number, "dispatch", {"unit": "CGJ-HW"})
    unit_actor = actor_for(users.get(username="unit_handler"))
    case.refresh_from_db()
    unit_actor.unit_ids.add(case.current_unit_id)  # the demo handler stands in for the sanitation unit here
    services.transition(unit_actor, case.number, "feed_back", {"opinion": "已清运"}, require_photos=False)
    services.transition(a["intake_operator"], case.number, "send_check")
    services.transition(a["inspector"], case.number, "check_pass", {"opinion": "干净了"}, require_photos=False)
    services.transition(a["shift_lead"], case.number, "close")
    page.goto(f"{live_server.url}/track/{code}/")
    assert "已办结" in page.inner_text(".status")
    page.get_by_label("不满意").check()
    page.fill("#id_comment", "又堆起来了")
    page.click("form.rate button")
    page.wait_for_load_state("load")
    case.refresh_from_db()
    assert case.state == "pending_dispatch" and case.reopen_count == 1
    assert "重新处理" in page.inner_text(".timeline")
    screenshot(page, "public-reopened-zh")
    context.close()
