"""通知投递: the outbox page for the centre and administrators, dead deliveries put back in the queue (then
delivered to a real local receiver), the top bar's alert, and SMS to the phone numbers of the people addressed."""
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from urbangrid.cases.models import Delivery, Notification
from urbangrid.cases.notify import MAX_ATTEMPTS, deliver_pending
from urbangrid.org.models import Person
from urbangrid.org.roles import Role

from test_notifications import Receiver

from ug_testing import dispatched_case

pytestmark = pytest.mark.django_db


def client(username):
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


@pytest.fixture
def receivers(settings):
    hook, sms = Receiver(), Receiver()
    settings.URBANGRID_NOTIFY_CHANNELS = [{"name": "ops", "type": "webhook", "url": hook.url, "format": "json"},
                                          {"name": "sms", "type": "sms", "url": sms.url, "token": "t0ken"}]
    yield hook, sms
    hook.close()
    sms.close()


def _kill(receiver, rounds=MAX_ATTEMPTS):
    """Let every due delivery fail until it is dead (the receiver answers 503)."""
    receiver.up = False
    now = timezone.now()
    for i in range(rounds):
        now += timedelta(hours=2)
        deliver_pending(now=now)
    receiver.up = True
    return now


def _cell(body, channel, state):
    row = re.search(rf'<tr data-channel="{channel}">(.*?)</tr>', body, re.S).group(1)
    return int(re.search(rf'data-state="{state}">(?:<a [^>]*>)?(\d+)', row).group(1))


def test_page_for_centre_and_admin_not_for_a_unit_handler(demo_city, receivers):
    for username in ("shift_lead", "leader", "admin"):
        assert client(username).get("/notifications/").status_code == 200
    assert client("unit_handler").get("/notifications/").status_code == 403
    assert client("inspector").get("/notifications/").status_code == 403
    anonymous = Client().get("/notifications/")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    # A unit handler cannot retry either.
    case = dispatched_case()
    deliver_pending()
    d = Delivery.objects.filter(notification__case=case).first()
    assert client("unit_handler").post(f"/notifications/{d.pk}/retry/").status_code == 403
    assert client("leader").post(f"/notifications/{d.pk}/retry/").status_code == 403  # may look, not retry
    assert client("shift_lead").get(f"/notifications/{d.pk}/retry/").status_code == 405


def test_counts_filters_and_bad_input(demo_city, receivers):
    hook, sms = receivers
    case = dispatched_case()
    assert deliver_pending() == (2, 0)  # webhook and SMS (the unit's handlers have phones) both sent
    assert sms.received[0][1]["phones"]
    second = Notification.objects.create(case=case, kind="overdue", text="x", unit=case.current_unit, dedupe_key="t:2")
    hook.up = False
    deliver_pending()  # ops: failed once, retrying; sms: sent
    third = Notification.objects.create(case=case, kind="supervised", text="y", unit=case.current_unit, dedupe_key="t:3")
    body = client("shift_lead").get("/notifications/").content.decode()
    assert _cell(body, "ops", "sent") == 1 and _cell(body, "ops", "retrying") == 1 and _cell(body, "ops", "dead") == 0
    assert _cell(body, "sms", "sent") == 2 and _cell(body, "ops", "total") == 2
    assert case.number in body and f'href="/cases/{case.number}/"' in body
    assert "HTTP Error 503" in body  # the last error
    # Deliveries are rows; the third notification has none yet (made by the next delivery run).
    assert not Delivery.objects.filter(notification=third).exists()
    only = client("shift_lead").get("/notifications/", {"channel": "ops", "state": "retrying"}).content.decode()
    assert only.count("<tr data-delivery=") == 1 and f'data-delivery="{Delivery.objects.get(notification=second, channel="ops").pk}"' in only
    today = timezone.localdate()
    assert client("shift_lead").get("/notifications/", {"date_from": today - timedelta(days=3)}).content.decode().count("<tr data-delivery=") == 4
    assert client("shift_lead").get("/notifications/", {"date_to": today - timedelta(days=1)}).content.decode().count("<tr data-delivery=") == 0
    bad = client("shift_lead").get("/notifications/", {"state": "lost", "date_from": "yesterday"})
    assert bad.status_code == 400 and bad.content.decode().count('class="errorlist"') >= 2
    reversed_dates = client("shift_lead").get("/notifications/", {"date_from": today, "date_to": today - timedelta(days=1)})
    assert reversed_dates.status_code == 400
    # English.
    c = client("shift_lead")
    c.cookies["django_language"] = "en"
    assert c.get("/notifications/").status_code == 200


def test_dead_delivery_is_retried_and_later_delivered(demo_city, receivers):
    hook, sms = receivers
    case = dispatched_case()
    note = Notification.objects.get(case=case)
    now = _kill(hook)
    dead = Delivery.objects.get(notification=note, channel="ops")
    assert dead.attempts == MAX_ATTEMPTS and dead.sent_at is None
    assert deliver_pending(now=now + timedelta(days=1)) == (0, 0)  # dead: nobody tries it any more
    shift = client("shift_lead")
    page = shift.get("/notifications/", {"state": "dead"}).content.decode()
    assert _cell(page, "ops", "dead") == 1 and f'action="/notifications/{dead.pk}/retry/"' in page
    # The alert in the top bar, on the workbench too, for those who may open the page; not for a unit handler.
    bench_page = shift.get("/centre/")
    assert bench_page.status_code == 200
    bench = bench_page.content.decode()
    assert 'class="notify-link dead-badge"' in bench and 'data-dead="1"' in bench
    assert "dead-badge" not in client("unit_handler").get("/unit/").content.decode()
    # CSRF is enforced.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(get_user_model().objects.get(username="shift_lead"))
    assert strict.post(f"/notifications/{dead.pk}/retry/").status_code == 403
    answer = shift.post(f"/notifications/{dead.pk}/retry/", {"next": "/notifications/?state=dead"})
    assert answer.status_code == 302 and answer["Location"] == "/notifications/?state=dead"
    dead.refresh_from_db()
    assert dead.attempts == 0 and dead.requeues == 1 and dead.requeued_by.username == "shift_lead" and dead.requeued_at
    assert "dead-badge" not in shift.get("/centre/").content.decode()
    # Retrying it again (no longer dead) changes nothing.
    shift.post(f"/notifications/{dead.pk}/retry/")
    dead.refresh_from_db()
    assert dead.requeues == 1
    assert deliver_pending(now=timezone.now() + timedelta(seconds=1)) == (1, 0)
    assert [key for key, _ in hook.received] == [f"notification-{note.pk}"]
    dead.refresh_from_db()
    assert dead.sent_at is not None
    listing = shift.get("/notifications/", {"channel": "ops"}).content.decode()
    assert "shift_lead" in listing and _cell(listing, "ops", "sent") == 1


def test_bulk_retry_of_a_channel(demo_city, receivers):
    hook, sms = receivers
    case = dispatched_case()
    Notification.objects.create(case=case, kind="overdue", text="x", unit=case.current_unit, dedupe_key="t:2")
    _kill(hook)
    assert Delivery.objects.filter(channel="ops", attempts=MAX_ATTEMPTS).count() == 2
    shift = client("shift_lead")
    assert shift.post("/notifications/retry-channel/", {"channel": "nope"}).status_code == 400
    assert shift.post("/notifications/retry-channel/", {}).status_code == 400
    assert shift.post("/notifications/retry-channel/", {"channel": "ops"}).status_code == 302
    assert Delivery.objects.filter(channel="ops", attempts=0, requeues=1).count() == 2
    assert Delivery.objects.filter(channel="sms", requeues=0).count() == 2  # the other channel untouched
    assert deliver_pending(now=timezone.now() + timedelta(seconds=1)) == (2, 0)
    assert len(hook.received) == 2


def test_sms_carries_the_phone_numbers_of_the_people_addressed(demo_city, receivers, caplog):
    hook, sms = receivers
    case = dispatched_case()
    note = Notification.objects.get(case=case)
    handlers = Person.objects.filter(roles__role=Role.UNIT_HANDLER, roles__unit=case.current_unit, active=True).distinct()
    expected = sorted(p.phone for p in handlers if p.phone)
    assert expected
    assert deliver_pending() == (2, 0)
    key, payload = sms.received[0]
    assert key == f"notification-{note.pk}" and sorted(payload["phones"]) == expected
    assert payload["content"] == note.text and payload["token"] == "t0ken"
    # A post (the dispatchers, city-wide) is addressed through its holders' phones too.
    returned = Notification.objects.create(case=case, kind="returned", text="r", role=Role.DISPATCHER, dedupe_key="t:r")
    deliver_pending()
    dispatchers = Person.objects.filter(roles__role=Role.DISPATCHER, roles__region__isnull=True, active=True).distinct()
    assert sorted(sms.received[-1][1]["phones"]) == sorted(p.phone for p in dispatchers if p.phone)
    assert sms.received[-1][0] == f"notification-{returned.pk}"


def test_sms_without_any_phone_is_a_dead_delivery_with_its_reason(demo_city, receivers, caplog):
    hook, sms = receivers
    case = dispatched_case()
    phones = dict(Person.objects.filter(roles__role=Role.UNIT_HANDLER, roles__unit=case.current_unit).values_list("pk", "phone"))
    Person.objects.filter(pk__in=phones).update(phone="")
    assert deliver_pending() == (1, 1)  # the webhook is sent; the SMS cannot be
    row = Delivery.objects.get(notification__case=case, channel="sms")
    assert row.sent_at is None and row.attempts == MAX_ATTEMPTS  # dead at once: retrying cannot help
    assert "没有登记手机号码" in row.last_error and case.current_unit.name in row.last_error
    assert sms.received == []
    page = client("shift_lead").get("/notifications/", {"state": "dead"}).content.decode()
    assert "没有登记手机号码" in page
    # Once a phone is recorded, putting it back in the queue delivers it.
    person = Person.objects.get(pk=next(iter(phones)))
    person.phone = "13912345678"
    person.save()
    client("shift_lead").post(f"/notifications/{row.pk}/retry/")
    assert deliver_pending(now=timezone.now() + timedelta(seconds=1)) == (1, 0)
    assert sms.received[0][1]["phones"] == ["13912345678"]
    # No phone number reaches the logs or the page.
    assert "13912345678" not in caplog.text
    assert "13912345678" not in client("admin").get("/notifications/").content.decode()


def test_phone_numbers_are_masked_in_delivery_errors():
    from urbangrid.cases.notify import mask_phones

    text = mask_phones("gateway refused 13912345678, +86 139-1234-5678 and 0551-62345678 (HTTP 400, id 20261203)")
    assert "1391234" not in text and "5678" not in text and "62345678" not in text
    assert text.count("***") == 3 and "HTTP 400" in text and "20261203" in text
