"""XML and JSON renderings of GeoReport v2 documents.

The same Python structure gives both: XML with ``<?xml version="1.0" encoding="utf-8"?>``, no namespace, the
root collection element and one element per item; JSON by the Spark convention (a root collection is a
bare array, even of one item). ``None`` values are left out of XML and are ``null`` in JSON. Text is
always escaped by ElementTree; characters XML 1.0 cannot carry are dropped.
"""
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime

from django.http import HttpResponse

from urbangrid.worktime.clock import TZ

XML_TYPE = "text/xml; charset=utf-8"
JSON_TYPE = "application/json; charset=utf-8"
_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Element name of one item of a list-valued field.
ITEM_NAMES = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value",
              "notes": "note", "services": "service", "service_requests": "request", "errors": "error",
              "service_requests_updates": "request_update", "service_request_updates": "request_update",
              "groups": "group", "extras": "extra", "replaced_by": "service_code"}


def w3c(dt):
    """2026-11-27T23:00:00+08:00 (Asia/Shanghai, seconds precision)."""
    if dt is None:
        return None
    return dt.astimezone(TZ).isoformat(timespec="seconds")  # the microseconds cut, as replace(microsecond=0)


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return w3c(value)
    return _BAD_XML_CHARS.sub("", str(value))


def _fill(elem, value):
    if isinstance(value, dict):
        for name, child in value.items():
            if child is None:
                continue
            _fill(ET.SubElement(elem, name), child)
    elif isinstance(value, (list, tuple)):
        item = ITEM_NAMES.get(elem.tag, "item")
        for child in value:
            _fill(ET.SubElement(elem, item), child)
    else:
        elem.text = _text(value)


def to_xml(root, value):
    elem = ET.Element(root)
    _fill(elem, value)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(elem, encoding="unicode")


def _json_default(value):
    if isinstance(value, datetime):
        return w3c(value)
    return str(value)


def to_json(value):
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def respond(fmt, root, value, status=200):
    """``root`` is the XML root element; in JSON a list is the bare array, a dict the object."""
    if fmt == "json":
        return HttpResponse(to_json(value), content_type=JSON_TYPE, status=status)
    return HttpResponse(to_xml(root, value), content_type=XML_TYPE, status=status)


def errors(fmt, status, *items):
    """``items`` are (code, description) pairs; the HTTP status is 400, 403, 404, 405, 413, 429 or 500."""
    body = [{"code": code, "description": str(description)} for code, description in items]
    return respond(fmt, "errors", body, status=status)
