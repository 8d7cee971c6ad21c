import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.core.bulk import relaxed_durability
from urbangrid.core.secretkey import ensure_secret_key
from urbangrid.fabricate.demo.build import build_demo


class Command(BaseCommand):
    help = _("建设示范城市：网格、路段、党组织、人员、责任清单和部件（可重复运行，结果不变）")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2024, help=_("随机种子（相同种子结果相同）"))
        parser.add_argument("--no-history", action="store_true", help=_("不生成案件历史"))
        parser.add_argument("--cases", type=int, default=None, help=_("案件历史的案件数（默认 30861）"))

    def handle(self, *args, seed, no_history=False, cases=None, **options):
        if seed < 0:
            raise CommandError(_("--seed 必须是非负整数"))
        if cases is not None and not (100 <= cases <= 1_000_000):
            raise CommandError(_("--cases 应在 100 到 1000000 之间"))
        started = time.perf_counter()

        ensure_secret_key()
        with relaxed_durability():
            summary, logins, path = build_demo(seed=seed, log=lambda msg: self.stdout.write(msg), history=not no_history,
                                               cases=cases)
        elapsed = time.perf_counter() - started
        for key, value in summary.items():
            self.stdout.write(f"  {key}: {value}")
        self.stdout.write(_("示范账号（已写入 %(path)s）：") % {"path": path})
        for role, login in logins.items():
            if isinstance(login, dict):
                self.stdout.write(f"  {login['role']:<8} {login['username']:<22} {login['password']}")
            else:
                self.stdout.write(f"  {role:<31} {login}")
        self.stdout.write(self.style.SUCCESS(_("示范城市建设完成，用时 %(s).1f 秒") % {"s": elapsed}))
