"""分类版本切换 on the demo city: built on the document's lists (the history), switched to GB/T 47678.5-2026 by the
build, then back and forward again with ``urbangrid catalog switch``. Every closed case keeps its class and events;
every open case is mapped through the crosswalk (an audited event) or listed for a person's decision; the audit
chain and the case rows' replay stay valid; a dry run writes nothing."""
import pytest
from django.core.management import CommandError, call_command

from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.replay import disagreements
from urbangrid.cases.states import OPEN
from urbangrid.cases.workflow import Action
from urbangrid.catalog.crosswalk import Crosswalk, Status, family
from urbangrid.catalog.models import CatalogClass, CatalogVersion, CrosswalkEntry, ResponsibilityRule
from urbangrid.cases.catalog_switch import SwitchError, switch_catalogue

pytestmark = pytest.mark.django_db

NEW, OLD = "gbt47678.5-2026", "cjt214-2007"
CLASS = ("catalog_class_id", "class_code", "catalog_version", "kind")


@pytest.fixture
def city(settings, tmp_path):
    from demo_snapshot import build_demo  # built once per session, restored for the next test

    settings.VAR_DIR = tmp_path
    summary, _logins, _path = build_demo(seed=9, log=lambda m: None, history=True, cases=400)
    return summary


def _closed():
    """Every closed case as it stands: its class fields, state, version and events."""
    events = {}
    for e in CaseEvent.objects.order_by("case_id", "seq").values_list("case_id", "seq", "action", "hash"):
        events.setdefault(e[0], []).append(e[1:])
    return {c["pk"]: (c, events.get(c["pk"])) for c in Case.objects.exclude(state__in=OPEN).values(
        "pk", "number", "state", "version", "chain_hash", *CLASS)}


def _current():
    return sorted(CatalogVersion.objects.filter(is_current=True).values_list("code", flat=True))


def _check_open_cases(report, versions):
    """Each open case is under the target catalogue (mapped now or before) or listed for a decision."""
    ids = {v.pk for v in versions}
    pending = {c["number"] for c in report.cases_pending}
    mapped = {c["number"] for c in report.cases_mapped}
    assert not pending & mapped
    for case in Case.objects.filter(state__in=OPEN).select_related("catalog_class__version"):
        if case.number in pending:
            assert case.catalog_class.version_id not in ids
        else:
            assert case.catalog_class.version_id in ids, case.number
            assert (case.class_code, case.catalog_version, case.kind) == (
                case.catalog_class.code, case.catalog_class.version.code, case.catalog_class.kind)
        if case.number in mapped:
            last = CaseEvent.objects.filter(case=case).order_by("-seq").first()
            assert last.action == Action.RECLASSIFY and not last.public
            assert last.data["class"]["id"] == case.catalog_class_id


def test_switch_to_2026_and_back_keeps_closed_cases_and_maps_or_lists_every_open_one(city, capsys):
    from django.utils import timezone

    # The build switched the city: 2026 and its local extensions current, the old lists kept for the history.
    assert _current() == ["gbt47678.5-2026", "local-demo-2026"]
    assert CatalogClass.objects.filter(version__code="local-demo").count() == 54
    open_cases = Case.objects.filter(state__in=OPEN)
    assert open_cases.count() == 30
    in_2026 = open_cases.filter(catalog_class__version__code__in=["gbt47678.5-2026", "local-demo-2026"]).count()
    reclassified = CaseEvent.objects.filter(action=Action.RECLASSIFY)
    assert reclassified.count() == in_2026 > 0  # the build mapped them, each with its event
    assert Case.objects.exclude(state__in=OPEN).exclude(catalog_version__in=["local-demo", OLD]).count() == 0
    closed = _closed()
    assert len(closed) == 370

    # A dry run says what would happen and writes nothing.
    before_rules = ResponsibilityRule.objects.count()
    dry = switch_catalogue(OLD, dry_run=True)
    assert dry.dry_run and dry.current_after == [OLD, "local-demo"]
    assert _current() == ["gbt47678.5-2026", "local-demo-2026"] and reclassified.count() == in_2026
    assert ResponsibilityRule.objects.count() == before_rules

    # Back to the document's lists, by the command; Open311 lists the services of the catalogue now current (its
    # cached document is dropped by the switch) and still answers for the codes requests keep.
    from django.test import Client

    services = lambda: {s["service_code"] for s in Client().get("/open311/v2/services.json").json()}  # noqa: E731
    assert "gbt47678.5-2026:event:06010" in services()
    call_command("catalog", "switch", "--to", OLD)
    out = capsys.readouterr().out
    assert "已切换" in out and _current() == [OLD, "local-demo"]
    listed = services()
    assert "local-demo:event:0102" in listed and not any(code.startswith(NEW) for code in listed)
    replaced = Client().get("/open311/v2/services/gbt47678.5-2026:event:06010.json").json()
    assert replaced["replaced"] is True and replaced["replaced_by"] == ["local-demo:event:0102"]
    back = Crosswalk()
    old_family = family(OLD)
    # Every open case is mapped back (the reverse of a split is the one old class) or listed; closed untouched.
    for case in open_cases.select_related("catalog_class__version"):
        if case.catalog_class.version.code not in (OLD, "local-demo"):
            assert back.counterpart(case.catalog_class, old_family).status in Status.NEEDS_DECISION
    assert _closed() == closed

    # And forward again: the same mapping as the build's, closed cases still as they were.
    report = switch_catalogue(NEW)
    _check_open_cases(report, family(NEW))
    assert _closed() == closed
    assert len(report.cases_mapped) + len(report.cases_pending) <= 30
    for row in report.cases_pending:
        assert row["status"] in Status.NEEDS_DECISION

    # The audit chain and every case row's replay from its events hold after the round trip.
    call_command("audit", "verify")
    now = timezone.now()
    for case in Case.objects.filter(pk__in=CaseEvent.objects.filter(action=Action.RECLASSIFY).values("case_id")):
        assert disagreements(case, list(case.events.order_by("seq")), now) == []


def test_switch_reports_split_and_no_successor_and_maps_once_decided(city):
    """Open cases whose class is split (0117 立杆) or has no 2026 class (0602 工地) stay and are listed; once a
    person verifies one row of the split, the next switch maps the case."""
    from urbangrid.cases.services import reclassify

    switch_catalogue(OLD)
    old = {c.code: c for c in CatalogClass.objects.filter(version__code=OLD, kind="component", code__in=["0117", "0602"])}
    pole, site = Case.objects.filter(state__in=OPEN).order_by("pk")[:2]
    for case, cls in ((pole, old["0117"]), (site, old["0602"])):
        reclassify(case.number, cls, note="测试")
    report = switch_catalogue(NEW)
    pending = {c["number"]: c for c in report.cases_pending}
    assert pending[pole.number]["status"] == Status.SPLIT and len(pending[pole.number]["candidates"]) == 5
    assert pending[site.number]["status"] == Status.NONE and pending[site.number]["candidates"] == []
    assert any(r["status"] == Status.SPLIT and "0117" in r["class"] for r in report.rules_pending)
    pole.refresh_from_db()
    assert pole.catalog_class_id == old["0117"].pk and report.needs_decision

    entry = CrosswalkEntry.objects.get(old_class=old["0117"], new_class__code="01031")  # 通信立杆, chosen
    entry.verified = True
    entry.save()
    again = switch_catalogue(NEW)
    assert pole.number in {c["number"] for c in again.cases_mapped}
    pole.refresh_from_db()
    assert (pole.catalog_version, pole.class_code) == (NEW, "01031")
    assert site.number in {c["number"] for c in again.cases_pending}


def test_switch_refuses_an_unknown_version_and_writes_nothing(city, capsys):
    before = (_current(), CaseEvent.objects.count())
    with pytest.raises(SwitchError, match="没有分类版本"):
        switch_catalogue("gbt-9999")
    with pytest.raises(CommandError, match="没有分类版本"):
        call_command("catalog", "switch", "--to", "nope")
    assert (_current(), CaseEvent.objects.count()) == before
