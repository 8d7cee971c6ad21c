"""`make demo` serves with the production server (gunicorn through `urbangrid serve`) on PORT, and the grid signs'
public URL (their QR codes) follows that port."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_make_demo_serves_gunicorn_on_port_and_the_sign_url_follows(tmp_path):
    plan = subprocess.run(["make", "-n", "demo", "PORT=8123"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True).stdout
    serve = next(line for line in plan.replace("\\\n", " ").splitlines() if "urbangrid serve" in line)
    assert "--bind 127.0.0.1:8123" in serve and "runserver" not in plan
    base = re.search(r"URBANGRID_PUBLIC_BASE_URL=\$\{URBANGRID_PUBLIC_BASE_URL:-([^}]+)\}", serve).group(1)
    assert base == "http://127.0.0.1:8123"
    assert "URBANGRID_DEMO=1" in serve  # a demo server (the demo also writes its own random key to var/)
    # what the served processes then print on a sign (and encode in its QR code)
    env = dict(os.environ, URBANGRID_PUBLIC_BASE_URL=base, URBANGRID_VAR_DIR=str(tmp_path), URBANGRID_DEMO="1")
    env.pop("DATABASE_URL", None)
    out = subprocess.run([str(BIN / "urbangrid"), "shell", "-c",
                          "from types import SimpleNamespace as S; from urbangrid.places.card import report_url;"
                          "print(report_url(S(code='WG01')))"], env=env, capture_output=True, text=True, timeout=120,
                         check=True).stdout.strip()
    assert out.splitlines()[-1] == "http://127.0.0.1:8123/report/WG01/"
    # and `urbangrid serve` is gunicorn with sync workers
    dry = subprocess.run([str(BIN / "urbangrid"), "serve", "--bind", "127.0.0.1:8123", "--workers", "3", "--dry-run"],
                         env=env, capture_output=True, text=True, timeout=120, check=True).stdout
    assert "gunicorn" in dry and "--worker-class sync" in dry and "127.0.0.1:8123" in dry


def test_make_screenshots_runs_the_script_and_make_test_does_not():
    plan = subprocess.run(["make", "-n", "screenshots"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "scripts/screenshots.py" in plan
    test_plan = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "screenshots" not in test_plan
    # the script knows every demo role's screens and writes under var/screenshots by default
    help_text = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--help"], capture_output=True,
                               text=True, timeout=60, check=True).stdout
    assert "--roles" in help_text and "--out" in help_text
