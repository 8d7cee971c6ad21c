"""Demo build time: `urbangrid demo` on a fresh SQLite database (or PostgreSQL), timed end to end.

    .venv/bin/python bench/bench_demo.py [--db sqlite|postgres] [--seed 2024]

The command is run as a user would run it (a subprocess of the installed `urbangrid` command) in a
temporary directory; the history part is also reported from the command's own output.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCH_DB, ROOT, pg_create, pg_drop, pg_missing  # noqa: E402

URBANGRID = ROOT / ".venv" / "bin" / "urbangrid"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    if args.seed < 0:
        parser.error("--seed must not be negative")
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="ug-bench-demo-") as tmp:
        env["URBANGRID_VAR_DIR"] = tmp
        if args.db == "postgres":
            why = pg_missing()
            if why:
                print(why, file=sys.stderr)
                return 1
            pg_create(BENCH_DB)
            env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
        else:
            env.pop("DATABASE_URL", None)
        try:
            t0 = time.perf_counter()
            subprocess.run([str(URBANGRID), "migrate", "--noinput", "-v0"], env=env, check=True)
            t1 = time.perf_counter()
            out = subprocess.run([str(URBANGRID), "demo", "--seed", str(args.seed)], env=env, check=True,
                                 capture_output=True, text=True).stdout
            t2 = time.perf_counter()
        finally:
            if args.db == "postgres":
                pg_drop(BENCH_DB)
    history = re.search(r"案件历史生成用时\(秒\): ([\d.]+)", out)
    cases = re.search(r"案件（受理/办结/在办）: ([\d/]+)", out)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"### Demo build ({args.db})\n")
    print(f"Machine: {cpu}, {os.cpu_count()} cores. Command: `.venv/bin/python bench/bench_demo.py --db {args.db}`\n")
    print("| step | seconds |\n|---|---:|")
    print(f"| migrate (empty database) | {t1 - t0:.1f} |")
    print(f"| `urbangrid demo` (city, responsibility list, components, logins, history) | {t2 - t1:.1f} |")
    if history:
        print(f"| of which case history ({cases.group(1) if cases else '?'} received/finished/open) | {history.group(1)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
