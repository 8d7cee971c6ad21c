"""The notification outbox as people see it: each delivery (one notification through one channel) is in one
state, counted per channel; dead deliveries (given up after MAX_ATTEMPTS, or at once when retrying cannot
help) are put back in the queue by hand, with a trace on the row (who, when, how often) and in the log.

The page is ``cases/web/notifications.py``; delivering is ``notify.deliver_pending``.
"""
import logging
from datetime import datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from urbangrid.core.localcache import LocalCache

from .models import Delivery
from .notify import MAX_ATTEMPTS, channels

log = logging.getLogger(__name__)
# The dead count the top bar shows on every page of the centre: per process, trusted for
# URBANGRID_DEAD_NOTIFY_TTL seconds (30), cleared when a delivery row is saved here or put back in the queue.
DEAD_COUNT = LocalCache("dead-notifications", ("cases.Delivery",), "URBANGRID_DEAD_NOTIFY_TTL", 30.0)

VIEW_PERM = "notify.view"
RETRY_PERM = "notify.retry"

PENDING, RETRYING, DEAD, SENT = "pending", "retrying", "dead", "sent"
STATES = [(PENDING, _("待发送")), (RETRYING, _("失败重试中")), (DEAD, _("已放弃（死信）")), (SENT, _("已发送"))]
STATE_LABELS = dict(STATES)


def state_q(state):
    unsent = Q(sent_at__isnull=True)
    return {
        PENDING: unsent & Q(attempts=0),
        RETRYING: unsent & Q(attempts__gt=0, attempts__lt=MAX_ATTEMPTS),
        DEAD: unsent & Q(attempts__gte=MAX_ATTEMPTS),
        SENT: Q(sent_at__isnull=False),
    }[state]


def state_of(delivery):
    if delivery.sent_at is not None:
        return SENT
    if delivery.attempts >= MAX_ATTEMPTS:
        return DEAD
    return RETRYING if delivery.attempts else PENDING


def channel_names():
    """The configured channels, then any other channel that still has rows (a channel since removed)."""
    configured = [c["name"] for c in channels()]
    seen = Delivery.objects.order_by().values_list("channel", flat=True).distinct()
    return configured + sorted(set(seen) - set(configured))


def counts():
    """{channel: {state: n, "total": n}} for every channel, in one query."""
    rows = Delivery.objects.order_by().values("channel").annotate(
        **{state: Count("pk", filter=state_q(state)) for state, _label in STATES})
    table = {name: dict.fromkeys([s for s, _l in STATES], 0) for name in channel_names()}
    for row in rows:
        table[row["channel"]] = {s: row[s] for s, _l in STATES}
    for cells in table.values():
        cells["total"] = sum(cells[s] for s, _l in STATES)
    return table


def dead_count():
    return DEAD_COUNT.get("dead", lambda: Delivery.objects.filter(state_q(DEAD)).count())


def deliveries(channel="", state="", day_from=None, day_to=None):
    """The deliveries matching the filters, newest notification first (dates: of the notification, local days)."""
    qs = Delivery.objects.select_related("notification__case", "notification__unit", "requeued_by")
    if channel:
        qs = qs.filter(channel=channel)
    if state:
        qs = qs.filter(state_q(state))
    tz = timezone.get_current_timezone()
    if day_from:
        qs = qs.filter(notification__created_at__gte=timezone.make_aware(datetime.combine(day_from, time.min), tz))
    if day_to:
        qs = qs.filter(notification__created_at__lt=timezone.make_aware(datetime.combine(day_to + timedelta(days=1), time.min), tz))
    return qs.order_by("-notification__created_at", "-pk")


def _requeue(qs, user, now):
    with transaction.atomic():
        pks = list(qs.filter(state_q(DEAD)).select_for_update().values_list("pk", flat=True))
        Delivery.objects.filter(pk__in=pks).update(attempts=0, next_attempt_at=now, requeues=F("requeues") + 1,
                                                   requeued_at=now, requeued_by=user)
    DEAD_COUNT.clear()
    if pks:
        log.warning("notification deliveries requeued by %s: %s", getattr(user, "username", "?"), pks)
    return len(pks)


def requeue(pk, user, now=None):
    """Put one dead delivery back in the queue; returns 1, or 0 when it is not (or no longer) dead."""
    return _requeue(Delivery.objects.filter(pk=pk), user, now or timezone.now())


def requeue_channel(channel, user, now=None):
    """Put every dead delivery of a channel back in the queue; returns how many."""
    return _requeue(Delivery.objects.filter(channel=channel), user, now or timezone.now())
