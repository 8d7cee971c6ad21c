"""The map tile layer every page with a map needs: URL template, attribution and datum (see grids/coords.py)."""
from django.conf import settings

from .coords import tile_crs


def map_tiles(request):
    return {"map_tiles": {"url": settings.URBANGRID_TILE_URL, "attribution": settings.URBANGRID_TILE_ATTRIBUTION,
                          "crs": tile_crs()}}
