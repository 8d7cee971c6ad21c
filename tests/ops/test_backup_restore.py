"""Backup and restore round trip, on SQLite and PostgreSQL, photos included, compared table by table."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

from ug_testing import drop_site, site_env

BIN = Path(sys.executable).parent


def _run(env, *args, check=True):
    return subprocess.run([str(BIN / "urbangrid"), *args], env=env, capture_output=True, text=True, timeout=600, check=check)


def _fingerprint(env):
    """Every table's rows (dumpdata, sorted) and every photo's checksum."""
    data = json.loads(_run(env, "dumpdata", "--natural-foreign", "--indent", "0", "-e", "contenttypes", "-e", "auth.permission",
                           "-e", "sessions", "-e", "admin.logentry").stdout)
    rows = sorted(json.dumps(r, sort_keys=True, ensure_ascii=False) for r in data)
    media = Path(env["URBANGRID_VAR_DIR"]) / "media"
    files = {p.relative_to(media).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in media.rglob("*") if p.is_file()}
    return rows, files


def test_round_trip(tmp_path):
    # The suite runs once per database (.ci/run): each run proves the round trip on its own database.
    a, b = tmp_path / "a", tmp_path / "b"
    # The audit key lives outside the database (and the backup): the restoring site brings the same key.
    envs = [site_env(d, name, URBANGRID_AUDIT_KEY="backup-test-key") for name, d in (("ug_backup_a", a), ("ug_backup_b", b))]
    try:
        src, dst = envs
        _run(src, "migrate", "--noinput", "-v0")
        _run(src, "demo", "--seed", "4", "--cases", "200")
        # A real photo through the service layer, so media is part of the round trip.
        _run(src, "shell", "-c", (
            "import io; from PIL import Image; from django.core.files.uploadedfile import SimpleUploadedFile;"
            "from django.contrib.auth import get_user_model as U; from urbangrid.org.scope import actor_for;"
            "from urbangrid.cases import services; from urbangrid.catalog.models import CatalogClass as C;"
            "b=io.BytesIO(); Image.new('RGB',(40,30),(9,9,9)).save(b,'JPEG');"
            "services.report(actor_for(U().objects.get(username='inspector')), catalog_class=C.objects.get(version__code='local-demo', code='0401'),"
            " lon=117.2352, lat=31.8785, description='x', source='inspector', photos=[SimpleUploadedFile('p.jpg', b.getvalue())])"))
        archive = tmp_path / "backup.tar.gz"
        _run(src, "backup", "-o", str(archive))
        _run(dst, "migrate", "--noinput", "-v0")
        _run(dst, "restore", str(archive))
        before, after = _fingerprint(src), _fingerprint(dst)
        assert before[0] == after[0] and len(before[0]) > 1000
        assert before[1] == after[1] and len(before[1]) == 1
        assert "已核验" in _run(dst, "audit", "verify").stdout
        # Restoring over a database with cases is refused unless forced; a damaged archive is refused.
        refused = _run(dst, "restore", str(archive), check=False)
        assert refused.returncode != 0 and "already holds cases" in refused.stderr
        broken = tmp_path / "broken.tar.gz"
        broken.write_bytes(archive.read_bytes()[:2000])
        bad = _run(dst, "restore", str(broken), "--force", check=False)
        assert bad.returncode != 0 and "backup archive" in bad.stderr
        assert _fingerprint(dst)[0] == after[0]  # nothing lost by the refused attempts
    finally:
        for name in ("ug_backup_a", "ug_backup_b"):
            drop_site(name)
