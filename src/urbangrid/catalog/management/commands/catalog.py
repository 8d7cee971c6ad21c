"""``urbangrid catalog load [--dir PATH] | rules-import FILE.xlsx | rules-export FILE.xlsx``."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.catalog.excel import export_rules, import_rules
from urbangrid.catalog.loader import CatalogDataError, load_catalogues
from urbangrid.core.bulk import analyze
from urbangrid.core.excel import ImportErrors


class Command(BaseCommand):
    help = "分类目录与责任清单：加载标准分类、导入/导出责任清单 Excel"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="加载分类目录 CSV（可重复运行）")
        load.add_argument("--dir", help="CSV 目录；默认 $URBANGRID_CATALOG_DIR、shared/data/catalog 或随包数据")
        sub.add_parser("rules-import", help="从 Excel 导入责任清单").add_argument("file")
        sub.add_parser("rules-export", help="导出责任清单到 Excel").add_argument("file")

    def handle(self, *args, action, **options):
        if action == "load":
            try:
                report = load_catalogues(options.get("dir"))
                analyze("catalog")
            except CatalogDataError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(_("数据目录：%(dir)s") % {"dir": report.directory})
            for key in report.created:
                self.stdout.write(_("  %(key)s：新增 %(c)s，更新 %(u)s") % {"key": key, "c": report.created[key], "u": report.updated[key]})
            self.stdout.write(self.style.SUCCESS(_("加载完成") if report.changed else _("加载完成（无变化）")))
        elif action == "rules-import":
            try:
                result = import_rules(options["file"])
                analyze("catalog")
            except ImportErrors as exc:
                self.stderr.write(exc.report())
                raise CommandError(_("共 %(n)s 处错误，未导入任何数据") % {"n": len(exc.errors)}) from None
            self.stdout.write(self.style.SUCCESS(_("新增 %(c)s 条，更新 %(u)s 条，未变 %(s)s 条") % {
                "c": result.created, "u": result.updated, "s": result.unchanged}))
        else:
            n = export_rules(options["file"])
            self.stdout.write(self.style.SUCCESS(_("已导出 %(n)s 条到 %(file)s") % {"n": n, "file": options["file"]}))
