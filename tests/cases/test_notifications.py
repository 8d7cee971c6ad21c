"""Notifications: written with the transition (outbox), delivered to a real local HTTP receiver once,
also after the receiver was down for a while."""
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from urbangrid.cases import services
from urbangrid.cases.models import Delivery, Notification
from urbangrid.cases.notify import deliver_pending
from urbangrid.org.scope import actor_for

from ug_testing import dispatched_case

pytestmark = pytest.mark.django_db


class Receiver:
    def __init__(self):
        self.up = True
        self.received = []
        seen = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not seen.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                seen.received.append((self.headers["Idempotency-Key"], json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver(settings):
    r = Receiver()
    settings.URBANGRID_NOTIFY_CHANNELS = [{"name": "ops", "type": "webhook", "url": r.url, "format": "json"}]
    yield r
    r.close()


def test_outbox_written_with_the_transition_and_delivered_once(demo_city, receiver):
    case = dispatched_case()
    note = Notification.objects.get(case=case, kind="dispatched")
    assert note.unit.code == "CGJ-SZ" and case.number in note.text
    # A refused transition writes no notification.
    with pytest.raises(services.Conflict):
        services.transition(actor_for(get_user_model().objects.get(username="dispatcher")), case.number, "dispatch", {"unit": "CGJ-SZ"})
    assert Notification.objects.filter(case=case).count() == 1
    # The receiver is down: the delivery fails and is retried later with backoff.
    receiver.up = False
    assert deliver_pending() == (0, 1)
    row = Delivery.objects.get(notification=note)
    assert row.sent_at is None and row.attempts == 1 and row.next_attempt_at > timezone.now()
    assert deliver_pending() == (0, 0)  # not due yet
    receiver.up = True
    assert deliver_pending(now=timezone.now() + timedelta(minutes=5)) == (1, 0)
    assert deliver_pending(now=timezone.now() + timedelta(hours=2)) == (0, 0)
    assert [key for key, _ in receiver.received] == [f"notification-{note.pk}"]
    assert receiver.received[0][1]["case"] == case.number
    note.refresh_from_db()
    assert note.sent_at is not None
