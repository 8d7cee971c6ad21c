"""``urbangrid people import FILE.xlsx | export FILE.xlsx``: persons and their roles.

Lives in the catalog app's commands because org/ is owned by another developer for now.
"""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.core.excel import ImportErrors
from urbangrid.org.excel import export_people, import_people


class Command(BaseCommand):
    help = "人员与角色：导入/导出 Excel"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("import", help="从 Excel 导入人员与角色").add_argument("file")
        sub.add_parser("export", help="导出人员与角色到 Excel").add_argument("file")

    def handle(self, *args, action, file, **options):
        if action == "export":
            n = export_people(file)
            self.stdout.write(self.style.SUCCESS(_("已导出 %(n)s 行到 %(file)s") % {"n": n, "file": file}))
            return
        try:
            r = import_people(file)
        except ImportErrors as exc:
            self.stderr.write(exc.report())
            raise CommandError(_("共 %(n)s 处错误，未导入任何数据") % {"n": len(exc.errors)}) from None
        self.stdout.write(self.style.SUCCESS(_("人员新增 %(pc)s、更新 %(pu)s；角色新增 %(rc)s、删除 %(rd)s") % {
            "pc": r.persons_created, "pu": r.persons_updated, "rc": r.roles_created, "rd": r.roles_deleted}))
