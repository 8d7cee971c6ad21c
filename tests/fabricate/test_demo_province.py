"""`make demo-province`: two deployments (the cities, the province node), three cities built and pushed through
the real exchange; the province holds each city's cases number for number, its tallies and grid versions, and
its user can sign in. Small sizes; the script itself checks the case numbers and exits non-zero otherwise."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fuzz.servers import free_port
from ug_testing import suite_vendor

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# The demo province is SQLite files whatever the run's database: once is enough (the SQLite run).
pytestmark = pytest.mark.skipif(suite_vendor() != "sqlite", reason="runs in the SQLite run of the suite")


def test_make_demo_province_passes_its_ports():
    plan = subprocess.run(["make", "-n", "demo-province", "PORT=8123", "PROVINCE_PORT=8124"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True).stdout
    assert "scripts/demo_province.py --port 8123 --province-port 8124" in plan


def test_three_cities_reach_their_province(tmp_path):
    var = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "URBANGRID_TEST_SQLITE")}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo_province.py"), "--var", str(var),
                           "--port", str(free_port()), "--province-port", str(free_port()), "--main-cases", "120",
                           "--small-cases", "150", "--no-serve"], env=env, capture_output=True, text=True, timeout=3600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    same = [line for line in done.stdout.splitlines() if "the same numbers at the province" in line]
    assert [line.split()[0] for line in same] == ["hf", "wh", "aq"]
    assert "hf 示范市: 120 cases" in done.stdout and "wh 东湖市: 150 cases" in done.stdout
    login = json.loads((var / "logins.json").read_text(encoding="utf-8"))["province"]

    province = dict(env, URBANGRID_VAR_DIR=str(var / "province"), URBANGRID_DEMO="1")
    out = subprocess.run([str(BIN / "urbangrid"), "shell", "-c", (
        "import json; from django.contrib.auth import authenticate\n"
        "from urbangrid.province.models import ProvinceCity\n"
        f"u = authenticate(username={login['username']!r}, password={login['password']!r})\n"
        "print('JSON' + json.dumps({'user': bool(u and u.has_perms(['province.view_provincecity', "
        "'province.add_provincetask'])), 'cities': {c.code: [c.tally_days.count(), c.grid_versions.count(), "
        "c.last_received_at is not None] for c in ProvinceCity.objects.all()}}))")],
                         env=province, capture_output=True, text=True, timeout=300, check=True).stdout
    seen = json.loads(out.split("JSON", 1)[1])
    assert seen["user"]
    assert set(seen["cities"]) == {"hf", "wh", "aq"}
    for code, (tally_days, grid_versions, received) in seen["cities"].items():
        assert tally_days > 0 and grid_versions == 1 and received, code
