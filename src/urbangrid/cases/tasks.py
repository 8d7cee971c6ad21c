"""Periodic work on the task engine (huey): in every city of a multi-city deployment (core/tenancy.py)."""
from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from urbangrid.core.tenancy import city_task, each_city

from .notify import deliver_pending
from .sweep import sweep


@db_periodic_task(crontab(minute=f"*/{max(1, settings.URBANGRID_SWEEP_MINUTES)}"))
def sweep_deadlines():
    return each_city(sweep)


@db_periodic_task(crontab(minute="*"))
def deliver_notifications():
    return each_city(deliver_pending)


@city_task()
def sweep_now():
    """The same sweep on demand (periodic tasks keep no result; this one does)."""
    return sweep()
