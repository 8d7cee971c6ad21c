from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, render

from urbangrid.core.access import view_require

from . import card
from .models import ResponsibilityGrid


@login_required
def grid_card(request, code, printable=False):
    """六定 card of a responsibility grid; ``printable`` gives the A4 sign with its QR code."""
    view_require(request, "reference.view")
    grid = get_object_or_404(ResponsibilityGrid.objects.select_related("region__parent__parent"), code=code)
    url = card.report_url(grid)
    context = {
        "grid": grid,
        "people": card.people_by_role(grid),
        "segments": grid.road_segments.order_by("code"),
        "party_organizations": grid.party_organizations.select_related("parent").order_by("level", "code"),
        "rows": card.responsibility_rows(grid),
        "scope_svg": card.scope_svg(grid),
        "qr_svg": card.qr_svg(url),
        "report_url": url,
        "printable": printable,
        "unit_grid_count": grid.unit_grids.count(),
    }
    return render(request, "grids/card_print.html" if printable else "grids/card.html", context)


def report_entry(request, grid_code):
    """The public report page a card's QR code opens, pinned to the grid (the fixed URL of the QR code)."""
    from urbangrid.public.views import report

    return report(request, grid_code=grid_code)


@login_required
def city_map(request):
    """The city's grids, road segments and the point → grid lookup on one map."""
    view_require(request, "reference.view")
    return render(request, "grids/map.html", {"tile_url": settings.URBANGRID_TILE_URL, "tile_attribution": settings.URBANGRID_TILE_ATTRIBUTION})


@login_required
def grid_list(request):
    view_require(request, "reference.view")
    grids = (ResponsibilityGrid.objects.select_related("region__parent__parent")
             .annotate(n_cells=Count("unit_grids", distinct=True), n_segments=Count("road_segments", distinct=True)).order_by("code"))
    return render(request, "grids/list.html", {"grids": grids})
