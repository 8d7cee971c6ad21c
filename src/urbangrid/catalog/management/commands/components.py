"""``urbangrid components import FILE [--format] [--replace]`` and ``urbangrid components export FILE [--format]``:
the component inventory (部件库) as GeoJSON or Excel (``catalog/components_transfer.py``)."""
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.catalog import components_transfer as transfer
from urbangrid.core.bulk import analyze


class Command(BaseCommand):
    help = _("导入、导出部件库（GeoJSON 或 Excel）")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{import,export}")
        imp = sub.add_parser("import", help=_("校验并导入部件库文件（有任何问题则不导入）"))
        imp.add_argument("file", help=_("GeoJSON（.geojson/.json）或 Excel（.xlsx）文件"))
        imp.add_argument("--format", choices=["geojson", "xlsx"], help=_("文件格式（默认按扩展名）"))
        imp.add_argument("--replace", action="store_true", help=_("以文件为全部部件库：删除文件中没有的部件"))
        exp = sub.add_parser("export", help=_("导出全部部件"))
        exp.add_argument("file", help=_("输出文件"))
        exp.add_argument("--format", choices=["geojson", "xlsx"], help=_("文件格式（默认按扩展名）"))

    def handle(self, *args, action, **options):
        if action == "import":
            self._import(options["file"], options.get("format"), options["replace"])
        else:
            self._export(options["file"], options.get("format"))

    def _import(self, path, fmt, replace):
        try:
            stats = transfer.import_file(path, fmt, replace=replace)
            analyze("catalog")
        except transfer.TransferError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(str(exc)) from None
        self.stdout.write(_("部件：新增 %(created)d，更新 %(updated)d，未变 %(unchanged)d，删除 %(deleted)d") % stats)

    def _export(self, path, fmt):
        fmt = fmt or ("xlsx" if path.lower().endswith(".xlsx") else "geojson")
        try:
            if fmt == "xlsx":
                n = transfer.export_xlsx(path)
            else:
                doc = transfer.export_geojson()
                with open(path, "w", encoding="utf-8") as fp:
                    json.dump(doc, fp, ensure_ascii=False)
                    fp.write("\n")
                n = len(doc["features"])
        except OSError as exc:
            raise CommandError(_("无法写入文件：%(error)s") % {"error": exc}) from None
        self.stderr.write(_("已导出 %(n)d 个部件到 %(path)s") % {"n": n, "path": path})
