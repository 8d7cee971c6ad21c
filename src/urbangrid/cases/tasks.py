"""Periodic work on the task engine (huey)."""
from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .notify import deliver_pending
from .sweep import sweep


@db_periodic_task(crontab(minute=f"*/{max(1, settings.URBANGRID_SWEEP_MINUTES)}"))
def sweep_deadlines():
    return sweep()


@db_periodic_task(crontab(minute="*"))
def deliver_notifications():
    return deliver_pending()


@db_task()
def sweep_now():
    """The same sweep on demand (periodic tasks keep no result; this one does)."""
    return sweep()
