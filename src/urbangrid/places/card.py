"""The 六定 card of a responsibility grid: scope, people, content, standards, responsibility, patrol."""
from collections import OrderedDict

import segno
from django.urls import reverse
from shapely.geometry import shape

from urbangrid.grids.geometry import LocalPlane
from urbangrid.catalog.responsibility import responsibility_table
from urbangrid.core.tenancy import setting as city_setting
from urbangrid.org import privacy
from urbangrid.org.models import RoleAssignment
from urbangrid.org.roles import GRID_ROLES, Role

ROLE_ORDER = [Role.GRID_LEADER, Role.DEPUTY_GRID_LEADER, Role.GRID_LIAISON, Role.SUB_GRID_LEADER,
              Role.GRID_OFFICER, Role.INSPECTOR, Role.ASSESSOR]


def report_url(grid):
    """The fixed public URL the card's QR code opens: the report page pinned to this grid."""
    return city_setting("URBANGRID_PUBLIC_BASE_URL").rstrip("/") + reverse("public:report_entry", args=[grid.code])


def qr_svg(url):
    return segno.make(url, error="m").svg_inline(scale=3, border=2)


def scope_svg(grid, width=360, height=260):
    """A plain SVG map of the grid, its unit grids, crossing roads and patrol route (prints without tiles)."""

    g = grid.shape
    plane = LocalPlane(g.centroid.y)
    minx, miny, maxx, maxy = plane.project(g).buffer(30).bounds
    scale = min(width / (maxx - minx), height / (maxy - miny))

    def pts(coords):
        out = []
        for lon, lat in coords:
            x, y = plane.xy(lon, lat)
            out.append(f"{(x - minx) * scale:.1f},{(maxy - y) * scale:.1f}")
        return " ".join(out)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" class="scope-map">',
             f'<rect width="{width}" height="{height}" fill="#f3f6f9"/>']
    for cell in grid.unit_grids.all():
        for ring in shape(cell.geometry).exterior.coords, :
            parts.append(f'<polygon points="{pts(ring)}" fill="none" stroke="#b8c4d0" stroke-width="0.6"/>')
    parts.append(f'<polygon points="{pts(g.exterior.coords)}" fill="rgba(11,99,197,0.08)" stroke="#0b63c5" stroke-width="2"/>')
    for seg in grid.road_segments.all():
        parts.append(f'<polyline points="{pts(seg.geometry["coordinates"])}" fill="none" stroke="#e07b00" stroke-width="4" stroke-opacity="0.7"/>')
    if grid.patrol_route:
        parts.append(f'<polyline points="{pts(grid.patrol_route["coordinates"])}" fill="none" stroke="#2e7d32" stroke-width="1.5" stroke-dasharray="6 4"/>')
    parts.append("</svg>")
    return "".join(parts)


def people_by_role(grid, actor=None):
    """The grid's people by role. Each person carries ``shown_phone``: his phone if ``actor`` may read it
    (``org/privacy.py``), else "" (no actor: no phones); ``grouped.phones_hidden`` says whether any was held back."""
    assignments = (RoleAssignment.objects.filter(grid=grid, role__in=GRID_ROLES)
                   .select_related("person", "person__unit").order_by("person__employee_no"))
    grouped = PeopleByRole((role, []) for role in ROLE_ORDER)
    for ra in assignments:
        grouped[Role(ra.role)].append(ra.person)
    people = [p for persons in grouped.values() for p in persons]
    if actor is None:
        for p in people:
            p.shown_phone = ""
        grouped.phones_hidden = any(p.phone for p in people)
    else:
        grouped.phones_hidden = privacy.with_phones(actor, people)
    return grouped


class PeopleByRole(OrderedDict):
    phones_hidden = False


def responsibility_rows(grid):
    """Who answers for each class in this grid, resolved from the responsibility list at the grid's centre."""
    point = grid.shape.representative_point()
    return responsibility_table(point.x, point.y)


SIGN_MAJORS = 2  # major classes named per unit on the printed sign


def responsibility_by_unit(rows):
    """The 定责任 rows folded per responsible unit, for the one-page sign: the unit, the major classes it answers
    for (in catalogue order), how many classes, and the range of its time limits (shortest, longest). The full
    list, class by class, is the card's."""
    units = OrderedDict()
    for r in rows:
        unit = r["unit"]
        entry = units.setdefault(unit.pk if unit is not None else None, {
            "unit": unit, "majors": [], "count": 0, "fallback": False, "shortest": None, "longest": None})
        entry["count"] += 1
        entry["fallback"] = entry["fallback"] or r["fallback"]
        if r["major_name"] not in entry["majors"]:
            entry["majors"].append(r["major_name"])
        hours = r.get("limit_hours")
        if hours is not None:
            if entry["shortest"] is None or hours < entry["shortest"][0]:
                entry["shortest"] = (hours, r["limit"])
            if entry["longest"] is None or hours > entry["longest"][0]:
                entry["longest"] = (hours, r["limit"])
    out = []
    for entry in units.values():
        # a sign is one page: a unit with many major classes shows the first few and how many more
        entry["majors_more"] = max(0, len(entry["majors"]) - SIGN_MAJORS)
        entry["majors_shown"] = entry["majors"][:SIGN_MAJORS]
        shortest, longest = entry.pop("shortest"), entry.pop("longest")
        entry["limits"] = "" if shortest is None else (
            shortest[1] if shortest[0] == longest[0] else f"{shortest[1]} – {longest[1]}")
        out.append(entry)
    return sorted(out, key=lambda e: (e["unit"] is None, -e["count"]))


def card_data(grid, actor=None):
    """The card as data; phones only where ``actor`` may read them (no actor: no phone field)."""
    people = people_by_role(grid, actor)
    return {
        "code": grid.code,
        "name": grid.name,
        "region": str(grid.region),
        "scope": {"area_m2": round(grid.area_m2, 1), "unit_grids": [u.code for u in grid.unit_grids.all()],
                  "road_segments": [{"code": s.code, "name": s.name} for s in grid.road_segments.all()]},
        "people": [
            {"role": role.value, "role_label": str(role.label),
             "people": [{"name": p.name, "unit": p.unit.name if p.unit else "", "title": p.title,
                         **({"phone": p.shown_phone or None} if actor is not None else {})} for p in persons]}
            for role, persons in people.items()
        ],
        "content": list(grid.content or []),
        "standards": grid.standards,
        "patrol": {"frequency": grid.patrol_frequency, "times": grid.patrol_times, "route": grid.patrol_route},
        "party_organizations": [{"code": p.code, "name": p.name, "level": p.level} for p in grid.party_organizations.all()],
        "report_url": report_url(grid),
    }
