"""The member records page (/assessment/members/, 党员年度记录: this year by default) on the demo city with its
history: the first request of a fresh process and the following ones, through Django's test client (the whole
request/response stack, in process, no network), with the query count; each as a ratio to /healthz timed the
same way in the same run.

    .venv/bin/python bench/bench_members.py [--requests 10] [--seed 2024] [--var DIR]

Without ``--var`` the demo city (``build_demo`` with history) and its daily tallies are built in a temporary
directory (a few minutes); ``--var DIR`` times an existing one (a directory holding ``urbangrid.sqlite3``, as
``URBANGRID_VAR_DIR`` gives the server). Goal (issue 17, finding 10): under 1 s at the demo's size.
"""
import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MD5, command, log, machine, point_django_at, positive  # noqa: E402

GOAL_S = 1.0
URL = "/assessment/members/"


def setup(var, seed, build):
    point_django_at(var)  # the SQLite file in the var directory
    os.environ["URBANGRID_DEMO"] = "1"  # as `make demo` serves it
    import django
    from django.conf import settings
    from django.core.management import call_command

    django.setup()
    settings.PASSWORD_HASHERS = MD5
    settings.ALLOWED_HOSTS = ["*"]
    if build:
        call_command("migrate", verbosity=0)
        from urbangrid.fabricate.demo.build import build_demo

        log("building the demo city with its history (a few minutes)")
        build_demo(seed=seed, log=lambda m: None, history=True)
        log("tallying its days")
        call_command("tallies", "build", stdout=io.StringIO())


def once(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        t0 = time.perf_counter()
        r = client.get(url)
        seconds = time.perf_counter() - t0
    assert r.status_code == 200, (url, r.status_code)
    return seconds, len(ctx), r


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--var", type=Path, help="an existing var directory with the demo city (else built in a temporary one)")
    args = parser.parse_args()
    positive(parser, args, "--requests")
    tmp = None
    if args.var is None:
        tmp = Path(tempfile.mkdtemp(prefix="ug-bench-members-"))
    elif not (args.var / "urbangrid.sqlite3").exists():
        parser.error(f"--var {args.var}: no urbangrid.sqlite3 there")
    try:
        setup(args.var or tmp, args.seed, build=tmp is not None)
        return run(args)
    finally:
        from django.conf import settings

        if settings.configured:
            from django.db import connections

            connections.close_all()
        if tmp is not None:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


def run(args):
    from django.contrib.auth import get_user_model
    from django.test import Client

    from urbangrid.cases.models import Case
    from urbangrid.org.models import Person

    t0 = time.perf_counter()
    import urbangrid.wsgi  # noqa: F401 - what a gunicorn worker loads before its first request

    boot = time.perf_counter() - t0
    client = Client()
    client.force_login(get_user_model().objects.get(username="leader"))
    first, first_q, resp = once(client, URL)  # the first request this worker answers
    rows = resp.content.decode().count("<tr")
    base_first, _bq, _r = once(client, "/healthz")
    samples, base = [], []
    for _ in range(args.requests):
        base.append(once(client, "/healthz")[0])
        seconds, queries, _r = once(client, URL)
        samples.append(seconds)
    median, base_median = statistics.median(samples), statistics.median(base)
    print("## Member records page (/assessment/members/)\n")
    print(f"- Command: `{command()}`")
    for line in machine("sqlite"):
        print(f"- {line}")
    print(f"- Demo city with history: {Case.objects.count()} cases, {Person.objects.count()} people, "
          f"{rows} table rows on the page; Django test client in process (server time, no network)")
    print()
    print("| request | seconds | queries | × /healthz | goal < 1 s |")
    print("|---|---:|---:|---:|---|")
    print(f"| first after the worker's start (its start, urbangrid.wsgi: {boot:.1f} s) | {first:.3f} | {first_q} | {first / base_first:.0f} | {'met' if first < GOAL_S else '**missed**'} |")
    print(f"| following (median of {args.requests}) | {median:.3f} | {queries} | {median / base_median:.0f} | "
          f"{'met' if median < GOAL_S else '**missed**'} |")
    print(f"| /healthz (baseline, median) | {base_median:.4f} | | 1 | |")
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
