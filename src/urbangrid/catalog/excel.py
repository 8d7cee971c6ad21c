"""Responsibility list (责任清单) ⇄ Excel. Rows are matched to rules by class × 立案条件 × area, so an
exported sheet re-imported unchanged changes nothing; rules absent from the sheet are left as they are."""
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from urbangrid.core.excel import Column, ErrorCollector, parse_bool, parse_choice, read_sheet, write_workbook
from urbangrid.grids.models import Region, ResponsibilityGrid
from urbangrid.org.models import Unit

from .crosswalk import class_label, status_label
from .models import CatalogClass, CatalogVersion, ResponsibilityRule

Rule = ResponsibilityRule
RULE_COLUMNS = [
    Column("version", _l("分类版本"), required=True, width=16),
    Column("kind", _l("类型"), width=10),
    Column("class_code", _l("小类代码"), required=True, width=10),
    Column("class_name", _l("小类名称"), width=18),  # for the reader; ignored on import
    Column("filing_condition", _l("立案条件"), width=18),
    Column("region_code", _l("适用区划代码"), width=14),
    Column("grid_code", _l("适用责任网格编号"), width=14),
    Column("unit_code", _l("责任单位编码"), required=True, width=14),
    Column("urgency", _l("紧急程度"), width=8),
    Column("time_limit_value", _l("处置时限"), required=True, width=8),
    Column("time_limit_unit", _l("时限单位"), required=True, width=8),
    Column("filing_standard", _l("立案标准"), width=30),
    Column("closing_standard", _l("结案标准"), width=30),
    Column("auto_dispatch", _l("自动派遣"), width=8),
    Column("active", _l("启用"), width=6),
    Column("note", _l("备注"), width=20),
]
FIELD_COLUMNS = {"catalog_class": "class_code", "region": "region_code", "responsibility_grid": "grid_code", "unit": "unit_code"}
WRITABLE = ["catalog_class_id", "filing_condition", "region_id", "responsibility_grid_id", "unit_id", "urgency",
            "time_limit_value", "time_limit_unit", "filing_standard", "closing_standard", "auto_dispatch", "active", "note"]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _bool(text):
    return _("是") if text else _("否")


def lookup(errors, row, rec, table, column, message):
    """The object a code cell names (None when empty); an unknown code is a row error."""
    code = rec[column]
    if code and code not in table:
        errors.add(row, column, message % {"code": code})
    return table.get(code) if code else None


def export_rules(path):
    rules = Rule.objects.select_related("catalog_class__version", "region", "responsibility_grid", "unit")
    rows = [{
        "version": r.catalog_class.version.code, "kind": r.catalog_class.kind, "class_code": r.catalog_class.code,
        "class_name": r.catalog_class.name, "filing_condition": r.filing_condition,
        "region_code": r.region.code if r.region else "", "grid_code": r.responsibility_grid.code if r.responsibility_grid else "",
        "unit_code": r.unit.code, "urgency": r.get_urgency_display(), "time_limit_value": float(r.time_limit_value),
        "time_limit_unit": r.get_time_limit_unit_display(), "filing_standard": r.filing_standard,
        "closing_standard": r.closing_standard, "auto_dispatch": _bool(r.auto_dispatch), "active": _bool(r.active), "note": r.note,
    } for r in rules]
    write_workbook(path, [(_("责任清单"), RULE_COLUMNS, rows)])
    return len(rows)


def import_rules(path):
    """Validate every row, then write all of them in one transaction; raises ``ImportErrors`` otherwise."""
    errors = ErrorCollector()
    rows = read_sheet(path, RULE_COLUMNS, errors=errors)
    versions = {v.code: v for v in CatalogVersion.objects.all()}
    classes = {}
    for c in CatalogClass.objects.select_related("version"):
        classes.setdefault((c.version.code, c.code), []).append(c)
    regions = {r.code: r for r in Region.objects.all()}
    grids = {g.code: g for g in ResponsibilityGrid.objects.all()}
    units = {u.code: u for u in Unit.objects.all()}
    existing = {(r.catalog_class_id, r.filing_condition, r.region_id, r.responsibility_grid_id): r for r in Rule.objects.all()}

    seen, pending = {}, []
    for row, rec in rows:
        if errors.has_row(row):  # an empty required cell, already reported
            continue
        bad = len(errors.errors)
        cls = None
        if rec["version"] not in versions:
            errors.add(row, "version", _("没有分类版本“%(code)s”") % {"code": rec["version"]})
        else:
            code = rec["class_code"]
            if code.isdigit():  # Excel drops the leading zero of a code typed as a number (0101 → 101)
                code = code.zfill(versions[rec["version"]].code_length)
            found = classes.get((rec["version"], code), [])
            if rec["kind"]:
                try:
                    kind = parse_choice(rec["kind"], CatalogClass.Kind)
                    found = [c for c in found if c.kind == kind]
                except ValueError as exc:
                    errors.add(row, "kind", exc)
            if len(found) > 1:
                errors.add(row, "kind", _("该代码在此版本中既是部件又是事项，请填写类型"))
            elif not found:
                errors.add(row, "class_code", _("版本%(v)s中没有小类“%(code)s”") % {"v": rec["version"], "code": rec["class_code"]})
            else:
                cls = found[0]
        region = lookup(errors, row, rec, regions, "region_code", _("没有区划代码“%(code)s”"))
        grid = lookup(errors, row, rec, grids, "grid_code", _("没有责任网格“%(code)s”"))
        unit = lookup(errors, row, rec, units, "unit_code", _("没有单位编码“%(code)s”"))
        values = {}
        for column, parse in (("urgency", lambda t: parse_choice(t, Rule.Urgency) if t else Rule.Urgency.NORMAL),
                              ("time_limit_unit", lambda t: parse_choice(t, Rule.TimeUnit)),
                              ("auto_dispatch", parse_bool),
                              ("active", lambda t: parse_bool(t) if t else True)):
            try:
                values[column] = parse(rec[column])
            except ValueError as exc:
                errors.add(row, column, exc)
        try:
            values["time_limit_value"] = Decimal(rec["time_limit_value"])
        except InvalidOperation:
            errors.add(row, "time_limit_value", _("应为数字"))
        if len(errors.errors) > bad:
            continue

        key = (cls.pk, rec["filing_condition"], region.pk if region else None, grid.pk if grid else None)
        if key in seen:
            errors.add(row, "class_code", _("与第%(n)s行是同一小类、立案条件和适用范围") % {"n": seen[key]})
            continue
        seen[key] = row
        rule = existing.get(key) or Rule()
        before = {f: getattr(rule, f) for f in WRITABLE} if rule.pk else None
        rule.catalog_class, rule.region, rule.responsibility_grid, rule.unit = cls, region, grid, unit
        rule.filing_condition = rec["filing_condition"]
        for f in ("filing_standard", "closing_standard", "note"):
            setattr(rule, f, rec[f])
        for f, v in values.items():
            setattr(rule, f, v)
        try:
            # Uniqueness is settled above (key → existing rule), so skip the per-row constraint queries.
            rule.full_clean(validate_constraints=False)
        except ValidationError as exc:
            errors.add_validation(row, exc, FIELD_COLUMNS)
            continue
        after = {f: getattr(rule, f) for f in WRITABLE}
        pending.append((rule, before is None, before != after))

    errors.raise_if_any()
    result = ImportResult()
    with transaction.atomic():
        for rule, is_new, changed in pending:
            if is_new:
                rule.save()
                result.created += 1
            elif changed:
                rule.save()
                result.updated += 1
            else:
                result.unchanged += 1
    return result


RECOUNT_COLUMNS = [
    Column("version", _l("分类版本"), width=18), Column("kind", _l("类型"), width=10), Column("code", _l("小类代码"), width=10),
    Column("name", _l("小类名称"), width=24), Column("direct", _l("按本分类上报"), width=12),
    Column("mapped", _l("由旧分类对照计入"), width=14), Column("unverified", _l("其中对照待核实"), width=14),
    Column("total", _l("合计"), width=10), Column("sources", _l("对照来源"), width=50),
]
PENDING_COLUMNS = [
    Column("version", _l("原分类版本"), width=18), Column("kind", _l("类型"), width=10), Column("code", _l("原小类代码"), width=10),
    Column("name", _l("原小类名称"), width=24), Column("cases", _l("案件数"), width=10), Column("reason", _l("原因"), width=18),
    Column("candidates", _l("可选新分类"), width=50),
]


def recount_rows(recount):
    """The recount's two tables as rows of plain values (the page, the API's shape aside, and the workbook)."""
    kinds = dict(CatalogClass.Kind.choices)
    rows = [{"version": r["target"].version.code, "kind": str(kinds[r["target"].kind]), "code": r["target"].code,
             "name": r["target"].name, "direct": r["direct"], "mapped": r["mapped"], "unverified": r["unverified"],
             "total": r["total"], "sources": "；".join(f"{class_label(c)} ×{n}" for c, n, _s in r["sources"])}
            for r in recount.rows]
    pending = [{"version": p["source"].version.code, "kind": str(kinds[p["source"].kind]), "code": p["source"].code,
                "name": p["source"].name, "cases": p["n"], "reason": status_label(p["status"]),
                "candidates": "、".join(class_label(c) for c in p["candidates"])} for p in recount.pending]
    return rows, pending


def export_recount(recount, path):
    """The recount as .xlsx: the counts under the target catalogue, and the cases a person must place."""
    rows, pending = recount_rows(recount)
    write_workbook(path, [(_("跨版本统计"), RECOUNT_COLUMNS, rows), (_("待人工判断"), PENDING_COLUMNS, pending)])
