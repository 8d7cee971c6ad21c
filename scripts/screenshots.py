#!/usr/bin/env python3
"""`make screenshots`: every role's main screens, in Chinese and English, at 1366×768 and 360×740.

Builds a demo city in a temporary var dir (`urbangrid demo`), serves it with `urbangrid serve` on a free port
(URBANGRID_DEMO=1), logs in as each demo role from that dir's var/demo/logins.json and writes full-page PNGs to
var/screenshots/<lang>-<width>/<role>-<screen>.png. Chromium is Debian's, driven by Playwright, as in the browser
tests (tests/browser/conftest.py); never `playwright install`.

Options: --seed N, --cases N (case history size, default 1500; 0 = none), --out DIR, --roles a,b.
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("URBANGRID_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
LANGUAGES = ("zh-hans", "en")
WIDTHS = {"1366": {"width": 1366, "height": 768}, "360": {"width": 360, "height": 740}}

# role -> [(name, path)]: "home" is where the role lands after logging in.
SCREENS = {
    "anonymous": [("login", "/accounts/login/"), ("report", "/report/"), ("public", "/public/"), ("track", "/track/")],
    "leader": [("home", "/"), ("dashboard", "/dashboard/"), ("assessment", "/assessment/"), ("grids", "/grids/"),
               ("map", "/map/")],
    "grid_leader": [("home", "/"), ("grids", "/grids/"), ("grid-page", "/grids/WG01/")],
    "inspector": [("home", "/m/"), ("report", "/m/report/")],
    "assessor": [("home", "/"), ("deductions", "/assessment/deductions/"), ("deduction-new", "/assessment/deductions/new/")],
    "intake_operator": [("home", "/")],
    "shift_lead": [("home", "/")],
    "dispatcher": [("home", "/"), ("cases", "/cases/")],
    "district_dispatcher": [("home", "/")],
    "unit_handler": [("home", "/")],
    "admin": [("home", "/"), ("admin", "/admin/")],
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def urbangrid(env, *args, **kw):
    return subprocess.run([sys.executable, "-m", "urbangrid", *args], env=env, cwd=ROOT, check=True, **kw)


def wait_until_up(base, server, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"urbangrid serve exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the demo server did not answer on {base} within {timeout} s")


def shoot(browser, base, logins, out, roles):
    written = []
    for lang in LANGUAGES:
        for width, viewport in WIDTHS.items():
            folder = out / f"{lang}-{width}"
            folder.mkdir(parents=True, exist_ok=True)
            phone = width == "360"
            for role in roles:
                if role != "anonymous" and role not in logins:
                    print(f"  no demo login for {role}; skipped", flush=True)
                    continue
                ctx = browser.new_context(locale="zh-CN" if lang == "zh-hans" else "en-US", viewport=viewport,
                                          is_mobile=phone, has_touch=phone, device_scale_factor=1,
                                          geolocation={"latitude": 31.8785, "longitude": 117.2352}, permissions=["geolocation"])
                ctx.add_cookies([{"name": "django_language", "value": lang, "url": base}])
                page = ctx.new_page()
                try:
                    if role != "anonymous":
                        page.goto(f"{base}/accounts/login/")
                        page.fill("#id_username", logins[role]["username"])
                        page.fill("#id_password", logins[role]["password"])
                        page.click("button[type=submit]")
                        page.wait_for_url(lambda url: "/accounts/login/" not in url)
                    for name, path in SCREENS[role]:
                        page.goto(f"{base}{path}", wait_until="load")
                        try:
                            page.wait_for_load_state("networkidle", timeout=8000)
                        except Exception:  # a page that keeps polling: take it as it is
                            pass
                        target = folder / f"{role}-{name}.png"
                        page.screenshot(path=str(target), full_page=True)
                        written.append(target)
                        print(f"  {target.relative_to(out)}", flush=True)
                finally:
                    ctx.close()
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--cases", type=int, default=1500)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "screenshots")
    parser.add_argument("--roles", default=",".join(SCREENS))
    opts = parser.parse_args()
    roles = [r for r in opts.roles.split(",") if r]
    unknown = set(roles) - set(SCREENS)
    if unknown:
        parser.error(f"unknown roles: {', '.join(sorted(unknown))} (known: {', '.join(SCREENS)})")
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        raise SystemExit(f"chromium not found at {CHROMIUM}: `make system-deps` installs it")

    var = Path(tempfile.mkdtemp(prefix="ug-screenshots-"))
    env = dict(os.environ, URBANGRID_VAR_DIR=str(var), URBANGRID_DEMO="1")
    env.pop("DATABASE_URL", None)  # the temporary demo city lives in its own SQLite file
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env["URBANGRID_PUBLIC_BASE_URL"] = base
    server = None
    try:
        print(f"Building the demo city in {var} …", flush=True)
        urbangrid(env, "migrate", "--noinput", stdout=subprocess.DEVNULL)
        demo_args = ["--seed", str(opts.seed)] + (["--no-history"] if opts.cases == 0 else ["--cases", str(opts.cases)])
        urbangrid(env, "demo", *demo_args, stdout=subprocess.DEVNULL)
        if opts.cases:
            urbangrid(env, "tallies", "build", stdout=subprocess.DEVNULL)
        logins = json.loads((var / "demo" / "logins.json").read_text(encoding="utf-8"))
        server = subprocess.Popen([sys.executable, "-m", "urbangrid", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(base, server)
        print(f"Serving on {base}; writing to {opts.out}", flush=True)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                written = shoot(browser, base, logins, opts.out, roles)
            finally:
                browser.close()
        print(f"{len(written)} screenshots in {opts.out}")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
