"""Import and export of the gazetteer (地址库): roads with aliases, doorplates (门牌), landmarks and POIs
(标志物/兴趣点) with aliases and category, and the communities they lie in.

Two formats carry the same records:

* GeoJSON: one FeatureCollection, ``properties.layer`` one of ``road`` (LineString/MultiLineString; ``name``,
  ``aliases``, ``segments`` = road-segment codes), ``doorplate`` (Point; ``road``, ``number``, ``suffix``,
  ``building_name``), ``landmark`` (Point; ``name``, ``aliases``, ``category``, ``community`` = community code,
  ``outline`` = an optional GeoJSON Polygon) and ``community`` (no geometry; ``code``, ``name``, ``street``,
  ``district``: the grid data's communities, for reference: checked on import, never written here, their shapes
  are their unit grids and come with ``urbangrid grids import``).
* Excel (.xlsx): one sheet per layer (roads, doorplates, landmarks, communities); a road's geometry is WKT,
  aliases and segment codes are separated by ``;`` or ``、``.

An import checks every record first (types, geometry, the point inside the city, duplicate keys, references)
and reports each problem with its feature index or sheet row and field; with any problem nothing is written.
Otherwise roads, doorplates and landmarks are created or updated by their key (road name; road + number +
suffix; landmark name) in one transaction; ``replace=True`` also deletes those the file does not hold. The
intersections are derived again from the roads, the grid data version is bumped once (every process rebuilds
its geocoding index) and this process's geocoder is dropped at once.
"""
import json
import math
import re
from dataclasses import dataclass

import shapely
from django.db import transaction
from django.db.models import Max, Min
from django.utils.translation import gettext as _
from shapely import wkt as shapely_wkt
from shapely.errors import GEOSException
from shapely.geometry import mapping
from shapely.geometry import shape as to_shape

from urbangrid.core import excel
from urbangrid.core import transfer
from urbangrid.core.transfer import Problem, Records, TransferError, features_of
from urbangrid.core.transfer import number_value as _number
from urbangrid.core.transfer import text_field as _text
from urbangrid.grids.models import GridDataVersion, Region, RoadSegment, UnitGrid
from urbangrid.grids.signals import muted

from .derive import derive_intersections
from .geocoder import geocoder
from .models import Doorplate, Landmark, Road

LAYERS = ("road", "doorplate", "landmark", "community")
CATEGORIES = tuple(Landmark.Category.values)
CITY_MARGIN_DEG = 0.01  # ~1 km around the unit grids' extent: a doorplate across the boundary road is still ours
MAX_BYTES = 50 * 1024 * 1024
EXCEL_CELL_MAX = 32767  # characters in one cell
SHEETS = {"road": "roads", "doorplate": "doorplates", "landmark": "landmarks", "community": "communities"}
_SPLIT = re.compile(r"\s*[;；、]\s*")

COLUMNS = {
    "road": [excel.Column("name", "道路名称", True, 18), excel.Column("aliases", "别名", width=30),
             excel.Column("segments", "路段编码", width=30), excel.Column("geometry", "几何(WKT)", True, 60)],
    "doorplate": [excel.Column("road", "道路名称", True, 18), excel.Column("number", "门牌号", True, 10),
                  excel.Column("suffix", "附号", width=8), excel.Column("building_name", "建筑物/小区名称", width=24),
                  excel.Column("lon", "经度", True, 14), excel.Column("lat", "纬度", True, 14)],
    "landmark": [excel.Column("name", "名称", True, 24), excel.Column("aliases", "别名", width=30),
                 excel.Column("category", "类别", True, 12), excel.Column("lon", "经度", True, 14),
                 excel.Column("lat", "纬度", True, 14), excel.Column("community", "所在社区代码", width=16),
                 excel.Column("outline", "范围(GeoJSON)", width=40)],
    "community": [excel.Column("code", "社区代码", True, 16), excel.Column("name", "社区名称", True, 18),
                  excel.Column("street", "街道", width=18), excel.Column("district", "区", width=14)],
}


@dataclass
class _Record:
    layer: str
    where: str
    values: dict  # field → raw value (JSON types from GeoJSON, text from Excel)
    geometry: object = None  # GeoJSON dict (road) or None
    typed: bool = True  # JSON types (GeoJSON); False: every value is a cell's text (Excel)


# --- export --------------------------------------------------------------------------------------

def _round_coords(geom, places=7):
    return json.loads(json.dumps(geom), parse_float=lambda s: round(float(s), places)) if geom else geom


def _communities():
    return list(Region.objects.filter(level=Region.Level.COMMUNITY).select_related("parent__parent").order_by("code"))


def export_records():
    """{layer: [dict]} of the whole gazetteer in a stable order (the rows both formats write)."""
    roads = []
    for r in Road.objects.prefetch_related("segments").order_by("name"):
        roads.append({"name": r.name, "aliases": list(r.aliases or []), "segments": sorted(s.code for s in r.segments.all()),
                      "geometry": _round_coords(r.geometry)})
    doorplates = [{"road": name, "number": number, "suffix": suffix, "building_name": bname, "lon": lon, "lat": lat}
                  for name, number, suffix, bname, lon, lat in Doorplate.objects.order_by("road__name", "number", "suffix")
                  .values_list("road__name", "number", "suffix", "building_name", "lon", "lat")]
    landmarks = [{"name": m.name, "aliases": list(m.aliases or []), "category": m.category, "lon": m.lon, "lat": m.lat,
                  "community": m.community.code if m.community_id else None, "outline": _round_coords(m.geometry)}
                 for m in Landmark.objects.select_related("community").order_by("name")]
    communities = [{"code": c.code, "name": c.name, "street": c.parent.name if c.parent else "",
                    "district": c.parent.parent.name if c.parent and c.parent.parent else ""} for c in _communities()]
    return {"road": roads, "doorplate": doorplates, "landmark": landmarks, "community": communities}


def export_geojson():
    recs = export_records()
    features = []
    for r in recs["road"]:
        props = {k: v for k, v in r.items() if k != "geometry"}
        features.append({"type": "Feature", "geometry": r["geometry"], "properties": {"layer": "road", **props}})
    for d in recs["doorplate"]:
        props = {k: v for k, v in d.items() if k not in ("lon", "lat")}
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [d["lon"], d["lat"]]},
                         "properties": {"layer": "doorplate", **props}})
    for m in recs["landmark"]:
        props = {k: v for k, v in m.items() if k not in ("lon", "lat")}
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [m["lon"], m["lat"]]},
                         "properties": {"layer": "landmark", **props}})
    for c in recs["community"]:
        features.append({"type": "Feature", "geometry": None, "properties": {"layer": "community", **c}})
    return {"type": "FeatureCollection", "name": "urbangrid-gazetteer", "features": features}


def export_xlsx(path):
    recs = export_records()
    sheets, too_long = [], []
    for layer in LAYERS:
        rows = []
        for rec in recs[layer]:
            row = dict(rec)
            if layer == "road":
                row["aliases"] = "; ".join(rec["aliases"])
                row["segments"] = "; ".join(rec["segments"])
                row["geometry"] = shapely_wkt.dumps(to_shape(rec["geometry"]), rounding_precision=7) if rec["geometry"] else ""
                if len(row["geometry"]) > EXCEL_CELL_MAX:
                    too_long.append(Problem(rec["name"], "geometry", _("几何超过 Excel 单元格上限（%(n)s 字），请导出 GeoJSON")
                                            % {"n": EXCEL_CELL_MAX}))
            elif layer == "landmark":
                row["aliases"] = "; ".join(rec["aliases"])
                row["outline"] = json.dumps(rec["outline"], ensure_ascii=False) if rec["outline"] else ""
                row["community"] = rec["community"] or ""
            elif layer == "doorplate":
                row["number"] = rec["number"]
            rows.append(row)
        sheets.append((SHEETS[layer], COLUMNS[layer], rows))
    if too_long:
        raise TransferError(too_long)
    excel.write_workbook(path, sheets)
    return {layer: len(recs[layer]) for layer in LAYERS}


# --- reading -------------------------------------------------------------------------------------

def read_geojson_bytes(data):
    """The records of a GeoJSON document (bytes or text); structural problems raise ``TransferError``."""
    records, problems = [], []
    for where, feat in features_of(data, problems):
        props = feat["properties"]
        layer = props.get("layer")
        if layer not in LAYERS:
            problems.append(Problem(where, "layer", _("layer 应为 %(l)s 之一") % {"l": "、".join(LAYERS)}))
            continue
        values = {k: v for k, v in props.items() if k != "layer"}
        geom = feat.get("geometry")
        if layer in ("doorplate", "landmark"):
            coords = geom.get("coordinates") if isinstance(geom, dict) and geom.get("type") == "Point" else None
            if not (isinstance(coords, list) and len(coords) >= 2):
                problems.append(Problem(where, "geometry", _("应为 Point 几何")))
                continue
            values["lon"], values["lat"] = coords[0], coords[1]
            geom = None
        records.append(_Record(layer, where, values, geom))
    if problems:
        raise TransferError(problems)
    return records


def _row(sheet, number):
    return _("%(sheet)s 第%(row)s行") % {"sheet": sheet, "row": number}


def read_xlsx(path):
    """The records of a workbook with the four sheets (a missing sheet is an empty layer)."""

    try:
        # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only this import needs it
        from openpyxl import load_workbook
        wb = load_workbook(path, read_only=True)
        names = set(wb.sheetnames)
        wb.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not .xlsx
        raise TransferError([Problem("", "", _("无法读取 Excel 文件：%(e)s") % {"e": exc})]) from None
    if not names & set(SHEETS.values()):
        raise TransferError([Problem("", "", _("找不到工作表 %(s)s") % {"s": "、".join(SHEETS.values())})])
    records, problems = [], []
    for layer in LAYERS:
        sheet = SHEETS[layer]
        if sheet not in names:
            continue
        errors = excel.ErrorCollector()
        try:
            rows = excel.read_sheet(path, COLUMNS[layer], sheet=sheet, errors=errors)
        except excel.ImportErrors as exc:
            problems += [Problem(_row(sheet, e.row), e.column, e.message) for e in exc.errors]
            continue
        problems += [Problem(_row(sheet, e.row), e.column, e.message) for e in errors.errors]
        for number, rec in rows:
            where = _row(sheet, number)
            if errors.has_row(number):
                continue
            values = dict(rec)
            geom = None
            if layer in ("road", "landmark"):
                values["aliases"] = [a for a in _SPLIT.split(values.get("aliases", "")) if a]
            if layer == "road":
                values["segments"] = [s for s in _SPLIT.split(values.get("segments", "")) if s]
                try:
                    geom = mapping(shapely_wkt.loads(values.pop("geometry")))
                except (GEOSException, ValueError, TypeError) as exc:
                    problems.append(Problem(where, "geometry", _("不是有效的 WKT：%(e)s") % {"e": exc}))
                    continue
                geom = json.loads(json.dumps(geom))  # tuples → lists
            if layer == "landmark":
                outline = values.get("outline") or ""
                if outline:
                    try:
                        values["outline"] = json.loads(outline)
                    except ValueError:
                        problems.append(Problem(where, "outline", _("不是有效的 GeoJSON")))
                        continue
                else:
                    values["outline"] = None
                values["community"] = values.get("community") or None
            records.append(_Record(layer, where, values, geom, typed=False))
    return Records(records, problems)  # the rows' own problems are reported with the checks of the others


def read_file(path, fmt=None):
    """Records of a .geojson/.json or .xlsx file (by ``fmt`` or the file name)."""
    return transfer.read_file(path, fmt, read_xlsx, read_geojson_bytes)


def read_upload(upload):
    """Records of an uploaded file (the admin page)."""
    return transfer.read_upload(upload, MAX_BYTES, read_xlsx, read_geojson_bytes)


# --- validation ----------------------------------------------------------------------------------

def _aliases(values, key, problems, where):
    v = values.get(key) or []
    if not isinstance(v, list) or not all(isinstance(a, str) and 0 < len(a.strip()) <= 100 for a in v):
        problems.append(Problem(where, key, _("别名应为名称的列表，每个 1–100 字")))
        return None
    return list(dict.fromkeys(a.strip() for a in v))


class _City:
    """The city's extent: the unit grids' bounding box with a margin (no unit grids: anywhere)."""

    def __init__(self):
        b = UnitGrid.objects.aggregate(x0=Min("min_lon"), y0=Min("min_lat"), x1=Max("max_lon"), y1=Max("max_lat"))
        m = CITY_MARGIN_DEG
        self.box = None if b["x0"] is None else (b["x0"] - m, b["y0"] - m, b["x1"] + m, b["y1"] + m)

    def contains(self, lon, lat):
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            return False
        if self.box is None:
            return True
        x0, y0, x1, y1 = self.box
        return x0 <= lon <= x1 and y0 <= lat <= y1


def _point(values, problems, where, city, typed):
    lon, lat = values.get("lon"), values.get("lat")
    lon, lat = (None if typed and isinstance(x, str) else _number(x) for x in (lon, lat))
    if lon is None:
        problems.append(Problem(where, "lon", _("经度应为数字")))
    if lat is None:
        problems.append(Problem(where, "lat", _("纬度应为数字")))
    if lon is None or lat is None:
        return None
    if not city.contains(lon, lat):
        problems.append(Problem(where, "geometry", _("点 (%(lon)s, %(lat)s) 不在本市范围内") % {"lon": lon, "lat": lat}))
        return None
    return lon, lat


def _line(geom, problems, where, city):
    if not isinstance(geom, dict) or geom.get("type") not in ("LineString", "MultiLineString"):
        problems.append(Problem(where, "geometry", _("道路几何应为 LineString 或 MultiLineString")))
        return None
    try:
        shp = to_shape(geom)
    except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        problems.append(Problem(where, "geometry", _("几何无效：%(e)s") % {"e": exc}))
        return None
    coords = shapely.get_coordinates(shp)
    if shp.is_empty or len(coords) < 2 or not all(math.isfinite(c) for c in coords.ravel()) or shp.length == 0:
        problems.append(Problem(where, "geometry", _("几何无效：至少两个不同的有限坐标点")))
        return None
    outside = [(x, y) for x, y in coords if not city.contains(x, y)]
    if outside:
        x, y = outside[0]
        problems.append(Problem(where, "geometry", _("点 (%(lon)s, %(lat)s) 不在本市范围内") % {"lon": x, "lat": y}))
        return None
    return geom


def validate(records, replace=False):
    """Check every record; returns the cleaned plan or raises ``TransferError`` with every problem."""
    problems, city = list(getattr(records, "problems", ())), _City()
    segment_ids = dict(RoadSegment.objects.values_list("code", "pk"))
    community_ids = dict(Region.objects.filter(level=Region.Level.COMMUNITY).values_list("code", "pk"))
    roads, doorplates, landmarks = {}, {}, {}
    for rec in records:
        v, where = rec.values, rec.where
        if rec.layer == "road":
            name = _text(v, "name", problems, where, required=True)
            aliases = _aliases(v, "aliases", problems, where)
            segs = v.get("segments") or []
            seg_ids = []
            if not isinstance(segs, list) or not all(isinstance(s, str) for s in segs):
                problems.append(Problem(where, "segments", _("应为路段编码的列表")))
            else:
                for code in segs:
                    if code not in segment_ids:
                        problems.append(Problem(where, "segments", _("路段 %(c)s 不存在") % {"c": code}))
                    else:
                        seg_ids.append(segment_ids[code])
            geom = _line(rec.geometry, problems, where, city)
            if name is None:
                continue
            if name in roads:
                problems.append(Problem(where, "name", _("道路“%(n)s”重复（另见 %(w)s）") % {"n": name, "w": roads[name]["where"]}))
                continue
            roads[name] = {"where": where, "aliases": aliases, "segments": seg_ids, "geometry": geom}
        elif rec.layer == "doorplate":
            road = _text(v, "road", problems, where, required=True)
            suffix = _text(v, "suffix", problems, where, max_len=10)
            bname = _text(v, "building_name", problems, where)
            number = v.get("number")
            n = None if rec.typed and not isinstance(number, int) else _number(number)
            if n is None or not n.is_integer() or n < 1 or n > 2_147_483_647:
                problems.append(Problem(where, "number", _("门牌号应为正整数")))
                n = None
            pt = _point(v, problems, where, city, rec.typed)
            if road is None or n is None or suffix is None:
                continue
            key = (road, int(n), suffix)
            if key in doorplates:
                problems.append(Problem(where, "number", _("门牌 %(r)s%(n)s%(s)s号重复（另见 %(w)s）")
                                        % {"r": road, "n": int(n), "s": suffix, "w": doorplates[key]["where"]}))
                continue
            doorplates[key] = {"where": where, "building_name": bname or "", "point": pt}
        elif rec.layer == "landmark":
            name = _text(v, "name", problems, where, required=True)
            aliases = _aliases(v, "aliases", problems, where)
            category = v.get("category") or Landmark.Category.OTHER
            try:
                category = excel.parse_choice(category, Landmark.Category) if isinstance(category, str) else None
            except ValueError:
                category = None
            if category is None:
                problems.append(Problem(where, "category", _("类别应为 %(c)s 之一") % {"c": "、".join(CATEGORIES)}))
            community = v.get("community")
            community_id = None
            if community not in (None, ""):
                if not isinstance(community, str) or community not in community_ids:
                    problems.append(Problem(where, "community", _("社区代码 %(c)s 不存在") % {"c": community}))
                else:
                    community_id = community_ids[community]
            outline = v.get("outline")
            if outline is not None:
                try:
                    if not isinstance(outline, dict) or outline.get("type") not in ("Polygon", "MultiPolygon"):
                        raise ValueError(_("应为 Polygon"))
                    if not to_shape(outline).is_valid:
                        raise ValueError(_("多边形自相交"))
                except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                    problems.append(Problem(where, "outline", _("范围无效：%(e)s") % {"e": exc}))
            pt = _point(v, problems, where, city, rec.typed)
            if name is None:
                continue
            if name in landmarks:
                problems.append(Problem(where, "name", _("标志物“%(n)s”重复（另见 %(w)s）") % {"n": name, "w": landmarks[name]["where"]}))
                continue
            landmarks[name] = {"where": where, "aliases": aliases, "category": category, "community_id": community_id,
                               "outline": outline, "point": pt}
        else:  # community: the grid data's, checked only
            code = _text(v, "code", problems, where, required=True, max_len=12)
            _text(v, "name", problems, where, required=True)
            if code and code not in community_ids:
                problems.append(Problem(where, "code", _("社区代码 %(c)s 不在网格数据中（请先导入网格数据）") % {"c": code}))
    known_roads = set(roads) if replace else set(roads) | set(Road.objects.values_list("name", flat=True))
    for (road, _n, _s), d in doorplates.items():
        if road not in known_roads:
            problems.append(Problem(d["where"], "road", _("道路“%(r)s”不在文件或地址库中") % {"r": road}))
    if problems:
        raise TransferError(problems)
    return {"roads": roads, "doorplates": doorplates, "landmarks": landmarks}


# --- writing -------------------------------------------------------------------------------------

def import_records(records, replace=False):
    """Validate, then write in one transaction; returns {layer: {"created", "updated", "deleted"}}."""

    stats = {k: {"created": 0, "updated": 0, "deleted": 0} for k in ("road", "doorplate", "landmark")}
    with transaction.atomic(), muted():
        plan = validate(records, replace=replace)  # inside: what it checked against stays so until the writes
        existing = {r.name: r for r in Road.objects.all()}
        road_by_name = {}
        for name, r in plan["roads"].items():
            road = existing.get(name)
            stats["road"]["updated" if road else "created"] += 1
            road = road or Road(name=name)
            road.aliases, road.geometry = r["aliases"], r["geometry"]
            road.save()
            road.segments.set(r["segments"])
            road_by_name[name] = road
        for name, road in existing.items():
            road_by_name.setdefault(name, road)
        if replace:
            gone = [name for name in existing if name not in plan["roads"]]
            stats["road"]["deleted"] = len(gone)
            Road.objects.filter(name__in=gone).delete()

        current = {(d.road.name, d.number, d.suffix): d for d in Doorplate.objects.select_related("road")}
        new, changed = [], []
        for (road, number, suffix), d in plan["doorplates"].items():
            (lon, lat), bname = d["point"], d["building_name"]
            row = current.get((road, number, suffix))
            if row is None:
                new.append(Doorplate(road=road_by_name[road], number=number, suffix=suffix, building_name=bname, lon=lon, lat=lat))
            elif (row.building_name, row.lon, row.lat) != (bname, lon, lat):
                row.building_name, row.lon, row.lat = bname, lon, lat
                changed.append(row)
        Doorplate.objects.bulk_create(new, batch_size=2000)
        Doorplate.objects.bulk_update(changed, ["building_name", "lon", "lat"], batch_size=2000)
        stats["doorplate"].update(created=len(new), updated=len(changed))
        if replace:
            gone = [d.pk for key, d in current.items() if key not in plan["doorplates"] and d.road.name in road_by_name]
            Doorplate.objects.filter(pk__in=gone).delete()
            stats["doorplate"]["deleted"] = len(gone)

        current = {m.name: m for m in Landmark.objects.all()}
        for name, m in plan["landmarks"].items():
            row = current.get(name)
            stats["landmark"]["updated" if row else "created"] += 1
            row = row or Landmark(name=name)
            row.aliases, row.category, row.community_id, row.geometry = m["aliases"], m["category"], m["community_id"], m["outline"]
            row.lon, row.lat = m["point"]
            row.save()
        if replace:
            gone = [name for name in current if name not in plan["landmarks"]]
            Landmark.objects.filter(name__in=gone).delete()
            stats["landmark"]["deleted"] = len(gone)
        derive_intersections(list(Road.objects.exclude(geometry=None)))  # bumps the grid data version
        GridDataVersion.bump()
    geocoder.invalidate()
    return stats


def import_file(path, fmt=None, replace=False):
    return import_records(read_file(path, fmt), replace=replace)
