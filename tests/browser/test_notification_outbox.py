"""通知投递 in a real browser, under the real content security policy: the shift lead sees the dead-delivery alert
in the top bar of his workbench, opens the dead-letter list, puts the message back in the queue, and the next
delivery run reaches the (local) receiver."""
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from urbangrid.cases.models import Delivery
from urbangrid.cases.notify import MAX_ATTEMPTS, deliver_pending

from ug_testing import dispatched_case

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Receiver:
    def __init__(self):
        self.up, self.received = False, []
        seen = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                # recorded before the answer: the sender returns on the answer, and the test reads the list then
                if seen.up:
                    seen.received.append(self.headers["Idempotency-Key"])
                self.send_response(200 if seen.up else 503)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_dead_alert_and_retry_in_the_browser(live_server, browser, settings, tmp_path):
    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    _, logins, _ = build_demo(seed=5, log=lambda m: None)
    receiver = Receiver()
    settings.URBANGRID_NOTIFY_CHANNELS = [{"name": "wecom", "type": "webhook", "url": receiver.url, "format": "wecom"}]
    try:
        case = dispatched_case()
        now = timezone.now()
        for _ in range(MAX_ATTEMPTS):
            now += timedelta(hours=2)
            deliver_pending(now=now)
        dead = Delivery.objects.get(notification__case=case, channel="wecom")
        assert dead.attempts == MAX_ATTEMPTS

        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})  # the real CSP
        page = context.new_page()
        problems = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
        login = logins["shift_lead"]
        log_in(page, live_server.url, login["username"], login["password"])
        page.goto(f"{live_server.url}/centre/")
        badge = page.locator("a.dead-badge")
        assert badge.is_visible() and "1 条通知投递失败已放弃" in badge.inner_text()
        screenshot(page, "notify-dead-badge")
        badge.click()
        page.wait_for_url("**/notifications/?state=dead")
        assert page.locator(".dead-alert").is_visible()
        row = page.locator(f"tr[data-delivery='{dead.pk}']")
        assert row.get_attribute("data-state") == "dead" and case.number in row.inner_text()
        assert page.locator("tr[data-channel='wecom'] td[data-state='dead']").inner_text() == "1"
        screenshot(page, "notify-dead-list")
        row.locator("button.retry").click()
        page.wait_for_selector(".messages .msg-success")
        assert page.locator("a.dead-badge").count() == 0
        assert page.locator("tr[data-channel='wecom'] td[data-state='pending']").inner_text() == "1"
        # The case link opens the case.
        page.goto(f"{live_server.url}/notifications/?channel=wecom")
        page.locator(f"tr[data-delivery='{dead.pk}'] a").first.click()
        page.wait_for_url(f"**/cases/{case.number}/")
        receiver.up = True
        assert deliver_pending(now=timezone.now() + timedelta(seconds=1)) == (1, 0)
        assert receiver.received == [f"notification-{dead.notification_id}"]
        page.goto(f"{live_server.url}/notifications/")
        assert page.locator("tr[data-channel='wecom'] td[data-state='sent']").inner_text() == "1"
        assert problems == []
        context.close()
    finally:
        receiver.server.shutdown()
