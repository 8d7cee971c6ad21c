"""The gazetteer is versioned with the grid data: any edit bumps ``GridDataVersion`` (the same per-thread mute
as the grids' own signals), so every process rebuilds its geocoding index as it rebuilds its grid index."""
from django.db.models.signals import m2m_changed, post_delete, post_save

from urbangrid.grids.signals import _bump

from .models import Doorplate, Intersection, Landmark, Road


def connect():
    for model in (Road, Doorplate, Landmark, Intersection):
        post_save.connect(_bump, sender=model, dispatch_uid=f"gridversion-save-{model.__name__}")
        post_delete.connect(_bump, sender=model, dispatch_uid=f"gridversion-delete-{model.__name__}")
    m2m_changed.connect(_bump, sender=Road.segments.through, dispatch_uid="gridversion-m2m-road")
