"""The assessor's phone page in a real (headless) Chromium: record a deduction with a photo at the GPS position."""
import pytest

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WG01 = {"latitude": 31.8785, "longitude": 117.2352}


@pytest.fixture
def phone(browser):
    context = browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, geolocation=WG01, permissions=["geolocation"])
    pg = context.new_page()
    yield pg
    context.close()


def test_record_a_deduction_on_the_phone(live_server, phone, demo, tmp_path):
    from PIL import Image

    from urbangrid.assessment.models import Deduction

    photo = tmp_path / "scene.jpg"
    Image.new("RGB", (1200, 900), (90, 120, 90)).save(photo, "JPEG")
    login = demo["assessor"]
    log_in(phone, live_server.url, login["username"], login["password"])
    phone.goto(f"{live_server.url}/assessment/deductions/new/")
    phone.select_option("#item", "RZ04")
    assert phone.input_value("#points") == "0.1"
    # GPS puts the pin in WG01; the grid is resolved and preselected as the target.
    phone.wait_for_selector("#place[data-grid='WG01']", timeout=15000)
    phone.wait_for_selector("#target-picked[data-code='WG01']")
    # A party group owning the place is offered as well.
    phone.select_option("#target-type", "party")
    phone.wait_for_selector("#targets button")
    phone.select_option("#target-type", "grid")
    phone.wait_for_selector("#target-picked[data-code='WG01']")
    phone.fill("#points", "0.2")
    phone.set_input_files("#photos", str(photo))
    phone.wait_for_selector("#photos-preview[data-count='1']")
    phone.fill("#note", "饭店提前店外经营，两处")
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "deduction-phone")
    phone.click("#submit-deduction")
    phone.wait_for_selector("#result[data-id]:not([data-id=''])", timeout=15000)
    d = Deduction.objects.get()
    assert (d.item.code, str(d.points), d.grid.code, d.note) == ("RZ04", "0.20", "WG01", "饭店提前店外经营，两处")
    assert d.photos.count() == 1 and d.assessor.user.username == login["username"]
    assert phone.get_attribute("#result", "data-id") == str(d.pk)
    screenshot(phone, "deduction-phone-done")


def test_phone_page_under_the_content_security_policy(live_server, browser, demo):
    context = browser.new_context(locale="zh-CN", geolocation=WG01, permissions=["geolocation"])
    page = context.new_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.on("pageerror", lambda err: violations.append(str(err)))
    login = demo["assessor"]
    log_in(page, live_server.url, login["username"], login["password"])
    for url in ("/assessment/deductions/new/", "/assessment/deductions/", "/assessment/deductions/items/"):
        response = page.goto(live_server.url + url)
        assert response.status == 200, url
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.goto(live_server.url + "/assessment/deductions/new/")
    page.wait_for_selector("#place[data-grid='WG01']", timeout=15000)
    context.close()
    assert not violations, violations
