"""Any edit to geography bumps the grid data version, so every process rebuilds its lookup index."""
from django.db.models.signals import m2m_changed, post_delete, post_save

from .models import GridDataVersion, Region, ResponsibilityGrid, RoadSegment, UnitGrid


def _bump(sender, **kwargs):
    if kwargs.get("raw"):
        return
    GridDataVersion.bump()


def connect():
    for model in (Region, ResponsibilityGrid, UnitGrid, RoadSegment):
        post_save.connect(_bump, sender=model, dispatch_uid=f"gridversion-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"gridversion-delete-{model.__name__}")
    m2m_changed.connect(_bump, sender=RoadSegment.grids.through, dispatch_uid="gridversion-m2m")
