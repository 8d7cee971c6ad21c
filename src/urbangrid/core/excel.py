"""Excel (.xlsx) import/export helpers shared by the list imports.

An import reads every row into a dict keyed by column, collects problems as (row, column, message)
and only writes when there are none, so a bad file changes nothing and the user gets all errors at once.
"""
import datetime
import functools
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

TRUE_WORDS = {"1", "true", "yes", "y", "是", "√", "t"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否", "f"}


@dataclass(frozen=True)
class Column:
    key: str            # the header written on export, stable across languages
    label: str          # the Chinese name (also accepted as header on import)
    required: bool = False
    width: int = 14


@dataclass(frozen=True)
class RowError:
    row: int            # the sheet's row number as Excel shows it (header is row 1; 0 = the whole file)
    column: str
    message: str

    def __str__(self):
        if self.row == 0:  # the file as a whole (unreadable, missing sheet)
            return self.message
        return _("第%(row)s行 [%(col)s]：%(msg)s") % {"row": self.row, "col": self.column or "-", "msg": self.message}


class ImportErrors(Exception):
    """Raised with every problem found; nothing has been written."""

    def __init__(self, errors):
        self.errors = sorted(errors, key=lambda e: (e.row, e.column))
        super().__init__(self.report())

    def report(self):
        return "\n".join(str(e) for e in self.errors)


class ErrorCollector:
    def __init__(self):
        self.errors = []
        self._rows = set()

    def add(self, row, column, message):
        self.errors.append(RowError(row, column, str(message)))
        self._rows.add(row)

    def add_validation(self, row, exc, field_to_column=None):
        """Spread a Django ValidationError over the columns its fields come from."""
        field_to_column = field_to_column or {}
        if hasattr(exc, "error_dict"):
            for name, errs in exc.message_dict.items():
                for msg in errs:
                    self.add(row, field_to_column.get(name, name if name != "__all__" else ""), msg)
        else:
            for msg in exc.messages:
                self.add(row, "", msg)

    def has_row(self, row):
        return row in self._rows

    def __bool__(self):
        return bool(self.errors)

    def raise_if_any(self):
        if self.errors:
            raise ImportErrors(self.errors)


def cell_text(value):
    """A cell as text: Excel turns typed codes into numbers (1001.0), so give integers back without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value).strip()


def parse_bool(text):
    t = (text or "").strip().lower()
    if t in TRUE_WORDS:
        return True
    if t in FALSE_WORDS:
        return False
    raise ValueError(_("应为“是”或“否”，而不是“%(v)s”") % {"v": text})


def parse_choice(text, choices):
    """Accept a choice by its key or by its label in any of the site's languages (TextChoices)."""
    value = _choice_names(choices).get(text)
    if value is not None:
        return value
    raise ValueError(_("“%(v)s”不是有效选项，可选：%(opts)s") % {"v": text, "opts": "、".join(str(lbl) for _v, lbl in choices.choices)})


@functools.cache
def _choice_names(choices):
    names = {}
    for value, label in choices.choices:
        names.update(dict.fromkeys(_labels(label), value))
        names[value] = value
    return names


def _labels(label):
    names = {str(label)}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            names.add(str(label))
    return names


def read_sheet(path, columns, sheet=None, errors=None):
    """Rows of the sheet as ``[(row_number, {key: text})]``; header cells may be keys or labels.

    Missing required headers or an unreadable file raise ``ImportErrors`` at once. Empty required cells
    go to ``errors`` (so the caller can report them with its own checks) or, without it, are raised.
    Blank rows are skipped, unknown columns ignored.
    """
    own = errors is None
    errors = ErrorCollector() if own else errors
    try:
        # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only reading a workbook needs it
        from openpyxl import load_workbook
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a non-xlsx file
        raise ImportErrors([RowError(0, "", _("无法读取 Excel 文件：%(err)s") % {"err": exc})]) from None
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
    except KeyError:
        raise ImportErrors([RowError(0, "", _("找不到工作表“%(s)s”") % {"s": sheet})]) from None
    rows = ws.iter_rows(values_only=True)
    header = [cell_text(v) for v in next(rows, [])]
    by_name = {}
    for col in columns:
        by_name[col.key] = col.key
        by_name.update(dict.fromkeys(_labels(col.label), col.key))
    index, missing = {}, []
    for i, name in enumerate(header):
        if name in by_name:
            index[by_name[name]] = i
    for col in columns:
        if col.required and col.key not in index:
            missing.append(RowError(1, col.key, _("缺少列“%(key)s”（%(label)s）") % {"key": col.key, "label": col.label}))
    if missing:
        wb.close()
        raise ImportErrors(missing)
    out = []
    for number, values in enumerate(rows, start=2):
        values = list(values or [])
        record = {key: cell_text(values[i]) if i < len(values) else "" for key, i in index.items()}
        for col in columns:
            record.setdefault(col.key, "")
        if not any(record.values()):
            continue
        for col in columns:
            if col.required and not record[col.key]:
                errors.add(number, col.key, _("不能为空"))
        out.append((number, record))
    wb.close()
    if own:
        errors.raise_if_any()
    return out


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value):
    """Text that Excel would run as a formula (=, +, -, @) gets a leading quote: the cell shows the text,
    and opening an export never executes anything someone typed into a name or a note."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_workbook(path, sheets):
    """Write ``[(title, columns, rows)]``; rows are dicts keyed by column key. Text cells are stored as text
    (format '@') so codes with leading zeros survive a round trip through Excel."""
    # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only writing one needs it
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    wb = Workbook()
    wb.remove(wb.active)
    for title, columns, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        for c, col in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=c, value=col.key)
            cell.font = Font(bold=True)
            cell.comment = Comment(str(col.label), "UrbanGrid")
            ws.column_dimensions[get_column_letter(c)].width = col.width
        for r, row in enumerate(rows, start=2):
            for c, col in enumerate(columns, start=1):
                value = excel_safe(row.get(col.key))
                cell = ws.cell(row=r, column=c, value=value if value not in (None, "") else None)
                if isinstance(value, str):
                    cell.number_format = "@"
        ws.freeze_panes = "A2"
    wb.save(path)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_download(write, filename):
    """A download of the workbook ``write(path)`` writes (openpyxl writes to a path: a temporary file)."""
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        write(tmp.name)
        tmp.seek(0)
        body = tmp.read()
    response = HttpResponse(body, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@contextmanager
def uploaded_path(upload):
    """The path of an uploaded workbook on disk, for as long as the block runs."""
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        for chunk in upload.chunks():
            tmp.write(chunk)
        tmp.flush()
        yield tmp.name
