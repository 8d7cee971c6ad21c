"""Megacity generation speed: `urbangrid generate` on a fresh database, this checkout against a git revision.

    .venv/bin/python bench/bench_generate.py [--db sqlite|postgres] [--cases 100000] [--grids 5000]
                                             [--workers 2] [--against REF] [--rounds N]

Each round generates the same city (seed 7) with this checkout and, with ``--against``, with the code of REF
(a temporary work tree first on PYTHONPATH), one after the other, and reports the generator's own cases/s and
events/s and the ratio (the baseline measured in the same run). Ends with ANALYZE on PostgreSQL (the command
does it).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DB, ROOT, baseline_tree, pg_create, pg_drop, pg_missing  # noqa: E402

URBANGRID = ROOT / ".venv" / "bin" / "urbangrid"


def generate(args, src=None):
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory(prefix="ug-bench-gen-") as tmp:
        env["URBANGRID_VAR_DIR"] = tmp
        if args.db == "postgres":
            pg_create(BENCH_DB)
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
        else:
            env.pop("DATABASE_URL", None)
        try:
            subprocess.run([str(URBANGRID), "migrate", "--noinput", "-v0"], env=env, check=True)
            t0 = time.perf_counter()
            out = subprocess.run([str(URBANGRID), "generate", "--cases", str(args.cases), "--grids", str(args.grids),
                                  "--years", "1", "--seed", "7", "--workers", str(args.workers)],
                                 env=env, check=True, capture_output=True, text=True).stdout
            wall = time.perf_counter() - t0
        finally:
            if args.db == "postgres":
                pg_drop(BENCH_DB)
    cps = re.search(r"cases_per_second: (\d+)", out)
    eps = re.search(r"events_per_second: (\d+)", out)
    return wall, int(cps.group(1)) if cps else 0, int(eps.group(1)) if eps else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--grids", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--against", help="git revision to generate the same city with, as the baseline")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    for name in ("cases", "grids", "workers", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be a positive whole number")
    if args.db == "postgres" and pg_missing():
        print(pg_missing(), file=sys.stderr)
        return 1
    ours, theirs = [], []
    with baseline_tree(args.against) as base_src:
        for _ in range(args.rounds):
            ours.append(generate(args))
            if base_src:
                theirs.append(generate(args, base_src))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    command = (f".venv/bin/python bench/bench_generate.py --db {args.db} --cases {args.cases} --grids {args.grids} "
               f"--workers {args.workers}" + (f" --against {args.against} --rounds {args.rounds}" if args.against else ""))
    print(f"### Generation ({args.db}, {args.cases:,} cases, {args.grids:,} grids)\n")
    print(f"Machine: {cpu}, {os.cpu_count()} cores. Command: `{command}` (median of {args.rounds})\n")
    med = lambda rows, i: statistics.median(r[i] for r in rows)  # noqa: E731
    head = "| | wall (s) | cases/s | events/s |"
    print(head + ("\n|---|---:|---:|---:|" if not theirs else ""))
    if theirs:
        print("|---|---:|---:|---:|")
    print(f"| this checkout | {med(ours, 0):.1f} | {med(ours, 1):,.0f} | {med(ours, 2):,.0f} |")
    if theirs:
        print(f"| {args.against} | {med(theirs, 0):.1f} | {med(theirs, 1):,.0f} | {med(theirs, 2):,.0f} |")
        print(f"| ratio (this / baseline) | {med(ours, 0) / med(theirs, 0):.2f} | {med(ours, 1) / med(theirs, 1):.2f} | "
              f"{med(ours, 2) / med(theirs, 2):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
