"""The case loop clicked through the web UI by each role in turn, in a real browser."""
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from urbangrid.cases import services
from urbangrid.cases.models import Case
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.models import RoleAssignment
from urbangrid.org.scope import actor_for

from ug_testing import jpeg

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
INSIDE_WG01 = (117.2352, 31.8785)


@pytest.fixture
def photo_file(tmp_path):
    path = tmp_path / "after.jpg"
    path.write_bytes(jpeg((0, 160, 0)).read())
    return str(path)


def actor(username):
    return actor_for(get_user_model().objects.get(username=username))


def handler_unit():
    return RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code


def reported_case():
    """The inspector's report (the mobile app's job), made through the service."""
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")  # 路面塌陷: the rule's unit is CGJ-SZ
    photo = SimpleUploadedFile("before.jpg", jpeg().read(), "image/jpeg")
    case, _ = services.report(actor("inspector"), catalog_class=cls, lon=INSIDE_WG01[0], lat=INSIDE_WG01[1],
                              description="路面塌陷约一平方米", source="inspector", photos=[photo])
    return case.number


def to_state(number, *steps):
    for action, who, inputs, photos in steps:
        services.transition(actor(who), number, action, inputs,
                            photos=[SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")] if photos else ())


class Desk:
    """One browser context per role, logged in through the login form."""

    def __init__(self, browser, base, logins):
        self.browser, self.base, self.logins, self.pages = browser, base, logins, {}

    def __call__(self, role):
        if role not in self.pages:
            context = self.browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            log_in(page, self.base, self.logins[role]["username"], self.logins[role]["password"])
            self.pages[role] = page
        return self.pages[role]

    def act(self, role, number, action, fill=None, photo=None, expect=None):
        page = self(role)
        page.goto(f"{self.base}/cases/{number}/")
        form = page.locator(f"form.action-form[data-action={action}]")
        if not form.is_visible():  # not the likely next step: behind "其他操作"
            page.click("#more-actions > summary")
        for name, value in (fill or {}).items():
            form.locator(f"[name={name}]").fill(value)
        if photo:
            form.locator("input[type=file]").set_input_files(photo)
        form.locator("button[type=submit]").click()
        page.wait_for_selector(f"[data-state={expect}]")
        assert "已完成" in page.inner_text(".messages")
        return page

    def close(self):
        for page in self.pages.values():
            page.context.close()


@pytest.fixture
def desk(browser, live_server, demo):
    d = Desk(browser, live_server.url, demo)
    yield d
    d.close()


def test_full_loop_through_the_ui(desk, photo_file):
    number = reported_case()
    centre = desk("intake_operator")
    centre.goto(f"{desk.base}/centre/")
    assert centre.locator(f"tr[data-number='{number}'] [data-light]").count() == 1
    screenshot(centre, "bench-centre-zh")
    centre.click(f"text={number}")
    centre.wait_for_selector("#case-map[data-ready='1']")
    assert centre.locator("#photos-before img").count() == 1
    screenshot(centre, "case-reported-zh")
    desk.act("intake_operator", number, "accept", expect="pending_filing")
    desk.act("shift_lead", number, "file", expect="pending_dispatch")

    dispatcher = desk("dispatcher")
    dispatcher.goto(f"{desk.base}/command/")
    row = dispatcher.locator(f"tr[data-number='{number}']")
    assert "CGJ-SZ" in row.inner_text() or "路面塌陷" in row.inner_text()
    screenshot(dispatcher, "bench-command-zh")
    unit = handler_unit()
    if unit == "CGJ-SZ":  # the suggested unit is the handler's: one click
        row.locator(f"button[data-dispatch='{number}']").click()
        dispatcher.wait_for_selector(".messages")
    else:  # the demo handler works for another unit: choose it on the case page
        dispatcher.goto(f"{desk.base}/cases/{number}/")
        assert dispatcher.locator("#dispatch-unit").input_value() == "CGJ-SZ"
        dispatcher.select_option("#dispatch-unit", unit)
        dispatcher.click("form[data-action=dispatch] button[type=submit]")
        dispatcher.wait_for_selector("[data-state=handling]")
    assert Case.objects.get(number=number).current_unit.code == unit
    # The case list filters in place (htmx swaps only the table) and keeps the filter in the address.
    dispatcher.goto(f"{desk.base}/cases/")
    dispatcher.evaluate("window.__samePage = true")
    dispatcher.fill("input[name=q]", number)
    dispatcher.press("input[name=q]", "Enter")
    dispatcher.wait_for_function("location.search.includes('q=')")
    dispatcher.wait_for_function("document.querySelectorAll('#bench-table tr[data-number]').length === 1")
    assert dispatcher.evaluate("window.__samePage") is True
    screenshot(dispatcher, "bench-list-zh")

    handler = desk("unit_handler")
    handler.goto(f"{desk.base}/unit/")
    handler.wait_for_selector(f"tr[data-number='{number}'] [data-light]")
    screenshot(handler, "bench-unit-zh")
    desk.act("unit_handler", number, "feed_back", {"opinion": "已回填修复"}, photo_file, expect="fed_back")
    assert handler.locator("#photos-after img").count() == 1
    desk.act("intake_operator", number, "send_check", expect="checking")
    desk.act("inspector", number, "check_pass", {"opinion": "现场已修复"}, photo_file, expect="pending_close")
    page = desk.act("shift_lead", number, "close", expect="closed")
    actions = page.eval_on_selector_all("#timeline li", "els => els.map(e => e.dataset.action)")
    assert actions == ["report", "accept", "file", "dispatch", "feed_back", "send_check", "check_pass", "close"]
    screenshot(page, "case-closed-zh")
    page.set_viewport_size({"width": 360, "height": 800})
    screenshot(page, "case-closed-360")
    assert page.evaluate("document.documentElement.scrollWidth") <= 380


def test_return_and_rework_through_the_ui(desk, photo_file):
    unit = handler_unit()
    dispatch = [("accept", "intake_operator", {}, False), ("file", "shift_lead", {}, False),
                ("dispatch", "dispatcher", {"unit": unit}, False)]
    returned = reported_case()
    to_state(returned, *dispatch)
    desk.act("unit_handler", returned, "request_return", {"reason": "不属于本单位职责"}, expect="return_requested")
    page = desk.act("dispatcher", returned, "approve_return", {"opinion": "同意，改派"}, expect="pending_dispatch")
    assert Case.objects.get(number=returned).return_count == 1
    screenshot(page, "case-returned-zh")

    rework = reported_case()
    to_state(rework, *dispatch, ("feed_back", "unit_handler", {"opinion": "已修复"}, True),
             ("send_check", "intake_operator", {}, False))
    page = desk.act("inspector", rework, "check_fail", {"reason": "仍有塌陷"}, photo_file, expect="handling")
    case = Case.objects.get(number=rework)
    assert case.rework_count == 1 and case.current_unit.code == unit
    # Missing input keeps what was typed: the unit's extension request without a duration.
    handler = desk("unit_handler")
    handler.goto(f"{desk.base}/cases/{rework}/")
    form = handler.locator("form[data-action=request_extension]")
    handler.click("#more-actions > summary")  # the feedback comes first; the extension request is collapsed
    form.locator("[name=reason]").fill("材料未到")
    form.locator("button[type=submit]").click()
    handler.wait_for_selector("#request_extension-extra_value-error")
    assert handler.locator("#request_extension-reason").input_value() == "材料未到"
    screenshot(handler, "case-input-error-zh")


def test_the_handlers_feedback_is_the_first_form_on_a_phone(browser, live_server, demo, photo_file):
    """At 360×740 the unit handler sees 处置反馈 first and open; his other steps wait behind 其他操作."""
    number = reported_case()
    to_state(number, ("accept", "intake_operator", {}, False), ("file", "shift_lead", {}, False),
             ("dispatch", "dispatcher", {"unit": handler_unit()}, False))
    context = browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True)
    page = context.new_page()
    try:
        login = demo["unit_handler"]
        log_in(page, live_server.url, login["username"], login["password"])
        page.goto(f"{live_server.url}/cases/{number}/")
        forms = page.locator("#actions form.action-form")
        assert forms.count() >= 3  # the same forms as before (permissions unchanged): 签收, 转交, 申请回退/延期/挂账, 反馈
        visible = [forms.nth(i).get_attribute("data-action") for i in range(forms.count()) if forms.nth(i).is_visible()]
        assert visible == ["feed_back"], visible
        screenshot(page, "case-handler-360")
        # The others are one tap away, and the feedback can be sent from where it is.
        page.click("#more-actions > summary")
        assert page.locator("form.action-form[data-action=request_extension]").is_visible()
        form = page.locator("form.action-form[data-action=feed_back]")
        form.locator("[name=opinion]").fill("已回填修复")
        form.locator("input[type=file]").set_input_files(photo_file)
        form.locator("button[type=submit]").click()
        page.wait_for_selector("[data-state=fed_back]")
    finally:
        context.close()
