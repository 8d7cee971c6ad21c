"""Notifications: written in the transaction of the transition that causes them (an outbox), then
delivered by the task engine through pluggable channels with retries and backoff.

Channels come from settings.URBANGRID_NOTIFY_CHANNELS, a list of dicts:
  {"name": "wecom", "type": "webhook", "url": "https://…", "format": "wecom" | "dingtalk" | "json"}
  {"name": "sms", "type": "sms", "url": "https://gateway/send", "token": "…"}   (JSON POST to an SMS gateway,
      with the phone numbers of the people the notification addresses: see ``sms_recipients``)
  {"name": "mail", "type": "email", "to": ["ops@city.gov.cn"]}
A delivery that fails is retried with backoff; after MAX_ATTEMPTS it is dead (死信): nobody retries it until
someone puts it back in the queue (``cases/outbox.py``, the page 通知投递). A delivery that cannot succeed
by retrying (an SMS to people without a phone number) is dead at once, with its reason.
Every POST carries the header Idempotency-Key: notification-<id>, so a receiver that saw a message
before (a worker killed between sending and recording) can drop the repeat: delivered once per recipient.
"""
import json
import logging
import re
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.org.models import Person
from urbangrid.org.roles import Role

from .models import Delivery, Notification

MAX_ATTEMPTS = 8

log = logging.getLogger(__name__)
# Phone numbers never reach the delivery's error text, the logs or the pages (org/privacy.py decides who
# reads a phone number): a gateway that echoes them back has them masked.
_PHONE_RE = re.compile(r"(?<!\d)(\+?86[- ]?)?1\d{2}[- ]?\d{4}[- ]?\d{4}(?!\d)|(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)")


class PermanentFailure(Exception):
    """A delivery that retrying cannot fix (the data must change first): it is dead at once."""


def mask_phones(text):
    return _PHONE_RE.sub("***", text or "")


def _backoff(attempts):
    return timedelta(seconds=min(3600, 30 * 2 ** (attempts - 1)))


# --- writing (inside the transition's transaction) ------------------------------------------------

def on_transition(case, t, event):
    """The outbox row of a step whose table row ``notifies``; called by services.transition before it commits.
    It goes to the unit now holding the case, else to the post whose desk the case lands on."""
    kind = Notification.Kind(t.notifies)
    if kind != Notification.Kind.CLOSED and case.current_unit_id and kind != Notification.Kind.RETURNED:
        recipient = {"unit_id": case.current_unit_id, "role": ""}
    elif kind == Notification.Kind.DISPATCHED and case.district_centre_id:
        recipient = {"unit_id": None, "role": "district_dispatcher"}
    elif kind == Notification.Kind.RETURNED:
        recipient = {"unit_id": None, "role": "dispatcher"}
    else:
        recipient = {"unit_id": None, "role": "intake_operator"}
    text = _("案件 %(n)s：%(what)s") % {"n": case.number, "what": kind.label}
    if case.stage_deadline:
        text += _("，时限 %(d)s") % {"d": timezone.localtime(case.stage_deadline).strftime("%Y-%m-%d %H:%M")}
    return Notification.objects.create(case=case, kind=kind, text=text, dedupe_key=f"event:{event.pk}", **recipient)


# --- delivering (task engine) ---------------------------------------------------------------------

def channels():
    return list(settings.URBANGRID_NOTIFY_CHANNELS or [])


def _payload(channel, note):
    body = {"id": note.pk, "case": note.case.number, "kind": note.kind, "text": note.text,
            "unit": note.unit.code if note.unit_id else None, "role": note.role}
    fmt = channel.get("format", "json")
    if fmt == "wecom":
        return {"msgtype": "text", "text": {"content": note.text}}
    if fmt == "dingtalk":
        return {"msgtype": "text", "text": {"content": note.text}}
    if channel.get("type") == "sms":
        phones = [p.phone for p in sms_recipients(note) if p.phone]
        if not phones:
            raise PermanentFailure(_("短信无法发送：通知的接收方（%(who)s）没有登记手机号码的在岗人员")
                                   % {"who": recipient_label(note)})
        return {"token": channel.get("token", ""), "phones": phones, "unit": body["unit"], "role": body["role"],
                "content": note.text, "id": note.pk}
    return body


def recipient_label(note):
    """The unit or post a notification addresses, for people (no names, no numbers)."""

    if note.unit_id:
        return note.unit.name
    try:
        return str(Role(note.role).label)
    except ValueError:
        return note.role or "—"


def recipients_q(note):
    """The people a notification addresses, as a condition on ``Person``: the unit's handlers (处置人员 held
    in that unit), or the holders of the post (二级派遣员 of the case's district; the city's posts otherwise)."""

    if note.unit_id:
        return Q(roles__role=Role.UNIT_HANDLER, roles__unit_id=note.unit_id)
    if note.role == Role.DISTRICT_DISPATCHER:
        return Q(roles__role=note.role, roles__region_id=note.case.district_centre_id)
    if note.role:
        return Q(roles__role=note.role, roles__region__isnull=True)
    return Q(pk__in=[])


def sms_recipients(note):
    """The active people the notification addresses (each once), with their phone numbers."""

    return list(Person.objects.filter(recipients_q(note), active=True).distinct().order_by("pk"))


def _send(channel, note):
    if channel.get("type") == "email":
        send_mail(_("城市管理案件通知"), note.text, None, channel.get("to", []), fail_silently=False)
        return
    data = json.dumps(_payload(channel, note), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(channel["url"], data=data, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "Idempotency-Key": f"notification-{note.pk}"})
    with urllib.request.urlopen(request, timeout=channel.get("timeout", 5)) as response:
        if response.status >= 300:
            raise OSError(f"HTTP {response.status}")


def deliver_pending(now=None, limit=200):
    """Send what is due on every configured channel; returns (sent, failed). Safe to run concurrently:
    each delivery row is claimed with a row lock (SKIP LOCKED on PostgreSQL) before it is sent."""
    now = now or timezone.now()
    configured = {c["name"]: c for c in channels()}
    if not configured:
        return 0, 0
    # Make sure every notification has a delivery row per channel (new channels pick up old messages too).
    fresh = Notification.objects.filter(created_at__gte=now - timedelta(days=7)).exclude(
        deliveries__channel__in=list(configured)).values_list("pk", flat=True)[:limit * 5]
    Delivery.objects.bulk_create([Delivery(notification_id=pk, channel=name, next_attempt_at=now)
                                  for pk in fresh for name in configured], ignore_conflicts=True)
    sent = failed = 0
    due = list(Delivery.objects.filter(sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, next_attempt_at__lte=now,
                                       channel__in=list(configured)).order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    for pk in due:
        with transaction.atomic():
            row = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                   .select_related("notification__case", "notification__unit").filter(pk=pk, sent_at__isnull=True).first())
            if row is None:  # another worker has it
                continue
            try:
                _send(configured[row.channel], row.notification)
            except Exception as exc:  # any failure of the channel: retry later
                row.attempts = MAX_ATTEMPTS if isinstance(exc, PermanentFailure) else row.attempts + 1
                row.last_error = mask_phones(str(exc) or exc.__class__.__name__)[:500]
                row.next_attempt_at = now + _backoff(row.attempts)
                row.save(update_fields=["attempts", "last_error", "next_attempt_at"])
                if row.attempts >= MAX_ATTEMPTS:
                    log.warning("notification %s dead on channel %s after %s attempts: %s", row.notification_id,
                                row.channel, row.attempts, row.last_error)
                failed += 1
            else:
                row.attempts += 1
                row.sent_at = timezone.now()
                row.save(update_fields=["attempts", "sent_at"])
                Notification.objects.filter(pk=row.notification_id, sent_at__isnull=True).update(sent_at=row.sent_at)
                sent += 1
    return sent, failed
