"""Demo build time: `urbangrid demo` on a fresh SQLite database (or PostgreSQL), timed end to end.

    .venv/bin/python bench/bench_demo.py [--db sqlite|postgres] [--seed 2024] [--against REF] [--rounds N]

The command is run as a user would run it (a subprocess of the installed `urbangrid` command) in a
temporary directory; the history part is also reported from the command's own output. ``--against REF``
also builds the demo with the code of git revision REF (a temporary work tree, put first on PYTHONPATH),
alternating with this checkout round by round, and prints the ratio: the baseline measured in the same run.
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


def build(db, seed, src=None):
    """(migrate s, demo s, history s, received/finished/open) for one build, with ``src`` first on the path."""
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory(prefix="ug-bench-demo-") as tmp:
        env["URBANGRID_VAR_DIR"] = tmp
        if db == "postgres":
            pg_create(BENCH_DB)
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
        else:
            env.pop("DATABASE_URL", None)
        try:
            t0 = time.perf_counter()
            subprocess.run([str(URBANGRID), "migrate", "--noinput", "-v0"], env=env, check=True)
            t1 = time.perf_counter()
            out = subprocess.run([str(URBANGRID), "demo", "--seed", str(seed)], env=env, check=True,
                                 capture_output=True, text=True).stdout
            t2 = time.perf_counter()
        finally:
            if db == "postgres":
                pg_drop(BENCH_DB)
    history = re.search(r"案件历史生成用时\(秒\): ([\d.]+)", out)
    cases = re.search(r"案件（受理/办结/在办）: ([\d/]+)", out)
    return t1 - t0, t2 - t1, float(history.group(1)) if history else None, cases.group(1) if cases else "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--against", help="git revision to build the same demo with, as the baseline")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    if args.seed < 0:
        parser.error("--seed must not be negative")
    if args.rounds < 1:
        parser.error("--rounds must be a positive whole number")
    if args.db == "postgres":
        why = pg_missing()
        if why:
            print(why, file=sys.stderr)
            return 1
    ours, theirs = [], []
    with baseline_tree(args.against) as base_src:
        for _ in range(args.rounds):
            ours.append(build(args.db, args.seed))
            if base_src:
                theirs.append(build(args.db, args.seed, base_src))
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    command = f".venv/bin/python bench/bench_demo.py --db {args.db}" + (
        f" --against {args.against} --rounds {args.rounds}" if args.against else "")
    print(f"### Demo build ({args.db})\n")
    print(f"Machine: {cpu}, {os.cpu_count()} cores. Command: `{command}` (median of {args.rounds})\n")
    med = lambda rows, i: statistics.median(r[i] for r in rows)  # noqa: E731
    if theirs:
        print(f"| step | this checkout | {args.against} | ratio |\n|---|---:|---:|---:|")
        for label, i in (("migrate (empty database)", 0), ("`urbangrid demo` (all of it)", 1), ("of which case history", 2)):
            a, b = med(ours, i), med(theirs, i)
            print(f"| {label} | {a:.1f} | {b:.1f} | {a / b:.2f} |")
        print(f"\nCases received/finished/open: this checkout {ours[-1][3]}, {args.against} {theirs[-1][3]}")
    else:
        print("| step | seconds |\n|---|---:|")
        print(f"| migrate (empty database) | {med(ours, 0):.1f} |")
        print(f"| `urbangrid demo` (city, responsibility list, components, logins, history) | {med(ours, 1):.1f} |")
        print(f"| of which case history ({ours[-1][3]} received/finished/open) | {med(ours, 2)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
