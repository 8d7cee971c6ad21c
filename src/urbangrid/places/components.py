"""The component page (部件页): one asset, where it is, who owns it, and its history of cases."""
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from urbangrid.cases import engine
from urbangrid.cases.services import visible_cases
from urbangrid.cases.states import OPEN
from urbangrid.catalog import components
from urbangrid.catalog.models import Component
from urbangrid.org.access import view_require
from urbangrid.org.roles import Role



def cases_of(actor, identifier, limit=components.HISTORY_LIMIT):
    """(count, newest cases) whose 部件标识码 is ``identifier``, among those ``actor`` may see."""
    qs = visible_cases(actor).filter(component_identifier=identifier)
    return qs.count(), list(qs.select_related("catalog_class", "current_unit").order_by("-created_at", "-pk")[:limit])


def report_links(actor, component):
    """Where the viewer can report a problem with ``component``, class, identifier and point filled in: the
    inspectors' app, the centre's hotline desk (受理). Empty for someone who reports through neither."""
    cls = component.catalog_class
    point = {"lon": f"{component.lon:.7f}", "lat": f"{component.lat:.7f}"}
    links = []
    if Role.INSPECTOR in actor.roles:
        query = {"version": cls.version.code, "code": cls.code, "kind": cls.kind, "component_identifier": component.identifier,
                 **point}
        links.append(("mobile", reverse("mobile:report") + "?" + urlencode(query)))
    if actor.can("case.accept"):
        query = {"catalog_class": cls.pk, "component_identifier": component.identifier, **point}
        links.append(("hotline", reverse("cases:hotline") + "?" + urlencode(query)))
    return links


@login_required
def component_page(request, identifier):
    actor = view_require(request, "reference.view")
    component = (Component.objects.select_related("catalog_class__version", "unit_grid__community__parent__parent",
                                                  "unit_grid__responsibility_grid", "competent_unit", "owner_unit",
                                                  "maintenance_unit").filter(identifier=identifier).first())
    if component is None:
        raise Http404(identifier)
    count, cases = cases_of(actor, component.identifier)
    now = timezone.now()
    rows = [{"case": c, "light": engine.light(c, now) if c.state in OPEN else ""} for c in cases]
    return render(request, "places/component.html", {
        "component": component, "rows": rows, "case_count": count, "history_limit": components.HISTORY_LIMIT,
        "report_links": report_links(actor, component),
        "map_data": {"lon": component.lon, "lat": component.lat, "state": component.state},
        "component_labels": components.layer_labels(),
    })
