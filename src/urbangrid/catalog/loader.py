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

VERSIONS = {
    "cjt214-2007": dict(name="城市市政综合监管信息系统 管理部件和事件分类、编码及数据要求", standard="CJ/T 214-2007",
                        effective_date=None, code_length=4, is_current=False),
    "gbt47678.5-2026": dict(name="城市运行管理服务平台 第5部分：管理部件和事项", standard="GB/T 47678.5-2026",
                            effective_date=date(2026, 7, 1), code_length=5, is_current=True),
    "local-demo": dict(name="示范城市本地事件清单", standard="地方扩展（示范）", effective_date=None, code_length=4, is_current=True),
}
# (file, version, kind); matters come after components so their component link can be set.
CLASS_FILES = [
    ("cjt214-2007-components.csv", "cjt214-2007", COMPONENT),
    ("gbt47678.5-2026-components.csv", "gbt47678.5-2026", COMPONENT),
    ("gbt47678.5-2026-matters.csv", "gbt47678.5-2026", EVENT),
    ("demo-local-events.csv", "local-demo", EVENT),
]
CROSSWALK_FILE = ("crosswalk-cjt214-2007-to-gbt47678.5-2026.csv", "cjt214-2007", "gbt47678.5-2026")


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
    return shared if (shared / CLASS_FILES[0][0]).exists() else PACKAGE_DATA


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
        for code, defaults in VERSIONS.items():
            versions[code], _created = CatalogVersion.objects.get_or_create(code=code, defaults=defaults)
        for filename, version_code, kind in CLASS_FILES:
            _load_classes(directory / filename, versions[version_code], kind, report)
        _load_crosswalk(directory, versions, report)
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


def _load_crosswalk(directory, versions, report):
    filename, old_version, new_version = CROSSWALK_FILE
    path = directory / filename
    old = {c.code: c for c in CatalogClass.objects.filter(version=versions[old_version], kind=COMPONENT)}
    new = {c.code: c for c in CatalogClass.objects.filter(version=versions[new_version], kind=COMPONENT)}
    # A class that already has any entry was loaded before or decided by a person: leave it.
    done = set(CrosswalkEntry.objects.filter(old_class__version=versions[old_version]).values_list("old_class_id", flat=True))
    entries = []
    for line, row in _rows(path):
        old_class = old.get(row["old_code"])
        new_class = new.get(row["new_code"]) if row["new_code"] else None
        if old_class is None or (row["new_code"] and new_class is None):
            raise CatalogDataError(f"{path.name}:{line}: " + _("对照表中的代码%(old)s → %(new)s不在分类表中")
                                   % {"old": row["old_code"], "new": row["new_code"] or "—"})
        if old_class.pk in done:
            continue
        relation, verified = _relation(row["note"])
        entries.append(CrosswalkEntry(old_class=old_class, new_class=new_class, relation=relation,
                                      note=row["note"][:200], verified=verified))
    CrosswalkEntry.objects.bulk_create(entries)
    report.created["crosswalk"], report.updated["crosswalk"] = len(entries), 0
