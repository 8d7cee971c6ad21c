"""省级交办任务 round trip in a real browser (issue 20): a province user assigns the city a 督办 with a deadline on
/province/tasks/new; the city fetches it (``urbangrid exchange pull``, real HTTP to the live server, which is also
the province node: one deployment can be both); the city's staff run the case through the loop on the case page
(受理, 立案, 派遣, 处置反馈, 核查, 结案), which shows the province's deadline (上级时限); the push carries the case up and
the province user sees the task closed. A second task, past its deadline, is red on both sides. The task pages in
English too."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.utils import timezone

from urbangrid.cases.models import Case
from urbangrid.grids.models import Region
from urbangrid.province.models import ProvinceCity, ProvinceTask

from .conftest import log_in, screenshot
from .test_case_loop_ui import INSIDE_WG01, Desk, handler_unit, photo_file  # noqa: F401 (photo_file: a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
KEY = "browser-round-trip-key-0123456789abcdef0123456789"
PROVINCE_LOGIN = {"username": "province_officer", "password": "Prov-2026-secret!"}
RED = "rgb(211, 47, 47)"  # #d32f2f: the overdue flag, the province's and the city's


@pytest.fixture
def round_trip(browser, live_server, demo, settings):
    """The demo city registered at its own deployment's province node, a province officer (the group "province"
    with the dashboard's and the tasks' permissions), the city's exchange settings pointing at the live server."""
    city = Region.objects.get(level=Region.Level.CITY)
    call_command("province", "city", "add", city.code, "--name", city.name, "--key", KEY)
    group = Group.objects.create(name="province")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="province", codename__in=(
        "view_provincecity", "view_provincetask", "add_provincetask")))
    get_user_model().objects.create_user(**PROVINCE_LOGIN).groups.add(group)
    settings.URBANGRID_EXCHANGE_URL = live_server.url
    settings.URBANGRID_EXCHANGE_KEY = KEY
    settings.URBANGRID_EXCHANGE_CITY = city.code
    settings.URBANGRID_EXCHANGE_TIMEOUT = 30
    d = Desk(browser, live_server.url, {**demo, "province": PROVINCE_LOGIN})
    d.city = ProvinceCity.objects.get(code=city.code)
    yield d
    d.close()


def _local(at):
    return timezone.localtime(at).strftime("%Y-%m-%dT%H:%M")


def test_a_province_task_runs_the_citys_loop_and_comes_back_closed(round_trip, photo_file):
    desk, base = round_trip, round_trip.base
    # The province officer: from the province's pages to the task form.
    prov = desk("province")
    prov.goto(f"{base}/province/")
    prov.click("text=省级交办任务")
    prov.wait_for_url(f"{base}/province/tasks/")
    prov.click("#task-new-link")
    form = prov.locator("#task-form")
    form.locator("[name=city]").select_option(desk.city.code)
    form.locator("[name=kind]").select_option("supervision")
    form.locator("[name=title]").fill("长江路路面塌陷督办")
    form.locator("[name=description]").fill("群众多次反映，请两日内处置并反馈。")
    form.locator("[name=lon]").fill(str(INSIDE_WG01[0]))
    form.locator("[name=lat]").fill(str(INSIDE_WG01[1]))
    form.locator("[name=class_code]").fill("21001")  # 路面塌陷 of the demo's current catalogue (local-demo-2026)
    # A deadline already passed is refused with the field's message, what was typed kept.
    form.locator("[name=deadline]").fill(_local(timezone.now() - timedelta(days=1)))
    form.locator("button[type=submit]").click()
    prov.wait_for_selector("#task-form .errorlist")
    assert "办理时限必须晚于现在" in prov.inner_text("#task-form")
    assert prov.locator("#task-form [name=title]").input_value() == "长江路路面塌陷督办"
    assert not ProvinceTask.objects.exists()
    deadline = timezone.now() + timedelta(days=2)
    prov.locator("#task-form [name=deadline]").fill(_local(deadline))
    prov.locator("#task-form button[type=submit]").click()
    prov.wait_for_url(f"{base}/province/tasks/")
    assert "已向" in prov.inner_text(".task-messages")
    task = ProvinceTask.objects.get()
    assert (task.city, task.kind, task.state, task.created_by.username) == (desk.city, "supervision", "sent",
                                                                            PROVINCE_LOGIN["username"])
    assert _local(task.deadline) == _local(deadline)
    row = prov.locator(f"tr[data-task='{task.pk}']")
    assert row.get_attribute("data-state") == "sent" and row.get_attribute("data-overdue") is None
    # A second task whose deadline has passed: the form refuses a past deadline (above), so it is made as if it
    # had been assigned earlier and the deadline had since passed.
    late = ProvinceTask.objects.create(city=desk.city, title="背街小巷垃圾督办", description="逾期未办",
                                       class_code="21001", lon=INSIDE_WG01[0], lat=INSIDE_WG01[1],
                                       deadline=timezone.now() - timedelta(hours=2),
                                       created_at=timezone.now() - timedelta(days=3))

    # The city fetches its tasks through the command (signed HTTP to the live server): two cases of 上级交办.
    call_command("exchange", "pull")
    case = Case.objects.get(external_ref=f"province:{task.pk}")
    late_case = Case.objects.get(external_ref=f"province:{late.pk}")
    assert (case.source, case.state, case.urgency, case.due_at) == ("province", "reported", "urgent", task.deadline)
    number = case.number

    # The centre sees it on its bench and opens it: the province's deadline, not passed.
    centre = desk("intake_operator")
    centre.goto(f"{base}/centre/")
    centre.click(f"text={number}")
    centre.wait_for_selector("#case-map[data-ready='1']")
    assert centre.inner_text("#province-task") == str(task.pk)
    assert centre.inner_text("#due-at") == timezone.localtime(task.deadline).strftime("%Y-%m-%d %H:%M")
    assert centre.locator("#due-overdue").count() == 0
    screenshot(centre, "province-task-case-zh")
    # ... and the late one past it, in red.
    centre.goto(f"{base}/cases/{late_case.number}/")
    assert centre.locator("#due-overdue").is_visible() and centre.get_attribute("#due-at", "data-overdue") == "1"
    assert centre.eval_on_selector("#due-overdue", "e => getComputedStyle(e).backgroundColor") == RED
    screenshot(centre, "province-task-case-overdue-zh")

    # The loop, each step on the case page by its role.
    desk.act("intake_operator", number, "accept", expect="pending_filing")
    desk.act("shift_lead", number, "file", expect="pending_dispatch")
    dispatcher = desk("dispatcher")
    dispatcher.goto(f"{base}/cases/{number}/")
    dispatcher.select_option("#dispatch-unit", handler_unit())
    dispatcher.click("form[data-action=dispatch] button[type=submit]")
    dispatcher.wait_for_selector("[data-state=handling]")
    # An intermediate push: the province sees the task in progress.
    call_command("exchange", "push")
    prov.goto(f"{base}/province/tasks/")
    assert prov.get_attribute(f"tr[data-task='{task.pk}']", "data-state") == "in_progress"
    desk.act("unit_handler", number, "feed_back", {"opinion": "已回填修复"}, photo_file, expect="fed_back")
    desk.act("intake_operator", number, "send_check", expect="checking")
    desk.act("inspector", number, "check_pass", {"opinion": "现场已修复"}, photo_file, expect="pending_close")
    page = desk.act("shift_lead", number, "close", expect="closed")
    actions = page.eval_on_selector_all("#timeline li", "els => els.map(e => e.dataset.action)")
    assert actions == ["report", "accept", "file", "dispatch", "feed_back", "send_check", "check_pass", "close"]
    assert page.locator("#due-overdue").count() == 0 and page.inner_text("#province-task") == str(task.pk)

    # The push (which fetches first: nothing new) carries the case up; the province officer sees the task closed.
    call_command("exchange", "push")
    prov.goto(f"{base}/province/tasks/")
    row = prov.locator(f"tr[data-task='{task.pk}']")
    assert row.get_attribute("data-state") == "closed" and row.get_attribute("data-overdue") is None
    assert row.locator(".task-state").inner_text() == "已办结"
    assert number in row.inner_text()
    # The late task: received by the city, not closed, past its deadline: red.
    late_row = prov.locator(f"tr[data-task='{late.pk}']")
    assert late_row.get_attribute("data-state") == "received" and late_row.get_attribute("data-overdue") == "1"
    assert late_row.locator(".task-overdue-flag").inner_text() == "超期"
    assert late_row.locator(".task-overdue-flag").evaluate("e => getComputedStyle(e).backgroundColor") == RED
    assert prov.locator(".task-overdue-flag").count() == 1
    # the state filter
    prov.click("text=已办结")
    prov.wait_for_url("**/province/tasks/?state=closed")
    assert prov.locator("#task-table tr[data-task]").count() == 1
    prov.goto(f"{base}/province/tasks/")
    screenshot(prov, "province-tasks-zh")

    # In English, switched with the language menu every page has.
    prov.select_option("select[name=language]", "en")
    prov.wait_for_selector("html[lang=en]")
    assert prov.url == f"{base}/province/tasks/"
    text = prov.inner_text("main")
    assert "Province tasks" in text and "Resolved" in text and "Overdue" in text, text
    # the kind of task, a noun here (督办 is also the case step "Supervise")
    assert prov.locator(f"tr[data-task='{task.pk}'] td").nth(2).inner_text() == "Supervision"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text.replace("背街小巷垃圾督办", "").replace(
        "长江路路面塌陷督办", "").replace(desk.city.name, "")), text
    screenshot(prov, "province-tasks-en")
    prov.click("#task-new-link")
    prov.wait_for_selector("#task-form")
    form_text = prov.inner_text("main")
    assert "Deadline" in form_text and not any("\u4e00" <= ch <= "\u9fff" for ch in form_text.replace(
        desk.city.name, "")), form_text
    screenshot(prov, "province-task-new-en")
