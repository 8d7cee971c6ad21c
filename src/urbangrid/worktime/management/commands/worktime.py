"""``urbangrid worktime seed [--from YEAR --to YEAR]`` fills the working calendar; ``status`` shows it."""
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from ...models import WorkCalendarDay
from ...seeding import default_years, fallback_years, seed_calendar


class Command(BaseCommand):
    help = "Working calendar (工作日历): seed from chinese_calendar, or show what is loaded."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser("seed", help="create or refresh calendar days (manual days are kept)")
        seed.add_argument("--from", dest="year_from", type=int, help="first year (default: last year)")
        seed.add_argument("--to", dest="year_to", type=int, help="last year (default: next year)")
        sub.add_parser("status", help="days per year and source")

    def handle(self, *args, action, **opts):
        getattr(self, f"do_{action}")(**opts)

    def do_seed(self, year_from=None, year_to=None, **_):
        years = default_years()
        year_from = year_from or (year_to if year_to else years[0])
        year_to = year_to or max(year_from, years[-1])
        if year_from > year_to or year_from < 1900 or year_to > 2200:
            raise CommandError("give 1900 ≤ --from ≤ --to ≤ 2200")
        counts = seed_calendar(range(year_from, year_to + 1))
        self.stdout.write(
            f"years {year_from}–{year_to}: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['manual_kept']} manual days kept"
        )
        if counts["fallback_years"]:
            self.stdout.write(self.style.WARNING(
                "no holiday data (Monday–Friday assumed, edit holidays by hand): "
                + ", ".join(map(str, counts["fallback_years"]))
            ))

    def do_status(self, **_):
        rows = (WorkCalendarDay.objects.values_list("date__year", "source").annotate(n=Count("id"))
                .order_by("date__year", "source"))
        for year, source, n in rows:
            self.stdout.write(f"{year} {source}: {n}")
        if not rows:
            self.stdout.write("no calendar days: run `urbangrid worktime seed`")
        elif fallback := fallback_years():
            self.stdout.write(self.style.WARNING("on Monday–Friday fallback: " + ", ".join(map(str, fallback))))
