from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from urbangrid.cases.chain import verify
from urbangrid.cases.models import Case, CaseEvent


class Command(BaseCommand):
    help = _("核验案件流转记录的哈希链（防篡改）")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        v = sub.add_parser("verify", help=_("核验全部或指定案件"))
        v.add_argument("--case", dest="numbers", action="append", default=[], help=_("案件编号，可重复"))

    def handle(self, *args, action, numbers, **options):
        cases = Case.objects.order_by("pk")
        if numbers:
            cases = cases.filter(number__in=numbers)
            missing = set(numbers) - set(cases.values_list("number", flat=True))
            if missing:
                raise CommandError(_("案件不存在：%(n)s") % {"n": "、".join(sorted(missing))})
        problems, checked = [], 0
        for start in range(0, cases.count(), 2000):
            batch = list(cases[start:start + 2000])
            events = {}
            for e in CaseEvent.objects.filter(case__in=batch).order_by("case_id", "seq"):
                events.setdefault(e.case_id, []).append(e)
            for case in batch:
                checked += 1
                problem = verify(case, events.get(case.pk, []))
                if problem:
                    problems.append(problem)
        for p in problems:
            self.stderr.write(p)
        if problems:
            raise CommandError(_("%(n)s 个案件的流转记录与哈希链不符") % {"n": len(problems)})
        self.stdout.write(self.style.SUCCESS(_("已核验 %(n)s 个案件，流转记录完整") % {"n": checked}))
