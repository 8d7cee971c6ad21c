"""The transition path's shortcuts answer exactly what the plain ORM answers.

``get_visible`` loads a case with a precompiled SELECT and checks scope in Python; responsibility
resolution is cached per process. Both must agree with the slow, obvious version and follow changes.
"""
import pytest
from django.contrib.auth import get_user_model

from urbangrid.cases import services
from urbangrid.cases.fastload import load_case
from urbangrid.cases.models import Case
from urbangrid.catalog import responsibility
from urbangrid.catalog.models import CatalogClass, ResponsibilityRule
from urbangrid.org.models import Unit
from urbangrid.org.scope import actor_for

pytestmark = pytest.mark.django_db

LOGINS = ("inspector", "intake_operator", "shift_lead", "dispatcher", "district_dispatcher", "unit_handler",
          "grid_leader", "leader", "assessor", "admin")


@pytest.fixture
def cases(demo_city):
    users = get_user_model().objects
    a = {n: actor_for(users.get(username=n)) for n in ("inspector", "intake_operator", "shift_lead", "dispatcher")}
    unit = Unit.objects.filter(active=True, command_level=Unit.CommandLevel.CITY).exclude(parent=None).first()
    made = []
    for i, code in enumerate(["0401", "0102", "0201", "0507"]):
        cls = CatalogClass.objects.get(version__code="local-demo", code=code)
        case, _ = services.report(a["inspector"], catalog_class=cls, lon=117.2310 + 0.0004 * i, lat=31.8785,
                                  description=f"问题{i}", source="inspector", require_photos=False)
        if i % 2:
            services.transition(a["intake_operator"], case.number, "accept")
            services.transition(a["shift_lead"], case.number, "file")
            if unit is not None and case.state == "pending_dispatch":
                services.transition(a["dispatcher"], case.number, "dispatch", {"unit": unit.code})
        made.append(case.number)
    return made


def test_load_case_equals_the_orm(cases):
    for number in cases:
        fast, slow = load_case(number), Case.objects.get(number=number)
        for f in Case._meta.concrete_fields:
            assert getattr(fast, f.attname) == getattr(slow, f.attname), f.name
        assert fast._state.adding is False and fast._state.db == "default"
    assert load_case("19990000001") is None


def test_scope_check_agrees_with_visible_cases(cases):
    users = get_user_model().objects
    numbers = cases + list(Case.objects.order_by("?").values_list("number", flat=True)[:40])
    outcomes = []
    for login in LOGINS:
        user = users.filter(username=login).first()
        if user is None:
            continue
        actor = actor_for(user)
        visible = set(services.visible_cases(actor).filter(number__in=numbers).values_list("number", flat=True))
        for number in numbers:
            seen = services.can_see(actor, load_case(number))
            assert seen == (number in visible), (login, number)
            outcomes.append(seen)
            if not seen:
                with pytest.raises(services.NotFound):
                    services.get_visible(actor, number)
    assert True in outcomes and False in outcomes  # both answers were exercised


def test_resolution_cache_follows_rule_changes(cases):
    case = Case.objects.get(number=cases[0])
    first = responsibility.resolve(case.catalog_class_id, case.lon, case.lat)
    assert responsibility.resolve(case.catalog_class, case.lon, case.lat).unit == first.unit  # by id or instance
    other = Unit.objects.filter(active=True).exclude(pk=first.unit.pk).first()
    # A new grid-level rule is more specific than anything else: it must win at once.
    ResponsibilityRule.objects.create(catalog_class_id=case.catalog_class_id, responsibility_grid_id=case.responsibility_grid_id,
                                      unit=other, time_limit_value=3, time_limit_unit="working_days")
    again = responsibility.resolve(case.catalog_class_id, case.lon, case.lat)
    assert again.unit == other and again.rule is not None and not again.fallback
    assert again.location.lon == case.lon  # the location is the caller's point, not a cached one
    other.active = False
    other.save()
    assert responsibility.resolve(case.catalog_class_id, case.lon, case.lat).unit != other


def test_kept_responsible_units_equal_the_uncached_ones_and_follow_rule_changes(cases):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rows = Case.objects.exclude(lon=None).values_list("catalog_class_id", "lon", "lat")[:60]
    items = list(rows) + [(rows[0][0], 0.0, 0.0)]  # and one outside the managed area
    fresh = responsibility.responsible_units(items)
    assert responsibility.responsible_units_cached(items) == fresh
    with CaptureQueriesContext(connection) as ctx:
        assert responsibility.responsible_units_cached(items) == fresh
    assert not [q for q in ctx.captured_queries if "responsibilityrule" in q["sql"]]  # answered from the cache
    item = next(i for i in items if fresh[i] is not None)
    case = Case.objects.filter(catalog_class_id=item[0], lon=item[1], lat=item[2]).first()
    other = Unit.objects.filter(active=True).exclude(pk=fresh[item].pk).first()
    ResponsibilityRule.objects.create(catalog_class_id=case.catalog_class_id, responsibility_grid_id=case.responsibility_grid_id,
                                      unit=other, time_limit_value=3, time_limit_unit="working_days")
    assert responsibility.responsible_units_cached([item])[item] == other == responsibility.responsible_units([item])[item]


def _row(model, pk):
    obj = model.objects.get(pk=pk)
    return {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields if not f.primary_key}


def test_the_precompiled_case_update_writes_what_save_writes(cases):
    from datetime import timedelta

    from django.db import DatabaseError
    from django.utils import timezone

    from urbangrid.cases.fastload import update_case

    fast, slow = Case.objects.get(number=cases[0]), Case.objects.get(number=cases[2])
    unit = Unit.objects.filter(active=True).first()
    names = ["urgency", "current_unit", "stage_deadline", "updated_at", "chain_hash", "version", "address"]
    later = timezone.now() + timedelta(minutes=5)
    for case in (fast, slow):
        case.urgency, case.current_unit, case.stage_deadline = "urgent", unit, None
        case.updated_at = later
        case.chain_hash, case.version, case.address = "f" * 64, case.version + 7, "长江西路 88 号"
    untouched = _row(Case, fast.pk)
    update_case(fast, names)
    slow.save(update_fields=names)
    after_fast, after_slow = _row(Case, fast.pk), _row(Case, slow.pk)
    for f in Case._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.name in names:
            assert after_fast[f.attname] == getattr(fast, f.attname), f.name
            if f.name != "version":  # each case its own version + 7
                assert after_fast[f.attname] == after_slow[f.attname], f.name  # the same values as the ORM stored
        else:
            assert after_fast[f.attname] == untouched[f.attname], f.name
    update_case(fast, [])  # nothing changed: nothing written
    gone = Case(pk=10**9, number="x")
    with pytest.raises(DatabaseError):
        update_case(gone, ["address"])


def test_the_precompiled_event_insert_writes_what_save_writes(cases):
    from django.utils import timezone

    from urbangrid.cases.fastload import insert_event
    from urbangrid.cases.models import CaseEvent

    case = Case.objects.get(number=cases[1])
    user = get_user_model().objects.get(username="dispatcher")
    unit = Unit.objects.filter(active=True).first()
    last = CaseEvent.objects.filter(case=case).order_by("-seq").first().seq
    at = timezone.now()

    def event(seq):
        return CaseEvent(case=case, seq=seq, action="supervise", from_state=case.state, to_state=case.state, at=at,
                         actor_user=user, role="dispatcher", unit=unit, note="督办", data={"a": [1, "二"], "b": None},
                         deadline=None, stage="handle", public=False, prev_hash="0" * 64, hash="e" * 64)

    fast, slow = event(last + 1), event(last + 2)
    insert_event(fast)
    slow.save()
    assert fast.pk is not None and fast._state.adding is False and fast._state.db == "default"
    stored_fast, stored_slow = _row(CaseEvent, fast.pk), _row(CaseEvent, slow.pk)
    for name, value in stored_fast.items():
        if name != "seq":
            assert value == stored_slow[name] == getattr(fast, name), name
    with pytest.raises(PermissionError):
        insert_event(fast)  # append-only, like save()
    unsaved = event(last + 3)
    unsaved.unit = Unit(code="unsaved")
    with pytest.raises(ValueError):
        insert_event(unsaved)
    assert not CaseEvent.objects.filter(case=case, seq=last + 3).exists()


def test_the_precompiled_photo_count_counts_what_the_orm_counts(cases):
    from urbangrid.cases.fastload import photo_count
    from urbangrid.cases.models import CasePhoto

    with_photos, without = Case.objects.get(number=cases[0]), Case.objects.get(number=cases[1])
    for kind in ("before", "after", "check"):
        CasePhoto.objects.create(case=with_photos, kind=kind, image=f"cases/test/{kind}.jpg")
    assert photo_count(with_photos.pk) == CasePhoto.objects.filter(case=with_photos).count() == 3
    assert photo_count(without.pk) == CasePhoto.objects.filter(case=without).count() == 0


def test_the_precompiled_case_insert_writes_what_save_writes(cases):
    from urbangrid.cases.fastload import insert_case

    template = Case.objects.get(number=cases[1])
    made = []
    for suffix in ("1", "2"):
        case = Case.objects.get(pk=template.pk)
        case.pk, case._state.adding = None, True
        case.number, case.tracking_code = f"1999{suffix:0>7}", f"TRK{suffix}"
        case.idempotency_key = case.external_ref = None
        made.append(case)
    fast, slow = made
    insert_case(fast)
    slow.save(force_insert=True)
    assert fast.pk is not None and fast._state.adding is False and fast._state.db == "default"
    stored_fast, stored_slow = _row(Case, fast.pk), _row(Case, slow.pk)
    for name, value in stored_fast.items():
        if name not in ("id", "number", "tracking_code"):
            assert value == stored_slow[name] == getattr(fast, name), name
    with pytest.raises(ValueError):
        insert_case(fast)  # saved already


def test_the_compiled_recurrence_look_up_finds_what_its_queryset_finds(cases, settings):
    """``previous_closed`` binds each report's class, window and box into one kept statement: asked for several
    places and classes it answers what the plain queryset and the distance rule answer."""
    from datetime import timedelta

    from django.utils import timezone

    from urbangrid.cases.duplicates import _distance, previous_closed

    now = timezone.now()
    for days, number in enumerate(cases):  # closed on different days, so that the latest one wins where two are near
        Case.objects.filter(number=number).update(state="closed", closed_at=now - timedelta(days=days + 1))
    closed = list(Case.objects.filter(state="closed", closed_at__isnull=False, lon__isnull=False)
                  .order_by("-closed_at")[:12])
    assert len(closed) >= len(cases)
    radius = settings.URBANGRID_RECURRENCE_RADIUS_M
    asked = 0
    for c in closed:
        for dlon in (0.0, 0.00005, 0.01):  # on it, within the radius, far away
            at = c.closed_at + timedelta(days=1) if c.closed_at < now else now
            lon, lat = c.lon + dlon, c.lat
            since = at - timedelta(days=settings.URBANGRID_RECURRENCE_DAYS)
            expected = next((x for x in Case.objects.filter(
                catalog_class_id=c.catalog_class_id, state="closed", closed_at__gte=since, closed_at__lte=at)
                .order_by("-closed_at", "-pk") if _distance(x.lon, x.lat, lon, lat) <= radius), None)
            found = previous_closed(c.catalog_class_id, lon, lat, at)
            assert (found.number if found else None) == (expected.number if expected else None), (c.number, dlon)
            asked += found is not None
    assert asked >= len(closed)  # each closed case at least found on its own spot
