"""GET requests read from the case rows (``fastread``) answer exactly what the ORM serializer answers: every
case of the demo plus cases in each shape the document distinguishes (unassigned and located, 待定位, dispatched,
ended with and without a unit, public answers to the citizen, an Open311 record with a media URL, no address),
in JSON and XML, with and without the flow log, through a page and one by one."""
import secrets

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone, translation

from urbangrid.cases import services
from urbangrid.cases.models import Case
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.models import RoleAssignment
from urbangrid.org.scope import actor_for
from urbangrid.public.open311 import fastread, keys
from urbangrid.public.open311 import serializers as ser
from urbangrid.public.open311.render import to_json, to_xml

pytestmark = pytest.mark.django_db
SERVICE = "local-demo-2026:event:21001"


def staff(name):
    return actor_for(get_user_model().objects.get(username=name))


@pytest.fixture
def shapes(demo_city):
    """Cases in every shape the document tells apart, made through the case service and the Open311 door."""
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    made = []
    for i in range(6):
        case, _ = services.report(staff("inspector"), catalog_class=cls, lon=117.2310 + 0.0004 * i, lat=31.8785,
                                  description=f"问题{i}", source="inspector", require_photos=False)
        made.append(case.number)
    lead, intake = staff("shift_lead"), staff("intake_operator")
    services.transition(intake, made[1], "not_file", {"reason": "内部理由", "public_note": "公开答复：已转交"})
    for number in (made[2], made[5]):
        services.transition(intake, number, "accept")
        filed = services.transition(lead, number, "file")
        if filed.state == "pending_dispatch":
            unit = RoleAssignment.objects.filter(role="unit_handler").first().unit
            services.transition(staff("dispatcher"), number, "dispatch", {"unit": unit.code})
    # ended, no longer with a unit: the last unit it was dispatched to answers for it
    Case.objects.filter(number=made[5]).update(state="closed", current_unit=None, closed_at=timezone.now())
    services.transition(lead, made[3], "void", {"reason": "重复"})
    Case.objects.filter(number=made[4]).update(address="")  # the address from the regions' names
    _key, raw = keys.issue("测试系统")
    c = Client(REMOTE_ADDR=f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7")
    for extra in ({"lat": "31.8785", "long": "117.2352", "media_url": "https://example.org/a.jpg"},
                  {"address_string": "并不存在的某某路 999 号"}):
        r = c.post("/open311/v2/requests.json", {"api_key": raw, "service_code": SERVICE, "description": "路面塌陷",
                                                 **extra})
        assert r.status_code == 200, r.content
        made.append(r.json()[0]["service_request_id"])
    return made


def _orm(numbers, extensions):
    cases = {c.number: c for c in Case.objects.select_related(*ser.REQUEST_RELATED).filter(number__in=numbers)}
    return ser.RequestSerializer(extensions=extensions).many([cases[n] for n in numbers])


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("extensions", [False, True])
def test_fast_reader_equals_the_orm_serializer(shapes, extensions, language):
    numbers = list(Case.objects.order_by("-created_at", "-pk").values_list("number", flat=True)[:400])
    assert set(shapes) <= set(numbers)
    with translation.override(language):
        slow = _orm(numbers, extensions)
        rows = fastread.rows_of(Case.objects.order_by("-created_at", "-pk")[:400])
        fast = fastread.serialize(rows, extensions)
        assert fast == slow
        assert to_json(fast) == to_json(slow) and to_xml("service_requests", fast) == to_xml("service_requests", slow)
        for _twice in range(2):  # the JSON made, then kept
            assert fastread.serialize_json(rows, extensions) == to_json(slow)
        for number in shapes + numbers[::37]:  # one by one: the statements compiled once per connection
            assert fastread.serialize([fastread.row_by_number(number)], extensions) == _orm([number], extensions)
    # the shapes are all there: an agency worked out, none, one that handled it, a public answer, a media URL
    by_number = {d["service_request_id"]: d for d in fast}
    docs = [by_number[n] for n in shapes]
    assert docs[0]["agency_responsible"] and docs[0]["status"] == "open"
    assert docs[1]["status"] == "closed" and docs[1]["status_notes"].endswith("公开答复：已转交")
    assert docs[6]["media_url"] == "https://example.org/a.jpg" and docs[7]["long"] is None
    assert docs[7]["agency_responsible"] is None
    assert docs[5]["status"] == "closed" and docs[5]["agency_responsible"]  # the unit that handled it
    assert any(d["notes"] for d in fast) if extensions else True
    assert fastread.row_by_number("19990000001") is None


def test_names_follow_edits(shapes, client):
    number = shapes[0]
    first = client.get(f"/open311/v2/requests/{number}.json").json()[0]
    cls = Case.objects.get(number=number).catalog_class
    cls.plain_name = "井盖不见了"
    cls.save()
    assert client.get(f"/open311/v2/requests/{number}.json").json()[0]["service_name"] == "井盖不见了"
    assert first["service_name"] != "井盖不见了"


def test_one_request_costs_one_query_when_warm(shapes, client, django_assert_num_queries):
    number = shapes[2]
    client.get(f"/open311/v2/requests/{number}.json")
    with django_assert_num_queries(1):  # the case row (with its Open311 record); its document kept
        assert client.get(f"/open311/v2/requests/{number}.json").status_code == 200


def test_a_page_compiled_once_reads_what_its_queryset_reads(shapes):
    """``page_rows`` keeps one statement per shape and binds each request's values into it: every shape asked
    twice with other values answers the rows of the queryset it stands for."""
    from datetime import timedelta

    from django.db.models import Q

    from urbangrid.cases.states import TERMINAL

    made = Case.objects.filter(number__in=shapes)
    codes = sorted({(c.catalog_version, c.kind, c.class_code) for c in made})
    codes.append(("local-demo", "event", "9999"))  # a code no case has: the statement binds it and finds nothing
    now = timezone.now()
    windows = [(now - timedelta(days=90), now + timedelta(minutes=1)), (now - timedelta(days=1500), now - timedelta(days=30))]

    def reference(start, end, page, size, codes=(), status=None):
        qs = Case.objects.filter(created_at__gte=start, created_at__lte=end)
        if codes:
            q = Q(pk__in=[])
            for v, k, c in codes:
                q |= Q(catalog_version=v, kind=k, class_code=c)
            qs = qs.filter(q)
        if status == "open":
            qs = qs.exclude(state__in=TERMINAL)
        elif status == "closed":
            qs = qs.filter(state__in=TERMINAL)
        return [tuple(r) for r in fastread.rows_of(qs.order_by("-created_at", "-pk")[(page - 1) * size: page * size])]

    seen = 0
    for shape in ({}, {"codes": codes[:1]}, {"codes": codes}, {"status": "open"}, {"status": "closed"},
                  {"codes": codes, "status": "open"}):
        for page, size in ((1, 7), (2, 7), (1, 100)):
            for start, end in windows:
                got = [tuple(r) for r in fastread.page_rows(start, end, page, size, **shape)]
                assert got == reference(start, end, page, size, **shape), (shape, page, size, start)
                seen += len(got)
    assert seen >= 50  # the shapes and windows found cases to compare


def test_kept_documents_follow_the_record_the_names_and_the_responsibility_list(shapes):
    """``serialize`` keeps each case's document; asked again it answers the kept one without reading events, and
    whatever the document is made of changing (a step on the record, a class's name, the unit the responsibility
    list names for a case without a unit) gives the new document, the ORM serializer's."""
    from urbangrid.catalog.models import ResponsibilityRule
    from urbangrid.org.models import Unit

    def page():
        return fastread.rows_of(Case.objects.filter(number__in=shapes).order_by("-created_at", "-pk"))

    def numbers(rows):
        return [r[fastread.NUMBER] for r in rows]

    rows = page()
    first = fastread.serialize(rows)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:  # every document kept: no events, no names, no units read
        assert fastread.serialize(rows) == first
    # at most the grid data version the responsibility cache checks its answers against
    assert [q["sql"] for q in ctx.captured_queries if "griddataversion" not in q["sql"]] == []
    assert first == _orm(numbers(rows), False)
    # a step on the record: the case's chain hash moves, its document is made again
    services.transition(staff("intake_operator"), shapes[0], "accept")
    rows = page()
    again = fastread.serialize(rows)
    assert again == _orm(numbers(rows), False) and again != first
    # a class's name
    case = Case.objects.get(number=shapes[0])
    case.catalog_class.plain_name = "井盖又不见了"
    case.catalog_class.save()
    renamed = fastread.serialize(page())
    assert {d["service_name"] for d in renamed if d["service_request_id"] == shapes[0]} == {"井盖又不见了"}
    assert renamed == _orm(numbers(rows), False)
    # the responsibility list names another unit for an unassigned case
    doc = next(d for d in renamed if d["service_request_id"] == shapes[0])
    other = Unit.objects.filter(active=True).exclude(name=doc["agency_responsible"]).first()
    ResponsibilityRule.objects.create(catalog_class_id=case.catalog_class_id, responsibility_grid_id=case.responsibility_grid_id,
                                      unit=other, time_limit_value=3, time_limit_unit="working_days")
    moved = fastread.serialize(page())
    assert next(d for d in moved if d["service_request_id"] == shapes[0])["agency_responsible"] == other.name
    assert moved == _orm(numbers(rows), False)
    assert fastread.serialize_json(page()) == to_json(moved)  # the kept JSON follows as the documents do
