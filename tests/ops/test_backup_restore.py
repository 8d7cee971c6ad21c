"""Backup and restore round trip, on SQLite and PostgreSQL, photos included, compared table by table."""
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from ug_testing import HISTORY, MIGRATED, new_site

BIN = Path(sys.executable).parent


def _run(env, *args, check=True):
    return subprocess.run([str(BIN / "urbangrid"), *args], env=env, capture_output=True, text=True, timeout=600, check=check)


# Every table's rows, read with plain SQL in the site's own process: per table, the row count and a digest of
# the rows in a fixed order. SQLite's own tables (sqlite_stat1 and the like) are the engine's, not the site's.
_TABLES = (
    "import hashlib, json\n"
    "from django.db import connection\n"
    "out = {}\n"
    "with connection.cursor() as cur:\n"
    "    for t in connection.introspection.table_names():\n"
    "        if t.startswith('sqlite_'):\n"
    "            continue\n"
    "        cur.execute('SELECT * FROM ' + connection.ops.quote_name(t))\n"
    "        rows = sorted(repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)) for r in cur.fetchall())\n"
    "        out[t] = [len(rows), hashlib.sha256('\\n'.join(rows).encode()).hexdigest()]\n"
    "print('JSON' + json.dumps(out))\n")


def _fingerprint(env):
    """Every table's rows (count and digest, table by table) and every photo's checksum."""
    tables = json.loads(_run(env, "shell", "-c", _TABLES).stdout.split("JSON", 1)[1])
    media = Path(env["URBANGRID_VAR_DIR"]) / "media"
    files = {p.relative_to(media).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in media.rglob("*") if p.is_file()}
    return tables, files


def test_round_trip(tmp_path):
    # The suite runs once per database (.ci/run): each run proves the round trip on its own database.
    a, b = tmp_path / "a", tmp_path / "b"
    # The source: the demo city with 200 cases of history; the destination: a migrated empty site.
    (src, drop_src), (dst, drop_dst) = new_site(a, "ug_backup_a", HISTORY), new_site(b, "ug_backup_b", MIGRATED)
    try:
        # The audit key lives outside the database (and the backup): the restoring site brings the same key.
        shutil.copy2(a / "audit.key", b / "audit.key")
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
        _run(dst, "restore", str(archive))
        before, after = _fingerprint(src), _fingerprint(dst)
        assert before[0] == after[0] and sum(n for n, _ in before[0].values()) > 1000
        assert before[0]["cases_caseevent"][0] > 1000  # the demo history came through
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
        drop_src()
        drop_dst()
