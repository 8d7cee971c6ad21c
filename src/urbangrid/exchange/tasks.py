"""Periodic work of the exchange on the task engine (huey): every minute the city fetches the province's new tasks
(上级交办) and sends the province its news."""
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from urbangrid.core.tenancy import each_city

from . import inbox, outbox


@db_periodic_task(crontab(minute="*"))
def push_to_province():
    """联网上报: fetch the province's new tasks (each becomes a case once), then send what is new (the same functions
    as ``urbangrid exchange push``); nothing without a province URL and key; a failed batch waits for its backoff;
    a run still going (its lease) is left alone. In every city of a multi-city deployment, each with its own code
    and key (core/tenancy.py)."""
    return each_city(_push)


def _push():
    try:
        cfg = outbox.config()
    except outbox.NotConfigured:
        return None
    pulled = inbox.pull(cfg)
    outbox.prune()
    r = outbox.push(cfg=cfg)
    return {"sent": r.sent, "duplicates": r.duplicates, "acked_sequence": r.acked_sequence, "error": r.error,
            "busy": r.busy, "tasks_created": pulled.created, "tasks_error": pulled.error}
