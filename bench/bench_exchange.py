"""The upward exchange (联网数据交换) on PostgreSQL: events/s from one city into the province over HTTP, beside the
province's own apply of the very same batches in-process, in the same run; and the lag a megacity's peak would see.

    .venv/bin/python bench/bench_exchange.py [--cases 20000] [--days 7] [--grids 1000] [--batch-events 2000]
                                             [--rounds 3] [--workers 2]

Three scratch databases, created and dropped here: ``bench_exchange_city`` (the city: ``urbangrid generate`` of
``--cases`` cases over ``--days`` days, its daily tallies built, ANALYZE), ``bench_exchange_province`` (the
province served by ``urbangrid serve``: gunicorn, sync workers, the production command less worker recycling) and
``bench_exchange_base`` (the baseline's province). Both provinces register the city with the same key.

The city first builds every batch (``outbox.build_next``, ``--batch-events`` events each, the first ones carrying
the tallies; timed: the city's side), then the batches go in ``--rounds`` interleaved parts, the side going first
alternating:

- ours: ``outbox.push`` (the worker's own function: POST over HTTP to gunicorn, signature, the province's
  ``receive_batch`` in its transaction, the city's acknowledgement) of the part's batches;
- baseline: a child process of this script on the baseline's province applies the same stored bodies by calling
  ``receive.receive_batch`` directly (signature check, JSON, the same transaction), no HTTP, no gunicorn, no city.

Why that baseline and not a raw COPY of the rows: the ratio then says what the transport costs (HTTP, gunicorn,
the city's bookkeeping per batch) over the province's apply, which any province pays; the apply itself (JSON,
the case summaries' upsert and step merge) is the province's floor and its absolute rate is printed beside.
A COPY would measure PostgreSQL, not anything the exchange could reach: the apply must read the held summaries
to merge their steps.

Megacity lag: docs/scaling.md's megacity (3 M cases a year, ≈ 8.3 events a case, peak hour × 2.5) makes events/s
at the peak; a push every minute carries a minute of them; the lag of its last event is the minute plus the time
the measured rate needs for that minute's events.
"""
import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as c  # noqa: E402

CITY_DB, PROVINCE_DB, BASE_DB = "bench_exchange_city", "bench_exchange_province", "bench_exchange_base"
CITY_CODE = "410100"
KEY = "bench-exchange-key-0123456789abcdefghijklmnop"  # ≥ 32 characters, scratch databases only
MEGACITY_CASES_PER_YEAR, PROVINCE_CASES_PER_YEAR = c.MEGACITY_CASES_PER_YEAR, c.PROVINCE_CASES_PER_YEAR
EVENTS_PER_CASE = 8.3
REPORT_DAYS = 290  # effective report days a year
WORKING_SECONDS = 36_000  # 08:00–18:00
PEAK_FACTOR = 2.5
PUSH_INTERVAL_S = 60


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cases", type=int, default=20000, help="cases generated in the city (default 20000)")
    p.add_argument("--days", type=int, default=7, help="days they are spread over (7–3650, default 7)")
    p.add_argument("--grids", type=int, default=1000, help="unit grids of the city (default 1000)")
    p.add_argument("--batch-events", type=int, default=2000, help="events a batch (default 2000, the setting's)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved parts (default 3)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers of the province (default 2)")
    p.add_argument("--apply", nargs=2, metavar=("DIR", "RANGE"), help=argparse.SUPPRESS)  # the baseline's child
    args = p.parse_args(argv)
    if args.apply:
        return args
    c.positive(p, args, "--cases", "--grids", "--batch-events", "--rounds", "--workers")
    if not 7 <= args.days <= 3650:
        p.error(f"--days must be between 7 and 3650, got {args.days}")
    return args


def peak_events_per_second(cases_per_year=MEGACITY_CASES_PER_YEAR):
    """Events per second in the peak hour, by docs/scaling.md §1: cases a year ÷ 290 report days ÷ 36,000 s
    (08:00–18:00) × 2.5 (peak hour) × 8.3 events a case (≈ 6 for a megacity)."""
    return cases_per_year / REPORT_DAYS / WORKING_SECONDS * PEAK_FACTOR * EVENTS_PER_CASE


def push_lag(rate, peak=None, interval=PUSH_INTERVAL_S):
    """(events a push carries at the peak, seconds to apply them at ``rate`` events/s, the oldest event's lag:
    the interval plus that time; inf when the rate does not keep up with the peak)."""
    peak = peak_events_per_second() if peak is None else peak
    events = peak * interval
    if rate <= peak:
        return events, float("inf"), float("inf")
    apply_s = events / rate
    return events, apply_s, interval + apply_s


def parts(n, rounds):
    """[(first, last)] 1-based inclusive ranges cutting 1..n into ``rounds`` parts as even as possible."""
    rounds = max(1, min(rounds, n))
    out, start = [], 1
    for r in range(rounds):
        size = n // rounds + (1 if r < n % rounds else 0)
        out.append((start, start + size - 1))
        start += size
    return out


def env_for(db, tmp):
    return {**os.environ, "DATABASE_URL": f"postgres://{c.PG['user']}@{c.PG['host']}:{c.PG['port']}/{db}",
            "URBANGRID_VAR_DIR": str(tmp), "DJANGO_SETTINGS_MODULE": "urbangrid.settings",
            "URBANGRID_SECRET_KEY": secrets.token_urlsafe(60), "URBANGRID_REDIS_URL": "",
            "PYTHONPATH": str(c.ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}


def urbangrid(env, *argv):
    return subprocess.run([sys.executable, "-m", "urbangrid.cli", *argv], env=env, check=True, cwd=c.ROOT,
                          capture_output=True, text=True).stdout


def setup_province(db, tmp):
    c.pg_create(db)
    env = env_for(db, tmp)
    urbangrid(env, "migrate", "-v0")
    urbangrid(env, "province", "city", "add", CITY_CODE, "--name", "基准城市", "--key", KEY)
    return env


def apply_child(directory, span):
    """The baseline (a child process on the baseline province): receive_batch over stored bodies, timed."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "urbangrid.settings")
    # Django and the project only here: the parent process set DATABASE_URL to the baseline's province first
    import django

    django.setup()
    from urbangrid.province import receive, wire
    from urbangrid.province.models import ProvinceCity

    first, last = (int(x) for x in span.split("-"))
    bodies = [(Path(directory) / f"{seq}.json").read_bytes() for seq in range(first, last + 1)]
    signatures = [wire.sign(KEY, b) for b in bodies]
    # warm up like a running server: the code paths loaded and a first query made, nothing applied
    wire.check(json.loads(bodies[0]))
    ProvinceCity.objects.get(code=CITY_CODE)
    load = os.getloadavg()[0]
    t = time.perf_counter()
    for body, sig in zip(bodies, signatures):
        status, answer = receive.receive_batch(body, CITY_CODE, sig, "127.0.0.1")
        if status != 200 or answer.get("duplicate"):
            raise SystemExit(f"baseline apply refused: {status} {answer}")
    seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "load": [load, os.getloadavg()[0]]}))
    return 0


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.apply:
        return apply_child(*args.apply)
    problem = c.pg_missing()
    if problem:
        print(f"Cannot run the exchange benchmark: {problem}", file=sys.stderr)
        return 1
    tmp = Path(tempfile.mkdtemp(prefix="urbangrid-bench-exchange-"))
    server = None
    try:
        c.log("the two provinces (migrate, register the city)")
        prov_env = setup_province(PROVINCE_DB, tmp)
        # the baseline's province: a copy of the migrated one (no second migration)
        c.pg_admin(f'DROP DATABASE IF EXISTS "{BASE_DB}" WITH (FORCE)', f'CREATE DATABASE "{BASE_DB}" TEMPLATE "{PROVINCE_DB}"')
        base_env = env_for(BASE_DB, tmp)
        c.pg_create(CITY_DB)
        city_env = env_for(CITY_DB, tmp)
        os.environ.update({k: city_env[k] for k in ("DATABASE_URL", "URBANGRID_VAR_DIR", "DJANGO_SETTINGS_MODULE")})
        sys.path.insert(0, str(c.ROOT / "src"))
        # Django and the project only now: the settings read the city's database from the environment set above
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from urbangrid.assessment.evaluation import tallies
        from urbangrid.cases.models import CaseEvent
        from urbangrid.exchange import outbox
        from urbangrid.exchange.models import OutboxBatch
        from urbangrid.fabricate.generate.build import Params, generate

        call_command("migrate", verbosity=0)
        c.log(f"generating the city: {args.cases} cases over {args.days} days, {args.grids} grids")
        t = time.perf_counter()
        generate(Params(cases=args.cases, grids=args.grids, years=1, days=args.days, workers=2), log=lambda m: None)
        gen_s = time.perf_counter() - t
        c.log("building the city's daily tallies")
        tallies.rebuild()
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        events_total = CaseEvent.objects.count()

        port = c.free_port()
        cfg = outbox.Config(url=f"http://127.0.0.1:{port}", key=KEY, city=CITY_CODE, timeout=120,
                            batch_events=args.batch_events)
        c.log("building every batch (the city's side)")
        load0 = os.getloadavg()[0]
        t = time.perf_counter()
        while outbox.build_next(cfg) is not None:
            pass
        build_s = time.perf_counter() - t
        build_load = (load0, os.getloadavg()[0])
        batches = list(OutboxBatch.objects.order_by("sequence").values_list("sequence", "events", "tallies", "body"))
        n = len(batches)
        assert [b[0] for b in batches] == list(range(1, n + 1))
        assert sum(b[1] for b in batches) == events_total, "the batches carry every event once"
        bodies = tmp / "bodies"
        bodies.mkdir()
        for seq, _e, _t, body in batches:
            (bodies / f"{seq}.json").write_bytes(bytes(body))
        body_bytes = sum(len(b[3]) for b in batches)
        with_tallies = sum(1 for b in batches if b[2])

        server = c.serve(prov_env, port, args.workers, tmp / "gunicorn.log", recycle=False)
        ours_s = base_s = 0.0
        per_round = []
        for r, (first, last) in enumerate(parts(n, args.rounds)):
            sides = ["ours", "base"] if r % 2 == 0 else ["base", "ours"]
            got = {}
            for side in sides:
                if side == "ours":
                    load = os.getloadavg()[0]
                    t = time.perf_counter()
                    result = outbox.push(force=True, max_batches=last - first + 1, cfg=cfg)
                    s = time.perf_counter() - t
                    if result.error or result.sent != last - first + 1 or result.duplicates:
                        raise RuntimeError(f"the push of batches {first}–{last} failed: {result}")
                    got["ours"] = (s, load, os.getloadavg()[0])
                else:
                    out = subprocess.run([sys.executable, __file__, "--apply", str(bodies), f"{first}-{last}"],
                                         env=base_env, check=True, capture_output=True, text=True, cwd=c.ROOT).stdout
                    res = json.loads(out.strip().splitlines()[-1])
                    got["base"] = (res["seconds"], *res["load"])
            events = sum(b[1] for b in batches[first - 1:last])
            per_round.append((first, last, events, got["ours"], got["base"]))
            ours_s += got["ours"][0]
            base_s += got["base"][0]
            c.log(f"  batches {first}–{last}: HTTP {events / got['ours'][0]:,.0f} events/s, "
                  f"in-process {events / got['base'][0]:,.0f} events/s")
        check = c.http(port, "GET", "/healthz")[0]
        assert check == 200
    finally:
        if server is not None:
            c.stop_server(server)
        from django.conf import settings  # imported here: Django may not have been set up when setup failed

        if settings.configured:
            from django.db import connections

            connections.close_all()
        for db in (CITY_DB, PROVINCE_DB, BASE_DB):
            c.pg_drop(db)
        shutil.rmtree(tmp, ignore_errors=True)

    ours_rate, base_rate = events_total / ours_s, events_total / base_s
    peak = peak_events_per_second()
    carried, apply_s, lag = push_lag(ours_rate, peak)
    c.print_header("City → province exchange over HTTP", "postgres", [
        f"City: `urbangrid generate` {args.cases:,} cases over {args.days} days ({args.cases * 365 / args.days:,.0f} "
        f"a year), {args.grids:,} unit grids, in {gen_s:.0f} s; daily tallies built; {events_total:,} events",
        f"Batches: {n} of ≤ {args.batch_events:,} events ({with_tallies} also carrying tally days), "
        f"{body_bytes / 1e6:,.1f} MB of JSON; built by the city in {build_s:.1f} s "
        f"({events_total / build_s:,.0f} events/s; load average {build_load[0]:.2f} → {build_load[1]:.2f})",
        f"Ours: `outbox.push` → gunicorn ({args.workers} sync workers) → `receive_batch`, one batch at a time; "
        f"baseline: `receive_batch` of the same bodies in a process of its own on a second province database",
        f"{len(per_round)} interleaved parts, the side going first alternating"], db_name=f"{CITY_DB}, {PROVINCE_DB}, "
        f"{BASE_DB}")
    print("| part | batches | events | HTTP push (s) | events/s | load avg 1 min before → after | in-process apply (s) | "
          "events/s | load avg before → after | ratio HTTP / in-process |")
    print("|---:|---:|---:|---:|---:|---|---:|---:|---|---:|")
    for i, (first, last, events, ours, base) in enumerate(per_round, 1):
        print(f"| {i} | {first}–{last} | {events:,} | {ours[0]:.2f} | {events / ours[0]:,.0f} | {ours[1]:.2f} → "
              f"{ours[2]:.2f} | {base[0]:.2f} | {events / base[0]:,.0f} | {base[1]:.2f} → {base[2]:.2f} | "
              f"{base[0] / ours[0]:.2f} |")
    print(f"| **all** | {n} | {events_total:,} | {ours_s:.2f} | **{ours_rate:,.0f}** | | {base_s:.2f} | "
          f"**{base_rate:,.0f}** | | **{c.ratio(ours_rate, base_rate):.2f}** |")
    print(f"\nBatches/s over HTTP: {n / ours_s:.2f} ({1000 * ours_s / n:.0f} ms a batch of ≈ "
          f"{events_total / n:,.0f} events); in-process: {n / base_s:.2f} ({1000 * base_s / n:.0f} ms a batch).\n")
    province_peak = peak_events_per_second(PROVINCE_CASES_PER_YEAR)
    print(f"Megacity peak (docs/scaling.md §1): {MEGACITY_CASES_PER_YEAR:,} cases a year ÷ {REPORT_DAYS} days ÷ "
          f"{WORKING_SECONDS:,} s × {PEAK_FACTOR} (peak hour) × {EVENTS_PER_CASE} events a case = **{peak:.1f} "
          f"events/s** (a province of {PROVINCE_CASES_PER_YEAR:,} cases a year: {province_peak:.0f} events/s, "
          f"{ours_rate / province_peak:,.0f}× below the measured rate); the measured {ours_rate:,.0f} events/s is "
          f"{ours_rate / peak:,.0f}× that. A push every {PUSH_INTERVAL_S} s carries ≈ {carried:,.0f} events, applied "
          f"in ≈ {apply_s:.2f} s at the measured rate: the oldest event of a push reaches the province ≈ {lag:.0f} s "
          "after it happened (the push interval dominates).\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
