"""Backup and restore: the database and the photos in one .tar.gz with a manifest.

SQLite uses the online backup API (consistent while the site keeps serving); PostgreSQL uses
pg_dump -Fc / pg_restore. Photos (MEDIA_ROOT) go in as files. The manifest records the database
vendor, the migration state and a SHA-256 of every member, and restore checks them before touching
anything.
"""
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.db.utils import DatabaseError
from django.utils import timezone

from urbangrid.core import tenancy
from urbangrid.core.bulk import analyze

FORMAT = "urbangrid-backup/1"


class BackupError(Exception):
    pass


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pg_env():
    s = connection.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    args = ["-h", str(s.get("HOST") or "127.0.0.1"), "-p", str(s.get("PORT") or 5432), "-U", str(s.get("USER") or "postgres")]
    return env, args, s["NAME"]


def _migrations():
    return sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())


def backup(output):
    """Write a backup archive to ``output``; returns its manifest."""
    output = Path(output)
    vendor = connection.vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"unsupported database {vendor}")
    with tempfile.TemporaryDirectory(prefix="ug-backup-") as tmp:
        tmp = Path(tmp)
        if vendor == "sqlite":
            db_file = tmp / "db.sqlite3"
            src = sqlite3.connect(str(connection.settings_dict["NAME"]))
            dst = sqlite3.connect(str(db_file))
            with dst:
                src.backup(dst)  # page by page, consistent, while writers go on
            src.close()
            dst.close()
        else:
            db_file = tmp / "db.pgdump"
            env, args, name = _pg_env()
            run = subprocess.run(["pg_dump", *args, "-Fc", "--no-owner", "--no-privileges", "-f", str(db_file), name],
                                 env=env, capture_output=True, text=True)
            if run.returncode:
                raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
        members = {db_file.name: _sha256(db_file)}
        media_root = tenancy.media_root()  # the active city's photos only
        media = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root.exists() else []
        if not tenancy.current_code() and tenancy.multi_city():  # outside any city: not the cities' folders
            media = [p for p in media if p.relative_to(media_root).parts[0] != "cities"]
        for p in media:
            members["media/" + p.relative_to(media_root).as_posix()] = _sha256(p)
        manifest = {"format": FORMAT, "created": timezone.now().isoformat(), "vendor": vendor, "database": db_file.name,
                    "migrations": _migrations(), "members": members}
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_suffix(output.suffix + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(db_file, arcname=db_file.name)
            for p in media:
                tar.add(p, arcname="media/" + p.relative_to(media_root).as_posix())
        partial.replace(output)  # a half-written archive never has the final name
    return manifest


def _safe_members(tar):
    for m in tar.getmembers():
        name = Path(m.name)
        if name.is_absolute() or ".." in name.parts or not (m.isfile() or m.isdir()):
            raise BackupError(f"refusing archive member {m.name!r}")
    return tar.getmembers()


def restore(archive, force=False):
    """Restore an archive into the configured database and MEDIA_ROOT; returns the manifest.

    Refuses a database that already holds cases unless ``force`` (nothing stored is lost by accident)."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"no such file: {archive}")
    with tempfile.TemporaryDirectory(prefix="ug-restore-") as tmp:
        tmp = Path(tmp)
        try:
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(tmp, members=_safe_members(tar))
            manifest = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))
        except (tarfile.TarError, OSError, EOFError, ValueError, KeyError) as exc:
            raise BackupError(f"not a readable backup archive: {exc}") from None
        if manifest.get("format") != FORMAT:
            raise BackupError("not an UrbanGrid backup archive")
        if manifest["vendor"] != connection.vendor:
            raise BackupError(f"the archive holds a {manifest['vendor']} database; this site uses {connection.vendor}")
        for name, digest in manifest["members"].items():
            path = tmp / name
            if not path.is_file() or _sha256(path) != digest:
                raise BackupError(f"archive member {name} is missing or damaged")
        if not force and _has_cases():
            raise BackupError("the database already holds cases; restore into an empty database or pass --force")
        db_file = tmp / manifest["database"]
        if connection.vendor == "sqlite":
            target = str(connection.settings_dict["NAME"])
            connection.close()
            src = sqlite3.connect(str(db_file))
            dst = sqlite3.connect(target)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()
        else:
            env, args, name = _pg_env()
            connection.close()
            run = subprocess.run(["pg_restore", *args, "--clean", "--if-exists", "--no-owner", "--no-privileges",
                                  "--single-transaction", "-d", name, str(db_file)], env=env, capture_output=True, text=True)
            if run.returncode:
                raise BackupError(f"pg_restore failed: {run.stderr.strip()}")
        media_src = tmp / "media"
        if media_src.exists():
            shutil.copytree(media_src, tenancy.media_root(), dirs_exist_ok=True)

    analyze()  # pg_restore brings no planner statistics
    return manifest


def _has_cases():
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1 FROM cases_case LIMIT 1")
            return cur.fetchone() is not None
    except DatabaseError:
        return False
