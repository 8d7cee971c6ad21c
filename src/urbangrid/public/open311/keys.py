"""API keys: generated at random, stored as a SHA-256 digest (the keys are high-entropy, so no slow hash is needed).

A key's use is recorded (``last_used_at``) at most once per ``LAST_USED_EVERY``, not by a write per request;
its POSTs are limited per hour (``posts_per_hour``, else settings.URBANGRID_OPEN311_KEY_POSTS_PER_HOUR), counted
in the store every server process shares (core/ratelimit.py).
"""
import hashlib
import random
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import router
from django.db.models import Q
from django.utils import timezone

from urbangrid.core import prepared
from urbangrid.core.ratelimit import hit
from urbangrid.org.models import RoleAssignment

from ..models import Open311Key

PREFIX = "ug311_"
LAST_USED_EVERY = timedelta(minutes=5)


def digest(raw):
    return hashlib.sha256(str(raw).encode("utf-8")).hexdigest()


def generate():
    return PREFIX + secrets.token_urlsafe(24)


def issue(owner, contact="", unit=None, can_post_updates=False, raw=None):
    """Create a key; returns (Open311Key, raw key). The raw key is not stored anywhere."""

    raw = raw or generate()
    key = Open311Key.objects.create(key_hash=digest(raw), key_prefix=raw[:12], owner=owner, contact=contact, unit=unit,
                                    can_post_updates=can_post_updates)
    return key, raw


_HASH = "\x1fopen311-key-hash\x1f"  # the placeholder of the compiled look-up
_FIELDS = [f.attname for f in Open311Key._meta.concrete_fields]


def authenticate(raw):
    """The active key for ``raw``, or None."""

    raw = (raw or "").strip()
    if not raw or len(raw) > 200:
        return None
    # every Open311 POST asks this: the statement compiled once per connection (core/prepared.py)
    found = prepared.rows("open311-key", lambda: Open311Key.objects.filter(key_hash=_HASH, active=True).values_list(
        *_FIELDS)[:1], {_HASH: digest(raw)})
    # the alias the ORM would have read it from (a city's, core/tenancy.py), for a later save of the instance
    key = Open311Key.from_db(router.db_for_read(Open311Key) or "default", _FIELDS, tuple(found[0])) if found else None
    if key is not None:
        record_use(key)
    return key


def record_use(key, now=None):
    """Note that ``key`` was used, unless that was noted less than LAST_USED_EVERY ago (no write then)."""

    now = now or timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return False
    # Conditional, so two processes seeing the same stale value write once.
    Open311Key.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY),
                              pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    return True


def posts_limit(key):
    """The POSTs per hour ``key`` may send: its own limit, else the declared default."""
    if key.posts_per_hour is not None:
        return key.posts_per_hour
    return int(settings.URBANGRID_OPEN311_KEY_POSTS_PER_HOUR)


def allow_post(key):
    """Count one POST of ``key``; (True, limit) while within its hourly limit, else (False, limit)."""
    limit = posts_limit(key)
    return hit("open311-key-posts", str(key.pk), limit), limit


def ensure_demo_key(seed):
    """The demo's API key (deterministic per seed and install salt), allowed to feed back for the demo unit_handler's unit."""

    rng = random.Random(f"open311-{seed}")
    raw = PREFIX + "demo" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(24))
    ra = (RoleAssignment.objects.filter(role="unit_handler", person__user__username="unit_handler", unit__isnull=False)
          .select_related("unit").first())
    unit = ra.unit if ra else None
    Open311Key.objects.update_or_create(key_hash=digest(raw), defaults={
        "key_prefix": raw[:12], "owner": "示范外部系统（Open311）", "contact": "demo@example.invalid", "active": True,
        "can_post_updates": unit is not None, "unit": unit})
    return raw
