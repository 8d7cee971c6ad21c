from django.contrib.auth.decorators import login_required
from django.db.models import Count, F
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotModified
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from urbangrid.cases import engine, services
from urbangrid.cases.states import OPEN
from urbangrid.catalog.components import layer_labels
from urbangrid.core.tenancy import setting as city_setting
from urbangrid.grids import basemap as bm
from urbangrid.grids.models import ResponsibilityGrid
from urbangrid.org.access import actor_of, view_require

from . import card
from .figures import PERIODS, grid_figures


@login_required
def grid_page(request, code):
    """网格页: the 六定 card, members by role, the open cases with their lights and this period's figures."""

    view_require(request, "reference.view")
    grid = get_object_or_404(ResponsibilityGrid.objects.select_related("region__parent__parent"), code=code)
    period = request.GET.get("period") or "month"
    if period not in PERIODS:
        return HttpResponseBadRequest(_("统计周期应为 day、week 或 month"))
    now = timezone.now()
    # Counts are for the whole grid; the list shows only the cases the viewer may open.
    open_cases = (services.visible_cases(actor_of(request)).filter(responsibility_grid=grid, state__in=OPEN)
                  .select_related("catalog_class", "current_unit").order_by(F("stage_deadline").asc(nulls_last=True), "pk"))
    total_open = open_cases.count()
    ctx = services.Context.load()
    rows = [{"case": c, "light": engine.light(c, now),
             "unconfirmed": services.deadline_unconfirmed(c, ctx.calendar, ctx.limits)} for c in open_cases[:OPEN_LIMIT]]
    context = {
        "grid": grid, "people": card.people_by_role(grid, actor_of(request)), "segments": grid.road_segments.order_by("code"),
        "party_organizations": grid.party_organizations.select_related("parent").order_by("level", "code"),
        "rows": card.responsibility_rows(grid), "scope_svg": card.scope_svg(grid), "report_url": card.report_url(grid),
        "unit_grid_count": grid.unit_grids.count(), "open_rows": rows, "total_open": total_open, "open_limit": OPEN_LIMIT,
        "figures": grid_figures(grid, period, now), "period": period, "periods": PERIODS.items(),
        "map_data": {"grid": grid.geometry, "cases": [[r["case"].lon, r["case"].lat, r["light"], r["case"].number] for r in rows]},
    }
    return render(request, "places/page.html", context)


OPEN_LIMIT = 100


@login_required
def grid_card(request, code, printable=False):
    """六定 card of a responsibility grid; ``printable`` gives the A4 sign with its QR code."""
    view_require(request, "reference.view")
    grid = get_object_or_404(ResponsibilityGrid.objects.select_related("region__parent__parent"), code=code)
    url = card.report_url(grid)
    rows = card.responsibility_rows(grid)
    context = {
        "grid": grid,
        "people": card.people_by_role(grid, actor_of(request)),
        "segments": grid.road_segments.order_by("code"),
        "party_organizations": grid.party_organizations.select_related("parent").order_by("level", "code"),
        "rows": rows,
        "by_unit": card.responsibility_by_unit(rows) if printable else None,
        "scope_svg": card.scope_svg(grid),
        "qr_svg": card.qr_svg(url),
        "report_url": url,
        "printable": printable,
        "unit_grid_count": grid.unit_grids.count(),
    }
    return render(request, "places/card_print.html" if printable else "places/card.html", context)


@login_required
def city_map(request):
    """The city's grids, road segments and the point → grid lookup on one map."""

    view_require(request, "reference.view")
    return render(request, "places/map.html", {"tile_url": city_setting("URBANGRID_TILE_URL"), "tile_attribution": city_setting("URBANGRID_TILE_ATTRIBUTION"),
                                              "component_labels": layer_labels(),
                                              "map_labels": {"grids": _("责任网格"), "roads": _("路段")}})


@login_required
def grid_list(request):
    view_require(request, "reference.view")
    """All responsibility grids; the viewer's own grids (those they hold a grid role in) come first, marked
    我的网格, and ``?mine=1`` lists only them."""
    mine_ids = set(actor_of(request).grid_ids)
    only_mine = request.GET.get("mine") == "1"
    grids = (ResponsibilityGrid.objects.select_related("region__parent__parent")
             .annotate(n_cells=Count("unit_grids", distinct=True), n_segments=Count("road_segments", distinct=True)).order_by("code"))
    if only_mine:
        grids = grids.filter(pk__in=mine_ids)
    grids = list(grids)
    for g in grids:
        g.mine = g.pk in mine_ids
    grids.sort(key=lambda g: not g.mine)  # stable: by code within each group
    return render(request, "places/list.html", {"grids": grids, "has_mine": bool(mine_ids), "only_mine": only_mine})


def basemap(request):
    """The base layer GeoJSON (grids/basemap.py): staff scope for logged-in staff, public scope for anyone else.

    ``?scope=public`` asks for the public one while logged in (the citizens' pages do, so they show the same
    map to everyone). ETag is the grid data version: a map opened again revalidates in one small request."""

    wanted = request.GET.get("scope", "")
    if wanted not in ("", *bm.SCOPES):
        return HttpResponseBadRequest(_("scope 应为 staff 或 public"))
    staff = request.user.is_authenticated and actor_of(request).can("reference.view")
    if wanted == "staff" and not staff:
        wanted = "public"  # never more than the visitor may see
    scope = wanted or ("staff" if staff else "public")
    version, body = bm.cached(scope)
    etag = f'"basemap-{scope}-{version}"'
    private = "private" if scope == "staff" else "public"
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/geo+json; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = f"{private}, max-age=300"
    patch_vary_headers(response, ["Cookie"])
    return response
