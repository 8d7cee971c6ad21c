"""A city scaled to M unit grids (万米单元网格) for the megacity generator.

Layout: a regular tessellation of 100 m cells grouped 6 × 5 into responsibility grids (the last one may be
partial); each responsibility grid is one community, six communities make a street, and streets are
shared out over up to 99 districts. Units (bureau, centre, bureau units, district units, street offices)
are the demo city's, built by the demo's own ``build_units`` so the demo's responsibility list applies;
people are only the posts the workflow needs: inspectors (two responsibility grids each), centre posts,
one district dispatcher per district, leaders, and a handler for every unit.
"""
import math
import random

from django.db import transaction

from urbangrid.fabricate.demo import names
from urbangrid.fabricate.demo.city import CELL_M, CONTENT, ORIGIN_LAT, ORIGIN_LON, CELLS_X, CELLS_Y, _square, build_units
from urbangrid.grids.models import GridDataVersion, Region, ResponsibilityGrid, UnitGrid
from urbangrid.org.models import Person, RoleAssignment, Unit
from urbangrid.org.roles import Role

CITY_CODE, CITY_NAME = "349900", "特大示范市"
CELLS_PER_RGRID = CELLS_X * CELLS_Y  # 30 unit grids per responsibility grid
COMMUNITIES_PER_STREET = 6
MAX_DISTRICTS = 99  # district codes 3499 01–99 (6-digit 区划代码)
MAX_GRIDS = 1_000_000  # 33,334 responsibility grids: every region code stays inside its digits

DLON = CELL_M / (111_320.0 * math.cos(math.radians(ORIGIN_LAT)))
DLAT = CELL_M / 110_574.0


def plan(grids):
    """(responsibility grids, districts, streets per district) for ``grids`` unit grids."""
    n_rgrids = math.ceil(grids / CELLS_PER_RGRID)
    n_districts = max(1, min(MAX_DISTRICTS, math.ceil(n_rgrids / 30)))
    per_district = math.ceil(n_rgrids / n_districts)
    return n_rgrids, n_districts, math.ceil(per_district / COMMUNITIES_PER_STREET)


@transaction.atomic
def build_geography(grids):
    """Regions and ``grids`` unit grids in ``ceil(grids / 30)`` responsibility grids; returns (city, districts)."""
    n_rgrids, n_districts, _streets = plan(grids)
    city = Region.objects.create(code=CITY_CODE, name=CITY_NAME, level=Region.Level.CITY)
    districts = Region.objects.bulk_create([
        Region(code=f"3499{d + 1:02d}", name=f"第{d + 1}区", level=Region.Level.DISTRICT, parent=city) for d in range(n_districts)])
    per_district = math.ceil(n_rgrids / n_districts)
    # responsibility grid i → district i // per_district, street, community
    street_objs, community_objs, owners = {}, [], []
    for i in range(n_rgrids):
        d_idx, k = divmod(i, per_district)
        street_no, community_no = divmod(k, COMMUNITIES_PER_STREET)
        key = (d_idx, street_no)
        if key not in street_objs:
            district = districts[d_idx]
            street_objs[key] = Region(code=f"{district.code}{street_no + 1:03d}", name=f"{district.name}第{street_no + 1}街道",
                                      level=Region.Level.STREET, parent=district)
        owners.append((key, community_no))
    Region.objects.bulk_create(street_objs.values())
    for i, (key, community_no) in enumerate(owners):
        street = street_objs[key]
        cname = names.COMMUNITIES[i % len(names.COMMUNITIES)]
        community_objs.append(Region(code=f"{street.code}{community_no + 1:03d}", name=f"{cname}{i + 1}社区",
                                     level=Region.Level.COMMUNITY, parent=street))
    Region.objects.bulk_create(community_objs, batch_size=2000)
    cols = max(1, math.ceil(math.sqrt(n_rgrids)))
    rgrids = []
    for i, community in enumerate(community_objs):
        row, col = divmod(i, cols)
        minx = ORIGIN_LON + col * CELLS_X * DLON
        maxy = ORIGIN_LAT - row * CELLS_Y * DLAT
        rg = ResponsibilityGrid(code=f"WG{i + 1:05d}", name=f"{community.name[:-2]}网格", region=community,
                                geometry=_square(minx, maxy - CELLS_Y * DLAT, minx + CELLS_X * DLON, maxy),
                                content=CONTENT, standards="道路干净整洁、设施完好、秩序规范。", patrol_frequency="每日 2 次")
        rg.update_derived()
        rgrids.append(rg)
    ResponsibilityGrid.objects.bulk_create(rgrids, batch_size=2000)
    cells, left = [], grids
    for rg, community in zip(rgrids, community_objs):
        minx, _miny, _maxx, maxy = rg.min_lon, rg.min_lat, rg.max_lon, rg.max_lat
        for seq in range(min(CELLS_PER_RGRID, left)):
            cy, cx = divmod(seq, CELLS_X)
            x0, y1 = minx + cx * DLON, maxy - cy * DLAT
            ug = UnitGrid(code=f"{community.code}{seq + 1:03d}", community=community, responsibility_grid=rg,
                          management_level=1 + (seq % 2), geometry=_square(x0, y1 - DLAT, x0 + DLON, y1))
            ug.update_derived()
            cells.append(ug)
        left -= CELLS_PER_RGRID
        if len(cells) >= 20_000:
            UnitGrid.objects.bulk_create(cells, batch_size=5000)
            cells = []
    UnitGrid.objects.bulk_create(cells, batch_size=5000)
    GridDataVersion.bump()
    return city, districts, rgrids


@transaction.atomic
def build_people(seed, districts, rgrids, units):
    """The posts the workflow needs, each a person with a role assignment (no logins)."""
    rng = random.Random(f"generate-people-{seed}")
    people, roles = [], []

    def person(prefix, unit, title):
        p = Person(name=names.person_name(rng), employee_no=f"{prefix}{len(people) + 1:07d}", unit=unit, title=title,
                   phone=f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}")
        people.append(p)
        return p

    def role(p, r, **where):
        roles.append((p, r, where))

    centre, bureau = units["centre"], units["bureau"]
    for i in range(0, len(rgrids), 2):  # 网格巡查员: two neighbouring grids each
        p = person("ZX", centre, "网格巡查员")
        for rg in rgrids[i:i + 2]:
            role(p, Role.INSPECTOR, grid=rg)
    scale = max(1, len(rgrids) // 50)  # centre posts grow with the city
    for post, count in ((Role.INTAKE_OPERATOR, 4), (Role.SHIFT_LEAD, 3), (Role.DISPATCHER, 4)):
        for _ in range(count * scale):
            role(person("ZX", centre, str(post.label)), post)
    for _ in range(2):
        role(person("CG", bureau, "局领导"), Role.LEADER)
    for (head, _members), district in zip(units["districts"], districts):
        role(person("QX", head, "二级派遣员"), Role.DISTRICT_DISPATCHER, region=district)
    for u in Unit.objects.order_by("code"):
        role(person("DU", u, "处置人员"), Role.UNIT_HANDLER, unit=u)
    Person.objects.bulk_create(people, batch_size=5000)
    RoleAssignment.objects.bulk_create([RoleAssignment(person=p, role=r, **where) for p, r, where in roles], batch_size=5000)
    return len(people)


def build_city(seed, grids):
    """Geography, units and people of a generated city; returns a summary dict."""
    city, districts, rgrids = build_geography(grids)
    units = build_units(city, districts)
    n_people = build_people(seed, districts, rgrids, units)
    return {"districts": len(districts), "responsibility_grids": len(rgrids), "people": n_people}
