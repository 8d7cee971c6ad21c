"""The ``import FILE`` / ``export FILE`` command every reference-data inventory offers (部件库, 地址库): one shape,
one set of messages; each inventory names its transfer module and how it reports what changed."""
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from .bulk import analyze
from .transfer import TransferError


class TransferCommand(BaseCommand):
    """``transfer``: a module with ``import_file(path, fmt, replace=)``, ``export_xlsx(path)`` and
    ``export_geojson()``; ``app_label``: whose tables to ANALYZE after an import; the help texts."""

    transfer = None
    app_label = ""
    import_help = replace_help = export_help = ""

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{import,export}")
        imp = sub.add_parser("import", help=self.import_help)
        imp.add_argument("file", help=_("GeoJSON（.geojson/.json）或 Excel（.xlsx）文件"))
        imp.add_argument("--format", choices=["geojson", "xlsx"], help=_("文件格式（默认按扩展名）"))
        imp.add_argument("--replace", action="store_true", help=self.replace_help)
        exp = sub.add_parser("export", help=self.export_help)
        exp.add_argument("file", help=_("输出文件"))
        exp.add_argument("--format", choices=["geojson", "xlsx"], help=_("文件格式（默认按扩展名）"))

    def handle(self, *args, action, **options):
        if action == "import":
            self._import(options["file"], options.get("format"), options["replace"])
        else:
            self._export(options["file"], options.get("format"))

    def report_import(self, stats):
        raise NotImplementedError

    def exported_count(self, result):
        """How many records ``export_xlsx`` wrote, from what it returned."""
        return result

    def _import(self, path, fmt, replace):
        try:
            stats = self.transfer.import_file(path, fmt, replace=replace)
            analyze(self.app_label)
        except TransferError as exc:
            self._problems(exc)
            raise CommandError(str(exc)) from None
        self.report_import(stats)

    def _export(self, path, fmt):
        fmt = fmt or ("xlsx" if path.lower().endswith(".xlsx") else "geojson")
        try:
            if fmt == "xlsx":
                n = self.exported_count(self.transfer.export_xlsx(path))
            else:
                doc = self.transfer.export_geojson()
                with open(path, "w", encoding="utf-8") as fp:
                    json.dump(doc, fp, ensure_ascii=False)
                    fp.write("\n")
                n = len(doc["features"])
        except TransferError as exc:
            self._problems(exc)
            raise CommandError(_("未导出")) from None
        except OSError as exc:
            raise CommandError(_("无法写入文件：%(error)s") % {"error": exc}) from None
        self.stderr.write(_("已导出 %(n)d 条记录到 %(path)s") % {"n": n, "path": path})

    def _problems(self, exc):
        for problem in exc.problems:
            self.stderr.write(str(problem))
