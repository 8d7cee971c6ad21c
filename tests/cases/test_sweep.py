"""The deadline sweep on the task engine: overdue flags and notifications, once per clock."""
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from urbangrid.cases import services
from urbangrid.cases.models import Case, Notification
from urbangrid.cases.sweep import sweep
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.scope import actor_for

pytestmark = pytest.mark.django_db


def test_sweep_flags_overdue_once_and_through_huey(demo_city):
    inspector = actor_for(get_user_model().objects.get(username="inspector"))
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    long_ago = timezone.now() - timedelta(days=10)
    old, _ = services.report(inspector, catalog_class=cls, lon=117.2352, lat=31.8785, description="旧案", source="inspector",
                             at=long_ago, require_photos=False)
    fresh, _ = services.report(inspector, catalog_class=cls, lon=117.2352, lat=31.8785, description="新案",
                               source="inspector", require_photos=False)
    counts = sweep()
    assert counts["overdue"] >= 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.is_overdue and not fresh.is_overdue
    note = Notification.objects.get(case=old, kind="overdue")
    assert note.role == "intake_operator" and old.number in note.text and note.sent_at is None
    assert not Notification.objects.filter(case=fresh, kind="overdue").exists()
    # A second sweep (here through the huey task, run in-process) adds nothing new.
    from huey.contrib.djhuey import HUEY

    from urbangrid.cases.tasks import sweep_deadlines

    before = Notification.objects.count()
    HUEY.immediate = True
    try:
        sweep_deadlines()
    finally:
        HUEY.immediate = False
    assert Notification.objects.count() == before
    assert Case.objects.filter(is_overdue=True).count() == 1
