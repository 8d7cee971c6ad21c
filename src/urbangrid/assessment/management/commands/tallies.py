"""``urbangrid tallies build [--from D] [--to D] | rebuild [--from D] [--to D] | refresh | status``: the daily
tallies behind the evaluation (requests never tally: the worker and these commands do)."""
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from urbangrid.assessment.evaluation import tallies
from urbangrid.assessment.models import TallyDay


def _day(value, name):
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("%(name)s 应为 YYYY-MM-DD 格式的日期") % {"name": name}) from None


class Command(BaseCommand):
    help = "日统计（综合评价的按日汇总）：重建、刷新或查看状态"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        bd = sub.add_parser("build", help="只统计尚无日统计或有新记录的日期（默认从首条记录到今天）")
        bd.add_argument("--from", dest="first", help="起始日期 YYYY-MM-DD")
        bd.add_argument("--to", dest="last", help="截止日期 YYYY-MM-DD")
        rb = sub.add_parser("rebuild", help="从案件流转记录重算各日统计（默认全部日期）")
        rb.add_argument("--from", dest="first", help="起始日期 YYYY-MM-DD")
        rb.add_argument("--to", dest="last", help="截止日期 YYYY-MM-DD")
        sub.add_parser("refresh", help="重算有新记录的日期（昨天和今天，以及补录的日期）")
        sub.add_parser("status", help="已统计的日期范围与事件数")

    def handle(self, *args, action, **options):
        if action == "status":
            agg = TallyDay.objects.aggregate(lo=Min("day"), hi=Max("day"), n=Sum("events"))
            dirty = TallyDay.objects.filter(dirty=True).count()
            self.stdout.write(_("已统计 %(lo)s — %(hi)s，事件 %(n)s 条，待重算 %(d)s 天")
                              % {"lo": agg["lo"] or "-", "hi": agg["hi"] or "-", "n": agg["n"] or 0, "d": dirty})
            first = tallies.first_event_day()
            if first is not None:
                self.stdout.write(_("从首条记录到今天尚未就绪 %(n)s 天")
                                  % {"n": len(tallies.unready_days(first, tallies.local_day(timezone.now())))})
            return
        started = time.perf_counter()
        if action == "refresh":
            days = tallies.refresh()
            self.stdout.write(self.style.SUCCESS(_("已重算 %(n)s 天，用时 %(s).1f 秒")
                                                 % {"n": len(days), "s": time.perf_counter() - started}))
            return
        first = _day(options["first"], "--from") if options.get("first") else None
        last = _day(options["last"], "--to") if options.get("last") else None
        if first and last and first > last:
            raise CommandError(_("起始日期 %(a)s 晚于截止日期 %(b)s") % {"a": first, "b": last})
        if action == "build":
            days = tallies.build_missing(first, last)
            self.stdout.write(self.style.SUCCESS(_("已补算 %(n)s 天，用时 %(s).1f 秒")
                                                 % {"n": len(days), "s": time.perf_counter() - started}))
            return
        n = tallies.rebuild(first, last)
        self.stdout.write(self.style.SUCCESS(_("已重算日统计：事件 %(n)s 条，用时 %(s).1f 秒")
                                             % {"n": n, "s": time.perf_counter() - started}))
