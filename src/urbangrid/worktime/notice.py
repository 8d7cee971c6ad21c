"""Import a year's official holiday notice (国务院办公厅关于某年部分节假日安排的通知) into the working calendar.

The file lists the year's days off and make-up working days, one row each, in CSV (UTF-8, with or without BOM),
JSON or Excel (.xlsx, first sheet):

    date,kind,name                      日期,类型,名称 are accepted as the header too
    2027-01-01,holiday,元旦              kind: holiday (also 休, 放假, 节假日) or makeup_workday (班, 上班, 调休上班)
    2027-02-20,makeup_workday,春节       name: optional, up to 50 characters

JSON: a list of such objects, or ``{"year": 2027, "days": [...]}``. Every day of the year not listed is a workday
Monday to Friday and a weekend day otherwise.

Validation before anything is written, every problem reported with its row: a date that is not a date or not in
the year, an unknown kind, a date listed twice, a day both off and a working day, a make-up working day that is
not a Saturday or Sunday, a name too long; a file with no day off at all is refused. Then, in one transaction, the
whole year is written (source "notice", confirmed) except days edited by hand unless ``replace_manual``, and the
running clocks of the open cases are recomputed over the days that changed (``signals.days_changed``: the cases app recomputes them): all or
nothing.
"""
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import clock
from .models import WorkCalendarDay
from .signals import recompute_dependents

Kind, Source = WorkCalendarDay.Kind, WorkCalendarDay.Source
MAX_BYTES = 1_000_000
MAX_ROWS = 400
HEADERS = {"date": "date", "日期": "date", "kind": "kind", "类型": "kind", "name": "name", "名称": "name",
           "节日名称": "name"}
KINDS = {
    "holiday": Kind.HOLIDAY, "休": Kind.HOLIDAY, "放假": Kind.HOLIDAY, "节假日": Kind.HOLIDAY,
    "makeup_workday": Kind.MAKEUP_WORKDAY, "班": Kind.MAKEUP_WORKDAY, "上班": Kind.MAKEUP_WORKDAY,
    "调休上班": Kind.MAKEUP_WORKDAY,
}


class NoticeError(Exception):
    """The file was refused; ``errors`` lists every problem, each naming its row."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = list(errors)


@dataclass
class Notice:
    year: int
    days: dict = field(default_factory=dict)  # date -> (kind, name)


# --- reading ---------------------------------------------------------------------------------------

def _rows_csv(data):
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NoticeError([_("文件不是 UTF-8 编码的 CSV")]) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise NoticeError([_("文件是空的")])
    return _with_header(header, ((n, row) for n, row in enumerate(reader, start=2) if any(c.strip() for c in row)))


def _rows_xlsx(data):
    try:
        # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only this import needs it
        from openpyxl import load_workbook
        ws = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except Exception:  # noqa: BLE001 - whatever openpyxl raises for a file that is no workbook
        raise NoticeError([_("文件不是有效的 Excel（.xlsx）工作簿")]) from None
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        raise NoticeError([_("文件是空的")])
    return _with_header(["" if c is None else str(c) for c in header],
                        ((n, ["" if c is None else c for c in row]) for n, row in enumerate(rows, start=2)
                         if any(c not in (None, "") for c in row)))


def _with_header(header, rows):
    names = [HEADERS.get(str(h).strip().lower(), HEADERS.get(str(h).strip())) for h in header]
    if "date" not in names or "kind" not in names:
        raise NoticeError([_("第 1 行应为表头：date,kind,name（或 日期,类型,名称）")])
    out = []
    for n, row in rows:
        cells = {name: (row[i] if i < len(row) else "") for i, name in enumerate(names) if name}
        out.append((_("第 %(n)s 行") % {"n": n}, cells))
    return out


def _rows_json(data, year):
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise NoticeError([_("文件不是有效的 JSON")]) from None
    if isinstance(doc, dict):
        if "year" in doc and doc["year"] != year:
            raise NoticeError([_("文件中的年份 %(f)s 与所选年份 %(y)s 不符") % {"f": doc["year"], "y": year}])
        doc = doc.get("days")
    if not isinstance(doc, list):
        raise NoticeError([_("JSON 应为日期列表，或含 days 列表的对象")])
    out = []
    for n, item in enumerate(doc, start=1):
        label = _("第 %(n)s 条") % {"n": n}
        out.append((label, item if isinstance(item, dict) else {"_bad": True}))
    return out


def _parse_date(value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip().replace("/", "-")
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read(data, year, filename=""):
    """The notice in ``data`` (bytes of a CSV, JSON or .xlsx file; the kind from ``filename`` or the content) for
    ``year``, validated; raises NoticeError listing every problem."""
    if not isinstance(year, int) or not 1900 <= year <= 2200:
        raise NoticeError([_("年份应在 1900 到 2200 之间")])
    if len(data) > MAX_BYTES:
        raise NoticeError([_("文件过大（最多 %(n)s 字节）") % {"n": MAX_BYTES}])
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        rows = _rows_xlsx(data)
    elif name.endswith(".json") or data.lstrip(b"\xef\xbb\xbf \r\n\t")[:1] in (b"[", b"{"):
        rows = _rows_json(data, year)
    else:
        rows = _rows_csv(data)
    if len(rows) > MAX_ROWS:
        raise NoticeError([_("行数过多（最多 %(n)s 行）") % {"n": MAX_ROWS}])
    errors, notice, where = [], Notice(year), {}
    for label, cells in rows:
        if cells.get("_bad"):
            errors.append(_("%(row)s：应为含 date、kind、name 的对象") % {"row": label})
            continue
        raw_date, raw_kind = cells.get("date"), str(cells.get("kind") or "").strip()
        name = str(cells.get("name") or "").strip()
        d = _parse_date(raw_date)
        kind = KINDS.get(raw_kind.lower(), KINDS.get(raw_kind))
        problems = []
        if d is None:
            problems.append(_("日期“%(d)s”无效，应为 YYYY-MM-DD") % {"d": raw_date or ""})
        elif d.year != year:
            problems.append(_("日期 %(d)s 不在 %(y)s 年") % {"d": d.isoformat(), "y": year})
        if kind is None:
            problems.append(_("类型“%(k)s”无效，应为 holiday（放假）或 makeup_workday（调休上班）") % {"k": raw_kind})
        if len(name) > 50:
            problems.append(_("名称不能超过 50 个字"))
        if d is not None and kind == Kind.MAKEUP_WORKDAY and d.weekday() < 5:
            problems.append(_("调休上班日 %(d)s 不是周六或周日") % {"d": d.isoformat()})
        if not problems and d in notice.days:
            other_kind, _name = notice.days[d]
            if other_kind == kind:
                problems.append(_("日期 %(d)s 重复（已见于%(row)s）") % {"d": d.isoformat(), "row": where[d]})
            else:
                problems.append(_("日期 %(d)s 既是放假日又是调休上班日（见%(row)s）") % {"d": d.isoformat(), "row": where[d]})
        if problems:
            errors.append(_("%(row)s：%(problems)s") % {"row": label, "problems": "；".join(problems)})
            continue
        notice.days[d] = (kind, name)
        where[d] = label
    if not errors and not any(kind == Kind.HOLIDAY for kind, _name in notice.days.values()):
        errors.append(_("文件中没有放假日"))
    if errors:
        raise NoticeError(errors)
    return notice


# --- writing ---------------------------------------------------------------------------------------

def _day_of(notice, d):
    kind, name = notice.days.get(d, (None, ""))
    if kind is None:
        kind = Kind.WORKDAY if d.weekday() < 5 else Kind.WEEKEND
    return kind, name


def apply(notice, replace_manual=False, recompute=True, note="", at=None):
    """Write ``notice``'s year (every day, source "notice") and recompute the open cases' clocks over the days
    whose working status changed, in one transaction. Returns counts: created, updated, unchanged, manual_kept,
    changed (days whose working status changed) and cases (cases whose deadline or light moved)."""
    year = notice.year
    first, last = date(year, 1, 1), date(year, 12, 31)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "manual_kept": 0, "changed": [], "cases": 0}
    with transaction.atomic():
        before = clock.load_calendar()
        existing = {row.date: row for row in WorkCalendarDay.objects.select_for_update().filter(date__range=(first, last))}
        new, changed, d = [], [], first
        now = timezone.now()
        while d <= last:
            kind, name = _day_of(notice, d)
            workday = kind in WorkCalendarDay.WORKING_KINDS
            row = existing.get(d)
            if row is not None and row.source == Source.MANUAL and not replace_manual:
                counts["manual_kept"] += 1
            elif row is None:
                new.append(WorkCalendarDay(date=d, kind=kind, is_workday=workday, holiday_name=name, source=Source.NOTICE))
            elif (row.kind, row.holiday_name, row.source) != (kind, name, Source.NOTICE):
                row.kind, row.holiday_name, row.source, row.is_workday, row.updated_at = kind, name, Source.NOTICE, workday, now
                changed.append(row)
            else:
                counts["unchanged"] += 1
            d += timedelta(days=1)
        WorkCalendarDay.objects.bulk_create(new)
        WorkCalendarDay.objects.bulk_update(changed, ["kind", "is_workday", "holiday_name", "source", "updated_at"])
        counts["created"], counts["updated"] = len(new), len(changed)
        after = clock.load_calendar()
        counts["changed"] = [row.date for row in new + changed if before.is_workday(row.date) != after.is_workday(row.date)]
        clock.invalidate_calendar()
        transaction.on_commit(clock.invalidate_calendar)
        if recompute:
            note = note or _("导入 %(y)s 年放假通知") % {"y": year}
            counts["cases"] = recompute_dependents(dates=counts["changed"], note=note, calendar=after, at=at)
    return counts
