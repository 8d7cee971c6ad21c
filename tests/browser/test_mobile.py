"""The inspector's phone app in a real (headless) Chromium: report online, report offline and send later."""
import pytest

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WG01 = {"latitude": 31.8785, "longitude": 117.2352}


@pytest.fixture
def phone(browser):
    context = browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, geolocation=WG01, permissions=["geolocation"])
    context.grant_permissions(["geolocation"])
    pg = context.new_page()
    yield pg
    context.close()


@pytest.fixture
def photo(tmp_path):
    """A camera-sized JPEG: the phone must shrink it to 1600 px before upload (the server alone would keep 2048)."""
    from PIL import Image, ImageDraw

    path = tmp_path / "scene.jpg"
    img = Image.new("RGB", (2400, 1800), (120, 120, 120))
    ImageDraw.Draw(img).ellipse([800, 500, 1600, 1300], fill=(60, 40, 30))
    img.save(path, "JPEG", quality=80)
    return path


def open_report(page, base_url, login):
    log_in(page, base_url, login["username"], login["password"])
    page.goto(f"{base_url}/m/report/")
    page.wait_for_selector("#class-search[data-loaded]")
    page.fill("#class-search", "21001")
    page.click("#class-results button[data-code='21001']")
    page.wait_for_selector("#class-picked[data-code='21001']")
    # GPS puts the pin in WG01 and the grid is resolved live.
    page.wait_for_selector("#grid-result[data-grid='WG01']", timeout=15000)


def fill_report(page, photo, text):
    page.set_input_files("#photos", str(photo))
    page.wait_for_selector("#photos-preview[data-count='1']")
    page.fill("#description", text)


def test_home_shows_my_grids_position_and_tasks(live_server, phone, demo):
    login = demo["inspector"]
    log_in(phone, live_server.url, login["username"], login["password"])
    phone.goto(f"{live_server.url}/m/")
    phone.wait_for_selector("#m-map[data-grids]")
    assert int(phone.get_attribute("#m-map", "data-grids")) >= 2
    assert "WG01" in phone.inner_text("#grid-names")
    phone.wait_for_selector("#m-map[data-gps='1']")
    phone.wait_for_selector("#task-list[data-loaded]", state="attached")
    assert phone.is_visible("#report-button")
    assert phone.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)") == f"{live_server.url}/m/"
    screenshot(phone, "mobile-home")


def test_report_online_with_a_photo(live_server, phone, demo, photo):
    from urbangrid.cases.models import Case, CasePhoto

    before = Case.objects.count()
    open_report(phone, live_server.url, demo["inspector"])
    fill_report(phone, photo, "路面塌陷约一平方米")
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "mobile-report")
    phone.click("#submit-report")
    phone.wait_for_function("document.querySelector('#report-result').dataset.number !== ''", timeout=15000)
    number = phone.get_attribute("#report-result", "data-number")
    assert Case.objects.count() == before + 1
    case = Case.objects.select_related("responsibility_grid").get(number=number)
    assert case.responsibility_grid.code == "WG01" and case.source == "inspector" and case.class_code == "21001"
    assert case.idempotency_key  # the client's key
    shot = CasePhoto.objects.get(case=case)
    assert max(shot.width, shot.height) == 1600  # resized on the phone (2400 px taken)


def test_report_offline_is_queued_and_sent_once(live_server, phone, demo, photo):
    from urbangrid.cases.models import Case

    before = Case.objects.count()
    open_report(phone, live_server.url, demo["inspector"])
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.context.set_offline(True)
    phone.wait_for_selector("#net-state[data-online='0']")
    fill_report(phone, photo, "离线上报：井盖缺失")
    phone.click("#submit-report")
    phone.wait_for_function("document.querySelector('#report-result').dataset.queued", timeout=15000)
    phone.wait_for_selector("#queue-count[data-count='1']")
    assert "待发送" in phone.inner_text("#queue-count")
    assert Case.objects.count() == before
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "mobile-report-queued")

    phone.context.set_offline(False)  # the 'online' event sends it; a reload would too
    phone.wait_for_selector("#queue-count[data-count='0']", state="attached", timeout=20000)
    phone.reload()
    phone.wait_for_selector("#class-search[data-loaded]")
    phone.wait_for_selector("#queue-count[data-count='0']", state="attached")
    assert Case.objects.count() == before + 1
    case = Case.objects.select_related("responsibility_grid").order_by("-pk").first()
    assert case.description == "离线上报：井盖缺失" and case.responsibility_grid.code == "WG01"
    # Another reload sends nothing more.
    phone.goto(f"{live_server.url}/m/")
    phone.wait_for_selector("#task-list[data-loaded]", state="attached")
    phone.wait_for_timeout(500)
    assert phone.evaluate("window.UGMobile.queue.all().then((q) => q.length)") == 0
    assert Case.objects.count() == before + 1


def test_a_queued_report_keeps_the_time_it_was_made(live_server, phone, demo, photo):
    """Made offline, sent hours later: the case's report time is the observation time, not the sending time."""
    from datetime import datetime, timezone as dt_timezone

    from urbangrid.cases.models import Case, CaseEvent

    before = Case.objects.count()
    open_report(phone, live_server.url, demo["inspector"])
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.context.set_offline(True)
    phone.wait_for_selector("#net-state[data-online='0']")
    fill_report(phone, photo, "离线上报：三小时前发现的坑槽")
    phone.click("#submit-report")
    phone.wait_for_selector("#queue-count[data-count='1']")
    # Three hours pass in the queue: the item's own creation time is moved back instead of sleeping.
    made_ms = phone.evaluate("""async () => {
        const [item] = await window.UGMobile.queue.all();
        const created = Date.now() - 3 * 3600 * 1000;
        await window.UGMobile.queue.put(Object.assign({}, item, { created }));
        return created;
    }""")
    phone.context.set_offline(False)
    phone.wait_for_selector("#queue-count[data-count='0']", state="attached", timeout=20000)
    assert Case.objects.count() == before + 1
    case = Case.objects.order_by("-pk").first()
    made = datetime.fromtimestamp(made_ms / 1000, dt_timezone.utc)
    assert case.description == "离线上报：三小时前发现的坑槽"
    assert abs((case.created_at - made).total_seconds()) < 0.002  # the observation, to the millisecond
    data = CaseEvent.objects.get(case=case, seq=1).data
    assert (datetime.fromisoformat(data["received_at"]) - made).total_seconds() > 3 * 3600 - 60
    # The case page shows both times.
    phone.goto(f"{live_server.url}/cases/{case.number}/")
    assert phone.get_attribute("#report-times", "data-observed")
    assert "现场观察" in phone.inner_text("#reported-at") and "系统接收" in phone.inner_text("#reported-at")


def test_reload_while_offline_keeps_the_queue_and_sends_on_load(live_server, phone, demo, photo):
    """The app shell comes from the service worker offline; the queue survives and goes out on the next load."""
    from urbangrid.cases.models import Case

    before = Case.objects.count()
    open_report(phone, live_server.url, demo["inspector"])
    phone.evaluate("navigator.serviceWorker.ready.then(() => true)")
    phone.reload()  # now controlled by the service worker
    phone.wait_for_selector("#class-search[data-loaded]")
    phone.wait_for_function("navigator.serviceWorker.controller !== null")
    phone.context.set_offline(True)
    phone.reload()  # from the cache
    phone.wait_for_selector("#report-form")
    phone.wait_for_selector("#class-search[data-loaded]")
    phone.fill("#class-search", "21001")
    phone.click("#class-results button[data-code='21001']")
    phone.wait_for_selector("#m-map[data-lat]")
    fill_report(phone, photo, "离线页面上报")
    phone.click("#submit-report")
    phone.wait_for_selector("#queue-count[data-count='1']")
    phone.context.set_offline(False)
    phone.goto(f"{live_server.url}/m/")
    # the badge reads 0 before the page has looked at its queue: wait for a finished sending run
    phone.wait_for_selector("body[data-queue-runs] #queue-count[data-count='0']", state="attached", timeout=20000)
    assert Case.objects.count() == before + 1


def test_verify_a_task_from_the_phone(live_server, phone, demo, photo):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from urbangrid.cases.models import Case

    intake = Client()
    intake.force_login(get_user_model().objects.get(username=demo["intake_operator"]["username"]))
    r = intake.post("/api/v1/cases", {"catalog_version": "local-demo", "class_code": "0102", "lon": WG01["longitude"],
                                      "lat": WG01["latitude"], "description": "市民来电：路边有垃圾", "source": "hotline_12345",
                                      "reporter_name": "市民", "reporter_contact": "13800000000"})
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    assert intake.post(f"/api/v1/cases/{number}/actions/send_verify").json()["state"] == "verifying"

    login = demo["inspector"]
    log_in(phone, live_server.url, login["username"], login["password"])
    phone.goto(f"{live_server.url}/m/")
    phone.click(f"#task-list a[href='/m/tasks/{number}/']")
    phone.wait_for_selector("#task-form")
    # Without a photo the app asks for one before anything is sent.
    phone.fill("#opinion", "现场属实")
    phone.click("button[data-action='verify'][data-confirmed='true']")
    assert "照片" in phone.inner_text("#form-error")
    phone.set_input_files("#photos", str(photo))
    phone.wait_for_selector("#photos-preview[data-count='1']")
    phone.click("button[data-action='verify'][data-confirmed='true']")
    phone.wait_for_selector("#task-result[data-state='pending_filing']")
    screenshot(phone, "mobile-task")
    assert Case.objects.get(number=number).state == "pending_filing"


def test_gps_denied_falls_back_to_my_grid(live_server, browser, demo):
    context = browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        login = demo["inspector"]
        log_in(page, live_server.url, login["username"], login["password"])
        page.goto(f"{live_server.url}/m/report/")
        page.wait_for_selector("#m-map[data-lat]", timeout=30000)
        assert "未获得定位权限" in page.inner_text("#gps-state")  # said in words, and the pin sits in my grid
        page.wait_for_selector("#grid-result[data-grid^='WG']")
    finally:
        context.close()


def test_task_list_shows_the_deadline_and_marks_an_unconfirmed_one(live_server, phone, demo):
    """期限待确认 on the phone's task list, as on the case page and the benches: a verification sent on the last
    afternoon of 2026 is due on 4 January 2027, across days no holiday notice confirms yet."""
    from datetime import datetime, timedelta

    from django.contrib.auth import get_user_model

    from urbangrid.cases import services
    from urbangrid.cases.workflow import Action
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for
    from urbangrid.worktime.clock import TZ

    intake = actor_for(get_user_model().objects.get(username=demo["intake_operator"]["username"]))
    cls = CatalogClass.objects.get(version__code="local-demo", code="0102")
    numbers = {}
    for name, sent in (("unconfirmed", datetime(2026, 12, 31, 17, 20, tzinfo=TZ)), ("plain", datetime(2026, 12, 28, 9, tzinfo=TZ))):
        case, _ = services.report(intake, catalog_class=cls, lon=WG01["longitude"], lat=WG01["latitude"], description="市民来电",
                                  source="hotline_12345", reporter_name="市民", reporter_contact="13800000000",
                                  require_photos=False, at=sent - timedelta(minutes=5))
        services.transition(intake, case.number, Action.SEND_VERIFY, at=sent)
        numbers[name] = case.number

    login = demo["inspector"]
    log_in(phone, live_server.url, login["username"], login["password"])
    phone.goto(f"{live_server.url}/m/")
    phone.wait_for_selector("#task-list[data-loaded]", state="attached")
    marked = phone.locator(f"#task-list li[data-number='{numbers['unconfirmed']}']")
    assert "01-04 08:50" in marked.inner_text()  # the deadline, in the centre's time zone
    badge = marked.locator("[data-unconfirmed='1']")
    assert badge.inner_text() == "期限待确认" and "尚未由国务院放假通知确认" in badge.get_attribute("title")
    plain = phone.locator(f"#task-list li[data-number='{numbers['plain']}']")
    assert "12-28 09:30" in plain.inner_text() and plain.locator("[data-unconfirmed]").count() == 0
    screenshot(phone, "mobile-home-unconfirmed")
