"""Build the demo city's geography, units, party organisations and people.

Layout: the main urban area is a board of 9 × 6 responsibility grids (one corner left out: 53), each
made of 6 × 5 unit grids of about 100 m × 100 m (万米单元网格), under 3 districts of 3 streets each.
Roads run along the grid boundaries and are cut into segments of three grids. Everything is keyed by
code, so running the builder again changes nothing.
"""
import math
import random
from dataclasses import dataclass, field

from django.db import transaction
from shapely.geometry import LineString, Polygon, box, mapping
from shapely.ops import unary_union

from urbangrid.grids.models import GridDataVersion, Region, ResponsibilityGrid, RoadSegment, UnitGrid
from urbangrid.grids.signals import muted
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment, Unit
from urbangrid.org.roles import Role

from . import names

CITY_CODE, CITY_NAME = "349900", "示范市"
ORIGIN_LON, ORIGIN_LAT = 117.2300, 31.8800  # north-west corner of the board
CELL_M = 100.0
CELLS_X, CELLS_Y = 6, 5  # unit grids per responsibility grid (west→east, north→south)
BOARD_COLS, BOARD_ROWS = 9, 6
LEFT_OUT = (5, 8)  # (row, col) of the board cell outside the managed area: 54 - 1 = 53 grids
DISTRICTS = [("349902", "中山区"), ("349903", "东湖区"), ("349904", "西城区")]
CONTENT = ["市政基础设施", "园林绿化", "环境卫生", "执法", "文明创建", "环境保护"]

DLON = CELL_M / (111_320.0 * math.cos(math.radians(ORIGIN_LAT)))
DLAT = CELL_M / 110_574.0

# Bureau units (局属单位): code, name, short name, kind, the content line they answer for.
BUREAU_UNITS = [
    ("SZ", "市政工程管理处", "市政", "bureau_unit"),
    ("YL", "园林绿化管理处", "园林", "bureau_unit"),
    ("HW", "环境卫生管理处", "环卫", "bureau_unit"),
    ("ZF", "城市管理行政执法支队", "执法", "bureau_unit"),
    ("GS", "供水有限公司", "供水", "enterprise"),
    ("RQ", "燃气有限公司", "燃气", "enterprise"),
    ("LD", "路灯管理所", "路灯", "bureau_unit"),
    ("PS", "排水管理处", "排水", "bureau_unit"),
    ("GG", "户外广告管理处", "广告", "bureau_unit"),
    ("GY", "公用事业管理处", "公用", "bureau_unit"),
    ("TC", "停车管理处", "停车", "bureau_unit"),
    ("JS", "建筑垃圾管理处", "渣土", "bureau_unit"),
]
OUTSIDE_DEPARTMENTS = [
    ("GD", "供电公司", "供电"), ("TX", "通信管理局", "通信"), ("JJ", "公安交通警察支队", "交警"),
    ("ZJ", "住房和城乡建设局", "住建"), ("HB", "生态环境局", "环保"),
]
OFFICES = ["办公室", "党建工作科", "市政管理科", "环境卫生科", "园林绿化科", "执法监督科", "政策法规科", "计划财务科", "人事教育科", "宣传科"]
# Five general branches, each in a bureau unit (one of them the water supply's, 供水党总支).
GENERAL_BRANCHES = [("SZ", "市政"), ("YL", "园林"), ("HW", "环卫"), ("ZF", "执法"), ("GS", "供水")]
BRANCHES_PER_GENERAL = [5, 5, 5, 4, 4]  # 23 branches
LEADER_COUNT = 7  # 局领导班子: each is 网格长 of several grids
PARTY_MEMBERS = 501  # every serving party member of the bureau has a grid or segment


@dataclass
class CityPlan:
    rgrids: list = field(default_factory=list)  # (code, name, district idx, street no, community no, row, col)


def _r(v):
    return round(v, 7)


def cell_box(row, col):
    """Board cell (row from north, col from west) as (minx, miny, maxx, maxy)."""
    minx = ORIGIN_LON + col * CELLS_X * DLON
    maxy = ORIGIN_LAT - row * CELLS_Y * DLAT
    return minx, maxy - CELLS_Y * DLAT, minx + CELLS_X * DLON, maxy


def _square(minx, miny, maxx, maxy):
    return {"type": "Polygon", "coordinates": [[[_r(minx), _r(miny)], [_r(maxx), _r(miny)], [_r(maxx), _r(maxy)], [_r(minx), _r(maxy)], [_r(minx), _r(miny)]]]}


def board_cells():
    return [(row, col) for row in range(BOARD_ROWS) for col in range(BOARD_COLS) if (row, col) != LEFT_OUT]


def _district_of(col):
    return col // 3


@transaction.atomic
def build_geography():
    with muted():  # one bump for the whole geography (below), not one per saved row
        city, districts, rgrids, segments = _build_geography()
    GridDataVersion.bump()
    return city, districts, rgrids, segments


def _build_geography():
    city, _ = Region.objects.update_or_create(code=CITY_CODE, defaults={"name": CITY_NAME, "level": Region.Level.CITY, "parent": None})
    districts = []
    for code, name in DISTRICTS:
        d, _ = Region.objects.update_or_create(code=code, defaults={"name": name, "level": Region.Level.DISTRICT, "parent": city})
        districts.append(d)
    community_names = iter(names.COMMUNITIES)
    rgrids = []
    for row, col in board_cells():
        d_idx = _district_of(col)
        district = districts[d_idx]
        street_no = row // 2 + 1  # three streets per district, two board rows each
        street_code = f"{district.code}{street_no:03d}"
        street, _ = Region.objects.update_or_create(
            code=street_code, defaults={"name": f"{DISTRICTS[d_idx][1][:2]}第{street_no}街道", "level": Region.Level.STREET, "parent": district})
        community_no = (row % 2) * 3 + (col % 3) + 1
        cname = next(community_names)
        community, _ = Region.objects.update_or_create(
            code=f"{street_code}{community_no:03d}", defaults={"name": f"{cname}社区", "level": Region.Level.COMMUNITY, "parent": street})
        minx, miny, maxx, maxy = cell_box(row, col)
        gcode = f"WG{len(rgrids) + 1:02d}"
        rg, _ = ResponsibilityGrid.objects.update_or_create(
            code=gcode,
            defaults={
                "name": f"{cname}网格", "region": community, "geometry": _square(minx, miny, maxx, maxy),
                "content": CONTENT, "standards": "道路干净整洁、设施完好、秩序规范；发现问题按责任清单时限处置到位。",
                "patrol_frequency": "每日 2 次" if row % 2 == 0 else "每日 3 次",
                "patrol_times": "08:30–11:30，14:30–17:00",
                "patrol_route": {"type": "LineString", "coordinates": [[_r(minx), _r(maxy)], [_r(maxx), _r(maxy)], [_r(maxx), _r(miny)], [_r(minx), _r(miny)], [_r(minx), _r(maxy)]]},
                "description": f"{DISTRICTS[d_idx][1]}{cname}片区",
            },
        )
        rgrids.append(rg)
        existing = set(UnitGrid.objects.filter(community=community).values_list("code", flat=True))
        new_cells = []
        seq = 0
        for cy in range(CELLS_Y):  # north → south
            for cx in range(CELLS_X):  # west → east
                seq += 1
                code = f"{community.code}{seq:03d}"
                if code in existing:
                    continue
                x0 = minx + cx * DLON
                y1 = maxy - cy * DLAT
                ug = UnitGrid(code=code, community=community, responsibility_grid=rg,
                              management_level=1 if row in (2, 3) else 2, geometry=_square(x0, y1 - DLAT, x0 + DLON, y1))
                ug.update_derived()
                new_cells.append(ug)
        UnitGrid.objects.bulk_create(new_cells)
    segments = build_roads(rgrids)
    return city, districts, rgrids, segments


def build_roads(rgrids):
    """Roads along the board lines, cut into segments of three grids, with the grids each crosses."""
    segments = []
    top, left = ORIGIN_LAT, ORIGIN_LON
    w, h = CELLS_X * DLON, CELLS_Y * DLAT
    for i, name in enumerate(names.ROADS_EW):  # east–west roads on the 7 horizontal board lines
        y = top - i * h
        for part in range(3):
            x0, x1 = left + part * 3 * w, left + (part + 1) * 3 * w
            segments.append((f"LD{len(segments) + 1:03d}", f"{name}（{part + 1}段）", "trunk" if i % 3 == 0 else "secondary",
                             [[_r(x0), _r(y)], [_r(x1), _r(y)]]))
    for j, name in enumerate(names.ROADS_NS):  # north–south roads on the 10 vertical board lines
        x = left + j * w
        for part in range(2):
            y0, y1 = top - part * 3 * h, top - (part + 1) * 3 * h
            segments.append((f"LD{len(segments) + 1:03d}", f"{name}（{part + 1}段）", "trunk" if j % 3 == 0 else ("branch" if j % 2 else "secondary"),
                             [[_r(x), _r(y0)], [_r(x), _r(y1)]]))
    grid_boxes = [(rg, box(*rg.shape.bounds)) for rg in rgrids]
    result = []
    for code, name, road_class, coords in segments:
        seg, _ = RoadSegment.objects.update_or_create(code=code, defaults={"name": name, "road_class": road_class,
                                                                           "geometry": {"type": "LineString", "coordinates": coords}})
        line = LineString(coords)
        crossed = [rg for rg, b in grid_boxes if b.intersects(line) and b.intersection(line).length > 0]
        seg.grids.set(crossed)
        seg.unit_grids.set(UnitGrid.objects.filter(
            responsibility_grid__in=crossed, min_lon__lte=line.bounds[2] + 1e-9, max_lon__gte=line.bounds[0] - 1e-9,
            min_lat__lte=line.bounds[3] + 1e-9, max_lat__gte=line.bounds[1] - 1e-9))
        result.append(seg)
    return result


@transaction.atomic
def build_units(city, districts):
    def unit(code, name, **kw):
        u, _ = Unit.objects.update_or_create(code=code, defaults={"name": name, **kw})
        return u

    bureau = unit("CGJ", "市城市管理局", short_name="市城管局", kind="office", command_level="city", region=city, is_territorial=True)
    centre = unit("CGJ-ZX", "数字化城市管理监督指挥中心", short_name="监督指挥中心", kind="centre", command_level="city", parent=bureau)
    offices = [unit(f"CGJ-K{i + 1:02d}", n, kind="office", command_level="city", parent=bureau) for i, n in enumerate(OFFICES)]
    bureau_units = {code: unit(f"CGJ-{code}", n, short_name=s, kind=k, command_level="city", parent=bureau) for code, n, s, k in BUREAU_UNITS}
    for code, n, s in OUTSIDE_DEPARTMENTS:
        bureau_units[code] = unit(f"EXT-{code}", n, short_name=s, kind="department", command_level="city")
    # Teams under the sanitation and enforcement units (三级联动 forces).
    for d_idx, district in enumerate(districts):
        unit(f"CGJ-HW-T{d_idx + 1}", f"环卫{district.name}清扫队", kind="team", command_level="city", parent=bureau_units["HW"])
    district_units = []
    for district in districts:
        dcode = district.code
        head = unit(f"D{dcode}", f"{district.name}城市管理局", short_name=f"{district.name}城管", kind="district_unit",
                    command_level="district", region=district, is_territorial=True)
        members = [
            unit(f"D{dcode}-HW", f"{district.name}环境卫生管理所", kind="district_unit", command_level="district", region=district, parent=head),
            unit(f"D{dcode}-ZF", f"{district.name}城管执法大队", kind="district_unit", command_level="district", region=district, parent=head),
            unit(f"D{dcode}-SZ", f"{district.name}市政养护所", kind="district_unit", command_level="district", region=district, parent=head),
        ]
        for street in district.children.order_by("code"):
            members.append(unit(f"S{street.code}", f"{street.name}办事处", kind="street_office", command_level="district",
                                region=street, parent=head, is_territorial=True))
        district_units.append((head, members))
    return {"bureau": bureau, "centre": centre, "offices": offices, "units": bureau_units, "districts": district_units}


@transaction.atomic
def build_party(rgrids, segments, units):
    """5 general branches › 23 branches › 55 groups; branches own road segments, groups own grids."""
    general, branches, groups = [], [], []
    g_no = b_no = p_no = 0
    for (ucode, short), n_branches in zip(GENERAL_BRANCHES, BRANCHES_PER_GENERAL):
        g_no += 1
        gb, _ = PartyOrganization.objects.update_or_create(
            code=f"DZZ{g_no:02d}", defaults={"name": f"{short}党总支", "level": "general_branch", "parent": None, "unit": units["units"][ucode]})
        general.append(gb)
        for _i in range(n_branches):
            b_no += 1
            br, _ = PartyOrganization.objects.update_or_create(
                code=f"DZB{b_no:02d}", defaults={"name": f"{short}第{_i + 1}党支部", "level": "branch", "parent": gb, "unit": gb.unit})
            branches.append(br)
    # 9 branches with 3 groups and 14 with 2: 55 groups, in board order so a branch's grids are neighbours.
    sizes = [3] * 9 + [2] * 14
    for br, size in zip(branches, sizes):
        for k in range(size):
            p_no += 1
            grp, _ = PartyOrganization.objects.update_or_create(
                code=f"DXZ{p_no:02d}", defaults={"name": f"{br.name}第{k + 1}党小组", "level": "group", "parent": br, "unit": br.unit})
            groups.append(grp)
    for i, grp in enumerate(groups):
        grp.grids.set([rgrids[i]] if i < len(rgrids) else [])
    # Groups 54 and 55 own trunk-road segments (路段小组); every branch owns segments near its grids.
    trunk = [s for s in segments if s.road_class == "trunk"]
    groups[53].road_segments.set(trunk[:2])
    groups[54].road_segments.set(trunk[2:4])
    branch_grids = {br.pk: [rgrids[i] for i, g in enumerate(groups) if g.parent_id == br.pk and i < len(rgrids)] for br in branches}
    centre = {br.pk: _centroid([g.shape for g in grids] or [rgrids[-1].shape]) for br, grids in ((b, branch_grids[b.pk]) for b in branches)}
    seg_mid = {s.pk: LineString(s.geometry["coordinates"]).interpolate(0.5, normalized=True) for s in segments}
    owned = {br.pk: [] for br in branches}
    free = list(segments)
    for br in branches:  # first every branch takes its nearest free segment
        best = min(free, key=lambda s: centre[br.pk].distance(seg_mid[s.pk]))
        owned[br.pk].append(best)
        free.remove(best)
    for s in free:  # then each remaining segment goes to the nearest branch
        br = min(branches, key=lambda b: centre[b.pk].distance(seg_mid[s.pk]))
        owned[br.pk].append(s)
    for br in branches:
        br.road_segments.set(owned[br.pk])
    return general, branches, groups


def _centroid(shapes):
    return unary_union(shapes).centroid


class _People:
    """The people and their roles, written a few statements at a time (``write()``) where saving each (an
    update_or_create per person, a get_or_create per role) cost about 6,000 statements a city. As those did, a
    person is found by employee number and updated, a role added only where the same one is not there yet, so a
    second build changes nothing."""

    FIELDS = ("name", "unit", "title", "phone", "is_party_member", "party_organization")

    def __init__(self):
        self.people, self.roles = [], []

    def person(self, employee_no, **fields):
        p = Person(employee_no=employee_no, **fields)
        self.people.append(p)
        return p

    def role(self, p, role, grid, segment, region, unit):
        self.roles.append((p, role, grid, segment, region, unit))

    def write(self):
        stored = {no: pk for no, pk in Person.objects.filter(
            employee_no__in=[p.employee_no for p in self.people]).values_list("employee_no", "pk")}
        for p in self.people:
            p.pk = stored.get(p.employee_no)
        Person.objects.bulk_update([p for p in self.people if p.pk], self.FIELDS)
        Person.objects.bulk_create([p for p in self.people if not p.pk])
        held = set(RoleAssignment.objects.filter(person__in={r[0].pk for r in self.roles}).values_list(
            "person", "role", "grid", "road_segment", "region", "unit"))
        new = {}
        for p, role, grid, segment, region, unit in self.roles:
            k = (p.pk, str(role), *(o.pk if o is not None else None for o in (grid, segment, region, unit)))
            if k not in held and k not in new:
                new[k] = RoleAssignment(person=p, role=role, grid=grid, road_segment=segment, region=region, unit=unit)
        RoleAssignment.objects.bulk_create(list(new.values()))
        self.people, self.roles = [], []


@transaction.atomic
def build_people(rng, rgrids, segments, units, groups, districts):
    """501 party members in the grid roles and centre posts, plus residents' council assessors."""
    counter = {"n": 0}
    group_of_grid = {}
    for g in groups:
        for rg in g.grids.all():
            group_of_grid[rg.pk] = g

    people = _People()

    def person(prefix, unit, title, party=True, grid=None):
        counter["n"] += 1
        return people.person(
            employee_no=f"{prefix}{counter['n']:04d}", name=names.person_name(rng), unit=unit, title=title,
            phone=f"1{rng.randint(3, 9)}{rng.randint(0, 999999999):09d}", is_party_member=party,
            party_organization=group_of_grid.get(grid.pk) if (party and grid) else (groups[-1] if party else None))

    def role(p, r, grid=None, segment=None, region=None, unit=None):
        people.role(p, r, grid, segment, region, unit)

    bureau = units["bureau"]
    unit_list = list(units["units"].values())[: len(BUREAU_UNITS)]
    n = len(rgrids)
    # 局领导: grid leaders of consecutive blocks of grids; two of them also hold the 领导 post.
    leaders = [person("CG", bureau, "局领导", grid=rgrids[i * n // LEADER_COUNT]) for i in range(LEADER_COUNT)]
    for i, rg in enumerate(rgrids):
        role(leaders[i * LEADER_COUNT // n], Role.GRID_LEADER, grid=rg)
    for p in leaders[-2:]:  # the grid_leader demo login (leaders[0]) stays a pure grid role
        role(p, Role.LEADER)
    # 局属单位主要负责人: deputy grid leaders, one unit head per grid in rotation.
    heads = [person("CG", u, "主要负责人", grid=rgrids[i * n // len(unit_list)]) for i, u in enumerate(unit_list)]
    for i, rg in enumerate(rgrids):
        role(heads[i % len(heads)], Role.DEPUTY_GRID_LEADER, grid=rg)
    # 局机关科室主要负责人: grid liaisons.
    office_heads = [person("CG", o, "科室负责人", grid=rgrids[i * n // len(units["offices"])]) for i, o in enumerate(units["offices"])]
    for i, rg in enumerate(rgrids):
        role(office_heads[i * len(office_heads) // n], Role.GRID_LIAISON, grid=rg)
    # 各单位中层干部: one sub-grid leader per grid; they also handle cases for their unit.
    for i, rg in enumerate(rgrids):
        u = unit_list[i % len(unit_list)]
        p = person("CG", u, "中层干部", grid=rg)
        role(p, Role.SUB_GRID_LEADER, grid=rg)
        role(p, Role.UNIT_HANDLER, unit=u)
    # 监督指挥中心网格员: inspectors, two neighbouring grids each.
    for i in range(0, n, 2):
        p = person("ZX", units["centre"], "网格巡查员", grid=rgrids[i])
        for rg in rgrids[i:i + 2]:
            role(p, Role.INSPECTOR, grid=rg)
    # Centre posts: 受理员, 值班长, 派遣员 (city-wide) and one 二级派遣员 per district.
    for post, count in ((Role.INTAKE_OPERATOR, 4), (Role.SHIFT_LEAD, 3), (Role.DISPATCHER, 4)):
        for k in range(count):
            role(person("ZX", units["centre"], str(post.label), grid=rgrids[(k * 13) % n]), post)
    for d_idx, (head, _members) in enumerate(units["districts"]):
        p = person("QX", head, "二级派遣员", grid=rgrids[d_idx * 18 % n])
        role(p, Role.DISTRICT_DISPATCHER, region=districts[d_idx])
    # 网格责任员 named by the units: the rest of the 501 members, spread over the grids.
    remaining = PARTY_MEMBERS - counter["n"]  # everyone created so far is a party member
    for k in range(remaining):
        rg = rgrids[k % n]
        u = unit_list[(k // n + k) % len(unit_list)]
        p = person("CG", u, "网格责任员", grid=rg)
        role(p, Role.GRID_OFFICER, grid=rg)
        if k < len(unit_list):
            role(p, Role.UNIT_HANDLER, unit=u)
    # Branch members also answer on their road segments (支部在路段).
    people.write()  # the query below reads the people and roles above
    for seg in segments:
        owner = seg.party_organizations.filter(level="branch").first()
        if owner:
            officer = Person.objects.filter(party_organization__parent=owner, roles__role=Role.GRID_OFFICER).order_by("employee_no").first()
            if officer:
                role(officer, Role.GRID_OFFICER, segment=seg)
    # 考核员: residents' deliberation committee representatives (not bureau staff), two grids each.
    for i in range(0, n, 2):
        p = person("QY", None, "群众议事委员会代表", party=False)
        for rg in rgrids[i:i + 2]:
            role(p, Role.ASSESSOR, grid=rg)
    # Every unit that can be dispatched to has at least one handler with a login-able person.
    for u in list(units["units"].values()) + [m for _head, members in units["districts"] for m in [_head, *members]]:
        role(person("DU", u, "处置人员", party=False), Role.UNIT_HANDLER, unit=u)
    people.write()


def build_city(seed=2024):
    rng = random.Random(seed)
    city, districts, rgrids, segments = build_geography()
    units = build_units(city, districts)
    general, branches, groups = build_party(rgrids, segments, units)
    build_people(rng, rgrids, segments, units, groups, districts)
    return {"city": city, "districts": districts, "grids": rgrids, "segments": segments, "units": units}
