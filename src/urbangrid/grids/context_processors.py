"""The map tile layer every page with a map needs: URL template, attribution and datum (see grids/coords.py)."""
from urbangrid.core.tenancy import setting as city_setting

from .coords import tile_crs


def map_tiles(request):
    return {"map_tiles": {"url": city_setting("URBANGRID_TILE_URL"), "attribution": city_setting("URBANGRID_TILE_ATTRIBUTION"),
                          "crs": tile_crs()}}
