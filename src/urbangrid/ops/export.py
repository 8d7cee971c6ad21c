"""Full data export (数据全量导出) for a bureau that leaves the platform: every table of our apps as
JSON Lines (one file per model, one object per row) or as one Excel workbook (one sheet per model),
photo files copied, and a manifest with row counts and a SHA-256 per file.

Rows keep their database ``id`` and, next to every foreign key ``<field>_id``, the target's natural
key (code, number, username, ...) as ``<field>`` so the data reads without our schema. Geometry is
already GeoJSON in our tables and is written as such. Secrets (password and key hashes, API tokens)
are never exported.
"""
import datetime
import decimal
import hashlib
import json
import shutil
import uuid
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.core import tenancy
from urbangrid.core.excel import excel_safe

FORMAT = "urbangrid-export/1"
FORMATS = ("jsonl", "xlsx")
APPS = ("grids", "org", "catalog", "worktime", "cases", "assessment", "public")
EXCEL_MAX_ROWS = 1_048_575  # Excel's 1,048,576 rows less the header row
SECRET_FIELDS = {("public", "Open311Key"): {"key_hash"}}
NATURAL_KEYS = ("code", "number", "username", "identifier", "employee_no")


class ExportError(Exception):
    pass


def export_models():
    """The models exported, in dependency-friendly order (apps in APPS order, then auth users)."""
    out = []
    for label in APPS:
        out.extend(m for m in apps.get_app_config(label).get_models() if not m._meta.proxy)
    return out


def _natural_key_field(model):
    for name in NATURAL_KEYS:
        try:
            f = model._meta.get_field(name)
        except Exception:
            continue
        if getattr(f, "unique", False):
            return name
    return None


def _columns(model):
    """[(column name, values() lookup)] for one model."""
    secret = SECRET_FIELDS.get((model._meta.app_label, model.__name__), set())
    cols = []
    for f in model._meta.concrete_fields:
        if f.name in secret:
            continue
        if isinstance(f, models.ForeignKey):
            cols.append((f.attname, f.attname))
            nk = _natural_key_field(f.related_model)
            if nk:
                cols.append((f.name, f"{f.name}__{nk}"))
        else:
            cols.append((f.name, f.attname))
    return cols


def model_name(model):
    return f"{model._meta.app_label}.{model.__name__}"


def _json_value(v):
    if isinstance(v, datetime.datetime):
        return v.isoformat()
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, uuid.UUID):
        return str(v)
    return v


def _excel_value(v):
    if isinstance(v, datetime.datetime):
        # Excel has no time zones: UTC wall time, as the README says.
        return timezone.make_naive(v, datetime.timezone.utc) if timezone.is_aware(v) else v
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (dict, list)):
        return excel_safe(json.dumps(v, ensure_ascii=False))
    if isinstance(v, uuid.UUID):
        return str(v)
    return excel_safe(v)


def rows(model, cols):
    """Every row as a dict, in id order, streamed."""
    qs = model._default_manager.order_by("pk").values_list(*[lookup for _, lookup in cols])
    names = [name for name, _ in cols]
    for values in qs.iterator(chunk_size=2000):
        yield dict(zip(names, values))


def _users():
    """Login accounts, without their password hashes."""

    User = get_user_model()
    cols = [(n, n) for n in ("id", "username", "first_name", "last_name", "email", "is_active", "is_staff",
                              "is_superuser", "date_joined", "last_login")]
    return "auth.User", User, cols


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tables():
    tables = [(model_name(m), m, _columns(m)) for m in export_models()]
    tables.append(_users())
    return tables


def _check_out(out):
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ExportError(_("%(d)s 已存在且不是目录") % {"d": out})
    if out.exists() and any(out.iterdir()):
        raise ExportError(_("%(d)s 不是空目录，请导出到新目录或空目录") % {"d": out})
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(_("无法创建目录 %(d)s：%(e)s") % {"d": out, "e": exc.strerror}) from None
    return out


def export_all(out, fmt="jsonl", excel_max_rows=EXCEL_MAX_ROWS):
    """Write the export into the new or empty directory ``out``; returns the manifest."""
    if fmt not in FORMATS:
        raise ExportError(_("未知格式 %(f)s，可选：%(all)s") % {"f": fmt, "all": ", ".join(FORMATS)})
    out = _check_out(out)
    tables = _tables()
    counts = {}
    if fmt == "jsonl":
        data_dir = out / "data"
        data_dir.mkdir()
        for name, model, cols in tables:
            n = 0
            with open(data_dir / f"{name}.jsonl", "w", encoding="utf-8", newline="\n") as f:
                for row in rows(model, cols):
                    f.write(json.dumps({k: _json_value(v) for k, v in row.items()}, ensure_ascii=False))
                    f.write("\n")
                    n += 1
            counts[name] = n
    else:
        counts = _write_workbook(out / "urbangrid.xlsx", tables, excel_max_rows)
    photos = _copy_photos(out / "photos")
    files = {p.relative_to(out).as_posix(): _sha256(p) for p in sorted(out.rglob("*")) if p.is_file()}
    manifest = {"format": FORMAT, "data_format": fmt, "created_at": timezone.now().isoformat(),
                "database": _vendor(), "counts": counts, "photos": photos, "files": files}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "README.txt").write_text(_readme(manifest), encoding="utf-8")
    return manifest


def _vendor():
    return connection.vendor


def sheet_title(name, part):
    """Sheet title for one part of a model: its name, then ``name~2``, ``name~3`` (Excel allows 31 characters)."""
    return name[:27] if part == 1 else f"{name[:27]}~{part}"


def _write_workbook(path, tables, max_rows):
    # here, not at the top: openpyxl costs every process ~0.1 s of start-up; only this export needs it
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    counts = {}
    for name, model, cols in tables:
        header = [c for c, _ in cols]
        n, part, ws = 0, 0, None
        for row in rows(model, cols):
            if ws is None or n and n % max_rows == 0:
                part += 1
                ws = wb.create_sheet(title=sheet_title(name, part))
                ws.append(header)
            ws.append([_excel_value(row[c]) for c in header])
            n += 1
        if ws is None:
            ws = wb.create_sheet(title=sheet_title(name, 1))
            ws.append(header)
        counts[name] = n
    wb.save(path)
    return counts


def _copy_photos(dest):
    """Copy every photo file a case or deduction refers to; returns how many were copied."""
    media = tenancy.media_root()  # the active city's
    n = 0
    for label, model_name_ in (("cases", "CasePhoto"), ("assessment", "DeductionPhoto")):
        model = apps.get_model(label, model_name_)
        for rel in model._default_manager.order_by("pk").values_list("image", flat=True).iterator(chunk_size=2000):
            if not rel:
                continue
            src = media / rel
            if not src.is_file():
                continue  # the row says so in its metadata; a missing file is not the export's to invent
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            n += 1
    return n


def _readme(manifest):
    lines = [
        "UrbanGrid full data export / 城市网格化管理平台 全量数据导出",
        f"format: {manifest['format']} ({manifest['data_format']}), created {manifest['created_at']}",
        "",
        "data/<app>.<Model>.jsonl: one JSON object per line and per row (jsonl format),",
        "urbangrid.xlsx: one sheet per model, long tables continue on sheets named <model>~2, ~3 (xlsx format).",
        "Every row keeps its database id; each foreign key <field>_id is followed by the target's natural key",
        "(code, number, username, ...) as <field>. Geometry columns hold GeoJSON (WGS-84 lon/lat).",
        "Times are ISO 8601 with offset in JSON Lines and UTC wall time in Excel. Text that would look like a",
        "formula in Excel starts with a quote. Password and key hashes and API tokens are not exported.",
        "photos/: the photo files of cases and deductions, at the path given in their image column.",
        "manifest.json: row counts per model and the SHA-256 of every file.",
        "",
        "rows per model:",
    ]
    lines += [f"  {name}: {n}" for name, n in manifest["counts"].items()]
    lines += ["", f"photo files: {manifest['photos']}", ""]
    return "\n".join(lines)
