"""分类版本切换: a city moves to another catalogue (CJ/T 214-2007 ⇄ GB/T 47678.5-2026), all in one transaction.

- The target national version and its local extensions (``CatalogVersion.base``) become current; every other
  version stops being current and stays, with its classes, for the cases filed under it.
- Every open case under a class outside the target catalogue moves to the class's counterpart
  (``crosswalk.Crosswalk.counterpart``) through the case loop's ``reclassify`` row: an event on the case, sealed
  into its audit chain, recording the class before and after. A case whose class needs a person's decision (a
  split not decided, a draft row not verified, no counterpart) is listed and left as it is; run the switch again
  once the crosswalk is decided (it maps what it can and changes nothing else).
- A closed case (结案, 不予立案, 作废, 合并) keeps the class it was closed under: it is never touched.
- The responsibility list: each active rule of a class of the catalogue current before is copied to the class's
  counterpart (same condition, area, unit, limit, urgency, standards) unless that class already has a rule for the
  same condition and area (kept, and listed when it differs); rules of classes needing a decision are listed. The
  old rules stay: cases filed under the old classes still resolve to their units.
- ``dry_run``: everything is done, then rolled back; the report says what the switch would do.
"""
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.catalog import responsibility
from urbangrid.catalog.crosswalk import Crosswalk, Status, class_label, family, status_label
from urbangrid.catalog.hooks import SwitchError
from urbangrid.catalog.models import CatalogVersion, ResponsibilityRule

from .models import Case
from .services import Context, reclassify
from .states import OPEN


@dataclass
class SwitchReport:
    target: str
    current_before: list
    current_after: list
    dry_run: bool
    cases_mapped: list = field(default_factory=list)   # {"number", "from", "to", "relation"}
    cases_pending: list = field(default_factory=list)  # {"number", "class", "status", "candidates"}
    closed_kept: int = 0                               # closed cases outside the target catalogue, left as closed
    rules_copied: list = field(default_factory=list)   # {"rule", "to"}
    rules_kept: list = field(default_factory=list)     # {"rule", "existing", "differs"}
    rules_pending: list = field(default_factory=list)  # {"rule", "class", "status", "candidates"}

    @property
    def needs_decision(self):
        return bool(self.cases_pending or self.rules_pending or any(k["differs"] for k in self.rules_kept))

    def lines(self):
        """The report in words (the command prints it; the admin shows it)."""
        versions = {"before": "、".join(self.current_before) or "—", "after": "、".join(self.current_after)}
        out = [(_("试运行（未写入）：%(before)s → %(after)s") if self.dry_run else _("已切换：%(before)s → %(after)s"))
               % versions]
        out.append(_("在办案件：重新归类 %(m)s 件，待人工判断 %(p)s 件；已办结案件 %(c)s 件保持原分类") % {
            "m": len(self.cases_mapped), "p": len(self.cases_pending), "c": self.closed_kept})
        out += [_("  %(number)s：%(from)s → %(to)s") % c for c in self.cases_mapped]
        out += [_("  待判断 %(number)s：%(class)s（%(why)s%(cands)s）") % {
            **c, "why": status_label(c["status"]),
            "cands": ("：" + "、".join(c["candidates"])) if c["candidates"] else ""} for c in self.cases_pending]
        out.append(_("责任清单：复制 %(c)s 条，保留已有 %(k)s 条，待人工判断 %(p)s 条") % {
            "c": len(self.rules_copied), "k": len(self.rules_kept), "p": len(self.rules_pending)})
        out += [_("  已有规则不同，保留已有：%(rule)s；已有：%(existing)s") % k for k in self.rules_kept if k["differs"]]
        out += [_("  待判断：%(rule)s（%(why)s%(cands)s）") % {
            **r, "why": status_label(r["status"]),
            "cands": ("：" + "、".join(r["candidates"])) if r["candidates"] else ""} for r in self.rules_pending]
        return out


class _DryRun(Exception):
    pass


def _target(code):
    version = CatalogVersion.objects.filter(code=(code or "").strip()).first()
    if version is None:
        known = "、".join(CatalogVersion.objects.filter(base=None).values_list("code", flat=True))
        raise SwitchError(_("没有分类版本“%(code)s”（可选：%(known)s）") % {"code": code, "known": known or "—"})
    versions = family(version)
    if not any(v.classes.exists() for v in versions):
        raise SwitchError(_("分类版本“%(code)s”还没有分类，请先加载（catalog load）") % {"code": version.code})
    return versions


def _rule_key(rule, class_id):
    return (class_id, rule.filing_condition, rule.region_id, rule.responsibility_grid_id)


SAME_RULE = ("unit_id", "urgency", "time_limit_value", "time_limit_unit", "active")


def switch_catalogue(code, dry_run=False, at=None, actor=None):
    """Make the catalogue of version ``code`` (a national version, or a local list of it) the city's current one;
    returns a ``SwitchReport``. Raises ``SwitchError`` before writing anything when it cannot start."""
    versions = _target(code)
    at = at or timezone.now()
    try:
        with transaction.atomic():
            report = _switch(versions, dry_run, at, actor)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _switch(versions, dry_run, at, actor):
    target_ids = {v.pk for v in versions}
    before = list(CatalogVersion.objects.select_for_update().filter(is_current=True).order_by("code"))
    report = SwitchReport(target=versions[0].code, current_before=[v.code for v in before],
                          current_after=[v.code for v in versions], dry_run=dry_run)
    for v in CatalogVersion.objects.order_by("code"):
        if v.is_current != (v.pk in target_ids):
            v.is_current = v.pk in target_ids
            v.save(update_fields=["is_current"])  # its signals clear the Open311 services document and class caches
    walk = Crosswalk()

    # The responsibility list first: a case's next dispatch resolves under its new class.
    old_ids = {v.pk for v in before} - target_ids
    existing = {_rule_key(r, r.catalog_class_id): r for r in ResponsibilityRule.objects.filter(
        catalog_class__version__in=target_ids).select_related("catalog_class__version", "unit")}
    new_rules = []
    for rule in (ResponsibilityRule.objects.filter(catalog_class__version__in=old_ids, active=True)
                 .select_related("catalog_class__version", "unit", "region", "responsibility_grid").order_by("pk")):
        cp = walk.counterpart(rule.catalog_class, versions)
        if cp.status in Status.NEEDS_DECISION:
            report.rules_pending.append({"rule": str(rule), "class": class_label(rule.catalog_class), "status": cp.status,
                                         "candidates": [class_label(c) for c in cp.candidates]})
            continue
        key = _rule_key(rule, cp.target.pk)
        if key in existing:
            kept = existing[key]
            differs = any(getattr(kept, f) != getattr(rule, f) for f in SAME_RULE)
            report.rules_kept.append({"rule": str(rule), "existing": str(kept), "differs": differs})
            continue
        copy = ResponsibilityRule(
            catalog_class=cp.target, filing_condition=rule.filing_condition, region=rule.region,
            responsibility_grid=rule.responsibility_grid, unit=rule.unit, urgency=rule.urgency,
            time_limit_value=rule.time_limit_value, time_limit_unit=rule.time_limit_unit,
            filing_standard=rule.filing_standard, closing_standard=rule.closing_standard,
            auto_dispatch=rule.auto_dispatch, active=True,
            note=(_("由%(cls)s的规则按新旧分类对照生成") % {"cls": class_label(rule.catalog_class)})[:500])
        existing[key] = copy
        new_rules.append(copy)
        report.rules_copied.append({"rule": str(rule), "to": class_label(cp.target)})
    ResponsibilityRule.objects.bulk_create(new_rules)
    responsibility.invalidate()  # bulk writes send no signals
    transaction.on_commit(responsibility.invalidate)

    # Open cases outside the target catalogue, each through the case loop; closed ones are only counted.
    outside = Case.objects.exclude(catalog_class__version__in=target_ids)
    report.closed_kept = outside.exclude(state__in=OPEN).count()
    context = Context.load()
    for case in outside.filter(state__in=OPEN).select_related("catalog_class__version").order_by("pk"):
        cls = case.catalog_class
        cp = walk.counterpart(cls, versions)
        if cp.status in Status.NEEDS_DECISION:
            report.cases_pending.append({"number": case.number, "class": class_label(cls), "status": cp.status,
                                         "candidates": [class_label(c) for c in cp.candidates]})
            continue
        note = _("分类版本切换：%(from)s → %(to)s") % {"from": class_label(cls), "to": class_label(cp.target)}
        if reclassify(case.number, cp.target, note=note, relation=cp.relation, at=at, context=context, actor=actor):
            report.cases_mapped.append({"number": case.number, "from": class_label(cls), "to": class_label(cp.target),
                                        "relation": cp.relation})
    return report
