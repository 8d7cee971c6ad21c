"""Schemathesis against the running server (gunicorn): the JSON API with a privileged and a low-privileged
bearer token, and the Open311 GeoReport v2 endpoint with an API key. Every response must be a declared
status with a body matching its schema, and never a 5xx. The number of examples is bounded so the module
stays within about two minutes."""
import json
import subprocess
import urllib.request

import pytest

from ug_testing import DEMO, new_site

from .servers import BIN, free_port, logins as demo_logins, start_gunicorn, stop, token, urbangrid, wait_up

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
EXAMPLES = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("fuzz")
    env, drop = new_site(var, "h4_fuzz", DEMO)
    logins = demo_logins(var)
    port = free_port()
    proc = start_gunicorn(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base + "/healthz")
        yield base, logins, var, env
    finally:
        stop(proc)
        drop()


def _schemathesis(location, *args, cwd):
    run = subprocess.run([str(BIN / "schemathesis"), "run", location, "--checks", CHECKS, "-n", str(EXAMPLES),
                          "--seed", "8", "--workers", "1", "--no-shrink", "--request-timeout", "60", *args],
                         capture_output=True, text=True, cwd=cwd, timeout=600)
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-5000:]
    return run.stdout


@pytest.mark.parametrize("role", ["admin", "inspector"])
def test_api_v1_against_its_schema(server, role):
    base, logins, var, _env = server
    out = _schemathesis(base + "/api/v1/openapi.json", "-H", f"Authorization: Bearer {token(base, logins[role])}", cwd=var)
    assert "Tested: " in out


def test_open311_against_its_description(server):
    base, logins, var, env = server
    with urllib.request.urlopen(base + "/open311/v2/openapi.json", timeout=30) as r:
        doc = json.loads(r.read())
    assert doc["openapi"].startswith("3.") and "/requests.json" in doc["paths"]
    # The key and a real service code as examples so generated requests get past authentication and
    # reach the case creation; the served description itself carries no key.
    key = logins["open311_api_key"]
    for op in ("/requests.json", "/servicerequestupdates.json"):
        body = doc["paths"][op]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        body["properties"]["api_key"] = {"type": "string", "enum": [key]}
    doc["paths"]["/servicerequestupdates.json"]["get"]["parameters"][0]["schema"] = {"type": "string", "enum": [key]}
    create = doc["paths"]["/requests.json"]["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    create["example"] = {"api_key": key, "service_code": "local-demo-2026:event:21001", "lat": "31.8785", "long": "117.2352",
                         "description": "路面塌陷", "account_id": "fuzz"}
    path = var / "open311.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    out = _schemathesis(str(path), "--url", base + "/open311/v2", cwd=var)
    assert "Tested: " in out
    # The generated requests got through to case creation, not only to the error paths.
    made = urbangrid(env, "shell", "-c", "from urbangrid.public.models import Open311Request as R; print(R.objects.count())")
    assert int(made.stdout.split()[-1]) > 0
