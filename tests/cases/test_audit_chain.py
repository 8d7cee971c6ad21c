"""The audit trail's hash chain: intact after real work, and a tampered event is found."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from urbangrid.cases.chain import verify
from urbangrid.cases.models import Case

from ug_testing import dispatched_case

pytestmark = pytest.mark.django_db


def _case():
    return Case.objects.get(pk=dispatched_case(opinion="速办").pk)


def test_chain_intact_then_tampering_found(demo_city, capsys):
    case = _case()
    assert verify(case) is None
    call_command("audit", "verify", "--case", case.number)
    # A DBA lifts the triggers and edits an opinion: the chain shows it.
    from urbangrid.cases import append_only as triggers
    triggers.uninstall(connection)
    with connection.cursor() as cur:
        cur.execute("UPDATE cases_caseevent SET note = %s WHERE case_id = %s AND seq = 4", ["改过的意见", case.pk])
    triggers.install(connection)
    problem = verify(case)
    assert problem and "event 4" in problem
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--case", case.number)
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--case", "NOPE")


def test_demo_history_chains_verify(settings, tmp_path):
    """History written in bulk is chained the same way as live transitions."""
    from demo_snapshot import build_demo  # the catalog tests' arguments: built once per session, for real the first time

    settings.VAR_DIR = tmp_path
    build_demo(seed=9, log=lambda m: None, history=True, cases=400)
    call_command("audit", "verify")
    assert all(verify(c) is None for c in Case.objects.all()[:50])
