"""Load the catalogue CSVs (shared/data/catalog) into the database, idempotently.

Only the columns that come from the files are written; what people edit afterwards (plain names,
descriptions, ``active``, ``is_current``, crosswalk decisions) is left alone by a re-run.
"""
import csv
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from .models import CatalogClass, CatalogVersion, CrosswalkEntry

PACKAGE_DATA = Path(__file__).resolve().parent / "data"
_CHECKOUT = Path(__file__).resolve().parents[3]  # src/urbangrid/catalog/loader.py → checkout

COMPONENT, EVENT = CatalogClass.Kind.COMPONENT, CatalogClass.Kind.EVENT

# Bases first: a local list names the national version it extends (``base``). A new database starts on the
# national list in force (GB/T 47678.5-2026 with the demo's local extensions); ``catalog switch`` moves a city.
VERSIONS = {
    "cjt214-2007": dict(name="城市市政综合监管信息系统 管理部件和事件分类、编码及数据要求", standard="CJ/T 214-2007",
                        effective_date=None, code_length=4, is_current=False),
    "gbt47678.5-2026": dict(name="城市运行管理服务平台 第5部分：管理部件和事项", standard="GB/T 47678.5-2026",
                            effective_date=date(2026, 7, 1), code_length=5, is_current=True),
    "local-demo": dict(name="示范城市本地事件清单", standard="地方扩展（示范）", effective_date=None, code_length=4,
                       is_current=False, base="cjt214-2007"),
    "local-demo-2026": dict(name="示范城市本地扩展事项（GB/T 47678.5-2026）", standard="地方扩展（示范）",
                            effective_date=date(2026, 7, 1), code_length=5, is_current=True, base="gbt47678.5-2026"),
}
# (file, version, kind); matters come after components so their component link can be set.
CLASS_FILES = [
    ("cjt214-2007-components.csv", "cjt214-2007", COMPONENT),
    ("gbt47678.5-2026-components.csv", "gbt47678.5-2026", COMPONENT),
    ("gbt47678.5-2026-matters.csv", "gbt47678.5-2026", EVENT),
    ("demo-local-events.csv", "local-demo", EVENT),
    ("demo-local-extensions-2026.csv", "local-demo-2026", EVENT),
]
# (file, old version, new version, kind). A file's optional ``new_version`` column may name a local extension
# of the new version instead (the demo's events without a 2026 matter go to its local extension classes).
CROSSWALK_FILES = [
    ("crosswalk-cjt214-2007-to-gbt47678.5-2026.csv", "cjt214-2007", "gbt47678.5-2026", COMPONENT),
    ("crosswalk-local-demo-to-gbt47678.5-2026.csv", "local-demo", "gbt47678.5-2026", EVENT),
]
DATA_FILES = [f for f, _v, _k in CLASS_FILES] + [f for f, *_rest in CROSSWALK_FILES]


class CatalogDataError(Exception):
    """A catalogue file is missing or has a bad row (file, line, message)."""


@dataclass
class LoadReport:
    directory: Path
    created: dict = field(default_factory=dict)   # "version/kind" or "crosswalk" → count
    updated: dict = field(default_factory=dict)

    @property
    def changed(self):
        return sum(self.created.values()) + sum(self.updated.values())


def catalog_dir(directory=None):
    """Where the CSVs are: the argument, $URBANGRID_CATALOG_DIR, the checkout's ../shared, or the packaged copy."""
    if directory:
        return Path(directory)
    if os.environ.get("URBANGRID_CATALOG_DIR"):
        return Path(os.environ["URBANGRID_CATALOG_DIR"])
    shared = _CHECKOUT.parent / "shared" / "data" / "catalog"
    # Only a complete set: a shared copy that lacks a file the loader reads is an older one.
    return shared if all((shared / name).exists() for name in DATA_FILES) else PACKAGE_DATA


def check_catalog_dir(directory):
    """``CatalogDataError`` naming a data file ``directory`` lacks: checked before work a missing file would undo."""
    for name in DATA_FILES:
        if not (Path(directory) / name).exists():
            raise CatalogDataError(_("找不到分类数据文件：%(path)s") % {"path": Path(directory) / name})


def _rows(path):
    if not path.exists():
        raise CatalogDataError(_("找不到分类数据文件：%(path)s") % {"path": path})
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            yield line, {k: (v or "").strip() for k, v in row.items()}


def load_catalogues(dir=None):  # noqa: A002 - the name the demo builder uses
    """Load versions, classes and crosswalk from ``dir`` (see ``catalog_dir``); returns a ``LoadReport``."""
    directory = catalog_dir(dir)
    report = LoadReport(directory)
    with transaction.atomic():
        versions = {}
        for code, spec in VERSIONS.items():
            defaults = {k: v for k, v in spec.items() if k != "base"}
            base = versions[spec["base"]] if spec.get("base") else None
            versions[code], _created = CatalogVersion.objects.get_or_create(code=code, defaults={**defaults, "base": base})
            if base is not None and versions[code].base_id is None:  # a database loaded before versions had bases
                versions[code].base = base
                versions[code].save(update_fields=["base"])
        for filename, version_code, kind in CLASS_FILES:
            _load_classes(directory / filename, versions[version_code], kind, report)
        for spec in CROSSWALK_FILES:
            _load_crosswalk(directory, versions, spec, report)
    return report


def _load_classes(path, version, kind, report):
    existing = {c.code: c for c in CatalogClass.objects.filter(version=version, kind=kind)}
    components = {c.code: c for c in CatalogClass.objects.filter(version=version, kind=COMPONENT)} if kind == EVENT else {}
    new, changed, seen = [], [], set()
    for line, row in _rows(path):
        code, major = row["code"], row["major_code"]
        if code in seen:
            raise CatalogDataError(f"{path.name}:{line}: " + _("小类代码%(code)s重复") % {"code": code})
        seen.add(code)
        if not (code.isdigit() and len(code) == version.code_length and code.startswith(major)):
            raise CatalogDataError(f"{path.name}:{line}: " + _("小类代码%(code)s不符合%(n)s位、以大类代码开头的要求")
                                   % {"code": code, "n": version.code_length})
        component = None
        if row.get("component_code"):
            component = components.get(row["component_code"])
            if component is None:
                raise CatalogDataError(f"{path.name}:{line}: " + _("找不到对应部件%(code)s") % {"code": row["component_code"]})
        values = dict(major_code=major, major_name=row["major_name"], name=row["name"],
                      code_inferred=row.get("code_inferred", "").lower() == "yes", component=component)
        obj = existing.get(code)
        if obj is None:
            new.append(CatalogClass(version=version, kind=kind, code=code, **values))
        elif any(getattr(obj, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(obj, k, v)
            changed.append(obj)
    CatalogClass.objects.bulk_create(new)
    CatalogClass.objects.bulk_update(changed, ["major_code", "major_name", "name", "code_inferred", "component"])
    key = f"{version.code}/{kind}"
    report.created[key], report.updated[key] = len(new), len(changed)


def _relation(note):
    """The draft crosswalk says the relation in words; 'verify' and 'split' rows need a person's decision."""
    note_l = note.lower()
    for prefix, relation in (("same", "same"), ("renamed", "renamed"), ("split", "split"), ("merged", "merged"), ("no ", "none")):
        if note_l.startswith(prefix):
            return relation, relation in ("same", "renamed") and "verify" not in note_l
    return CrosswalkEntry.Relation.RENAMED, False


def _untouched(entries, rows):
    """Whether a class's entries are all as the file gives them (target, relation, verified): loaded, not
    decided by a person. Deciding a split or a draft row means marking the chosen row verified (or editing it)."""
    given = {(r["new_class"].pk if r["new_class"] else None, r["relation"], r["verified"]) for r in rows}
    return all((e.new_class_id, e.relation, e.verified) in given for e in entries)


def _load_crosswalk(directory, versions, spec, report):
    filename, old_version, new_version, kind = spec
    path = directory / filename
    targets = {code: v for code, v in versions.items()
               if code == new_version or v.base_id == versions[new_version].pk}
    old = {c.code: c for c in CatalogClass.objects.filter(version=versions[old_version], kind=kind)}
    new = {(c.version_id, c.code): c for c in CatalogClass.objects.filter(version__in=targets.values(), kind=kind)}
    existing = {}
    for e in CrosswalkEntry.objects.filter(old_class__version=versions[old_version], old_class__kind=kind):
        existing.setdefault(e.old_class_id, []).append(e)
    by_class, seen = {}, set()
    for line, row in _rows(path):
        where = f"{path.name}:{line}: "
        target_code = row.get("new_version") or new_version
        target = targets.get(target_code)
        if target is None:
            raise CatalogDataError(where + _("版本%(v)s不是%(new)s或其地方扩展") % {"v": target_code, "new": new_version})
        old_class = old.get(row["old_code"])
        new_class = new.get((target.pk, row["new_code"])) if row["new_code"] else None
        if old_class is None or (row["new_code"] and new_class is None):
            raise CatalogDataError(where + _("对照表中的代码%(old)s → %(new)s不在分类表中")
                                   % {"old": row["old_code"], "new": row["new_code"] or "—"})
        pair = (old_class.pk, new_class.pk if new_class else None)
        if pair in seen:
            raise CatalogDataError(where + _("对照%(old)s → %(new)s重复") % {"old": row["old_code"], "new": row["new_code"] or "—"})
        seen.add(pair)
        relation, verified = _relation(row["note"])
        if (relation == CrosswalkEntry.Relation.NONE) != (new_class is None):
            raise CatalogDataError(where + _("“无对应”的行不填新代码，其他行必须填新代码"))
        by_class.setdefault(old_class.pk, []).append(
            {"old_class": old_class, "new_class": new_class, "relation": relation, "verified": verified, "note": row["note"][:200]})
    entries = []
    for class_id, rows in by_class.items():
        have = existing.get(class_id, [])
        if not _untouched(have, rows):
            continue  # decided by a person: the file's draft does not override it
        # Rows the class does not have yet: a first load, or a split the file has grown since (one row per class).
        have_targets = {e.new_class_id for e in have}
        entries += [CrosswalkEntry(**r) for r in rows if (r["new_class"].pk if r["new_class"] else None) not in have_targets]
    CrosswalkEntry.objects.bulk_create(entries)
    key = f"crosswalk {old_version}"
    report.created[key], report.updated[key] = len(entries), 0
