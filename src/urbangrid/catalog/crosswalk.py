"""Counting across catalogue versions: a case keeps the code it was filed under, and statistics
want it under the other version too (CJ/T 214-2007 ⇄ GB/T 47678.5-2026)."""
from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

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


# --- one class's counterpart in a catalogue family, as the switch and the case recount decide it ---------------

class Status:
    SAME = "same"            # already in the target catalogue
    MAPPED = "mapped"        # one counterpart, verified (or the reverse of a split: one old class)
    UNVERIFIED = "unverified"  # one counterpart on a draft row not yet verified by a person (note "verify")
    SPLIT = "split"          # several counterparts and none chosen (verified) by a person
    NONE = "none"            # no counterpart in the target catalogue

    NEEDS_DECISION = frozenset({UNVERIFIED, SPLIT, NONE})


@dataclass
class Counterpart:
    status: str
    target: CatalogClass | None = None      # SAME, MAPPED, UNVERIFIED (proposed)
    candidates: list = field(default_factory=list)  # SPLIT: the classes to choose from
    relation: str = ""


def family(version):
    """The versions a city files under together: a national version and its local extensions (``base``)."""
    national = _version(version)
    national = national.base if national.base_id else national
    return [national, *CatalogVersion.objects.filter(base=national).order_by("code")]


class Crosswalk:
    """Every crosswalk entry in memory, looked up both ways: a class's counterparts in a target family.

    Decision rule (the switch's and the recount's): one counterpart maps, unless its row is an unverified draft
    (``verified`` off; the reverse of a split is one old class and maps); several counterparts map only when a
    person has verified exactly one of them (how a split is decided); none: the class has no successor."""

    def __init__(self):
        self.forward, self.backward = {}, {}
        for e in CrosswalkEntry.objects.select_related("old_class__version", "new_class__version"):
            self.forward.setdefault(e.old_class_id, []).append(e)
            if e.new_class_id:
                self.backward.setdefault(e.new_class_id, []).append(e)

    def counterpart(self, cls, target_versions):
        targets = {v.pk for v in target_versions}
        if cls.version_id in targets:
            return Counterpart(Status.SAME, cls)
        options = {}  # candidate pk -> (candidate, entry, forward?)
        for e in self.forward.get(cls.pk, ()):
            if e.new_class_id and e.new_class.version_id in targets:
                options.setdefault(e.new_class_id, (e.new_class, e, True))
        for e in self.backward.get(cls.pk, ()):
            if e.old_class.version_id in targets:
                options.setdefault(e.old_class_id, (e.old_class, e, False))
        if not options:
            return Counterpart(Status.NONE)
        if len(options) == 1:
            target, e, forward = next(iter(options.values()))
            decided = e.verified or (not forward and e.relation == CrosswalkEntry.Relation.SPLIT)
            return Counterpart(Status.MAPPED if decided else Status.UNVERIFIED, target, [target], e.relation)
        chosen = [(c, e) for c, e, _f in options.values() if e.verified]
        candidates = sorted((c for c, _e, _f in options.values()), key=lambda c: (c.version.code, c.code))
        if len(chosen) == 1:
            return Counterpart(Status.MAPPED, chosen[0][0], candidates, chosen[0][1].relation)
        return Counterpart(Status.SPLIT, None, candidates, CrosswalkEntry.Relation.SPLIT)


# --- cases counted under another catalogue ---------------------------------------------------------------------

@dataclass
class CaseRecount:
    """Cases of a period counted under the classes of one catalogue family (跨版本统计).

    ``rows``: one per target class with cases: filed under it (``direct``), filed under a class the crosswalk maps to
    it (``mapped``, of which ``unverified`` through a draft row), their ``total`` and the source classes. ``pending``:
    source classes the crosswalk cannot place (a split not decided, no counterpart), with their cases, counted
    nowhere else: ``total`` of the rows plus ``pending`` is every case of the period."""

    versions: list
    date_from: object
    date_to: object
    kind: str
    rows: list = field(default_factory=list)
    pending: list = field(default_factory=list)

    @property
    def cases(self):
        return sum(r["total"] for r in self.rows) + sum(p["n"] for p in self.pending)

    @property
    def counted(self):
        return sum(r["total"] for r in self.rows)


class RecountInputError(ValueError):
    """Bad recount arguments: ``errors`` maps each argument (version, from, to, kind) to its message."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def current_national():
    """The national version the city files under now (the current version that extends none), or None."""
    return CatalogVersion.objects.filter(is_current=True, base=None).order_by("code").first()


def class_label(cls):
    return f"{cls.version.code}:{cls.kind}:{cls.code} {cls.name}"


def status_label(status):
    return {Status.SPLIT: _("拆分，需人工选择"), Status.UNVERIFIED: _("对照待核实"),
            Status.NONE: _("无对应新分类")}.get(status, status)
