"""Import and export of the component inventory (部件库): GeoJSON and Excel carry the same records.

* GeoJSON: one FeatureCollection of Point features; ``properties``: ``identifier`` (部件标识码), ``version``
  (catalogue version code) and ``class_code`` (部件小类), ``name``, ``state`` (完好/破损/丢失/废弃/移除 or their
  keys), ``competent_unit``/``owner_unit``/``maintenance_unit`` (unit codes: 主管、权属、养护), ``initial_date`` and
  ``changed_date`` (YYYY-MM-DD or YYYYMMDD), ``data_source`` (实测/地形图/基础地理数据/其他 or keys), ``note``.
  ``class_name`` and ``unit_grid`` are written for the reader and ignored on import (the unit grid always
  follows the point).
* Excel (.xlsx): the sheet ``components`` (else the first sheet) with the same columns plus ``lon``/``lat``.

An import checks every record first (the standard's identifier for its class, the point inside the managed
area and in the identifier's district, units, dates, choices, duplicates) and names each problem with its
feature index or sheet row and field; with any problem nothing is written. Otherwise components are created or
updated by identifier in one transaction; ``replace=True`` also deletes those the file does not hold.
The file helpers (problems, the refusal, text and number cells) are the gazetteer's.
"""
import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from urbangrid.core import excel
from urbangrid.core import transfer
from urbangrid.core.transfer import Problem, Records, TransferError, features_of
from urbangrid.core.transfer import number_value as _number
from urbangrid.core.transfer import text_field as _text
from urbangrid.grids.locator import locator
from urbangrid.org.models import Unit

from .models import CatalogClass, Component, validate_component_identifier

__all__ = ["Problem", "TransferError", "export_geojson", "export_records", "export_xlsx", "import_file", "import_records",
           "read_file", "read_geojson_bytes", "read_upload", "read_xlsx", "validate"]

SHEET = "components"
MAX_BYTES = 50 * 1024 * 1024
NOTE_MAX = 1000  # GB/T 47678.5 备注 C1000
UNIT_FIELDS = ("competent_unit", "owner_unit", "maintenance_unit")
COLUMNS = [
    excel.Column("identifier", "部件标识码", True, 20), excel.Column("version", "分类版本", True, 16),
    excel.Column("class_code", "部件小类代码", True, 10), excel.Column("class_name", "部件小类名称", width=16),
    excel.Column("name", "部件名称", width=18), excel.Column("lon", "经度", True, 14), excel.Column("lat", "纬度", True, 14),
    excel.Column("state", "部件状态", width=10), excel.Column("competent_unit", "主管部门代码", width=16),
    excel.Column("owner_unit", "权属单位代码", width=16), excel.Column("maintenance_unit", "养护单位代码", width=16),
    excel.Column("unit_grid", "所在单元网格", width=18), excel.Column("initial_date", "初始日期", width=12),
    excel.Column("changed_date", "变更日期", width=12), excel.Column("data_source", "数据来源", width=12),
    excel.Column("note", "备注", width=30),
]
_D8 = re.compile(r"^\d{8}$")


@dataclass
class _Record:
    where: str
    values: dict
    typed: bool = True  # JSON types (GeoJSON); False: every value is a cell's text (Excel)


# --- export --------------------------------------------------------------------------------------

def export_records():
    """The inventory as dicts in identifier order (the rows both formats write). Only the columns written are
    read: whole rows with their classes, grids (geometry and all) and units cost ~20 model objects a component."""
    fields = ("identifier", "catalog_class__version__code", "catalog_class__code", "catalog_class__name", "name", "lon",
              "lat", "state", *(f + "__code" for f in UNIT_FIELDS), "unit_grid__code", "initial_date", "changed_date",
              "data_source", "note")
    out = []
    for (identifier, version, class_code, class_name, name, lon, lat, state, competent, owner, maintenance, grid,
         initial, changed, source, note) in Component.objects.order_by("identifier").values_list(*fields):
        out.append({
            "identifier": identifier, "version": version, "class_code": class_code, "class_name": class_name,
            "name": name, "lon": lon, "lat": lat, "state": state,
            "competent_unit": competent, "owner_unit": owner, "maintenance_unit": maintenance, "unit_grid": grid,
            "initial_date": initial.isoformat() if initial else None,
            "changed_date": changed.isoformat() if changed else None,
            "data_source": source, "note": note,
        })
    return out


def export_geojson():
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                 "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")}} for r in export_records()]
    return {"type": "FeatureCollection", "name": "urbangrid-components", "features": features}


def export_xlsx(path):
    rows = [{k: ("" if v is None else v) for k, v in r.items()} for r in export_records()]
    excel.write_workbook(path, [(SHEET, COLUMNS, rows)])
    return len(rows)


# --- reading -------------------------------------------------------------------------------------

def read_geojson_bytes(data):
    """The records of a GeoJSON document; a document that is not a FeatureCollection raises ``TransferError``,
    a bad feature is a problem reported with the checks of the others."""
    records, problems = [], []
    for where, feat in features_of(data, problems):
        geom = feat.get("geometry")
        coords = geom.get("coordinates") if isinstance(geom, dict) and geom.get("type") == "Point" else None
        if not (isinstance(coords, list) and len(coords) >= 2):
            problems.append(Problem(where, "geometry", _("应为 Point 几何")))
            continue
        records.append(_Record(where, {**feat["properties"], "lon": coords[0], "lat": coords[1]}))
    return Records(records, problems)


def _row(number):
    return _("%(sheet)s 第%(row)s行") % {"sheet": SHEET, "row": number}


def read_xlsx(path):
    """The records of the workbook's ``components`` sheet (else its first sheet)."""

    try:
        # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only this import needs it
        from openpyxl import load_workbook
        wb = load_workbook(path, read_only=True)
        names = list(wb.sheetnames)
        wb.close()
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not .xlsx
        raise TransferError([Problem("", "", _("无法读取 Excel 文件：%(e)s") % {"e": exc})]) from None
    errors = excel.ErrorCollector()
    try:
        rows = excel.read_sheet(path, COLUMNS, sheet=SHEET if SHEET in names else None, errors=errors)
    except excel.ImportErrors as exc:
        raise TransferError([Problem(_row(e.row) if e.row else "", e.column, e.message) for e in exc.errors]) from None
    problems = [Problem(_row(e.row), e.column, e.message) for e in errors.errors]
    records = [_Record(_row(number), rec, typed=False) for number, rec in rows if not errors.has_row(number)]
    return Records(records, problems)


def read_file(path, fmt=None):
    """Records of a .geojson/.json or .xlsx file (by ``fmt`` or the file name)."""
    return transfer.read_file(path, fmt, read_xlsx, read_geojson_bytes)


def read_upload(upload):
    """Records of an uploaded file (the admin page)."""
    return transfer.read_upload(upload, MAX_BYTES, read_xlsx, read_geojson_bytes)


# --- validation ----------------------------------------------------------------------------------

def _date(values, key, problems, where):
    v = values.get(key)
    if v in (None, ""):
        return None
    if isinstance(v, str):
        text = v.strip()
        try:
            if _D8.match(text):
                return datetime.date(int(text[:4]), int(text[4:6]), int(text[6:]))
            # a date cell comes as 2024-03-01T00:00:00
            if len(text) == 19 and text.endswith("T00:00:00"):
                text = text[:10]
            return datetime.date.fromisoformat(text)
        except ValueError:
            pass
    problems.append(Problem(where, key, _("日期应为 YYYY-MM-DD 或 YYYYMMDD")))
    return None


def _choice(values, key, choices, default, problems, where):
    v = values.get(key)
    if v in (None, ""):
        return default
    try:
        if not isinstance(v, str):
            raise ValueError
        return excel.parse_choice(v.strip(), choices)
    except ValueError:
        problems.append(Problem(where, key, _("应为 %(c)s 之一") % {"c": "、".join(str(label) for _v, label in choices.choices)}))
        return None


def _note(values, problems, where):
    v = values.get("note")
    if v is None:
        return ""
    if not isinstance(v, str):
        problems.append(Problem(where, "note", _("应为文字")))
        return None
    v = v.strip()
    if len(v) > NOTE_MAX:
        problems.append(Problem(where, "note", _("不能超过 %(n)s 个字") % {"n": NOTE_MAX}))
        return None
    if any(ord(c) < 32 and c not in "\n\r\t" for c in v):
        problems.append(Problem(where, "note", _("含有控制字符")))
        return None
    return v


def validate(records):
    """Check every record; returns {identifier: fields} or raises ``TransferError`` with every problem."""

    problems = list(getattr(records, "problems", ()))
    classes = {(c.version.code, c.code): c for c in
               CatalogClass.objects.filter(kind=CatalogClass.Kind.COMPONENT).select_related("version")}
    units = dict(Unit.objects.values_list("code", "pk"))
    plan, points = {}, []
    for rec in records:
        v, where = rec.values, rec.where
        identifier = _text(v, "identifier", problems, where, required=True, max_len=17)
        version = _text(v, "version", problems, where, required=True, max_len=40)
        code = _text(v, "class_code", problems, where, required=True, max_len=5)
        name = _text(v, "name", problems, where)
        note = _note(v, problems, where)
        cls = classes.get((version, code)) if version and code else None
        if version and code and cls is None:
            problems.append(Problem(where, "class_code", _("分类版本 %(v)s 中没有部件小类 %(c)s") % {"v": version, "c": code}))
        if identifier and cls is not None:
            try:
                validate_component_identifier(identifier, cls)
            except ValidationError as exc:
                problems.append(Problem(where, "identifier", " ".join(exc.messages)))
                identifier = None
        state = _choice(v, "state", Component.State, Component.State.INTACT, problems, where)
        source = _choice(v, "data_source", Component.Source, "", problems, where)
        unit_ids = {}
        for field in UNIT_FIELDS:
            ucode = v.get(field)
            if ucode in (None, ""):
                unit_ids[field] = None
            elif not isinstance(ucode, str) or ucode.strip() not in units:
                problems.append(Problem(where, field, _("单位 %(c)s 不存在") % {"c": ucode}))
            else:
                unit_ids[field] = units[ucode.strip()]
        initial, changed = _date(v, "initial_date", problems, where), _date(v, "changed_date", problems, where)
        if initial and changed and changed < initial:
            problems.append(Problem(where, "changed_date", _("变更日期不能早于初始日期")))
        lon, lat = ((None if rec.typed and isinstance(x, str) else _number(x)) for x in (v.get("lon"), v.get("lat")))
        if lon is None:
            problems.append(Problem(where, "lon", _("经度应为数字")))
        if lat is None:
            problems.append(Problem(where, "lat", _("纬度应为数字")))
        if not identifier:
            continue
        if identifier in plan:
            problems.append(Problem(where, "identifier", _("部件标识码 %(id)s 重复（另见 %(w)s）")
                                    % {"id": identifier, "w": plan[identifier]["where"]}))
            continue
        plan[identifier] = {"where": where, "catalog_class_id": cls.pk if cls else None, "name": name or "", "lon": lon,
                            "lat": lat, "state": state, "data_source": source, "initial_date": initial,
                            "changed_date": changed, "note": note or "", **{f + "_id": unit_ids.get(f) for f in UNIT_FIELDS}}
        if lon is not None and lat is not None:
            points.append(identifier)
    # One pass of the grid index for every point: the unit grid follows the point, never the file.
    for identifier, loc in zip(points, locator.locate_points([(plan[i]["lon"], plan[i]["lat"]) for i in points])):
        p = plan[identifier]
        if loc is None:
            problems.append(Problem(p["where"], "geometry", _("点 (%(lon)s, %(lat)s) 不在管理范围内") % {"lon": p["lon"], "lat": p["lat"]}))
        elif identifier[:6] != loc.unit_grid_code[:6]:
            problems.append(Problem(p["where"], "identifier", _("标识码的区划代码%(code)s与所在单元网格的区划%(grid)s不符")
                                    % {"code": identifier[:6], "grid": loc.unit_grid_code[:6]}))
        else:
            p["unit_grid_id"] = loc.unit_grid_id
    if problems:
        raise TransferError(problems)
    return plan


# --- writing -------------------------------------------------------------------------------------

FIELDS = ("catalog_class_id", "name", "lon", "lat", "unit_grid_id", "state", "data_source", "initial_date", "changed_date",
          "note", *(f + "_id" for f in UNIT_FIELDS))


def import_records(records, replace=False):
    """Validate, then write in one transaction; returns {"created", "updated", "unchanged", "deleted"}."""
    stats = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0}
    with transaction.atomic():
        plan = validate(records)  # inside: what it checked against stays so until the writes
        current = {c.identifier: c for c in Component.objects.all()}
        new, changed = [], []
        for identifier, p in plan.items():
            row = current.get(identifier)
            if row is None:
                new.append(Component(identifier=identifier, **{f: p[f] for f in FIELDS}))
            elif any(getattr(row, f) != p[f] for f in FIELDS):
                for f in FIELDS:
                    setattr(row, f, p[f])
                changed.append(row)
            else:
                stats["unchanged"] += 1
        # bulk writes skip Component.save(): the unit grid was derived from the point above
        Component.objects.bulk_create(new, batch_size=2000)
        Component.objects.bulk_update(changed, list(FIELDS), batch_size=2000)
        stats["created"], stats["updated"] = len(new), len(changed)
        if replace:
            gone = [c.pk for identifier, c in current.items() if identifier not in plan]
            Component.objects.filter(pk__in=gone).delete()
            stats["deleted"] = len(gone)
    return stats


def import_file(path, fmt=None, replace=False):
    return import_records(read_file(path, fmt), replace=replace)
