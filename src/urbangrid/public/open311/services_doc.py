"""services.json / services.xml as one cached document per format and language.

The list changes only when the catalogue does, yet every client polls it: the rendered bytes are kept per
(format, language) in this process. Saving or deleting a catalogue class or version clears it at once (and
again when that transaction commits: another thread may have rendered the old rows in between); edits made
by another process, or by bulk writes that send no signals, are seen within
settings.URBANGRID_OPEN311_SERVICES_TTL seconds (default 60). Nothing else goes into the document (no
Open311 setting is read while building it).
"""
import threading
import time

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import translation

from urbangrid.catalog.models import CatalogClass, CatalogVersion
from urbangrid.core.tenancy import current_code

from . import serializers as ser
from .render import to_json, to_xml

_docs = {}
_lock = threading.Lock()
_generation = [0]


def invalidate():
    with _lock:
        _docs.clear()
        _classes.clear()
        _generation[0] += 1


def _changed(sender, using=None, **kwargs):
    invalidate()
    transaction.on_commit(invalidate, using=using)


def build(fmt):
    """The document's text, rendered from the database (no per-row label lookups)."""
    kinds = {value: str(label) for value, label in CatalogClass.Kind.choices}
    body = [ser.service_out(c, kinds[c.kind]) for c in ser.current_services()]
    return to_json(body) if fmt == "json" else to_xml("services", body)


def document(fmt):
    """The cached document for ``fmt`` ("json" or "xml") in the active language, UTF-8 encoded (encoding a large
    document on every request cost more than the rest of the view), built when missing or stale."""
    key = (current_code(), fmt, translation.get_language())
    now = time.monotonic()
    entry = _docs.get(key)
    if entry is not None and now - entry[0] <= float(settings.URBANGRID_OPEN311_SERVICES_TTL):
        return entry[1]
    generation = _generation[0]
    text = build(fmt).encode("utf-8")
    with _lock:
        if generation == _generation[0]:  # not kept if the catalogue changed while it was being built
            _docs[key] = (now, text)
    return text


_classes = {}


def current_class(code):
    """The current, active class of a service code, or None: ``serializers.find_service`` from a map of the
    current classes kept with the document (same invalidation), so a POST does not query for it."""
    now = time.monotonic()
    key = current_code()  # each city its own classes
    entry = _classes.get(key)
    if entry is None or now - entry[0] > float(settings.URBANGRID_OPEN311_SERVICES_TTL):
        generation = _generation[0]
        entry = (now, {ser.service_code(c): c for c in ser.current_services()})
        with _lock:
            if generation == _generation[0]:
                _classes[key] = entry
    return entry[1].get((code or "").strip()) if ser.parse_service_code(code) else None


for _model in (CatalogClass, CatalogVersion):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"open311-services-{_model.__name__}-save")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"open311-services-{_model.__name__}-delete")
