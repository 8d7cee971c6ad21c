"""``urbangrid grids import FILE.geojson [--replace]`` and ``urbangrid grids export [-o FILE]``."""
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.core.bulk import analyze
from urbangrid.grids import importer


class Command(BaseCommand):
    help = _("导入或导出网格地理数据（GeoJSON FeatureCollection：区划、责任网格、单元网格、路段）")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{import,export}")
        imp = sub.add_parser("import", help=_("校验并导入 GeoJSON 文件（有任何问题则不导入）"))
        imp.add_argument("file", help=_("GeoJSON 文件，- 表示标准输入"))
        imp.add_argument("--replace", action="store_true", help=_("以文件为全部地理数据：删除文件中没有的记录"))
        exp = sub.add_parser("export", help=_("导出全部地理数据为 GeoJSON"))
        exp.add_argument("-o", "--output", help=_("输出文件（默认标准输出）"))
        exp.add_argument("--indent", type=int, default=None, help=_("缩进空格数（默认紧凑格式）"))

    def handle(self, *args, action, **options):
        if action == "import":
            self._import(options["file"], options["replace"])
        else:
            self._export(options.get("output"), options.get("indent"))

    def _import(self, path, replace):
        try:
            if path == "-":
                data = importer.read_geojson(sys.stdin)
            else:
                with open(path, encoding="utf-8-sig") as fp:
                    data = importer.read_geojson(fp)
            stats = importer.import_geojson(data, replace=replace)
            analyze("grids")
        except OSError as exc:
            raise CommandError(_("无法读取文件：%(error)s") % {"error": exc}) from None
        except importer.ImportRefused as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(str(exc)) from None
        names = {"region": _("区划"), "responsibility_grid": _("责任网格"), "unit_grid": _("单元网格"), "road_segment": _("路段")}
        for layer, s in stats.items():
            self.stdout.write(_("%(layer)s：新增 %(created)d，更新 %(updated)d，删除 %(deleted)d，未变 %(unchanged)d") % {"layer": names[layer], **s})

    def _export(self, output, indent):
        doc = importer.export_geojson()
        text = json.dumps(doc, ensure_ascii=False, indent=indent) + "\n"
        if not output:
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as fp:
                fp.write(text)
        except OSError as exc:
            raise CommandError(_("无法写入文件：%(error)s") % {"error": exc}) from None
        self.stderr.write(_("已导出 %(n)d 个要素到 %(path)s") % {"n": len(doc["features"]), "path": output})
