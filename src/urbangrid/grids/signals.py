"""Any edit to geography bumps the grid data version, so every process rebuilds its lookup index."""
import threading
from contextlib import contextmanager

from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import GridDataVersion, Region, ResponsibilityGrid, RoadSegment, UnitGrid

_local = threading.local()


@contextmanager
def muted():
    """No per-row bumps in this thread (a bulk import bumps once itself); other threads keep theirs."""
    before = getattr(_local, "muted", False)
    _local.muted = True
    try:
        yield
    finally:
        _local.muted = before


def _bump(sender, **kwargs):
    if kwargs.get("raw") or getattr(_local, "muted", False):
        return
    GridDataVersion.bump()


def connect():
    for model in (Region, ResponsibilityGrid, UnitGrid, RoadSegment):
        post_save.connect(_bump, sender=model, dispatch_uid=f"gridversion-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"gridversion-delete-{model.__name__}")
    m2m_changed.connect(_bump, sender=RoadSegment.grids.through, dispatch_uid="gridversion-m2m")
