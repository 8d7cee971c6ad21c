"""``urbangrid worktime seed [--from YEAR --to YEAR]`` fills the working calendar; ``status`` shows it;
``import-notice FILE --year YEAR`` imports a year's official holiday notice; ``recompute`` recomputes the running
clocks of open cases on the calendar as it is."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils.translation import gettext

from ...models import WorkCalendarDay
from ...notice import NoticeError, apply, read
from ...seeding import default_years, fallback_years, provisional_years, seed_calendar
from ...signals import recompute_dependents


class Command(BaseCommand):
    help = "Working calendar (工作日历): seed from chinese_calendar, import a holiday notice, or show what is loaded."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser("seed", help="create or refresh calendar days (manual and notice days are kept)")
        seed.add_argument("--from", dest="year_from", type=int, help="first year (default: last year)")
        seed.add_argument("--to", dest="year_to", type=int, help="last year (default: next year)")
        sub.add_parser("status", help="days per year and source")
        imp = sub.add_parser("import-notice", help="import a year's official holiday notice (CSV, JSON or .xlsx)")
        imp.add_argument("file", help="date,kind,name rows: kind holiday or makeup_workday")
        imp.add_argument("--year", type=int, required=True, help="the year of the notice")
        imp.add_argument("--replace-manual", action="store_true", help="overwrite days edited by hand too")
        imp.add_argument("--dry-run", action="store_true", help="validate only")
        sub.add_parser("recompute", help="recompute every open case's running clock on the calendar as it is")

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action.replace('-', '_')}")(**opts)

    def do_seed(self, year_from=None, year_to=None, **_):
        years = default_years()
        year_from = year_from or (year_to if year_to else years[0])
        year_to = year_to or max(year_from, years[-1])
        if year_from > year_to or year_from < 1900 or year_to > 2200:
            raise CommandError("give 1900 ≤ --from ≤ --to ≤ 2200")
        counts = seed_calendar(range(year_from, year_to + 1), recompute=True)
        self.stdout.write(
            f"years {year_from}–{year_to}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['manual_kept']} manual days kept, "
            f"{counts['notice_kept']} notice days kept; {counts['cases']} open cases' deadlines recomputed"
        )
        if counts["provisional_years"]:
            self.stdout.write(self.style.WARNING(
                "no official notice (statutory holidays only, no 调休; deadlines over them are unconfirmed until "
                "the notice is imported with `worktime import-notice`): " + ", ".join(map(str, counts["provisional_years"]))
            ))
        if counts["fallback_years"]:
            self.stdout.write(self.style.WARNING(
                "no holiday data (Monday–Friday assumed, edit holidays by hand): "
                + ", ".join(map(str, counts["fallback_years"]))
            ))

    def do_import_notice(self, file, year, replace_manual=False, dry_run=False, **_):
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc}") from None
        try:
            notice = read(data, year, path.name)
        except NoticeError as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"{file}: refused, nothing imported ({len(exc.errors)} errors)") from None
        off = sum(1 for kind, _n in notice.days.values() if kind == WorkCalendarDay.Kind.HOLIDAY)
        self.stdout.write(f"{year}: {off} days off, {len(notice.days) - off} make-up working days")
        if dry_run:
            self.stdout.write("dry run: nothing written")
            return
        counts = apply(notice, replace_manual=replace_manual)
        self.stdout.write(
            f"{counts['created']} created, {counts['updated']} updated, {counts['unchanged']} unchanged, "
            f"{counts['manual_kept']} manual days kept; {len(counts['changed'])} days changed working status; "
            f"{counts['cases']} open cases' deadlines recomputed"
        )

    def do_recompute(self, **_):
        n = recompute_dependents(note=gettext("工作日历重算"))
        self.stdout.write(f"{n} open cases' deadlines recomputed")

    def do_status(self, **_):
        rows = (WorkCalendarDay.objects.values_list("date__year", "source").annotate(n=Count("id"))
                .order_by("date__year", "source"))
        for year, source, n in rows:
            self.stdout.write(f"{year} {source}: {n}")
        if not rows:
            self.stdout.write("no calendar days: run `urbangrid worktime seed`")
            return
        if provisional := provisional_years():
            self.stdout.write(self.style.WARNING("statutory holidays only, notice not imported (unconfirmed): "
                                                 + ", ".join(map(str, provisional))))
        if fallback := fallback_years():
            self.stdout.write(self.style.WARNING("on Monday–Friday fallback: " + ", ".join(map(str, fallback))))
