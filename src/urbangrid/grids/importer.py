"""GeoJSON import and export of the geography: regions, responsibility grids, unit grids, road segments.

The file is one FeatureCollection; ``properties.layer`` says what a feature is (absent = unit grid).
Everything is validated before anything is written; then the import upserts by code in dependency order
inside one transaction and bumps the grid data version once. Export gives a document that imports back
to the same rows, so export → import → export is the identity.
"""
import json
import re
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.db import transaction
from django.db.models import CASCADE, PROTECT, RESTRICT
from django.utils.translation import gettext as _
from shapely.errors import GEOSException
from shapely.geometry import mapping
from shapely.validation import explain_validity

from . import geometry as geo
from . import signals
from .locator import fast_shape, gc_paused
from .models import GridDataVersion, Region, ResponsibilityGrid, RoadSegment, UnitGrid

LAYERS = ("region", "responsibility_grid", "unit_grid", "road_segment")
MODELS = {"region": Region, "responsibility_grid": ResponsibilityGrid, "unit_grid": UnitGrid, "road_segment": RoadSegment}
LEVEL_ORDER = ("city", "district", "street", "community")
MIN_AREA_M2 = 1.0  # overlaps and holes below this are drawing noise, not errors
BATCH = 1000
POLYGONAL = ("Polygon", "MultiPolygon")
LINEAR = ("LineString", "MultiLineString")

MANAGEMENT_LEVELS = tuple(UnitGrid.Level.values)  # (the enum property rebuilds its list on every call)
ROAD_CLASSES = tuple(RoadSegment.RoadClass.values)
REGION_CODE = re.compile(r"[0-9]{6}([0-9]{3}){0,2}")  # used with fullmatch: ASCII digits, no trailing newline
UNIT_GRID_CODE = re.compile(r"[0-9]{15}")
COMMUNITY_CODE = re.compile(r"[0-9]{12}")

# Known properties per layer and their defaults; unit grids keep any other property in ``extra``.
PROPS = {
    "region": {"layer": None, "code": None, "name": None, "level": None, "parent_code": None},
    "responsibility_grid": {
        "layer": None, "code": None, "name": None, "region_code": None, "content": [], "standards": "",
        "patrol_frequency": "", "patrol_times": "", "patrol_route": None, "description": "",
    },
    "unit_grid": {
        "layer": None, "code": None, "community_code": None, "responsibility_grid_code": None,
        "management_level": 1, "land_use": "",
    },
    "road_segment": {"layer": None, "code": None, "name": None, "road_class": None},
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: the feature's index in ``features`` (None: the whole file)."""

    index: int | None
    code: str | None
    message: str

    def __str__(self):
        if self.index is None:
            return self.message
        where = f"features[{self.index}]" + (f" ({self.code})" if self.code else "")
        return f"{where}: {self.message}"


class ImportRefused(Exception):
    def __init__(self, problems):
        self.problems = problems
        super().__init__(_("共 %(n)d 个问题，未导入任何数据") % {"n": len(problems)})


@dataclass
class _Feature:
    index: int
    layer: str
    code: str
    props: dict
    geometry: dict | None
    shape: object = None  # shapely geometry in lon/lat, when valid
    extra: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------
# Reading


def read_geojson(fp):
    """Parse a file object; bad JSON raises ImportRefused with one problem."""
    def reject(constant):
        raise ValueError(_("不允许 %(c)s") % {"c": constant})

    try:
        with gc_paused():
            return json.load(fp, parse_constant=reject)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImportRefused([Problem(None, None, _("不是有效的 JSON：%(error)s") % {"error": exc})]) from None


# ---------------------------------------------------------------------------------------------------
# Validation


def validate_feature_collection(data, replace=False):
    """Every problem of the document against itself and the database; empty when it can be imported."""
    with gc_paused():
        return _check(data, replace)[1]


def _check(data, replace):
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        return None, [Problem(None, None, _("文件不是 GeoJSON FeatureCollection（需要 type 为 FeatureCollection 且有 features 列表）"))]
    problems = []
    feats = {layer: [] for layer in LAYERS}
    first_index = {layer: {} for layer in LAYERS}
    for i, raw in enumerate(data["features"]):
        f = _parse_feature(i, raw, problems)
        if f is None:
            continue
        earlier = first_index[f.layer].setdefault(f.code, i)
        if earlier != i:
            problems.append(Problem(i, f.code, _("代码重复：与 features[%(other)d] 相同") % {"other": earlier}))
            continue
        feats[f.layer].append(f)
    _check_shapes(feats, problems)
    db = _DbState(feats, replace)
    _check_references(feats, db, problems)
    grids = _GridSet(feats["unit_grid"], db)
    if feats["unit_grid"] or replace:
        _check_overlaps(grids, problems)
        if all(f.shape is not None for f in feats["unit_grid"]):
            _check_gaps(grids, problems)
    if replace:
        _check_deletions(db, problems)
    problems.sort(key=lambda p: (p.index is None, p.index or 0))
    return _Plan(feats, db, grids, replace), problems


def _parse_feature(i, raw, problems):
    def bad(message, code=None):
        problems.append(Problem(i, code, message))

    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        return bad(_("不是 GeoJSON Feature"))
    props = raw.get("properties") or {}
    if not isinstance(props, dict):
        return bad(_("properties 应为对象"))
    layer = props.get("layer", "unit_grid")
    if layer not in LAYERS:
        return bad(_("未知图层 %(layer)r，应为 region、responsibility_grid、unit_grid 或 road_segment") % {"layer": layer},
                   props.get("code") if isinstance(props.get("code"), str) else None)
    code = props.get("code")
    if code is None or code == "":
        return bad(_("缺少代码（code）"))
    if not isinstance(code, str):
        return bad(_("代码应为字符串：%(code)r") % {"code": code})
    message = _code_problem(layer, code, props)
    if message:
        return bad(message, code)
    f = _Feature(i, layer, code, {**PROPS[layer], **props}, raw.get("geometry"))
    unknown = [k for k in props if k not in PROPS[layer]]
    if layer == "unit_grid":
        f.extra = {k: props[k] for k in unknown}
    elif unknown:
        bad(_("%(layer)s 图层不保存这些属性：%(keys)s") % {"layer": layer, "keys": ", ".join(sorted(unknown))}, code)
    for message in _property_problems(f):
        bad(message, code)
    for message in _geometry_problems(f):
        bad(message, code)
    return f


def _code_problem(layer, code, props):
    if layer == "unit_grid":
        if not UNIT_GRID_CODE.fullmatch(code):
            return _("单元网格代码应为15位数字：%(code)s") % {"code": code}
    elif layer == "region":
        level = props.get("level")
        if not isinstance(level, str) or level not in Region.CODE_LENGTH:
            return _("区划层级 %(level)r 无效，应为 city、district、street 或 community") % {"level": level}
        if not REGION_CODE.fullmatch(code) or len(code) != Region.CODE_LENGTH[level]:
            return _("%(level)s代码应为%(n)d位数字：%(code)s") % {
                "level": Region.Level(level).label, "n": Region.CODE_LENGTH[level], "code": code}
    elif len(code) > 20 or code != code.strip():
        return _("代码应为不超过20个字符且首尾无空格：%(code)r") % {"code": code}
    return None


def _text(props, key, max_length=None, required=False):
    value = props[key]
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        return _("%(key)s 应为非空字符串") % {"key": key} if required else _("%(key)s 应为字符串") % {"key": key}
    if max_length and len(value) > max_length:
        return _("%(key)s 不能超过%(n)d个字符") % {"key": key, "n": max_length}
    return None


def _property_problems(f):
    p = f.props
    checks = []
    if f.layer == "region":
        checks = [_text(p, "name", 100, True), _text(p, "parent_code")]
    elif f.layer == "responsibility_grid":
        checks = [_text(p, "name", 100, True), _text(p, "region_code", required=True), _text(p, "standards"),
                  _text(p, "patrol_frequency", 100), _text(p, "patrol_times", 200), _text(p, "description")]
        if not isinstance(p["content"], list):
            checks.append(_("content 应为列表"))
        route = p["patrol_route"]
        if route is not None and not (isinstance(route, dict) and route.get("type") in LINEAR):
            checks.append(_("patrol_route 应为 GeoJSON LineString 或 null"))
    elif f.layer == "unit_grid":
        checks = [_text(p, "community_code", required=True), _text(p, "responsibility_grid_code"), _text(p, "land_use", 50)]
        if type(p["management_level"]) is not int or p["management_level"] not in MANAGEMENT_LEVELS:
            checks.append(_("management_level 应为 1、2 或 3"))
        if isinstance(p["community_code"], str) and not COMMUNITY_CODE.fullmatch(p["community_code"]):
            checks.append(_("community_code 应为12位社区代码"))
    elif f.layer == "road_segment":
        checks = [_text(p, "name", 100, True)]
        if p["road_class"] not in ROAD_CLASSES:
            checks.append(_("road_class 应为 %(choices)s 之一") % {
                "choices": "、".join(f"{c.value}（{c.label}）" for c in RoadSegment.RoadClass)})
    return [c for c in checks if c]


def _geometry_problems(f):
    geom = f.geometry
    allowed = {"region": (), "responsibility_grid": POLYGONAL, "unit_grid": POLYGONAL, "road_segment": LINEAR}[f.layer]
    if geom is None:
        if f.layer in ("unit_grid", "road_segment"):
            return [_("缺少几何")]
        return []
    if f.layer == "region":
        return [_("行政区划不保存几何，geometry 应为 null")]
    if not isinstance(geom, dict) or geom.get("type") not in allowed:
        kind = geom.get("type") if isinstance(geom, dict) else type(geom).__name__
        return [_("几何类型应为 %(allowed)s，实为 %(kind)s") % {"allowed": " 或 ".join(allowed), "kind": kind}]
    try:
        shp = fast_shape(geom)
    except Exception as exc:  # shapely raises several types for malformed coordinate arrays
        return [_("几何坐标格式错误：%(error)s") % {"error": exc}]
    if shp.is_empty:
        return [_("几何为空")]
    if f.layer != "road_segment":
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        if any(len(ring) < 4 or ring[0] != ring[-1] for poly in polys for ring in poly):
            return [_("多边形的环应闭合（首尾坐标相同）且至少有4个坐标")]
    f.shape = shp  # provisional: _check_shapes looks at coordinates and validity
    return []


def _check_shapes(feats, problems):
    """WGS-84 range and polygon validity of every parsed geometry, vectorised for big files."""
    parsed = [f for layer in LAYERS for f in feats[layer] if f.shape is not None]
    if not parsed:
        return
    shapes = np.array([f.shape for f in parsed], dtype=object)
    coords, owner = shapely.get_coordinates(shapes, return_index=True)
    lon, lat = coords[:, 0], coords[:, 1]
    outside = ~((lon >= -180) & (lon <= 180) & (lat >= -90) & (lat <= 90))  # NaN is outside too
    outside = np.bincount(owner[outside], minlength=len(parsed)) > 0
    valid = shapely.is_valid(shapes)
    for f, out, ok in zip(parsed, outside.tolist(), valid.tolist()):
        if out:
            problems.append(Problem(f.index, f.code, _("坐标超出 WGS-84 范围（经度 -180~180，纬度 -90~90）")))
        elif not ok and f.layer != "road_segment":
            problems.append(Problem(f.index, f.code, _("多边形无效：%(reason)s") % {"reason": explain_validity(f.shape)}))
        else:
            continue
        f.shape = None


class _DbState:
    """What the database holds now, as far as the check and the write need it."""

    def __init__(self, feats, replace):
        self.replace = replace
        self.regions = {code: (pk, level) for pk, code, level in Region.objects.values_list("pk", "code", "level")}
        self.rgrids = dict(ResponsibilityGrid.objects.values_list("code", "pk"))
        self.unit_codes = set(UnitGrid.objects.values_list("code", flat=True))
        self.road_codes = set(RoadSegment.objects.values_list("code", flat=True))
        in_file = {layer: {f.code for f in feats[layer]} for layer in LAYERS}
        self.in_file = in_file
        # Rows the file neither mentions nor deletes.
        if replace:
            self.kept = {layer: set() for layer in LAYERS}
        else:
            self.kept = {
                "region": set(self.regions) - in_file["region"], "responsibility_grid": set(self.rgrids) - in_file["responsibility_grid"],
                "unit_grid": self.unit_codes - in_file["unit_grid"], "road_segment": self.road_codes - in_file["road_segment"],
            }
        self.kept_units = {}  # code -> (geometry, responsibility grid code)
        kept = sorted(self.kept["unit_grid"])
        for start in range(0, len(kept), BATCH):
            qs = UnitGrid.objects.filter(code__in=kept[start:start + BATCH]).exclude(geometry=None)
            for code, geometry, rg in qs.values_list("code", "geometry", "responsibility_grid__code"):
                self.kept_units[code] = (geometry, rg)


class _GridSet:
    """All unit grids as they will be after the import (file + kept rows), in the local metric plane."""

    def __init__(self, file_grids, db):
        valid = [f for f in file_grids if f.shape is not None]
        kept = sorted(db.kept_units.items())
        self.codes = [f.code for f in valid] + [code for code, _ in kept]
        self.feature_index = [f.index for f in valid] + [None] * len(kept)  # None: a database row
        self.n_file = len(valid)
        lonlat = [f.shape for f in valid] + [fast_shape(g) for _, (g, _) in kept]
        self.lonlat = np.array(lonlat, dtype=object)
        self.rgrid = [f.props["responsibility_grid_code"] for f in valid] + [rg for _, (_, rg) in kept]
        if len(lonlat):
            b = shapely.bounds(self.lonlat)
            self.plane = geo.LocalPlane(float(np.mean((b[:, 1] + b[:, 3]) / 2)))
        else:
            self.plane = geo.LocalPlane(30.0)
        self.metric = self.plane.project(self.lonlat)
        shapely.prepare(self.metric)
        self.tree = shapely.STRtree(self.metric)


def _check_references(feats, db, problems):
    file_regions = {f.code: f.props["level"] for f in feats["region"]}
    kept_regions = {c: db.regions[c][1] for c in db.kept["region"]}
    levels = {**kept_regions, **file_regions}
    rgrids = {f.code for f in feats["responsibility_grid"]} | db.kept["responsibility_grid"]
    for f in feats["region"]:
        level, parent = f.props["level"], f.props["parent_code"]
        want = Region.PARENT_LEVEL.get(level)
        if not db.replace and f.code in db.regions and db.regions[f.code][1] != level:
            problems.append(Problem(f.index, f.code, _("不能修改已有区划的层级（现为%(level)s）") % {"level": Region.Level(db.regions[f.code][1]).label}))
        if want is None:
            if parent:
                problems.append(Problem(f.index, f.code, _("市级区划不能有上级")))
        elif not isinstance(parent, str) or not parent:
            problems.append(Problem(f.index, f.code, _("缺少上级区划代码（parent_code）")))
        elif parent not in levels:
            problems.append(Problem(f.index, f.code, _("上级区划 %(code)s 不存在") % {"code": parent}))
        elif levels[parent] != want:
            problems.append(Problem(f.index, f.code, _("上级区划 %(code)s 的层级应为%(level)s") % {
                "code": parent, "level": Region.Level(want).label}))
        elif level in ("street", "community") and not f.code.startswith(parent):
            problems.append(Problem(f.index, f.code, _("代码应以上级区划代码 %(code)s 开头") % {"code": parent}))
    for f in feats["responsibility_grid"]:
        ref = f.props["region_code"]
        if isinstance(ref, str) and ref and ref not in levels:
            problems.append(Problem(f.index, f.code, _("所属区划 %(code)s 不存在") % {"code": ref}))
    for f in feats["unit_grid"]:
        community, rg = f.props["community_code"], f.props["responsibility_grid_code"]
        if isinstance(community, str) and COMMUNITY_CODE.fullmatch(community):
            if community not in levels:
                problems.append(Problem(f.index, f.code, _("所在社区 %(code)s 不存在") % {"code": community}))
            elif levels[community] != "community":
                problems.append(Problem(f.index, f.code, _("%(code)s 不是社区级区划") % {"code": community}))
            elif not f.code.startswith(community):
                problems.append(Problem(f.index, f.code, _("单元网格代码应以所在社区代码 %(code)s 开头") % {"code": community}))
        if isinstance(rg, str) and rg not in rgrids:
            problems.append(Problem(f.index, f.code, _("责任网格 %(code)s 不存在") % {"code": rg}))


def _check_overlaps(grids, problems):
    """Pairs of unit grids, at least one from the file, whose interiors share more than 1 m²."""
    if not grids.n_file:
        return
    a, b = grids.tree.query(grids.metric[:grids.n_file], predicate="intersects")
    keep = (a != b) & ((b >= grids.n_file) | (a < b))  # each file pair once
    a, b = a[keep], b[keep]
    inner = shapely.relate_pattern(grids.metric[a], grids.metric[b], "T********")  # interiors meet
    a, b = a[inner], b[inner]
    areas = shapely.area(shapely.intersection(grids.metric[a], grids.metric[b]))
    for i, j, area in zip(a.tolist(), b.tolist(), areas.tolist()):
        if area <= MIN_AREA_M2:
            continue
        if j < grids.n_file:  # both in the file: report on the later feature
            i, j = (j, i) if grids.feature_index[i] < grids.feature_index[j] else (i, j)
            message = _("与单元网格 %(other)s（features[%(n)d]）重叠 %(area).1f 平方米") % {
                "other": grids.codes[j], "n": grids.feature_index[j], "area": area}
        else:
            message = _("与数据库中的单元网格 %(other)s 重叠 %(area).1f 平方米") % {"other": grids.codes[j], "area": area}
        problems.append(Problem(grids.feature_index[i], grids.codes[i], message))


def _check_gaps(grids, problems):
    """Holes in the union of all unit grids (interior rings of more than 1 m²)."""
    if not len(grids.metric):
        return
    try:
        union = shapely.union_all(grids.metric)
    except GEOSException as exc:  # an invalid grid already in the database
        problems.append(Problem(None, None, _("无法计算单元网格的并集：%(error)s") % {"error": exc}))
        return
    for poly in shapely.get_parts(union).tolist():
        for ring in poly.interiors:
            hole = shapely.Polygon(ring)
            if hole.area <= MIN_AREA_M2:
                continue
            pt = hole.representative_point()
            near = sorted({grids.codes[k] for k in grids.tree.query(hole.buffer(0.5), predicate="intersects").tolist()})
            shown = "、".join(near[:8]) + (_(" 等 %(n)d 个") % {"n": len(near)} if len(near) > 8 else "")
            problems.append(Problem(None, None, _("单元网格之间有空洞：约 %(area).1f 平方米，位于 (%(lon).6f, %(lat).6f)，相邻网格：%(codes)s") % {
                "area": hole.area, "lon": pt.x / grids.plane.kx, "lat": pt.y / grids.plane.ky, "codes": shown}))


def _deleted_pks(db, layer):
    model = MODELS[layer]
    keep = db.in_file[layer]
    return sorted(pk for code, pk in model.objects.values_list("code", "pk") if code not in keep)


def _check_deletions(db, problems):
    """With --replace, rows absent from the file go; refuse if data outside the geography needs them."""
    for layer in LAYERS:
        pks = _deleted_pks(db, layer)
        if not pks:
            continue
        for rel in MODELS[layer]._meta.related_objects:
            if rel.related_model._meta.app_label == "grids" or rel.many_to_many or rel.on_delete not in (CASCADE, PROTECT, RESTRICT):
                continue
            count = sum(
                rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": pks[s:s + BATCH]}).count()
                for s in range(0, len(pks), BATCH)
            )
            if count:
                problems.append(Problem(None, None, _("--replace 将删除文件中没有的%(model)s %(n)d 个，但仍有 %(count)d 条%(other)s引用它们") % {
                    "model": MODELS[layer]._meta.verbose_name, "n": len(pks), "count": count,
                    "other": rel.related_model._meta.verbose_name}))


# ---------------------------------------------------------------------------------------------------
# Import


@dataclass
class _Plan:
    feats: dict
    db: _DbState
    grids: _GridSet
    replace: bool
    stats: dict = field(default_factory=lambda: {layer: dict(created=0, updated=0, deleted=0, unchanged=0) for layer in LAYERS})

    def changed(self):
        return any(s["created"] or s["updated"] or s["deleted"] for s in self.stats.values())


def import_geojson(data, replace=False):
    """Validate and import a FeatureCollection in one transaction; returns counts per layer.

    ``replace`` makes the file the whole geography: rows it does not contain are deleted.
    Raises ImportRefused (nothing written) when the document has problems.
    """
    with transaction.atomic(), signals.muted(), gc_paused():
        plan, problems = _check(data, replace)
        if problems:
            raise ImportRefused(problems)
        if replace:
            _delete_absent(plan)
        _upsert_regions(plan)
        _upsert_rgrids(plan)
        _upsert_unit_grids(plan)
        _upsert_roads(plan)
        crossings = _update_crossings(plan)
        plan.stats["road_segment"]["links_changed"] = crossings
        if plan.changed() or crossings:
            GridDataVersion.bump()  # once, committed with the edit
    return plan.stats


def _delete_absent(plan):
    for layer in ("road_segment", "unit_grid", "responsibility_grid"):
        pks = _deleted_pks(plan.db, layer)
        for s in range(0, len(pks), BATCH):
            MODELS[layer].objects.filter(pk__in=pks[s:s + BATCH]).delete()
        plan.stats[layer]["deleted"] = len(pks)
    # Regions children first (their parent is PROTECTed).
    gone = {code for code in plan.db.regions if code not in plan.db.in_file["region"]}
    for level in reversed(LEVEL_ORDER):
        pks = [pk for code, (pk, lv) in plan.db.regions.items() if code in gone and lv == level]
        Region.objects.filter(pk__in=pks).delete()
    plan.stats["region"]["deleted"] = len(gone)


def _save_rows(model, layer, plan, rows, fields, existing):
    """Create or update ``rows`` ({code: field dict}) against ``existing`` ({code: (pk, comparable dict)})."""
    create, update = [], []
    for code, values in rows.items():
        old = existing.get(code)
        if old is None:
            create.append(model(code=code, **values))
        elif any(old[1].get(k) != values[k] for k in fields):
            update.append(model(pk=old[0], code=code, **values))
        else:
            plan.stats[layer]["unchanged"] += 1
    model.objects.bulk_create(create, batch_size=BATCH)
    if update:
        model.objects.bulk_update(update, list(next(iter(rows.values())).keys()), batch_size=BATCH)
    plan.stats[layer]["created"] += len(create)
    plan.stats[layer]["updated"] += len(update)


def _derived(geometry, shp, measure):
    """bbox and area/length from a geometry, as GeometryMixin.update_derived computes them."""
    if geometry is None:
        return {"min_lon": 0, "min_lat": 0, "max_lon": 0, "max_lat": 0, **({measure: 0} if measure else {})}
    shp = shp if shp is not None else fast_shape(geometry)
    values = geo.bbox(shp)
    if measure == "area_m2":
        values[measure] = geo.area_m2(shp)
    elif measure == "length_m":
        values[measure] = geo.length_m(shp)
    return values


def _upsert_regions(plan):
    fields = ("name", "level", "parent_id")
    existing = {c: (pk, dict(zip(fields, v))) for pk, c, *v in Region.objects.values_list("pk", "code", *fields)}
    for level in LEVEL_ORDER:  # parents first, so their ids exist
        pks = dict(Region.objects.values_list("code", "pk"))
        rows = {f.code: {"name": f.props["name"], "level": level, "parent_id": pks.get(f.props["parent_code"])}
                for f in plan.feats["region"] if f.props["level"] == level}
        if rows:
            _save_rows(Region, "region", plan, rows, fields, existing)


def _canonical_geometry(geom):
    return json.loads(json.dumps(mapping(geom)))


def _upsert_rgrids(plan):
    fields = ("name", "region_id", "content", "standards", "patrol_frequency", "patrol_times", "patrol_route", "description", "geometry")
    existing = {c: (pk, dict(zip(fields, v))) for pk, c, *v in ResponsibilityGrid.objects.values_list("pk", "code", *fields)}
    regions = dict(Region.objects.values_list("code", "pk"))
    members = {}  # in unit grid code order, so the union comes out the same every time
    for _code, rg, shp in sorted(zip(plan.grids.codes, plan.grids.rgrid, plan.grids.lonlat.tolist()), key=lambda t: t[0]):
        members.setdefault(rg, []).append(shp)
    rows = {}
    for f in plan.feats["responsibility_grid"]:
        p, geometry, shp = f.props, f.geometry, f.shape
        if geometry is None and f.code in members:  # the union of its unit grids
            shp = shapely.union_all(members[f.code])
            geometry = _canonical_geometry(shp)
        rows[f.code] = {
            "name": p["name"], "region_id": regions[p["region_code"]], "content": p["content"], "standards": p["standards"] or "",
            "patrol_frequency": p["patrol_frequency"] or "", "patrol_times": p["patrol_times"] or "",
            "patrol_route": p["patrol_route"], "description": p["description"] or "", "geometry": geometry,
        }
        rows[f.code].update(_derived(geometry, shp, "area_m2"))
    if rows:
        _save_rows(ResponsibilityGrid, "responsibility_grid", plan, rows, fields, existing)


def _upsert_unit_grids(plan):
    feats = plan.feats["unit_grid"]
    if not feats:
        return
    fields = ("community_id", "responsibility_grid_id", "management_level", "land_use", "extra", "geometry")
    existing = {c: (pk, dict(zip(fields, v))) for pk, c, *v in UnitGrid.objects.values_list("pk", "code", *fields)}
    regions = dict(Region.objects.values_list("code", "pk"))
    rgrids = dict(ResponsibilityGrid.objects.values_list("code", "pk"))
    shapes = np.array([f.shape for f in feats], dtype=object)
    bounds = shapely.bounds(shapes)
    # area_m2 of geometry.py (a plane at the shape's own centroid latitude), vectorised for big files.
    lat = shapely.get_y(shapely.centroid(shapes))
    areas = shapely.area(shapes) * geo.M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat)) * geo.M_PER_DEG_LAT
    rows = {}
    for f, (x0, y0, x1, y1), area in zip(feats, bounds.tolist(), areas.tolist()):
        p = f.props
        rows[f.code] = {
            "community_id": regions[p["community_code"]], "responsibility_grid_id": rgrids.get(p["responsibility_grid_code"]),
            "management_level": p["management_level"], "land_use": p["land_use"] or "", "extra": f.extra,
            "geometry": f.geometry, "min_lon": x0, "min_lat": y0, "max_lon": x1, "max_lat": y1, "area_m2": area,
        }
    _save_rows(UnitGrid, "unit_grid", plan, rows, fields, existing)


def _upsert_roads(plan):
    fields = ("name", "road_class", "geometry")
    existing = {c: (pk, dict(zip(fields, v))) for pk, c, *v in RoadSegment.objects.values_list("pk", "code", *fields)}
    rows = {}
    for f in plan.feats["road_segment"]:
        rows[f.code] = {"name": f.props["name"], "road_class": f.props["road_class"], "geometry": f.geometry,
                        **_derived(f.geometry, f.shape, "length_m")}
    if rows:
        _save_rows(RoadSegment, "road_segment", plan, rows, fields, existing)


def _update_crossings(plan):
    """Which unit grids and responsibility grids each road segment runs through (shared length > 0).

    Recomputed for every segment, since moved grids change the answer for segments not in the file.
    Returns the number of links added or removed.
    """
    roads = [(pk, fast_shape(g)) for pk, g in RoadSegment.objects.exclude(geometry=None).values_list("pk", "geometry")]
    ug = [(pk, fast_shape(g)) for pk, g in UnitGrid.objects.exclude(geometry=None).values_list("pk", "geometry")] if roads else []
    rg = [(pk, fast_shape(g)) for pk, g in ResponsibilityGrid.objects.exclude(geometry=None).values_list("pk", "geometry")] if roads else []
    changes = 0
    for m2m, areas in ((RoadSegment.unit_grids, ug), (RoadSegment.grids, rg)):
        through = m2m.through
        src, dst = m2m.field.m2m_field_name() + "_id", m2m.field.m2m_reverse_field_name() + "_id"
        want = set()
        if roads and areas:
            lines = np.array([s for _, s in roads], dtype=object)
            polys = np.array([s for _, s in areas], dtype=object)
            i, j = shapely.STRtree(polys).query(lines, predicate="intersects")
            shared = shapely.length(shapely.intersection(lines[i], polys[j])) > 0
            want = {(roads[a][0], areas[b][0]) for a, b in zip(i[shared].tolist(), j[shared].tolist())}
        have = {(s, d): pk for pk, s, d in through.objects.values_list("pk", src, dst)}
        stale = [pk for key, pk in have.items() if key not in want]
        for s in range(0, len(stale), BATCH):
            through.objects.filter(pk__in=stale[s:s + BATCH]).delete()
        through.objects.bulk_create([through(**{src: s, dst: d}) for s, d in want - set(have)], batch_size=BATCH)
        changes += len(stale) + len(want - set(have))
    return changes


# ---------------------------------------------------------------------------------------------------
# Export


def _sorted_keys(value):
    """Nested objects with sorted keys: JSONB reorders them, the export must not depend on it."""
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def _geometry_out(geom):
    if geom is None:
        return None
    rest = _sorted_keys({k: v for k, v in geom.items() if k not in ("type", "coordinates")})
    return {"type": geom["type"], "coordinates": geom["coordinates"], **rest}


def _feature(props, geometry):
    return {"type": "Feature", "geometry": _geometry_out(geometry), "properties": props}


def export_geojson():
    """The whole geography as one FeatureCollection, ordered by layer then code."""
    with gc_paused():
        return _export()


def _export():
    features = []
    regions = sorted(Region.objects.values_list("code", "name", "level", "parent__code"))
    features += [_feature({"layer": "region", "code": c, "name": n, "level": lv, "parent_code": p}, None) for c, n, lv, p in regions]
    rg_fields = ("code", "name", "region__code", "content", "standards", "patrol_frequency", "patrol_times", "patrol_route", "description")
    for row in sorted(ResponsibilityGrid.objects.values_list(*rg_fields, "geometry")):
        props = {"layer": "responsibility_grid", **dict(zip(rg_fields, row))}
        props["region_code"] = props.pop("region__code")
        props["content"] = _sorted_keys(props["content"])
        props["patrol_route"] = _geometry_out(props["patrol_route"])
        features.append(_feature(props, row[-1]))
    ug_rows = UnitGrid.objects.values_list("code", "community__code", "responsibility_grid__code", "management_level",
                                           "land_use", "extra", "geometry")
    for code, community, rg, level, land_use, extra, geometry in sorted(ug_rows.iterator(chunk_size=2000)):
        props = {"layer": "unit_grid", "code": code, "community_code": community, "responsibility_grid_code": rg,
                 "management_level": level, "land_use": land_use, **_sorted_keys(extra or {})}
        features.append(_feature(props, geometry))
    for code, name, road_class, geometry in sorted(RoadSegment.objects.values_list("code", "name", "road_class", "geometry")):
        features.append(_feature({"layer": "road_segment", "code": code, "name": name, "road_class": road_class}, geometry))
    return {"type": "FeatureCollection", "features": features}
