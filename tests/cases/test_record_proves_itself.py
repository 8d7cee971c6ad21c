"""The event log is append-only on the database itself after ``migrate`` from zero, and ``audit verify`` finds
every kind of tampering: an edited event, a deleted event, an edited case field, and a chain recomputed
without the key. Run as a site would: fresh database, the ``urbangrid`` command, raw SQL as a DBA would type it.
The demo city's history (``ug_testing.HISTORY``: migrate from zero, then ``urbangrid demo``) is a copy of the
session's build of it; the migration from zero under test runs here for real. The suite runs once per database
(.ci/run), so this proves both SQLite and PostgreSQL."""
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ug_testing import HISTORY, new_site, suite_vendor

BIN = Path(sys.executable).parent
PG_NAME = f"ug_audit_{os.getpid()}"


def _run(env, *args, check=True):
    return subprocess.run([str(BIN / "urbangrid"), *args], env=env, capture_output=True, text=True, timeout=900, check=check)


class Raw:
    """Plain SQL on the site's database, outside the application."""

    def __init__(self, env, vendor):
        self.vendor = vendor
        if vendor == "postgresql":
            import psycopg

            self.conn = psycopg.connect(env["DATABASE_URL"], autocommit=True)
        else:
            self.conn = sqlite3.connect(Path(env["URBANGRID_VAR_DIR"]) / "urbangrid.sqlite3", isolation_level=None)

    def sql(self, statement, params=()):
        if self.vendor == "sqlite":
            statement = statement.replace("%s", "?")
        cur = self.conn.execute(statement, params)
        try:
            return cur.fetchall()
        except Exception:  # noqa: BLE001 - statements without rows
            return []

    def triggers(self):
        if self.vendor == "sqlite":
            return {r[0] for r in self.sql("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='cases_caseevent'")}
        return {r[0] for r in self.sql("SELECT tgname FROM pg_trigger WHERE tgrelid='cases_caseevent'::regclass "
                                       "AND NOT tgisinternal")}

    def lift_triggers(self):
        """What a DBA with full rights does first."""
        for name in self.triggers():
            self.sql(f"DROP TRIGGER {name}" + (" ON cases_caseevent" if self.vendor == "postgresql" else ""))


@pytest.fixture
def site(tmp_path):
    """The demo city with history; its audit key is the file in the var dir, made on first use by the build."""
    env, drop = new_site(tmp_path, PG_NAME, HISTORY)
    yield env, suite_vendor()
    drop()


def test_append_only_after_migrate_and_every_tampering_found(site, tmp_path):
    # ``migrate`` from zero on an empty database puts the triggers in place.
    fresh, drop_fresh = new_site(tmp_path / "fresh", PG_NAME + "_fresh")
    try:
        _run(fresh, "migrate", "--noinput", "-v0")
        fresh_raw = Raw(fresh, suite_vendor())
        assert fresh_raw.triggers() >= {"caseevent_no_update"}
        fresh_raw.conn.close()
    finally:
        drop_fresh()
    env, vendor = site
    raw = Raw(env, vendor)
    assert raw.triggers() >= {"caseevent_no_update"}
    assert "案件字段与流转记录一致" in _run(env, "audit", "verify").stdout
    assert (tmp_path / "audit.key").exists() and oct((tmp_path / "audit.key").stat().st_mode & 0o777) == "0o600"

    # Append-only: raw UPDATE and DELETE of an event are refused by the database.
    for statement in ("UPDATE cases_caseevent SET note = 'x' WHERE id = (SELECT MIN(id) FROM cases_caseevent)",
                      "DELETE FROM cases_caseevent WHERE id = (SELECT MAX(id) FROM cases_caseevent)"):
        with pytest.raises(Exception, match="append-only"):
            raw.sql(statement)
    assert raw.sql("SELECT COUNT(*) FROM cases_caseevent WHERE note = 'x'")[0][0] == 0

    closed = [r[0] for r in raw.sql("SELECT number FROM cases_case WHERE state = 'closed' AND archive_type = 'normal' "
                                    "AND is_overdue = %s ORDER BY number LIMIT 4", (False,))]
    edited, deleted, field, forged = closed
    pk = {n: raw.sql("SELECT id FROM cases_case WHERE number = %s", (n,))[0][0] for n in closed}
    raw.lift_triggers()
    # 1. an edited event
    raw.sql("UPDATE cases_caseevent SET note = '改过的意见' WHERE case_id = %s AND seq = 2", (pk[edited],))
    # 2. a deleted last event
    raw.sql("DELETE FROM cases_caseevent WHERE case_id = %s AND seq = (SELECT MAX(seq) FROM cases_caseevent "
            "WHERE case_id = %s)", (pk[deleted], pk[deleted]))
    # 3. an edited case field (the events untouched)
    raw.sql("UPDATE cases_case SET archive_type = 'special', is_overdue = %s WHERE id = %s", (True, pk[field]))
    # 4. an event edited and its chain recomputed by someone who can write the tables but has not the key
    _run(dict(env, URBANGRID_AUDIT_KEY="a guess"), "shell", "-c", (
        "from django.db import connection; from urbangrid.cases.chain import digest, GENESIS;"
        "from urbangrid.cases.models import Case, CaseEvent;"
        f"case = Case.objects.get(number='{forged}'); prev = GENESIS; cur = connection.cursor()\n"
        "for e in CaseEvent.objects.filter(case=case).order_by('seq'):\n"
        "    e.note = e.note + '（已改）' if e.seq == 2 else e.note\n"
        "    h = digest(prev, e, case.number)\n"
        "    cur.execute('UPDATE cases_caseevent SET note = %s, prev_hash = %s, hash = %s WHERE id = %s', [e.note, prev, h, e.pk])\n"
        "    prev = h\n"
        "cur.execute('UPDATE cases_case SET chain_hash = %s WHERE id = %s', [prev, case.pk])\n"))
    result = _run(env, "audit", "verify", check=False)
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert any(edited in line and "event 2" in line for line in lines), lines
    assert any(deleted in line and "head of the chain" in line for line in lines), lines
    assert any(field in line and "archive_type" in line for line in lines), lines
    assert any(forged in line and "does not match its hash" in line for line in lines), lines

    # ``migrate`` puts lifted triggers back, whatever migration ran last.
    _run(env, "migrate", "--noinput", "-v0")
    assert raw.triggers() >= {"caseevent_no_update"}
    with pytest.raises(Exception, match="append-only"):
        raw.sql("DELETE FROM cases_caseevent WHERE id = (SELECT MAX(id) FROM cases_caseevent)")


def test_a_rotated_key_still_verifies_the_old_chains(site, tmp_path):
    env, _vendor = site
    first = (tmp_path / "audit.key").read_text().strip()  # the key the demo's chains were sealed with
    rotated = dict(env, URBANGRID_AUDIT_KEY="second key", URBANGRID_AUDIT_KEYS_OLD=first)
    assert "案件字段与流转记录一致" in _run(rotated, "audit", "verify").stdout
    wrong = _run(dict(env, URBANGRID_AUDIT_KEY="second key"), "audit", "verify", check=False)
    assert wrong.returncode != 0 and "does not match its hash" in wrong.stderr
