"""`make test` checks the Debian packages the suite needs before any test runs (scripts/system-deps): present,
it passes quietly; missing without root, it stops with the one command to run."""
import os
import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "system-deps"


def _run(env, as_nobody):
    argv = [str(SCRIPT)]
    if as_nobody:
        # a copy in a folder anyone may enter (the checkout's parents may be closed to other users)
        import tempfile

        folder = tempfile.mkdtemp(prefix="ug-sysdeps-")
        os.chmod(folder, 0o755)
        copy = Path(folder) / "system-deps"
        shutil.copy(SCRIPT, copy)
        os.chmod(copy, 0o755)
        argv = [str(copy)]
        argv = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", "nobody", "--", "env",
                *[f"{k}={v}" for k, v in env.items()], *argv]
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env={**os.environ, **env})


def test_present_passes_and_missing_without_root_says_how():
    root = os.geteuid() == 0
    ok = _run({}, as_nobody=False) if not root else subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr  # the suite is running, so what it needs is there (or was just installed)
    missing = _run({"URBANGRID_CHROMIUM": "/nonexistent/chromium", "PATH": "/usr/bin:/bin"}, as_nobody=root)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        "make test needs chromium: run  sudo apt-get install -y chromium  (or run make test as root)"]
