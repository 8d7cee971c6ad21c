"""Counting across catalogue versions: a case keeps the code it was filed under, and statistics
want it under the other version too (CJ/T 214-2007 ⇄ GB/T 47678.5-2026)."""
from collections import Counter
from dataclasses import dataclass, field

from .models import CatalogClass, CatalogVersion, CrosswalkEntry


def _version(v):
    return v if isinstance(v, CatalogVersion) else CatalogVersion.objects.get(code=v)


def counterparts(catalog_class, to_version):
    """The classes of ``to_version`` that ``catalog_class`` corresponds to, either direction of the crosswalk."""
    to_version = _version(to_version)
    if catalog_class.version_id == to_version.pk:
        return [catalog_class]
    forward = CrosswalkEntry.objects.filter(old_class=catalog_class, new_class__version=to_version).values_list("new_class", flat=True)
    backward = CrosswalkEntry.objects.filter(new_class=catalog_class, old_class__version=to_version).values_list("old_class", flat=True)
    return list(CatalogClass.objects.filter(pk__in=set(forward) | set(backward)).order_by("code"))


def translate_code(code, from_version, to_version, kind=CatalogClass.Kind.COMPONENT):
    """Codes under ``to_version`` for ``code`` under ``from_version`` ([] when the crosswalk has none)."""
    cls = CatalogClass.objects.filter(version=_version(from_version), kind=kind, code=code).first()
    return [c.code for c in counterparts(cls, to_version)] if cls else []


@dataclass
class Recount:
    counts: Counter = field(default_factory=Counter)      # target code → n
    unmapped: Counter = field(default_factory=Counter)    # source code → n (no counterpart)
    ambiguous: dict = field(default_factory=dict)         # source code → (target codes, n): split, a person must choose


def recount(counts, from_version, to_version, kind=CatalogClass.Kind.COMPONENT):
    """Re-key ``{code: n}`` from one version to another. Nothing is double-counted: a code that maps to
    several classes (a split) is reported in ``ambiguous`` instead, and the three parts add up to the input."""
    from_version, to_version = _version(from_version), _version(to_version)
    classes = {c.code: c for c in CatalogClass.objects.filter(version=from_version, kind=kind, code__in=list(counts))}
    out = Recount()
    for code, n in counts.items():
        targets = [c.code for c in counterparts(classes[code], to_version)] if code in classes else []
        if not targets:
            out.unmapped[code] += n
        elif len(targets) == 1:
            out.counts[targets[0]] += n
        else:
            out.ambiguous[code] = (targets, n)
    return out
