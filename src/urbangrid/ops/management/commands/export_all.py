from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.ops.export import FORMATS, ExportError, export_all


class Command(BaseCommand):
    help = _("全量导出所有数据（JSON Lines 或 Excel）和照片，供迁出平台使用")

    def add_arguments(self, parser):
        parser.add_argument("--format", default="jsonl", help=_("jsonl 或 xlsx"))
        parser.add_argument("--out", required=True, help=_("输出目录（新建或为空）"))

    def handle(self, *args, format="jsonl", out=None, **options):
        if format not in FORMATS:
            raise CommandError(_("未知格式 %(f)s，可选：%(all)s") % {"f": format, "all": ", ".join(FORMATS)})
        try:
            manifest = export_all(out, format)
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(_("已导出到 %(d)s：%(m)s 个表，%(r)s 行，%(p)s 张照片") % {
            "d": out, "m": len(manifest["counts"]), "r": sum(manifest["counts"].values()), "p": manifest["photos"]}))
