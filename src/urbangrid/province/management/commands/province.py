"""``urbangrid province city add CODE --name NAME [--key KEY]`` and ``urbangrid province city list``: the cities
registered with this province node (联网城市) and their keys."""
import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from urbangrid.province import wire
from urbangrid.province.models import ProvinceCity

MIN_KEY = 32


class Command(BaseCommand):
    help = _("省级平台：登记联网城市及其签名密钥，查看各城市的接收进度")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True, metavar="{city}")
        city = sub.add_parser("city", help=_("联网城市"))
        act = city.add_subparsers(dest="action", required=True, metavar="{add,list}")
        add = act.add_parser("add", help=_("登记城市（已登记则更新名称和密钥）"))
        add.add_argument("code", help=_("城市代码，如 340100"))
        add.add_argument("--name", required=True, help=_("城市名称"))
        add.add_argument("--key", help=_("签名密钥（至少 32 个字符；省略则随机生成并打印）"))
        add.add_argument("--lon", type=float, help=_("省级驾驶舱地图上的经度（WGS-84，与 --lat 同时给出）"))
        add.add_argument("--lat", type=float, help=_("省级驾驶舱地图上的纬度（WGS-84，与 --lon 同时给出）"))
        act.add_parser("list", help=_("列出城市及接收进度"))

    def handle(self, *args, what, action, **options):
        if action == "add":
            self._add(options["code"], options["name"], options.get("key"), options.get("lon"), options.get("lat"))
        else:
            self._list()

    def _add(self, code, name, key, lon=None, lat=None):
        if not wire.CITY_CODE.match(code):
            raise CommandError(_("城市代码只能包含字母、数字、- 或 _，最多 20 个字符"))
        name = (name or "").strip()
        if not name or len(name) > 100:
            raise CommandError(_("城市名称不能为空，最多 100 个字符"))
        generated = not key
        key = key or secrets.token_hex(32)
        if len(key) < MIN_KEY or len(key) > 200:
            raise CommandError(_("签名密钥应为 %(min)d 到 200 个字符") % {"min": MIN_KEY})
        defaults = {"name": name, "key": key}
        if (lon is None) != (lat is None):
            raise CommandError(_("--lon 和 --lat 应同时给出"))
        if lon is not None:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise CommandError(_("经度应在 -180 到 180 之间，纬度应在 -90 到 90 之间"))
            defaults.update(lon=lon, lat=lat)
        with transaction.atomic():
            city, created = ProvinceCity.objects.update_or_create(code=code, defaults=defaults)
        self.stdout.write((_("已登记城市 %(code)s %(name)s") if created else _("已更新城市 %(code)s %(name)s"))
                          % {"code": city.code, "name": city.name})
        if generated:
            self.stdout.write(_("签名密钥：%(key)s") % {"key": key})

    def _list(self):
        for c in ProvinceCity.objects.order_by("code"):
            self.stdout.write(_("%(code)s %(name)s：批次 %(seq)d，游标 %(cursor)d，事件 %(events)d，最后接收 %(at)s") % {
                "code": c.code, "name": c.name, "seq": c.last_sequence, "cursor": c.last_cursor,
                "events": c.events_received, "at": wire.iso(c.last_received_at) or "—"})
