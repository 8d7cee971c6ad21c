"""`make demo-province`: a province of three cities on this machine (issue 20: 部省市三级平台).

Two deployments of the same code, each its own process and databases, as a province and its cities would run:

- the **cities** (one deployment, several cities: ``URBANGRID_CITIES_FILE``): the demo city (``hf``, the same
  city as ``make demo``, at http://127.0.0.1:PORT/ and http://hf.localhost:PORT/) and two smaller generated
  ones (``wh``, ``aq`` at http://wh.localhost:PORT/, http://aq.localhost:PORT/), each in its own SQLite file;
- the **province node** (its own database, http://127.0.0.1:PROVINCE_PORT/province/), where the three cities
  are registered with their keys.

Each city is built, tallied and pushed to the province through the real exchange (HTTP, signed batches); the
script then checks that the province holds each city's cases, case for case, prints the logins and serves both
deployments with a task consumer for the cities (the push to the province and the fetch of its tasks every
minute) until Ctrl-C. Everything lives under ``var/province-demo/`` (rebuilt from scratch on each run).
``--no-serve`` stops after the check (the test suite runs it that way, small).
"""
import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# code, name at the province, map position (WGS-84), host names in the cities' deployment
CITIES = (
    ("hf", "示范市", 117.23, 31.86, ("hf.localhost", "127.0.0.1", "localhost")),
    ("wh", "东湖市", 118.38, 31.33, ("wh.localhost",)),
    ("aq", "西山市", 117.06, 30.53, ("aq.localhost",)),
)
PROVINCE_USER = "province"


def run(env, *args):
    """One ``urbangrid`` command; its error output and a non-zero exit end the script with that message."""
    done = subprocess.run([str(BIN / "urbangrid"), *args], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.stderr.write(f"urbangrid {' '.join(args)} failed:\n{done.stderr or ''}")
        raise SystemExit(done.returncode)
    return done.stdout


def answer(env, *args, code):
    """What a ``urbangrid shell -c`` program printed after the marker ``JSON`` (other output comes before it)."""
    return json.loads(run(env, *args, "shell", "-c", code).split("JSON", 1)[1])


def wait_up(url, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not come up in {seconds} s")


def base_env(var_dir, **extra):
    env = dict(os.environ, URBANGRID_VAR_DIR=str(var_dir), **extra)
    for name in ("DATABASE_URL", "URBANGRID_CITIES_FILE", "URBANGRID_TEST_SQLITE", "URBANGRID_EXCHANGE_URL",
                 "URBANGRID_EXCHANGE_CITY", "URBANGRID_EXCHANGE_KEY"):
        if name not in extra:
            env.pop(name, None)
    return env


def build_province(env, keys):
    run(env, "migrate", "--noinput", "-v0")
    for code, name, lon, lat, _hosts in CITIES:
        run(env, "province", "city", "add", code, "--name", name, "--key", keys[code], "--lon", str(lon), "--lat", str(lat))
    password = secrets.token_urlsafe(9)
    # A province user who reads the dashboard and assigns tasks (Django's model permissions, docs/province.md).
    run(env, "shell", "-c", (
        "from django.contrib.auth import get_user_model; from django.contrib.auth.models import Group, Permission\n"
        "g, _ = Group.objects.get_or_create(name='province')\n"
        "g.permissions.set(Permission.objects.filter(content_type__app_label='province', codename__in=["
        "'view_provincecity', 'view_provincetask', 'add_provincetask']))\n"
        f"u = get_user_model().objects.create_user({PROVINCE_USER!r}, password={password!r}, first_name='省级平台')\n"
        "u.groups.add(g)\n"))
    return password


def build_cities(env, registry, keys, province_url, main_cases, small_cases, seed):
    # No `migrate` of the deployment's own database: with a registry every request, command and periodic task
    # runs in a city, whose database `city add` creates and migrates (README, "Several cities").
    for code, name, _lon, _lat, hosts in CITIES:
        run(env, "city", "add", code, "--name", name, *[a for h in hosts for a in ("--host", h)])
    # Each city's code and key at the province live in its own registry entry (README, "Several cities").
    data = json.loads(registry.read_text(encoding="utf-8"))
    for entry in data["cities"]:
        entry["settings"].update({"URBANGRID_EXCHANGE_URL": province_url, "URBANGRID_EXCHANGE_CITY": entry["code"],
                                  "URBANGRID_EXCHANGE_KEY": keys[entry["code"]]})
    registry.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    print("  hf: the demo city", flush=True)
    run(env, "--city", "hf", "demo", "--seed", str(seed), *(["--cases", str(main_cases)] if main_cases else []))
    for i, code in enumerate(("wh", "aq")):
        print(f"  {code}: a generated city of {small_cases} cases", flush=True)
        run(env, "--city", code, "generate", "--cases", str(small_cases), "--grids", "120", "--days", "120",
            "--seed", str(seed + 1 + i), "--workers", "1")
    for code, *_rest in CITIES:
        run(env, "--city", code, "tallies", "build")


# Per city of the cities' deployment, in one process: what its outbox still holds and its case numbers.
CITIES_STATE = (
    "import json; from urbangrid.core import tenancy; from urbangrid.exchange import outbox\n"
    "from urbangrid.cases.models import Case\n"
    "out = {}\n"
    "for city in tenancy.cities():\n"
    "    with tenancy.activate(city):\n"
    "        s = outbox.status()\n"
    "        out[city.code] = {'pending': s['pending_batches'] + s['unsent_events'], 'error': s['last_error'],\n"
    "                          'numbers': sorted(Case.objects.values_list('number', flat=True))}\n"
    "print('JSON' + json.dumps(out))\n")


def push_all(env):
    """Each city pushes until its outbox is empty (a push that finds another one running leaves it be);
    returns each city's case numbers as the city holds them."""
    todo = [code for code, *_rest in CITIES]
    for _attempt in range(200):
        for code in todo:
            run(env, "--city", code, "exchange", "push", "--now")  # a failed push exits non-zero: run() stops
        state = answer(env, code=CITIES_STATE)
        todo = [code for code, *_rest in CITIES if state[code]["pending"]]
        if not todo:
            return {code: s["numbers"] for code, s in state.items()}
        for code in todo:
            if state[code]["error"]:
                raise SystemExit(f"{code}: the push failed: {state[code]['error']}")
    raise SystemExit(f"{', '.join(todo)}: still not up to date after 200 pushes")


def check(own, province_env):
    """The province's cases per city against each city's own (number for number)."""
    rows = []
    held = answer(province_env, code=(
        "import json; from urbangrid.province.models import ProvinceCase as P\n"
        "print('JSON' + json.dumps({c: sorted(P.objects.filter(city__code=c).values_list('number', flat=True))"
        f" for c in {[c[0] for c in CITIES]!r}}}))"))
    for code, name, *_rest in CITIES:
        if own[code] != held[code]:
            raise SystemExit(f"{code}: the province holds {len(held[code])} cases, the city {len(own[code])}")
        rows.append((code, name, len(own[code])))
    return rows


def start(env, log, *args):
    """A server or consumer in its own process group, its output in ``log`` (the terminal keeps the summary)."""
    with open(log, "ab") as out:
        return subprocess.Popen([str(BIN / "urbangrid"), *args], env=env, start_new_session=True, stdout=out,
                                stderr=subprocess.STDOUT)


def stop(procs):
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--var", default=str(ROOT / "var" / "province-demo"), help="where both deployments live")
    parser.add_argument("--port", type=int, default=8000, help="the cities' port")
    parser.add_argument("--province-port", type=int, default=8001)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--main-cases", type=int, default=None, help="the demo city's history (default: the demo's)")
    parser.add_argument("--small-cases", type=int, default=3000, help="cases of each generated city")
    parser.add_argument("--no-serve", action="store_true", help="build, push, check, then stop")
    args = parser.parse_args(argv)

    var = Path(args.var)
    if var.exists():
        shutil.rmtree(var)
    province_var, cities_var = var / "province", var / "cities"
    province_var.mkdir(parents=True)
    cities_var.mkdir(parents=True)
    registry = cities_var / "cities.json"
    province_url = f"http://127.0.0.1:{args.province_port}"
    keys = {code: secrets.token_hex(24) for code, *_rest in CITIES}
    province_env = base_env(province_var, URBANGRID_PUBLIC_BASE_URL=province_url, URBANGRID_DEMO="1")
    city_env = base_env(cities_var, URBANGRID_CITIES_FILE=str(registry), URBANGRID_DEMO="1",
                        URBANGRID_PUBLIC_BASE_URL=f"http://127.0.0.1:{args.port}")

    print("The province node", flush=True)
    password = build_province(province_env, keys)
    print("The cities", flush=True)
    build_cities(city_env, registry, keys, province_url, args.main_cases, args.small_cases, args.seed)

    # One worker takes the pushes (one at a time); a second one for the dashboard while the demo is served.
    workers = "1" if args.no_serve else "2"
    procs = [start(province_env, var / "province.log", "serve", "--bind", f"127.0.0.1:{args.province_port}", "--workers", workers)]
    try:
        wait_up(province_url + "/healthz")
        print("The exchange: each city pushes its cases, tallies and grids to the province", flush=True)
        own = push_all(city_env)
        for code, name, n in check(own, province_env):
            print(f"  {code} {name}: {n} cases, the same numbers at the province", flush=True)
        (var / "logins.json").write_text(json.dumps({"province": {"url": province_url + "/province/",
                                                                  "username": PROVINCE_USER, "password": password}},
                                                    ensure_ascii=False, indent=2), encoding="utf-8")
        print(f"Province dashboard: {province_url}/province/ (user {PROVINCE_USER}, password {password}; "
              f"{var / 'logins.json'})")
        print(f"Cities: http://hf.localhost:{args.port}/ (the demo city; logins in {cities_var / 'demo' / 'logins.json'}), "
              f"http://wh.localhost:{args.port}/, http://aq.localhost:{args.port}/", flush=True)
        if args.no_serve:
            return 0
        procs.append(start(city_env, var / "tasks.log", "run_huey"))
        print(f"Serving until Ctrl-C (server output in {var}/*.log)", flush=True)
        procs.append(start(city_env, var / "cities.log", "serve", "--bind", f"127.0.0.1:{args.port}", "--workers", "3"))
        procs[-1].wait()
    except KeyboardInterrupt:
        pass
    finally:
        stop(procs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
