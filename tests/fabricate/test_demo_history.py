"""The demo's three years of cases: the document's totals and a history the workflow would produce.

Checked on the session's 3,000-case history (seed 11, the assessment and browser tests' city: built for real by
``fabricate.demo.build.build_demo`` once per session, restored here). The build's size is the one argument
``--cases`` changes (the default is the document's 30,861: ``RECEIVED``); every other figure below is a share
of it or holds whatever the size.
"""
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min
from django.utils import timezone

from urbangrid.cases.models import Case, CaseEvent, CaseNumberSequence
from urbangrid.cases.states import OPEN, Source, State
from urbangrid.cases.workflow import TABLE
from urbangrid.fabricate.demo.history import RECEIVED, STILL_OPEN
from demo_snapshot import build_demo

CASES = 3000  # the shared history's size (tests/browser/conftest.py, tests/assessment, tests/test_kpi_drilldown.py)


@pytest.mark.django_db
def test_demo_history_totals_and_chains(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    summary, _, _ = build_demo(seed=11, log=lambda m: None, history=True, cases=CASES)
    total = Case.objects.count()
    # the document's story (30,861 received, 30,831 handled, 30 open) at the size asked for: the size received, the
    # 30 newest still open (those in flight among them), and no step dated after now
    assert (RECEIVED, STILL_OPEN) == (30_861, 30)
    assert total == CASES
    assert Case.objects.exclude(state__in=OPEN).count() == CASES - STILL_OPEN
    assert Case.objects.filter(state__in=OPEN).count() == STILL_OPEN
    assert summary["案件（受理/办结/在办）"] == f"{CASES}/{CASES - STILL_OPEN}/{STILL_OPEN}"
    assert not CaseEvent.objects.filter(at__gt=timezone.now()).exists()
    newest = Case.objects.order_by("-created_at").values_list("created_at", flat=True)[29]
    assert not Case.objects.filter(state__in=OPEN, created_at__lt=newest).exists()
    # what the live loop writes: every filed case has its filing time, every supervised case its flag
    filed = CaseEvent.objects.filter(action="file").values("case_id").distinct().count()
    assert filed > 0.8 * total and Case.objects.filter(filed_at__isnull=False).count() == filed
    supervised = Case.objects.filter(supervision_count__gt=0)
    assert supervised.exists() and not supervised.filter(is_supervised=False).exists()
    # the replay consistency check over the whole demo city: chains, and every case field from its events
    out = StringIO()
    call_command("audit", "verify", "--quiet", stdout=out)
    assert f"已核验 {CASES} 个案件" in out.getvalue()
    # Channel mix: about 93 % found by inspectors.
    share = Case.objects.filter(source=Source.INSPECTOR).count() / total
    assert 0.90 < share < 0.96
    # About 2 % rework, some returns, extensions, suspensions; some late closures.
    rework = Case.objects.filter(rework_count__gt=0).count() / total
    assert 0.01 < rework < 0.03
    for field in ("return_count", "extension_count", "suspension_count", "supervision_count"):
        assert Case.objects.filter(**{f"{field}__gt": 0}).exists(), field
    overdue = Case.objects.filter(state=State.CLOSED, archive_type="overdue").count()
    assert 0.02 * total < overdue < 0.2 * total
    # Top classes: small ads, clutter, exposed garbage lead.
    top = list(Case.objects.values_list("class_code", "catalog_version").annotate(n=Count("pk")).order_by("-n")[:3])
    assert {(c, v) for c, v, _ in top} == {("0201", "local-demo"), ("0507", "local-demo"), ("0102", "local-demo")}
    # Numbers: year + sequence, unique, contiguous per year, and the sequence table continues after them.
    for seq in CaseNumberSequence.objects.all():
        numbers = Case.objects.filter(number__startswith=str(seq.year))
        assert numbers.count() == seq.last
        assert numbers.aggregate(m=Max("number"))["m"] == f"{seq.year}{seq.last:07d}"
    # Every event chain starts with the report, has contiguous sequence numbers and only allowed steps.
    stats = CaseEvent.objects.values("case_id").annotate(n=Count("pk"), lo=Min("seq"), hi=Max("seq"))
    assert all(s["lo"] == 1 and s["hi"] == s["n"] for s in stats)
    assert CaseEvent.objects.filter(seq=1).exclude(action="report").count() == 0
    sample = Case.objects.filter(state=State.CLOSED).order_by("?")[:300]
    for case in sample:
        events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
        state = None
        for e in events:
            t = TABLE[e.action]
            assert state in t.sources, (case.number, e.action, state)
            assert e.from_state == (state or "")
            state = e.to_state
        assert state == State.CLOSED and "close" in [e.action for e in events]
        assert case.version == len(events)
