"""The member records page (/assessment/members/) costs the same number of queries however many members there
are, and however many of them acted in the period (issue 17, finding 10: no per-row queries)."""
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from eval_helpers import Log
from ug_testing import login_client
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment

pytestmark = pytest.mark.django_db
URL = "/assessment/members/"


def page_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(URL)
    assert resp.status_code == 200
    return len(ctx), resp.content.decode()


def add_inspectors(log, n, start):
    """``n`` new party members, each an inspector of the log's grid who reports one case this year."""
    org = PartyOrganization.objects.order_by("pk").first()
    now = timezone.now()
    for i in range(start, start + n):
        p = Person.objects.create(name=f"新党员{i}", employee_no=f"QC{i:04d}", is_party_member=True, party_organization=org)
        RoleAssignment.objects.create(person=p, role="inspector", grid=log.grid.responsibility_grid)
        log.case(now - timedelta(minutes=5 + i), reporter=p)


def test_member_page_queries_do_not_grow_with_members(demo_city, client):
    log = Log()
    login_client(client, "leader")
    client.get(URL)  # warm the per-process caches (calendar, scheme) so that the count is the page's own
    add_inspectors(log, 2, 0)
    few, html = page_queries(client)
    assert "新党员1" in html
    add_inspectors(log, 25, 2)
    many, html = page_queries(client)
    assert "新党员26" in html
    assert many == few


def test_grouped_counts_match_the_events_one_by_one(demo_city):
    """``person_counts`` reads the on-time flags in the database; the same verdicts event by event (the
    evaluation's judge over each event's data) give the same counters."""
    from collections import defaultdict

    from eval_helpers import T
    from urbangrid.assessment.evaluation.evaluate import evaluation_for
    from urbangrid.assessment.periods import period_of
    from urbangrid.assessment.reviews.members import PERSON_ACTIONS, person_counts
    from urbangrid.cases.models import CaseEvent

    log = Log()
    a = log.dispatched(T(2026, 3, 2, 9), log.u1)
    log.feed_back(a, T(2026, 3, 2, 15))  # on time
    b = log.dispatched(T(2026, 3, 2, 9), log.u1)
    log.feed_back(b, T(2026, 3, 5, 9))  # late
    log.close(a, T(2026, 3, 3, 11))
    c = log.case(T(2026, 3, 4, 9))  # the inspector's report
    log.ev(c, "accept", T(2026, 3, 4, 9, 5))
    march = period_of("month", T(2026, 3, 10).date())
    ev = evaluation_for(march.start, march.end)
    got = person_counts(march, ev)
    want = defaultdict(lambda: defaultdict(int))
    for e in CaseEvent.objects.filter(action__in=list(PERSON_ACTIONS), at__gte=march.start, at__lt=march.end,
                                      actor_person__isnull=False):
        w = want[e.actor_person_id]
        w[e.action] += 1
        if PERSON_ACTIONS[e.action] and ev.on_time(e.data, PERSON_ACTIONS[e.action], e.at) is not None:
            w["timed"] += 1
            w["ontime"] += bool(ev.on_time(e.data, PERSON_ACTIONS[e.action], e.at))
    assert {p: dict(c) for p, c in got.items()} == {p: dict(c) for p, c in want.items()}
    handler = log.handler(log.u1).pk
    assert (got[handler]["feed_back"], got[handler]["timed"], got[handler]["ontime"]) == (2, 2, 1)
