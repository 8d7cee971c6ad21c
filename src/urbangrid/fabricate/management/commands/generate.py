import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.core.bulk import relaxed_durability
from urbangrid.fabricate.generate.build import GenerateError, Params, default_workers, generate


class Command(BaseCommand):
    help = _("生成特大城市数据集：按比例建设网格、单位、人员，并生成 N 件带完整流转记录的案件（批量写入）")

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, required=True, help=_("案件数 N"))
        parser.add_argument("--grids", type=int, default=None, help=_("单元网格数 M（--append 时沿用已有网格，不指定）"))
        parser.add_argument("--years", type=int, default=1, help=_("案件分布的年数（1–10）"))
        parser.add_argument("--days", type=int, default=None, help=_("改为按天数分布（7–3650，代替 --years；用于以年密度生成较短时段）"))
        parser.add_argument("--seed", type=int, default=2024, help=_("随机种子（相同种子结果相同）"))
        parser.add_argument("--start", default=None, help=_("第一天 YYYY-MM-DD（默认：截至昨天的 Y 年）"))
        parser.add_argument("--append", action="store_true", help=_("在已有城市（网格、单位、人员）上追加案件，不新建城市"))
        parser.add_argument("--workers", type=int, default=None, help=_("生成进程数（默认 CPU 数）"))

    def handle(self, *args, cases, grids, years, days, seed, start, append, workers, **options):
        if start is not None:
            try:
                start = date.fromisoformat(start)
            except ValueError:
                raise CommandError(_("--start 应为 YYYY-MM-DD 格式的日期")) from None
        params = Params(cases=cases, grids=grids, years=years, seed=seed, start=start, append=append, days=days,
                        workers=workers if workers is not None else default_workers())
        started = time.perf_counter()

        try:
            with relaxed_durability():
                summary = generate(params, log=lambda msg: self.stdout.write(msg))
        except GenerateError as exc:
            raise CommandError(str(exc)) from None
        for key, value in summary.items():
            self.stdout.write(f"  {key}: {value}")
        self.stdout.write(self.style.SUCCESS(_("数据集生成完成，用时 %(s).1f 秒") % {"s": time.perf_counter() - started}))
