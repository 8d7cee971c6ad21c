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
