"""省级交办任务 round trip over real HTTP between two databases (the city in the test process, the province node in its
own): the province assigns a task; the city fetches it and makes it one case of source 上级交办, however often it
fetches and even when it lost its cursor (a crash between the case and the cursor); the case runs the city's loop
through ``services``; the pushes carry its progress up and the province's task follows it to closed, with times.
An overdue task and a forged or tampered fetch are in ``test_tasks_province.py`` (one process)."""
import json
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from fuzz.servers import BIN
from urbangrid.cases import services
from urbangrid.cases.models import Case
from urbangrid.exchange import inbox, outbox
from urbangrid.exchange.models import ExchangeState
from urbangrid.org.models import RoleAssignment
from urbangrid.org.scope import actor_for
from urbangrid.province import wire

from .province_node import CITY

WG01_POINT = (117.2352, 31.8785)


def _at_province(province, code):
    """Run ``code`` (which sets ``out``) in the province node's own process and database; ``out`` as JSON."""
    script = ("import json\nfrom django.utils import timezone\nfrom datetime import timedelta\n"
              "from urbangrid.province.models import ProvinceCity, ProvinceTask\n"
              f"{code}\nprint('JSON' + json.dumps(out, ensure_ascii=False, default=str))\n")
    done = subprocess.run([str(BIN / "urbangrid"), "shell", "-c", script], env=province.env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.split("JSON", 1)[1])


def _task(province, **fields):
    spec = {"kind": "supervision", "title": "长江路井盖缺失督办", "description": "群众多次反映，请三日内处置并反馈。",
            "class_code": "06001", "deadline_days": 3, **fields}
    return _at_province(province, f"""spec = {spec!r}
days = spec.pop("deadline_days")
t = ProvinceTask.objects.create(city=ProvinceCity.objects.get(code={CITY!r}), deadline=timezone.now() + timedelta(days=days), **spec)
out = t.pk""")


def _task_state(province, pk):
    return _at_province(province, f"""from urbangrid.province.supervision import as_json
out = as_json(ProvinceTask.objects.select_related("city").get(pk={pk}))""")


@pytest.mark.django_db
def test_a_task_goes_down_once_runs_the_loop_and_comes_back_closed(city_settings, province, demo_city):
    point_task = _task(province, lon=WG01_POINT[0], lat=WG01_POINT[1], address="长江路 318 号")
    unplaced = _task(province, kind="special", title="背街小巷专项整治", class_code="", deadline_days=10)
    cfg = outbox.config()

    first = inbox.pull(cfg)
    assert not first.error, first.error
    assert (first.created, first.existing) == (2, 0) and ExchangeState.load().tasks_after >= unplaced
    case = Case.objects.get(external_ref=f"province:{point_task}")
    assert case.source == "province" and case.state == "reported" and case.urgency == "urgent"
    assert case.responsibility_grid.code == "WG01" and case.due_at is not None and "长江路井盖缺失督办" in case.description
    # no class named and no place: the configured class, and 待定位 for the centre to place
    other = Case.objects.get(external_ref=f"province:{unplaced}")
    assert other.state == "unlocated" and other.class_code == "06010" and other.due_at > case.due_at

    # Fetched again, and again after a crash that lost the cursor (the cases committed, the cursor not): one case
    # per task all the same.
    assert inbox.pull(cfg).fetched == 0
    ExchangeState.objects.filter(pk=1).update(tasks_after=0)
    again = inbox.pull(cfg)
    assert (again.fetched, again.created, again.existing, again.error) == (2, 0, 2, "")
    assert Case.objects.filter(source="province").count() == 2

    # The push carries the case up: the province sees the task received.
    r = outbox.push()
    assert not r.error, r.error
    seen = _task_state(province, point_task)
    assert (seen["state"], seen["case_number"], seen["overdue"]) == ("received", case.number, False)
    assert seen["fetched_at"] and seen["received_at"]

    # The city's loop, through services; the push after each stage moves the task.
    users = get_user_model().objects
    a = {n: actor_for(users.get(username=n)) for n in ("intake_operator", "shift_lead", "dispatcher", "unit_handler",
                                                        "inspector")}
    unit = RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit.code
    services.transition(a["intake_operator"], case.number, "accept")
    services.transition(a["shift_lead"], case.number, "file")
    services.transition(a["dispatcher"], case.number, "dispatch", {"unit": unit, "opinion": "省级督办，从速"})
    assert not outbox.push().error
    assert _task_state(province, point_task)["state"] == "in_progress"
    services.transition(a["unit_handler"], case.number, "feed_back", {"opinion": "已补装井盖"}, require_photos=False)
    assert not outbox.push().error
    seen = _task_state(province, point_task)
    assert seen["state"] == "fed_back" and seen["fed_back_at"] and seen["dispatched_at"]
    services.transition(a["intake_operator"], case.number, "send_check")
    services.transition(a["inspector"], case.number, "check_pass", {"opinion": "已核查"}, require_photos=False)
    services.transition(a["shift_lead"], case.number, "close")
    # through the command, which fetches first (nothing new) and pushes
    call_command("exchange", "push")
    seen = _task_state(province, point_task)
    case.refresh_from_db()
    assert (seen["state"], seen["case_state"], seen["overdue"]) == ("closed", "closed", False)
    assert seen["closed_at"] == wire.iso(case.closed_at)
    # the unplaced task's case waits at the city: still received at the province
    assert _task_state(province, unplaced)["state"] == "received"


@pytest.fixture
def city_settings(city_settings):
    city_settings.URBANGRID_PROVINCE_TASK_CLASS = "06010"  # 暴露垃圾, of the current list
    return city_settings

