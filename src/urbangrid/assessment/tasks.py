"""Periodic work of the assessment app on the task engine (huey).

The daily tallies behind the evaluation are built here (and by ``urbangrid tallies``), never in a request:
pages and the API read what is ready and say which days are not (``evaluation.evaluate.evaluation_for``).
"""
from django.conf import settings
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task

from urbangrid.core.tenancy import current_code, each_city

from .evaluation import tallies


@db_periodic_task(crontab(minute="*"))
def refresh_tallies():
    """日统计: keep yesterday's and today's tallies (and any day given events later) current, so that
    today's figures lag new events by about a minute (``URBANGRID_TALLY_TODAY_MAX_AGE``). One day's worth of
    work at most when events arrive; a few queries when nothing changed."""
    return each_city(lambda: [str(d) for d in tallies.refresh()])


@db_periodic_task(crontab(minute="*/10"))
def backfill_tallies():
    """日统计: tally the days that have none yet (a fresh install, imported or generated history, a rebuilt
    database), newest first, for at most ``URBANGRID_TALLY_BACKFILL_SECONDS`` per run; the next run goes on.
    One run at a time."""
    def backfill():
        with lock_task(f"assessment-backfill-tallies{current_code()}"):
            budget = float(settings.URBANGRID_TALLY_BACKFILL_SECONDS)
            return [str(d) for d in tallies.build_missing(budget_seconds=budget)]

    return each_city(backfill)
