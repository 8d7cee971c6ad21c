from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.ops.backup import BackupError, backup


class Command(BaseCommand):
    help = _("备份数据库和照片到一个 .tar.gz 文件（SQLite 在线备份，PostgreSQL 用 pg_dump）")

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", default=None, help=_("输出文件，默认 var/backups/urbangrid-时间.tar.gz"))

    def handle(self, *args, output=None, **options):
        output = output or str(settings.VAR_DIR / "backups" / f"urbangrid-{timezone.now():%Y%m%d-%H%M%S}.tar.gz")
        try:
            manifest = backup(output)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(_("已备份到 %(f)s（%(n)s 个文件）") % {"f": output, "n": len(manifest["members"])}))
