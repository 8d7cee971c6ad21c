"""``urbangrid catalog load [--dir PATH] | rules-import FILE.xlsx | rules-export FILE.xlsx | switch --to CODE [--dry-run]
| recount [--version CODE] [--from DATE] [--to DATE] [--kind KIND] [--xlsx FILE]``."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.catalog import hooks
from urbangrid.catalog.crosswalk import RecountInputError
from urbangrid.catalog.excel import export_recount, export_rules, import_rules, recount_rows
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
        switch = sub.add_parser("switch", help="切换现行分类版本：在办案件和责任清单按新旧分类对照迁移")
        switch.add_argument("--to", required=True, dest="to_version", help="目标版本代码，如 gbt47678.5-2026、cjt214-2007")
        switch.add_argument("--dry-run", action="store_true", help="只报告将要发生的变化，不写入")
        recount = sub.add_parser("recount", help="跨版本统计：案件按某一分类版本重新计数")
        recount.add_argument("--version", help="目标版本代码（默认现行版本）")
        recount.add_argument("--from", dest="date_from", help="起始日期 YYYY-MM-DD（上报时间）")
        recount.add_argument("--to", dest="date_to", help="截止日期 YYYY-MM-DD（含）")
        recount.add_argument("--kind", help="component 或 event（默认两者）")
        recount.add_argument("--xlsx", help="同时导出到 Excel 文件")

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
        elif action == "switch":
            self._switch(options)
        elif action == "recount":
            self._recount(options)
        else:
            n = export_rules(options["file"])
            self.stdout.write(self.style.SUCCESS(_("已导出 %(n)s 条到 %(file)s") % {"n": n, "file": options["file"]}))

    def _switch(self, options):
        try:
            report = hooks.switch_catalogue(options["to_version"], dry_run=options["dry_run"])
        except hooks.SwitchError as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines():
            self.stdout.write(line)
        if report.needs_decision:
            self.stdout.write(self.style.WARNING(_("有需要人工判断的条目：在后台“新旧分类对照”中核实或选定后，再次运行本命令")))

    def _recount(self, options):
        try:
            recount = hooks.recount_request(options.get("version"), options.get("date_from"), options.get("date_to"),
                                      options.get("kind"))
        except RecountInputError as exc:
            raise CommandError("；".join(f"--{k}: {v}" for k, v in exc.errors.items())) from None
        rows, pending = recount_rows(recount)
        self.stdout.write(_("按 %(v)s 统计：案件 %(n)s 件，计入 %(c)s 件，待人工判断 %(p)s 件") % {
            "v": "、".join(v.code for v in recount.versions), "n": recount.cases, "c": recount.counted,
            "p": recount.cases - recount.counted})
        for r in rows:
            self.stdout.write(f"{r['version']}\t{r['code']}\t{r['name']}\t{r['total']}\t({r['direct']}+{r['mapped']})")
        for p in pending:
            self.stdout.write(_("待判断") + f"\t{p['version']}\t{p['code']}\t{p['name']}\t{p['cases']}\t{p['reason']}\t{p['candidates']}")
        if options.get("xlsx"):
            export_recount(recount, options["xlsx"])
            self.stdout.write(self.style.SUCCESS(_("已导出到 %(file)s") % {"file": options["xlsx"]}))
