"""Page server time with the demo history loaded: the leaders' dashboard (and its data.json), the dispatch
queue, the intake queue, the unit workbench, the case list, a case page and a grid page, each requested N
times through Django's test client (the whole request/response stack, in process, no network) after a
warm-up; median and p95 in ms, and each as a ratio to /healthz timed the same way in the same run.

    .venv/bin/python bench/bench_pages.py [--db sqlite|postgres] [--requests 40] [--warmup 3] [--seed 2024]

SQLite: a temporary file. PostgreSQL: the database ``bench_pages`` on 127.0.0.1 (created and dropped here),
ANALYZEd after the build as autovacuum would shortly after a bulk load.
Goal (issue 4): p95 under 150 ms on this machine.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DB, MD5, command, log, machine, pg_create, pg_drop, pg_missing, pg_url, point_django_at, positive  # noqa: E402

DB_NAME = "bench_pages"
GOAL_MS = 150.0


def setup(db, tmp, seed):
    point_django_at(tmp, f"sqlite:///{tmp / 'bench.sqlite3'}" if db == "sqlite" else pg_url(DB_NAME))
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.PASSWORD_HASHERS = MD5
    settings.ALLOWED_HOSTS = ["*"]
    log(f"migrating the {db} database")
    call_command("migrate", verbosity=0)
    from urbangrid.fabricate.demo.build import build_demo

    log("building the demo city with its history (about half a minute)")
    t0 = time.perf_counter()
    summary, _logins, _path = build_demo(seed=seed, log=lambda m: None, history=True)
    log(f"built in {time.perf_counter() - t0:.0f} s")
    if db == "postgres":  # what autovacuum does shortly after a bulk load: planner statistics for the new rows
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return summary


def pick_case():
    """A case page worth timing: a closed case with the longest timeline (rework, returns, photos)."""
    from django.db.models import Count

    from urbangrid.cases.models import Case

    return (Case.objects.annotate(n=Count("events")).order_by("-n", "pk").values_list("number", "n").first())


def timed(client, url, n, warmup):
    for _ in range(warmup):
        r = client.get(url)
        assert r.status_code == 200, (url, r.status_code)
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(url)
        samples.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    samples.sort()
    p95 = samples[min(len(samples) - 1, max(0, int(round(0.95 * len(samples))) - 1))]
    return statistics.median(samples), p95


def queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return len(ctx)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    positive(parser, args, "--requests", "--warmup")
    if args.db == "postgres":
        why = pg_missing()
        if why:
            print(why, file=sys.stderr)
            return 1
        pg_create(DB_NAME)
    tmp = Path(tempfile.mkdtemp(prefix="ug-bench-pages-"))
    try:
        summary = setup(args.db, tmp, args.seed)
        return run(args, summary)
    finally:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        if args.db == "postgres":
            pg_drop(DB_NAME)
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def run(args, summary):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from urbangrid.cases.models import Case

    number, events = pick_case()
    users = get_user_model().objects
    clients = {}

    def as_(username):
        if username not in clients:
            c = Client()
            if username:
                c.force_login(users.get(username=username))
            clients[username] = c
        return clients[username]

    pages = [
        ("/healthz (baseline)", None, "/healthz"),
        ("dashboard", "leader", "/dashboard/"),
        ("dashboard data.json", "leader", "/dashboard/data.json"),
        ("dispatch queue /command/", "dispatcher", "/command/"),
        ("intake queue /centre/ (with duplicates)", "intake_operator", "/centre/"),
        ("unit workbench /unit/", "unit_handler", "/unit/"),
        ("case list /cases/", "leader", "/cases/"),
        (f"case page ({events} events)", "leader", f"/cases/{number}/"),
        ("grid page /grids/WG01/", "leader", "/grids/WG01/"),
    ]
    rows = []
    for name, who, url in pages:
        log(f"timing {url}")
        c = as_(who)
        median, p95 = timed(c, url, args.requests, args.warmup)
        rows.append((name, url, median, p95, queries(c, url)))
    base_median, base_p95 = rows[0][2], rows[0][3]
    db_line = [line.replace(BENCH_DB, DB_NAME) for line in machine(args.db)]
    print(f"## Page server time ({args.db})\n")

    print(f"- Command: `{command()}`")
    for line in db_line:
        print(f"- {line}")
    print(f"- Demo city with history: {Case.objects.count()} cases; {args.requests} timed requests per page after "
          f"{args.warmup} warm-up requests; Django test client in process (server time, no network)")
    print()
    print("| page | median ms | p95 ms | × /healthz (median) | × /healthz (p95) | queries | goal p95 < 150 ms |")
    print("|---|---:|---:|---:|---:|---:|---|")
    missed = 0
    for name, _url, median, p95, nq in rows:
        ok = p95 < GOAL_MS
        missed += 0 if ok else 1
        print(f"| {name} | {median:.1f} | {p95:.1f} | {median / base_median:.1f} | {p95 / base_p95:.1f} | {nq} | "
              f"{'met' if ok else '**missed**'} |")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
