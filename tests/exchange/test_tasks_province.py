"""省级交办任务 in one process (the province's tables in the test database, its endpoints through Django's test
client): who may assign and read tasks (page and JSON), an overdue task in red, the signed fetch (unsigned,
tampered, stale, unknown city refused and recorded; the answer signed, and a tampered answer refused by the city),
the batches moving a task with its case; and on the city's side, a case past its province deadline flagged."""
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from urbangrid.cases import intake, services
from urbangrid.cases.models import CaseEvent
from urbangrid.cases.replay import disagreements
from urbangrid.cases.states import Source
from urbangrid.catalog.models import CatalogClass
from urbangrid.exchange import inbox, outbox
from urbangrid.org.roles import Role
from urbangrid.org.scope import actor_for, system_actor
from urbangrid.province import wire
from urbangrid.province.models import ProvinceCity, ProvinceTask, Rejection

from .province_node import CITY, KEY
from .test_province_receive import _batch, _post

FETCH = "/province/api/v1/exchange/tasks"


@pytest.fixture
def city(db):
    call_command("province", "city", "add", CITY, "--name", "合肥市", "--key", KEY)
    call_command("province", "city", "add", "340200", "--name", "芜湖市", "--key", "w" * 40)
    return ProvinceCity.objects.get(code=CITY)


def _user(name, *perms):
    user = get_user_model().objects.create_user(name, password="x")
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="province", codename__in=perms))
    return user


def _task(city, days=3, **fields):
    fields = {"title": "督办", "description": "请处置", **fields}
    return ProvinceTask.objects.create(city=city, deadline=timezone.now() + timedelta(days=days), **fields)


def _form(**extra):
    at = timezone.localtime() + timedelta(days=2)
    return {"city": CITY, "kind": "supervision", "title": "长江路井盖缺失", "description": "三日内处置",
            "deadline": at.strftime("%Y-%m-%dT%H:%M"), **extra}


def test_only_province_users_with_the_permission_assign_or_read_tasks(client, city):
    # anonymous: the pages send to the login, the JSON answers 401
    assert client.get("/province/tasks/").status_code == 302
    assert client.get("/province/tasks/new").status_code == 302
    assert client.get("/province/api/v1/tasks").status_code == 401
    assert client.post("/province/api/v1/tasks", _form(), content_type="application/json").status_code == 401
    # a city user (any role of the city) holds no province permission
    client.force_login(_user("nobody"))
    assert client.get("/province/tasks/").status_code == 403
    assert client.get("/province/tasks/new").status_code == 403
    assert client.post("/province/tasks/new", _form()).status_code == 403
    assert client.get("/province/api/v1/tasks").status_code == 403
    assert client.post("/province/api/v1/tasks", _form(), content_type="application/json").status_code == 403
    # a reader reads, does not assign
    client.force_login(_user("reader", "view_provincetask"))
    assert client.get("/province/tasks/").status_code == 200
    assert client.post("/province/tasks/new", _form()).status_code == 403
    assert client.post("/province/api/v1/tasks", _form(), content_type="application/json").status_code == 403
    assert not ProvinceTask.objects.exists()
    # an assigner: the form, with field messages for bad input (nothing written), and the JSON API
    assigner = _user("assigner", "add_provincetask")
    client.force_login(assigner)
    r = client.post("/province/tasks/new", _form(deadline="2020-01-01T08:00", lon="117.2", city="999999"))
    assert r.status_code == 422 and set(r.context["form"].errors) == {"deadline", "lat", "city"}
    r = client.post("/province/tasks/new", _form())
    assert r.status_code == 302 and r["Location"] == reverse("province:task-list")
    task = ProvinceTask.objects.get()
    assert (task.city, task.created_by, task.state, task.kind) == (city, assigner, "sent", "supervision")
    r = client.post("/province/api/v1/tasks", {**_form(kind="special", class_code="06001", unit_grid="340102001001001"),
                                               "deadline": (timezone.now() + timedelta(days=5)).isoformat()},
                    content_type="application/json")
    assert r.status_code == 201, r.content
    assert (r.json()["kind"], r.json()["state"], r.json()["overdue"]) == ("special", "sent", False)
    r = client.post("/province/api/v1/tasks", {**_form(), "title": " ", "kind": "other", "lat": 200},
                    content_type="application/json")
    assert r.status_code == 422 and set(r.json()["fields"]) == {"title", "kind", "lat"}
    assert client.post("/province/api/v1/tasks", b"[1]", content_type="application/json").status_code == 400
    assert ProvinceTask.objects.count() == 2
    assert {t["id"] for t in client.get("/province/api/v1/tasks").json()["items"]} == set(
        ProvinceTask.objects.values_list("pk", flat=True))


def test_a_province_user_finds_the_tasks(client, city):
    """Home sends a user given the tasks only to them; the province's nav shows each user the pages he may open."""
    client.force_login(_user("tasks_only", "view_provincetask"))
    assert client.get("/")["Location"] == reverse("province:task-list")
    page = client.get("/province/tasks/").content.decode()
    assert 'id="province-tasks-link"' in page and reverse("province:evaluation") not in page
    both = _user("officer", "view_provincecity", "add_provincetask")
    client.force_login(both)
    assert client.get("/")["Location"] == reverse("province:index")  # the dashboard first, as before
    page = client.get(reverse("province:index")).content.decode()
    assert 'id="province-tasks-link"' in page and reverse("province:evaluation") in page
    assert 'id="province-tasks-link"' in client.get("/province/tasks/new").content.decode()


def test_an_overdue_task_is_red_until_it_is_closed(client, city):
    late = _task(city, days=-1, title="逾期未办")
    closed_late = _task(city, days=-1, title="逾期已办结", state=ProvinceTask.State.CLOSED)
    ontime = _task(city, days=2, title="未到期")
    client.force_login(_user("reader", "view_provincetask"))
    page = client.get("/province/tasks/").content.decode()
    assert f'data-task="{late.pk}" data-state="sent" class="task-overdue" data-overdue="1"' in page
    assert f'data-task="{closed_late.pk}" data-state="closed">' in page
    assert f'data-task="{ontime.pk}" data-state="sent">' in page
    assert page.count('class="task-overdue-flag"') == 1
    items = client.get("/province/api/v1/tasks?overdue=1").json()["items"]
    assert [(t["id"], t["overdue"]) for t in items] == [(late.pk, True)]
    assert client.get("/province/api/v1/tasks?state=nonsense").status_code == 422


def _fetch(client, city=CITY, after=0, key=KEY, ts=None, signed_after=None, signature=None):
    ts = str(int(time.time()) if ts is None else ts)
    sig = signature if signature is not None else wire.sign(key, wire.tasks_message(
        city, ts, after if signed_after is None else signed_after))
    r = client.get(FETCH, {"city": city, "after": after},
                   headers={wire.TIMESTAMP_HEADER: ts, **({wire.SIGNATURE_HEADER: sig} if sig else {})})
    return r


def test_the_fetch_is_signed_both_ways_and_refused_when_forged(client, city):
    first, second = _task(city), _task(city, kind="special")
    _task(ProvinceCity.objects.get(code="340200"))  # another city's: never in this city's answer
    cfg = outbox.Config(url="", key=KEY, city=CITY, timeout=5, batch_events=10)

    r = _fetch(client)
    assert r.status_code == 200
    doc = inbox.read_answer(cfg, 0, r.content, r[wire.SIGNATURE_HEADER])
    assert [t["id"] for t in doc["tasks"]] == [first.pk, second.pk] and doc["next"] >= second.pk
    assert ProvinceTask.objects.filter(fetched_at__isnull=False).count() == 2
    assert _fetch(client, after=second.pk).json()["tasks"] == []

    # the city refuses an answer tampered on the way, or unsigned
    forged = r.content.replace("督办".encode(), "撤销".encode())
    with pytest.raises(inbox.Refused, match="signature"):
        inbox.read_answer(cfg, 0, forged, r[wire.SIGNATURE_HEADER])
    with pytest.raises(inbox.Refused, match="signature"):
        inbox.read_answer(cfg, 0, r.content, "")
    with pytest.raises(inbox.Refused, match="after"):  # an answer to another question (a replay)
        inbox.read_answer(cfg, 5, r.content, r[wire.SIGNATURE_HEADER])

    # the province refuses, and records, unsigned, tampered, wrongly keyed, stale and unknown-city requests
    before = Rejection.objects.count()
    cases = [(_fetch(client, signature=""), 400, "signature"),
             (_fetch(client, after=0, signed_after=7), 400, "signature"),
             (_fetch(client, key="k" * 40), 400, "signature"),
             (_fetch(client, ts=int(time.time()) - 3600), 400, "stale"),
             (_fetch(client, city="999999"), 403, "unknown_city"),
             (_fetch(client, after=-1), 400, "malformed")]
    for response, status, reason in cases:
        assert (response.status_code, response.json()["reason"]) == (status, reason)
        assert wire.SIGNATURE_HEADER not in response
    assert Rejection.objects.count() == before + len(cases)


def test_a_city_batch_moves_its_tasks_with_their_cases(client, city):
    task = _task(city)
    foreign = _task(ProvinceCity.objects.get(code="340200"))
    doc = _batch(seq=1, frm=0, to=2, state="handling")
    doc["cases"][0].update(province_task=task.pk, dispatched_at="2026-12-01T02:30:00.000000+00:00")
    assert _post(client, doc)[1]["tasks"] == 1
    task.refresh_from_db()
    assert (task.state, task.case_number, task.case_version) == ("in_progress", "20260000001", 2)
    assert task.received_at is not None and task.dispatched_at is not None and task.closed_at is None
    # closed at the city: closed here, with its time
    doc = _batch(seq=2, frm=2, to=3, state="closed", steps=False)
    doc["cases"][0].update(province_task=task.pk, version=9, closed_at="2026-12-02T02:00:00.000000+00:00")
    assert _post(client, doc)[0] == 200
    task.refresh_from_db()
    assert (task.state, task.closed_at.isoformat()) == ("closed", "2026-12-02T02:00:00+00:00")
    assert not task.is_overdue(task.deadline + timedelta(days=1))
    # an older description does not move it back; a case may not claim another city's task
    doc = _batch(seq=3, frm=3, to=3, state="handling", steps=False)
    doc["cases"][0].update(province_task=task.pk, version=3)
    doc["cases"].append({**doc["cases"][0], "number": "20260000002", "province_task": foreign.pk})
    assert _post(client, doc)[1]["tasks"] == 0
    task.refresh_from_db()
    foreign.refresh_from_db()
    assert task.state == "closed" and foreign.state == "sent"
    # the field is optional but typed: a malformed reference refuses the batch
    doc = _batch(seq=4, frm=3, to=3, steps=False)
    doc["cases"][0]["province_task"] = "1"
    status, answer = _post(client, doc)
    assert (status, answer["problems"][0]["field"]) == (400, "cases[0].province_task")


def test_a_case_past_its_province_deadline_is_flagged_at_the_city(client, demo_city, settings):
    cls = CatalogClass.objects.current().get(code="06001")
    due = timezone.now() - timedelta(hours=1)
    case, created = services.report(system_actor(Role.INTAKE_OPERATOR), catalog_class=cls, lon=117.2352, lat=31.8785,
                                    description="【省级督办】测试", source=Source.PROVINCE, require_photos=False,
                                    external_ref=intake.province_ref(41), door=intake.PROVINCE, due_at=due)
    assert created and case.due_overdue()
    # the same task again: the same case; and no other door may claim the source
    assert services.report(system_actor(Role.INTAKE_OPERATOR), catalog_class=cls, lon=None, lat=None, description="x",
                           source=Source.PROVINCE, external_ref=intake.province_ref(41), door=intake.PROVINCE)[0] == case
    staff = actor_for(get_user_model().objects.get(username="intake_operator"))
    with pytest.raises(services.Forbidden):
        services.report(staff, catalog_class=cls, lon=117.2352, lat=31.8785, description="x", source=Source.PROVINCE,
                        require_photos=False)
    client.force_login(get_user_model().objects.get(username="intake_operator"))
    page = client.get(reverse("work:case", args=[case.number])).content.decode()
    assert 'id="due-overdue"' in page and 'id="due-at"' in page and '<span id="province-task">41</span>' in page
    # the log proves the deadline (audit verify's derivation)
    case.refresh_from_db()
    assert disagreements(case, list(CaseEvent.objects.filter(case=case).order_by("seq")), timezone.now()) == []
