"""Periodic housekeeping on the task engine (huey)."""
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .ratelimit import counters
from .tenancy import each_city


@db_periodic_task(crontab(minute="17"))
def purge_expired_counters():
    """Expired login and rate-limit counters (database store; Redis expires its own keys)."""
    return each_city(lambda: counters().purge())
