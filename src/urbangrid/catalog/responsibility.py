"""Who handles a problem of a class at a point: the responsibility list, then 属地兜底.

Order: the most specific area wins (responsibility grid > community > street > district > city-wide);
between rules of equally specific areas, one whose 立案条件 matches the given condition beats one
without a condition. No matching rule → the territorial unit of the nearest enclosing region.

Answers are cached per process by (class, responsibility grid, community, street, district, condition,
language): every dispatch and every suggestion asks the same few questions, and the answer depends on
nothing else. Saving or deleting a rule, unit, region or class clears this process's cache at once
(signals below); other processes follow within ``URBANGRID_RESPONSIBILITY_TTL`` seconds (default 5),
the same trade the grid index makes with ``URBANGRID_GRID_VERSION_TTL``.
"""
import dataclasses
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import translation
from django.utils.translation import gettext as _

from urbangrid.core.tenancy import current_code
from urbangrid.grids.locator import Location, locator
from urbangrid.grids.models import Region
from urbangrid.org.models import Unit
from urbangrid.worktime import clock

from .models import CatalogClass, ResponsibilityRule

# Specificity of a rule's region by level; a rule with no region is city-wide (rank 0).
REGION_RANK = {Region.Level.COMMUNITY: 4, Region.Level.STREET: 3, Region.Level.DISTRICT: 2, Region.Level.CITY: 1}


class NoResponsibleUnit(LookupError):
    """No rule matches and no territorial unit covers the point: the list or the org tree is incomplete."""


@dataclass(frozen=True)
class Resolution:
    unit: Unit
    urgency: str
    time_limit_value: Decimal | None
    time_limit_unit: str | None
    filing_standard: str
    closing_standard: str
    rule: ResponsibilityRule | None
    fallback: bool
    explanation: str
    location: Location


def _enclosing_regions(loc):
    """Region ids enclosing the point with their levels, nearest first (community … city)."""
    ids = [i for i in (loc.community_id, loc.street_id, loc.district_id) if i]
    city = Region.objects.filter(pk=loc.district_id).values_list("parent_id", flat=True).first() if loc.district_id else None
    if city:
        ids.append(city)
    levels = dict(Region.objects.filter(pk__in=ids).values_list("pk", "level"))
    return [(i, levels[i]) for i in ids if i in levels]


def _pick(rules, loc, region_level, condition):
    """The most specific rule for the point among one class's rules, and the conditions it skipped."""
    best, best_key, conditional = None, None, set()
    for rule in rules:
        if rule.filing_condition and rule.filing_condition != condition:
            conditional.add(rule.filing_condition)
            continue
        if rule.responsibility_grid_id and rule.responsibility_grid_id != loc.responsibility_grid_id:
            continue
        if rule.region_id and rule.region_id not in region_level:
            continue
        key = (bool(rule.responsibility_grid_id), REGION_RANK.get(region_level.get(rule.region_id), 0),
               bool(rule.filing_condition), -rule.pk)
        if best_key is None or key > best_key:
            best, best_key = rule, key
    return best, conditional


def responsibility_table(lon, lat):
    """Who answers for each class of the current catalogues at a point (the 六定 card's 定责任), in one
    pass over the rules; classes without a rule fall to the territorial unit."""
    loc = locator.locate(lon, lat, with_road=False)
    regions = _enclosing_regions(loc)
    region_level = dict(regions)
    territorial = {u.region_id: u for u in Unit.objects.filter(is_territorial=True, active=True,
                                                                 region_id__in=[i for i, _lvl in regions])}
    fallback_unit = next((territorial[i] for i, _lvl in regions if i in territorial), None)
    by_class = {}
    for rule in (ResponsibilityRule.objects.filter(active=True, unit__active=True, catalog_class__version__is_current=True)
                 .select_related("unit")):
        by_class.setdefault(rule.catalog_class_id, []).append(rule)
    rows = []
    kind_labels = {kind: str(label) for kind, label in CatalogClass.Kind.choices}  # once, not per class
    for pk, kind, major_name, code, name in (CatalogClass.objects.current().order_by("kind", "code")
                                             .values_list("pk", "kind", "major_name", "code", "name")):
        best, _conditional = _pick(by_class.get(pk, []), loc, region_level, "")
        rows.append({
            "kind_label": kind_labels.get(kind, kind), "major_name": major_name, "code": code, "name": name,
            "unit": best.unit if best else fallback_unit, "fallback": best is None,
            "limit": best.time_limit_display if best else "", "closing_standard": best.closing_standard if best else "",
            "urgency": best.urgency if best else "",
            "limit_hours": _limit_hours(best) if best else None,  # to order limits (the sign shows their range)
        })
    return rows


def responsible_units(items):
    """Who answers for many (class id, lon, lat) at once — a page of unassigned cases — with the same rule as
    ``resolve`` (no filing condition) and a fixed number of queries: one for the regions, one for the rules of
    the page's classes, one for the territorial units, whatever the page's length. Answers
    {(class id, lon, lat): Unit or None} (None: outside the managed area, a bad point or nobody answers).

    The page's distinct (class, responsibility grid, community, street, district) combinations are each
    decided once."""

    items = list(dict.fromkeys(items))
    if not items:
        return {}
    locations = locator.locate_points([(lon, lat) for _cls, lon, lat in items])
    located = [(item, loc) for item, loc in zip(items, locations) if loc is not None]
    answers = {item: None for item in items}
    if not located:
        return answers
    region_ids = {i for _item, loc in located for i in (loc.community_id, loc.street_id, loc.district_id) if i}
    district_ids = {loc.district_id for _item, loc in located if loc.district_id}
    regions = {pk: (level, parent) for pk, level, parent in Region.objects.filter(
        Q(pk__in=region_ids) | Q(pk__in=Region.objects.filter(pk__in=district_ids).values("parent_id")))
        .values_list("pk", "level", "parent_id")}
    class_ids = {item[0] for item, _loc in located}
    by_class = {}
    for rule in (ResponsibilityRule.objects.filter(catalog_class_id__in=class_ids, active=True, unit__active=True)
                 .select_related("unit")):
        by_class.setdefault(rule.catalog_class_id, []).append(rule)
    territorial = {u.region_id: u for u in Unit.objects.filter(is_territorial=True, active=True, region_id__in=list(regions))}
    decided = {}
    for item, loc in located:
        key = (item[0], loc.responsibility_grid_id, loc.community_id, loc.street_id, loc.district_id)
        if key not in decided:
            ids = [i for i in (loc.community_id, loc.street_id, loc.district_id) if i]
            city = regions.get(loc.district_id, (None, None))[1] if loc.district_id else None
            if city:
                ids.append(city)
            nearest = [(i, regions[i][0]) for i in ids if i in regions]  # as _enclosing_regions
            best, _conditional = _pick(by_class.get(item[0], []), loc, dict(nearest), "")
            decided[key] = best.unit if best is not None else next(
                (territorial[i] for i, _lvl in nearest if i in territorial), None)
        answers[item] = decided[key]
    return answers


_MISSING = object()


def responsible_units_cached(items):
    """``responsible_units`` with its answers kept in this module's cache (the TTL and invalidation of
    ``resolve``'s answers, keyed by the grid data version): the same page of unassigned cases asked again costs
    no query and no point location."""

    items = list(dict.fromkeys(items))
    if not items:
        return {}
    locator.locate_points([])  # the index and its version current (a version check per TTL), as locate does
    version = (current_code(), locator.version)  # two cities may share a grid data version number
    if time.monotonic() - _cache_born[0] > settings.URBANGRID_RESPONSIBILITY_TTL or len(_cache) > _CACHE_MAX:
        invalidate()
    answers, misses = {}, []
    for item in items:
        unit = _cache.get(("units", version, *item), _MISSING)
        if unit is _MISSING:
            misses.append(item)
        else:
            answers[item] = unit
    if misses:
        generation = _cache_generation[0]
        found = responsible_units(misses)
        with _cache_lock:
            if generation == _cache_generation[0]:
                _cache.update({("units", version, *item): unit for item, unit in found.items()})
        answers.update(found)
    return answers


def _limit_hours(rule):
    """A rule's time limit in about working hours (a day of 8), only to order limits given in different units."""

    per = {clock.WORKING_HOURS: 1, clock.WORKING_DAYS: 8, clock.CALENDAR_HOURS: 8 / 24}.get(rule.time_limit_unit, 1)
    return float(rule.time_limit_value) * per


_cache = {}
_cache_lock = threading.Lock()
_cache_born = [0.0]
_cache_generation = [0]  # +1 per clearing: an answer read before a clearing is not stored after it
_CACHE_MAX = 50_000


def invalidate():
    """Forget every cached answer of this process (rules, units, regions or classes changed)."""
    with _cache_lock:
        _cache.clear()
        _cache_born[0] = time.monotonic()
        _cache_generation[0] += 1


def _invalidate_on_change(sender, using=None, **kwargs):
    invalidate()
    # Again at commit: another thread may have read (and cached) the old rows while the change was open.
    transaction.on_commit(invalidate, using=using)


def resolve(catalog_class, lon, lat, filing_condition=None):
    """Answer a ``Resolution``; raises ``OutsideManagedArea``, ``ValueError`` (bad coordinates) or ``NoResponsibleUnit``.

    ``catalog_class`` is a ``CatalogClass`` or its primary key (the instance is fetched only on a cache miss).
    """
    loc = locator.locate(lon, lat, with_road=False)
    condition = (filing_condition or "").strip()
    class_id = catalog_class if isinstance(catalog_class, int) else catalog_class.pk
    key = (current_code(), locator.version, class_id, loc.responsibility_grid_id, loc.community_id, loc.street_id, loc.district_id, condition,
           translation.get_language())
    ttl = settings.URBANGRID_RESPONSIBILITY_TTL
    now = time.monotonic()
    if now - _cache_born[0] > ttl or len(_cache) > _CACHE_MAX:
        invalidate()
    hit = _cache.get(key)
    if hit is None:
        generation = _cache_generation[0]
        if isinstance(catalog_class, int):
            catalog_class = CatalogClass.objects.get(pk=catalog_class)
        hit = _resolve(catalog_class, loc, condition)
        with _cache_lock:
            if generation == _cache_generation[0]:
                _cache[key] = hit
    return dataclasses.replace(hit, location=loc)


def explain_rule(catalog_class, rule):
    """Why ``rule`` answers for the class: the text a dispatcher (and the auto-dispatch event) shows."""
    return _("按责任清单：%(cls)s，适用范围 %(area)s%(cond)s，由 %(unit)s 负责") % {
        "cls": catalog_class, "area": rule.area_display, "unit": rule.unit,
        "cond": (_("，立案条件“%(c)s”") % {"c": rule.filing_condition}) if rule.filing_condition else "",
    }


def _resolve(catalog_class, loc, condition):
    regions = _enclosing_regions(loc)
    region_level = dict(regions)

    rules = (ResponsibilityRule.objects.filter(catalog_class=catalog_class, active=True, unit__active=True)
             .select_related("unit", "region", "responsibility_grid"))
    best, conditional = _pick(rules, loc, region_level, condition)

    if best is not None:
        explanation = explain_rule(catalog_class, best)
        return Resolution(best.unit, best.urgency, best.time_limit_value, best.time_limit_unit, best.filing_standard,
                          best.closing_standard, best, False, explanation, loc)

    # 属地兜底: the territorial unit of the nearest enclosing region.
    units = {u.region_id: u for u in Unit.objects.filter(is_territorial=True, active=True, region_id__in=[i for i, _lvl in regions])
             .select_related("region")}
    unit = next((units[i] for i, _lvl in regions if i in units), None)
    hint = (_("（该小类只有按立案条件的规则：%(c)s）") % {"c": "、".join(sorted(conditional))}) if conditional and not condition else ""
    if unit is None:
        raise NoResponsibleUnit(_("无匹配的责任清单规则，且%(place)s及其上级区划都没有属地兜底单位%(hint)s") % {
            "place": loc.community_name, "hint": hint})
    explanation = _("按属地兜底：无匹配规则，由属地单位 %(unit)s（%(region)s）负责%(hint)s") % {
        "unit": unit, "region": unit.region.name, "hint": hint}
    return Resolution(unit, ResponsibilityRule.Urgency.NORMAL, None, None, "", "", None, True, explanation, loc)


for _model in (ResponsibilityRule, Unit, Region, CatalogClass):
    post_save.connect(_invalidate_on_change, sender=_model, dispatch_uid=f"responsibility-cache-{_model.__name__}-save")
    post_delete.connect(_invalidate_on_change, sender=_model, dispatch_uid=f"responsibility-cache-{_model.__name__}-delete")
