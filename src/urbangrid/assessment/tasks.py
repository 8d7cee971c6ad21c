"""Periodic work of the assessment app on the task engine (huey)."""
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from . import tallies


@db_periodic_task(crontab(minute="*/10"))
def refresh_tallies():
    """日统计: keep yesterday's and today's tallies (and any day given events later) current, so that
    evaluation pages rarely tally a day themselves."""
    return [str(d) for d in tallies.refresh()]
