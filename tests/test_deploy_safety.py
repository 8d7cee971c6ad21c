"""What a server refuses to start on, what the deploy check fails on, and demo passwords per install."""
import os
import secrets
import subprocess
import sys

import pytest

from urbangrid.fabricate.demo.logins import build_logins


def _env(tmp_path, **extra):
    env = dict(os.environ, URBANGRID_VAR_DIR=str(tmp_path), **extra)
    for name in ("URBANGRID_DEBUG", "URBANGRID_DEMO", "URBANGRID_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        if name not in extra:
            env.pop(name, None)
    return env


def _run(args, env):
    return subprocess.run([sys.executable, "-m", "urbangrid", *args], env=env, capture_output=True, text=True, timeout=300)


def test_deploy_check_fails_on_the_builtin_key(tmp_path):
    run = _run(["check", "--deploy"], _env(tmp_path, URBANGRID_HTTPS="1", URBANGRID_ALLOWED_HOSTS="grid.example.gov.cn"))
    assert run.returncode != 0 and "urbangrid.E001" in run.stdout + run.stderr
    run = _run(["check", "--deploy"], _env(tmp_path, URBANGRID_HTTPS="1", URBANGRID_SECRET_KEY=secrets.token_urlsafe(60),
                                           URBANGRID_TRUSTED_PROXIES="10.0.0.0/8,not-a-network"))
    assert run.returncode != 0 and "urbangrid.E002" in run.stdout + run.stderr and "E001" not in run.stdout + run.stderr


def test_the_server_refuses_to_start_on_the_builtin_key(tmp_path):
    refused = _run(["serve", "--dry-run"], _env(tmp_path))
    assert refused.returncode != 0 and "URBANGRID_SECRET_KEY" in refused.stderr
    assert _run(["serve", "--dry-run"], _env(tmp_path, URBANGRID_DEMO="1")).returncode == 0
    assert _run(["serve", "--dry-run"], _env(tmp_path, URBANGRID_SECRET_KEY=secrets.token_urlsafe(60))).returncode == 0
    # Whatever WSGI server loads the application refuses too.
    wsgi = subprocess.run([sys.executable, "-c", "import urbangrid.wsgi"], env=_env(tmp_path), capture_output=True, text=True,
                          timeout=300)
    assert wsgi.returncode != 0 and "ImproperlyConfigured" in wsgi.stderr


def test_the_demo_writes_its_own_secret_key(tmp_path):
    from django.test import override_settings

    from urbangrid.core.secretkey import ensure_secret_key

    with override_settings(VAR_DIR=tmp_path):
        key = ensure_secret_key()
        assert ensure_secret_key() == key and len(key) >= 50
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"
    # A server started on that install uses it, and starts without the demo flag.
    shown = subprocess.run([sys.executable, "-c", "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='urbangrid.settings';"
                            "django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"],
                           env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert shown.stdout.strip() == key
    assert _run(["serve", "--dry-run"], _env(tmp_path)).returncode == 0


@pytest.mark.django_db
def test_demo_passwords_differ_per_install_and_hold_per_install(demo_city, tmp_path, settings):
    from django.contrib.auth import authenticate

    settings.VAR_DIR = tmp_path / "one"
    first, _path = build_logins(2024)
    again, _path = build_logins(2024)
    settings.VAR_DIR = tmp_path / "two"
    other, _path = build_logins(2024)
    for role in ("admin", "inspector", "dispatcher"):
        assert first[role]["password"] == again[role]["password"]
        assert first[role]["password"] != other[role]["password"]
    assert first["open311_api_key"] != other["open311_api_key"]
    assert authenticate(username="admin", password=other["admin"]["password"]) is not None
    assert authenticate(username="admin", password=first["admin"]["password"]) is None
