"""``urbangrid cases backfill-addresses [--batch N]``: old cases with a point but no address get the
gazetteer's words for it (cases/addresses.py)."""
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.cases.addresses import backfill_addresses


class Command(BaseCommand):
    help = _("案件数据维护：为有坐标、无地址的案件补全地址")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{backfill-addresses}")
        back = sub.add_parser("backfill-addresses", help=_("为有坐标、无地址的案件补上逆地理编码的地址（可重复运行）"))
        back.add_argument("--batch", type=int, default=500, help=_("每批案件数（默认 500）"))

    def handle(self, *args, action, batch, **options):
        if batch < 1:
            raise CommandError(_("每批案件数应为正整数"))
        done = backfill_addresses(batch=batch, log=lambda m: self.stderr.write(m))
        self.stdout.write(_("已补全 %(filled)d 件案件的地址，%(empty)d 件附近没有道路或标志物")
                          % {"filled": done["filled"], "empty": done["unaddressable"]})
