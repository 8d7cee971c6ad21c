"""`urbangrid unlock-login --user NAME [--address IP]`: lift a login lock-out (written to the security log)."""
import ipaddress

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.core.login import unlock


class Command(BaseCommand):
    help = _("解除账号或客户端地址的登录锁定（记入安全日志）")

    def add_arguments(self, parser):
        parser.add_argument("--user", default="", help=_("用户名"))
        parser.add_argument("--address", default="", help=_("客户端地址"))

    def handle(self, *args, user, address, **options):
        if not user and not address:
            raise CommandError(_("请给出 --user 或 --address"))
        if address:
            try:
                address = str(ipaddress.ip_address(address))
            except ValueError:
                raise CommandError(_("--address 不是有效的 IP 地址")) from None
        unlock(username=user, address=address)
        self.stdout.write(self.style.SUCCESS(_("已解除锁定")))
