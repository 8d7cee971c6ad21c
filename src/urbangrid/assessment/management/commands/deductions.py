"""``urbangrid deductions items-import FILE.xlsx | items-export FILE.xlsx``: the deduction standard (检查项目)."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.assessment.deductions.rules import export_items, import_items
from urbangrid.core.excel import ImportErrors


class Command(BaseCommand):
    help = "倒扣分标准（检查项目）：导入/导出 Excel"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("items-import", help="从 Excel 导入检查项目（按编号新增或更新）").add_argument("file")
        sub.add_parser("items-export", help="导出检查项目到 Excel").add_argument("file")

    def handle(self, *args, action, file, **options):
        if action == "items-export":
            n = export_items(file)
            self.stdout.write(self.style.SUCCESS(_("已导出 %(n)s 行到 %(file)s") % {"n": n, "file": file}))
            return
        try:
            r = import_items(file)
        except ImportErrors as exc:
            self.stderr.write(exc.report())
            raise CommandError(_("共 %(n)s 处错误，未导入任何数据") % {"n": len(exc.errors)}) from None
        self.stdout.write(self.style.SUCCESS(_("检查项目新增 %(c)s、更新 %(u)s") % {"c": r.created, "u": r.updated}))
