"""跨版本统计: the cases of a period counted under one catalogue's classes through the crosswalk (the counting of
``catalog.crosswalk.CaseRecount``), for the page (cases/web/recount.py), the API and ``urbangrid catalog recount``."""
from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.utils.translation import gettext as _

from urbangrid.catalog.crosswalk import CaseRecount, Crosswalk, RecountInputError, Status, current_national, family
from urbangrid.catalog.models import CatalogClass, CatalogVersion
from urbangrid.worktime import clock as wt

from .models import Case


def recount_cases(to_version, date_from=None, date_to=None, kind=""):
    """Recount the cases reported from ``date_from`` to ``date_to`` (dates, Beijing time, both included; None: open
    ended) of ``kind`` ("" for both) under the family of ``to_version``: a case filed under an older class counts for
    its counterpart. Nothing is counted twice: a case whose class needs a person's decision is in ``pending``."""
    versions = family(to_version)
    qs = Case.objects.all()
    if date_from:
        qs = qs.filter(created_at__gte=datetime.combine(date_from, time(), wt.TZ))
    if date_to:
        qs = qs.filter(created_at__lt=datetime.combine(date_to + timedelta(days=1), time(), wt.TZ))
    if kind:
        qs = qs.filter(kind=kind)
    per_class = dict(qs.values_list("catalog_class_id").annotate(n=Count("pk")).order_by())
    classes = CatalogClass.objects.select_related("version").in_bulk(list(per_class))
    walk = Crosswalk()
    out = CaseRecount(versions, date_from, date_to, kind)
    rows = {}
    for class_id, n in sorted(per_class.items(), key=lambda kv: (classes[kv[0]].version.code, classes[kv[0]].code)):
        cls = classes[class_id]
        cp = walk.counterpart(cls, versions)
        if cp.status in Status.NEEDS_DECISION - {Status.UNVERIFIED}:
            out.pending.append({"source": cls, "n": n, "status": cp.status, "candidates": cp.candidates})
            continue
        target = cp.target
        row = rows.setdefault(target.pk, {"target": target, "direct": 0, "mapped": 0, "unverified": 0, "sources": []})
        if cp.status == Status.SAME:
            row["direct"] += n
        else:
            row["mapped"] += n
            row["unverified"] += n if cp.status == Status.UNVERIFIED else 0
            row["sources"].append((cls, n, cp.status))
    for row in rows.values():
        row["total"] = row["direct"] + row["mapped"]
    out.rows = sorted(rows.values(), key=lambda r: (-r["total"], r["target"].version.code, r["target"].kind, r["target"].code))
    return out


def recount_request(version=None, date_from=None, date_to=None, kind=None):
    """``recount_cases`` from the text a page, the API or the command was given (empty: the current catalogue, all
    time, both kinds); every bad argument is named in one ``RecountInputError``."""
    errors, dates = {}, {}
    version = (version or "").strip()
    target = CatalogVersion.objects.filter(code=version).first() if version else current_national()
    if target is None:
        errors["version"] = _("没有分类版本“%(code)s”") % {"code": version} if version else _("没有现行分类版本")
    for name, text in (("from", date_from), ("to", date_to)):
        text = (str(text) if text is not None else "").strip()
        if text:
            try:
                dates[name] = text if isinstance(text, date) else date.fromisoformat(text)
            except ValueError:
                errors[name] = _("日期应为 YYYY-MM-DD")
    if dates.get("from") and dates.get("to") and dates["from"] > dates["to"]:
        errors["to"] = _("截止日期不能早于起始日期")
    kind = (kind or "").strip()
    if kind and kind not in CatalogClass.Kind.values:
        errors["kind"] = _("类型应为 component 或 event")
    if errors:
        raise RecountInputError(errors)
    return recount_cases(target, dates.get("from"), dates.get("to"), kind)
