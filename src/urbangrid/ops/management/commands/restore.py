from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.ops.backup import BackupError, restore


class Command(BaseCommand):
    help = _("从备份文件恢复数据库和照片（默认只恢复到没有案件的空库）")

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--force", action="store_true", help=_("覆盖已有数据"))

    def handle(self, *args, archive, force=False, **options):
        try:
            manifest = restore(archive, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(_("已从 %(f)s 恢复（备份时间 %(t)s）") % {"f": archive, "t": manifest["created"]}))
