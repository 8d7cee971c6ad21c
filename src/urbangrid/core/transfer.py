"""Validated, all-or-nothing file imports: the pieces every importer shares (the gazetteer, the component
inventory). An importer reads every record, collects every ``Problem`` (where, field, message), and writes
nothing unless there is none: it raises ``TransferError`` with the whole list."""
import json
import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .excel import uploaded_path


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: where (``features[3]`` or ``doorplates 第5行``), the field, the message."""

    where: str
    field: str
    message: str

    def __str__(self):
        where = self.where or _("文件")
        return f"{where} [{self.field}]：{self.message}" if self.field else f"{where}：{self.message}"


class TransferError(Exception):
    """The file was refused: ``problems`` lists every problem found; nothing has been written."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__(_("共 %(n)d 个问题，未导入任何数据") % {"n": len(self.problems)})


class Records(list):
    """The records read from a file, with the problems found while reading rows (reported by ``validate``)."""

    def __init__(self, records=(), problems=()):
        super().__init__(records)
        self.problems = list(problems)


def text_field(values, key, problems, where, required=False, max_len=100):
    v = values.get(key)
    if v is None:
        v = ""
    if not isinstance(v, str):
        problems.append(Problem(where, key, _("应为文字")))
        return None
    v = v.strip()
    if required and not v:
        problems.append(Problem(where, key, _("不能为空")))
        return None
    if len(v) > max_len:
        problems.append(Problem(where, key, _("不能超过 %(n)s 个字") % {"n": max_len}))
        return None
    if any(ord(c) < 32 for c in v):
        problems.append(Problem(where, key, _("含有控制字符")))
        return None
    return v


def number_value(value):
    """A finite float from a JSON number or a cell's text, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None

def read_file(path, fmt, read_xlsx, read_geojson_bytes):
    """Records of a .geojson/.json or .xlsx file (by ``fmt`` or the file name), read by the importer's readers."""
    fmt = fmt or ("xlsx" if str(path).lower().endswith(".xlsx") else "geojson")
    if fmt == "xlsx":
        return read_xlsx(path)
    try:
        with open(path, "rb") as fp:
            return read_geojson_bytes(fp.read())
    except OSError as exc:
        raise TransferError([Problem("", "", _("无法读取文件：%(e)s") % {"e": exc})]) from None


def read_upload(upload, max_bytes, read_xlsx, read_geojson_bytes):
    """Records of an uploaded file (an admin page), refused whole above ``max_bytes``."""
    if upload.size > max_bytes:
        raise TransferError([Problem("", "", _("文件过大（最多 %(n)s 字节）") % {"n": max_bytes})])
    if upload.name.lower().endswith(".xlsx"):
        with uploaded_path(upload) as path:
            return read_xlsx(path)
    return read_geojson_bytes(upload.read())


def features_of(data, problems):
    """(where, feature) of each feature of a GeoJSON FeatureCollection (bytes or text) that has a properties object;
    a feature without one is a problem added to ``problems``; a document that is not a FeatureCollection raises."""
    try:
        if isinstance(data, bytes):
            data = data.decode("utf-8-sig")
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise TransferError([Problem("", "", _("不是有效的 JSON：%(e)s") % {"e": exc})]) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise TransferError([Problem("", "type", _("应为 GeoJSON FeatureCollection（含 features 列表）"))])
    for i, feat in enumerate(doc["features"]):
        where = f"features[{i}]"
        if not isinstance(feat, dict) or not isinstance(feat.get("properties"), dict):
            problems.append(Problem(where, "properties", _("要素应为含 properties 对象的 Feature")))
            continue
        yield where, feat
