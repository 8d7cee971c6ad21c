"""倒扣分 domain rules on the demo city: recording, consistency, idempotency, appeals, review, scope, scores."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from ug_testing import jpeg
from urbangrid.assessment.deductions import rules as svc
from urbangrid.assessment.periods import period_of
from urbangrid.assessment.models import Deduction, DeductionEvent, DeductionPolicy, InspectionItem
from urbangrid.assessment.deductions.scoring import target_scores
from urbangrid.cases.models import Case
from urbangrid.grids.models import ResponsibilityGrid, RoadSegment
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment
from urbangrid.org.roles import Role
from urbangrid.org.scope import actor_for
from urbangrid.worktime.clock import TZ

pytestmark = pytest.mark.django_db
INSIDE_WG01 = (117.2352, 31.8785)
OUTSIDE = (116.0, 30.0)


def actor(username):
    return actor_for(get_user_model().objects.get(username=username))


def actor_of_person(person, username):
    user, _ = get_user_model().objects.get_or_create(username=username)
    Person.objects.filter(pk=person.pk).update(user=user)
    return actor_for(get_user_model().objects.get(pk=user.pk))


@pytest.fixture
def city(demo_city, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    svc.link_default_classes()
    wg01 = ResponsibilityGrid.objects.get(code="WG01")
    return {"wg01": wg01, "assessor": actor("assessor"), "leader": actor("leader"), "grid_leader": actor("grid_leader")}


def photo():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")


def rec(a, item="RZ01", target_type="grid", target="WG01", point=INSIDE_WG01, **kw):
    kw.setdefault("photos", [photo()])
    return svc.record(a, item=item, lon=point[0], lat=point[1], target_type=target_type, target=target, **kw)


def month_now():
    return period_of("month", timezone.now().astimezone(TZ).date())


def score_of(target_type, target_id, p=None):
    p = p or month_now()
    rows = [r for r in target_scores(p.start, p.end, target_type) if r["target_id"] == target_id]
    return rows[0] if rows else None


def test_demo_logins_grid_leader_answers_for_wg01(city):
    assert city["wg01"].pk in city["grid_leader"].grids_as(Role.GRID_LEADER)
    assert city["wg01"].pk in city["assessor"].grids_as(Role.ASSESSOR)


def test_record_resolves_place_and_writes_history(city):
    d, created = rec(city["assessor"], note="人行道堆放建材")
    assert created and d.state == "recorded"
    assert d.points == Decimal("0.10") and d.grid == city["wg01"] and d.place_grid == city["wg01"]
    assert d.unit_grid.responsibility_grid_id == city["wg01"].pk
    assert d.assessor == city["assessor"].person and d.photos.count() == 1
    assert d.earn_back_points == Decimal("0.05")  # RZ01 returns half when fixed on time
    policy = DeductionPolicy.current()
    assert d.appeal_deadline - d.recorded_at == timedelta(days=policy.appeal_days)
    ev = list(d.events.all())
    assert [(e.action, e.from_state, e.to_state) for e in ev] == [("record", "", "recorded")]
    assert ev[0].person == city["assessor"].person and ev[0].role == "assessor"


def test_grid_taken_from_the_place_when_not_named(city):
    d, _ = rec(city["assessor"], target=None)
    assert d.grid == city["wg01"]


def test_history_rows_are_append_only(city):
    d, _ = rec(city["assessor"])
    e = d.events.get()
    e.note = "改写"
    with pytest.raises(ValueError):
        e.save()
    with pytest.raises(ValueError):
        e.delete()


@pytest.mark.parametrize("kw, field", [
    ({"point": OUTSIDE}, "location"),
    ({"item": "NOPE"}, "item"),
    ({"target": "WG99"}, "target"),
    ({"target_type": "planet"}, "target_type"),
    ({"points": "0.6"}, "points"),  # RZ01 allows at most 0.5
    ({"points": "0"}, "points"),
    ({"points": "abc"}, "points"),
    ({"points": "0.123"}, "points"),
    ({"photos": []}, "photos"),
    ({"target_type": "unit", "item": "ZR01", "target": None}, "target"),
    ({"item": "ZR01"}, "target_type"),  # ZR01 is for units only
])
def test_bad_input_names_the_field_and_writes_nothing(city, kw, field):
    before = (Deduction.objects.count(), DeductionEvent.objects.count())
    with pytest.raises(svc.Invalid) as exc:
        rec(city["assessor"], **kw)
    assert exc.value.status == 400 and field in exc.value.fields
    assert (Deduction.objects.count(), DeductionEvent.objects.count()) == before


def test_future_occurrence_refused(city):
    with pytest.raises(svc.Invalid) as exc:
        rec(city["assessor"], occurred_at=timezone.now() + timedelta(days=1))
    assert "occurred_at" in exc.value.fields


def test_targets_must_answer_for_the_place(city):
    a = city["assessor"]
    other = ResponsibilityGrid.objects.exclude(pk=city["wg01"].pk).order_by("code").first()
    with pytest.raises(svc.Invalid) as exc:
        rec(a, target=other.code)
    assert "WG01" in exc.value.fields["target"]
    far_seg = RoadSegment.objects.exclude(unit_grids__responsibility_grid=city["wg01"]).order_by("code").first()
    with pytest.raises(svc.Invalid):
        rec(a, target_type="segment", target=far_seg.code)
    stranger = Person.objects.exclude(roles__grid=city["wg01"]).exclude(roles__road_segment__unit_grids__responsibility_grid=city["wg01"]).order_by("employee_no").first()
    with pytest.raises(svc.Invalid) as exc:
        rec(a, item="XC01", target_type="person", target=stranger.employee_no)
    assert "target" in exc.value.fields
    foreign_org = PartyOrganization.objects.filter(level="group").exclude(grids=city["wg01"]).order_by("code").first()
    with pytest.raises(svc.Invalid):
        rec(a, target_type="party", target=foreign_org.code)
    # The group owning WG01, its branch and its general branch all answer for it.
    group = PartyOrganization.objects.get(grids=city["wg01"])
    for org in (group, group.parent, group.parent.parent):
        d, _ = rec(a, target_type="party", target=org.code)
        assert d.party_organization == org
    officer = RoleAssignment.objects.filter(grid=city["wg01"], role=Role.GRID_OFFICER).order_by("pk").first().person
    d, _ = rec(a, item="XC01", target_type="person", target=officer.employee_no)
    assert d.person == officer


def test_only_assessors_record(city):
    with pytest.raises(svc.Forbidden):
        rec(actor("dispatcher"))
    assert not Deduction.objects.exists()


def test_idempotency_key_returns_the_first(city):
    a = city["assessor"]
    d1, c1 = rec(a, idempotency_key="k-1")
    d2, c2 = rec(a, idempotency_key="k-1", points="0.3")
    assert c1 and not c2 and d1.pk == d2.pk and Deduction.objects.count() == 1
    assert DeductionEvent.objects.count() == 1


def test_max_times_per_period(city):
    item = InspectionItem.objects.get(code="RZ02")
    item.max_times = 2
    item.save()
    a = city["assessor"]
    rec(a, item="RZ02")
    second, _ = rec(a, item="RZ02")
    with pytest.raises(svc.Invalid) as exc:
        rec(a, item="RZ02")
    assert "item" in exc.value.fields
    # A cancelled deduction does not use up the allowance.
    Deduction.objects.filter(pk=second.pk).update(state="cancelled")
    rec(a, item="RZ02")


def test_open_case_through_the_case_service(city):
    d, _ = rec(city["assessor"], item="RZ01", open_case=True, note="占道堆放砖块")
    case = d.case
    assert case is not None and case.catalog_class.code == "0507" and case.source == svc.CASE_SOURCE
    assert case.responsibility_grid == city["wg01"] and case.photos.count() == 1
    assert case.reporter == city["assessor"].person


def test_open_case_without_class_refused(city):
    with pytest.raises(svc.Invalid) as exc:
        rec(city["assessor"], item="XC01", open_case=True)
    assert "catalog_class" in exc.value.fields
    assert not Deduction.objects.exists() and not Case.objects.filter(description__contains="倒扣分").exists()


# --- appeals and review ---------------------------------------------------------------------------

def test_appeal_then_uphold_and_cancel(city):
    a, gl, leader = city["assessor"], city["grid_leader"], city["leader"]
    d1, _ = rec(a)
    d2, _ = rec(a)
    svc.appeal(gl, d1.pk, "已当天整改")
    svc.appeal(gl, d2.pk, "不属于本网格")
    up = svc.review(leader, d1.pk, "uphold", "事实清楚")
    cancel = svc.review(leader, d2.pk, "cancel", "申诉成立")
    assert up.state == "upheld" and cancel.state == "cancelled"
    hist = [(e.action, e.from_state, e.to_state, e.person_id) for e in d1.events.all()]
    assert hist == [("record", "", "recorded", a.person.pk), ("appeal", "recorded", "appealed", gl.person.pk),
                    ("uphold", "appealed", "upheld", leader.person.pk)]
    assert cancel.review_note == "申诉成立" and cancel.reviewed_by_id == leader.user.pk


def test_appeal_twice_or_after_review_conflicts(city):
    d, _ = rec(city["assessor"])
    svc.appeal(city["grid_leader"], d.pk, "理由")
    with pytest.raises(svc.Conflict):
        svc.appeal(city["grid_leader"], d.pk, "再次申诉")
    svc.review(city["leader"], d.pk, "uphold", "维持")
    with pytest.raises(svc.Conflict):
        svc.review(city["leader"], d.pk, "cancel", "改判")
    assert d.events.count() == 3


def test_appeal_deadline(city):
    d, _ = rec(city["assessor"])
    late = d.appeal_deadline + timedelta(minutes=1)
    with pytest.raises(svc.Invalid) as exc:
        svc.appeal(city["grid_leader"], d.pk, "迟到的申诉", at=late)
    assert "appeal_deadline" in exc.value.fields
    d.refresh_from_db()
    assert d.state == "recorded" and d.events.count() == 1
    svc.appeal(city["grid_leader"], d.pk, "按时申诉", at=d.appeal_deadline)


def test_appeal_needs_a_reason(city):
    d, _ = rec(city["assessor"])
    with pytest.raises(svc.Invalid) as exc:
        svc.appeal(city["grid_leader"], d.pk, "  ")
    assert "reason" in exc.value.fields


def test_who_may_appeal(city):
    a = city["assessor"]
    d, _ = rec(a)
    # The assessor sees his record but does not answer for the grid.
    with pytest.raises(svc.Forbidden):
        svc.appeal(a, d.pk, "x")
    # Someone who cannot see it gets "not found".
    with pytest.raises(svc.NotFound):
        svc.appeal(actor("unit_handler"), d.pk, "x")
    officer = RoleAssignment.objects.filter(grid=city["wg01"], role=Role.GRID_OFFICER).order_by("pk").first().person
    pd, _ = rec(a, item="XC01", target_type="person", target=officer.employee_no)
    svc.appeal(actor_of_person(officer, "officer-x"), pd.pk, "当时在岗")
    # A unit's staff appeal for the unit.
    unit_person = Person.objects.filter(unit__isnull=False, roles__role=Role.SUB_GRID_LEADER,
                                        roles__grid=city["wg01"]).first()
    ud, _ = rec(a, item="SZ01", target_type="unit", target=unit_person.unit.code)
    svc.appeal(actor_of_person(unit_person, "unit-x"), ud.pk, "非我单位职责")
    # The grid leader of WG01 answers for its party group.
    group = PartyOrganization.objects.get(grids=city["wg01"])
    gd, _ = rec(a, target_type="party", target=group.code)
    svc.appeal(city["grid_leader"], gd.pk, "已整改")


def test_review_rules(city):
    d, _ = rec(city["assessor"])
    with pytest.raises(svc.Conflict):  # nothing to review before an appeal
        svc.review(city["leader"], d.pk, "uphold", "x")
    svc.appeal(city["grid_leader"], d.pk, "理由")
    with pytest.raises(svc.Forbidden):
        svc.review(city["grid_leader"], d.pk, "cancel", "自己撤销")
    with pytest.raises(svc.Invalid) as exc:
        svc.review(city["leader"], d.pk, "maybe", "")
    assert {"decision", "note"} <= set(exc.value.fields)
    d.refresh_from_db()
    assert d.state == "appealed"


# --- scope ----------------------------------------------------------------------------------------

def test_scope(city):
    a, gl = city["assessor"], city["grid_leader"]
    mine, _ = rec(a)
    other_assessor = RoleAssignment.objects.filter(role=Role.ASSESSOR).exclude(person=a.person).order_by("pk").first()
    other_grid = other_assessor.grid
    ug = other_grid.unit_grids.order_by("code").first()
    from shapely.geometry import shape

    pt = shape(ug.geometry).representative_point()
    oa = actor_of_person(other_assessor.person, "assessor-2")
    theirs, _ = rec(oa, target=other_grid.code, point=(pt.x, pt.y))
    assert set(svc.visible_deductions(a).values_list("pk", flat=True)) == {mine.pk}
    assert set(svc.visible_deductions(oa).values_list("pk", flat=True)) == {theirs.pk}
    with pytest.raises(svc.NotFound):
        svc.get_visible(a, theirs.pk)
    # The grid leader sees deductions against his grids; the leader everything.
    led = gl.grids_as(Role.GRID_LEADER)
    assert mine.pk in set(svc.visible_deductions(gl).values_list("pk", flat=True))
    assert (theirs.pk in set(svc.visible_deductions(gl).values_list("pk", flat=True))) == (other_grid.pk in led)
    assert set(svc.visible_deductions(city["leader"]).values_list("pk", flat=True)) == {mine.pk, theirs.pk}
    assert not svc.visible_deductions(actor("dispatcher")).exists()
    # An assessor with city scope sees the city.
    RoleAssignment.objects.create(person=a.person, role=Role.SHIFT_LEAD)
    wide = actor("assessor")
    assert wide.city_wide and set(svc.visible_deductions(wide).values_list("pk", flat=True)) == {mine.pk, theirs.pk}


# --- scores ---------------------------------------------------------------------------------------

def test_hand_computed_scores(city):
    a, gl, leader = city["assessor"], city["grid_leader"], city["leader"]
    wg = city["wg01"]
    rec(a, item="XC01")                                 # 0.5 counted (recorded, not appealed)
    rec(a, item="RZ01", points="0.3")                   # 0.3 counted
    u, _ = rec(a, item="HW02")                          # 0.2 appealed and upheld: counted
    c, _ = rec(a, item="XC01", points="1")              # 1.0 appealed and cancelled: not counted
    p, _ = rec(a, item="RZ03")                          # 0.1 appeal pending: not counted
    for d in (u, c, p):
        svc.appeal(gl, d.pk, "申诉")
    svc.review(leader, u.pk, "uphold", "维持")
    svc.review(leader, c.pk, "cancel", "撤销")
    last_month = period_of("month", (month_now().start - timedelta(days=1)).date())
    rec(a, item="XC01", occurred_at=last_month.start + timedelta(hours=10))  # another period
    s = score_of("grid", wg.pk)
    assert s == {"target_type": "grid", "target_id": wg.pk, "name": f"WG01 {wg.name}", "deductions": 3,
                 "points": 1.0, "earned_back": 0.0, "score": 99.0, "pending": 1}
    assert score_of("grid", wg.pk, last_month)["score"] == 99.5
    # Other target types are separate and filtered.
    assert all(r["target_type"] == "grid" for r in target_scores(month_now().start, month_now().end, "grid"))


def test_score_floor_and_base_from_policy(city):
    a = city["assessor"]
    DeductionPolicy.objects.update(base_score=2)
    rec(a, item="XC01", points="1")
    rec(a, item="XC01", points="1")
    rec(a, item="XC01", points="1")
    s = score_of("grid", city["wg01"].pk)
    assert s["points"] == 3.0 and s["score"] == 0.0


def _close_through_the_loop(case_id, late):
    """The deduction's case (a public report) verified, filed, dispatched, handled, checked and closed through the
    live service: fed back minutes after dispatch (on time) or ten days later (past its 1-working-day limit)."""
    from datetime import timedelta

    from eval_helpers import Log
    from urbangrid.cases.workflow import Action

    log = Log()
    case = Case.objects.get(pk=case_id)
    t = case.created_at + timedelta(minutes=1)
    log.ev(case, Action.SEND_VERIFY, t)
    log.ev(case, Action.VERIFY, t + timedelta(minutes=1), confirmed=True)
    log.ev(case, Action.FILE, t + timedelta(minutes=2))
    log.dispatch(case, t + timedelta(minutes=3), log.u1)
    fed = t + (timedelta(days=10) if late else timedelta(minutes=5))
    log.feed_back(case, fed)
    log.close(case, fed + timedelta(hours=1))


def test_earn_back_when_case_closed_on_time(city):
    a = city["assessor"]
    ontime, _ = rec(a, item="RZ01", points="0.4", open_case=True)      # earn back 0.2 when closed on time
    late, _ = rec(a, item="HW02", points="0.6", open_case=True)        # closed late: nothing back
    open_, _ = rec(a, item="HW01", points="0.2", open_case=True)       # still open: nothing back
    assert score_of("grid", city["wg01"].pk)["score"] == pytest.approx(98.8)
    _close_through_the_loop(ontime.case_id, late=False)
    _close_through_the_loop(late.case_id, late=True)
    assert Case.objects.get(pk=ontime.case_id).archive_type == "normal"
    assert Case.objects.get(pk=late.case_id).archive_type == "overdue"
    s = score_of("grid", city["wg01"].pk)
    assert (s["points"], s["earned_back"], s["score"]) == (pytest.approx(1.2), pytest.approx(0.2), pytest.approx(99.0))
    assert svc.earned_back(Deduction.objects.get(pk=ontime.pk)) == Decimal("0.20")
    # The item can stop allowing earn-back.
    InspectionItem.objects.filter(code="RZ01").update(earn_back=False)
    assert score_of("grid", city["wg01"].pk)["earned_back"] == 0.0


def test_earn_back_fixed_points_capped_by_the_deduction(city):
    item = InspectionItem.objects.get(code="RZ01")
    item.earn_back_points = Decimal("0.3")
    item.save()
    d, _ = rec(city["assessor"], item="RZ01", points="0.2")
    assert d.earn_back_points == Decimal("0.20")
    d, _ = rec(city["assessor"], item="RZ01", points="0.5")
    assert d.earn_back_points == Decimal("0.30")


def test_scores_are_one_aggregate_query(city, django_assert_max_num_queries):
    a = city["assessor"]
    for i in range(5):
        rec(a, item="RZ01")
    rec(a, target_type="party", target=PartyOrganization.objects.get(grids=city["wg01"]).code)
    p = month_now()
    with django_assert_max_num_queries(4):  # policy, aggregate, one name query per target type
        rows = target_scores(p.start, p.end)
    assert {r["target_type"] for r in rows} == {"grid", "party"}


def test_item_validation(city):
    from django.core.exceptions import ValidationError

    item = InspectionItem(code="X1", name="x", aspect="content", default_points=2, max_points=1, target_types=["moon"],
                          earn_back_ratio=Decimal("1.5"))
    with pytest.raises(ValidationError) as exc:
        item.full_clean()
    assert {"max_points", "target_types", "earn_back_ratio"} <= set(exc.value.message_dict)


def test_default_standard_seeded():
    codes = set(InspectionItem.objects.values_list("code", flat=True))
    assert {"XC01", "HW01", "RZ01", "RZ02", "RZ03", "RZ04"} <= codes
    rz04 = InspectionItem.objects.get(code="RZ04")
    assert rz04.default_points == Decimal("0.10") and "店外经营" in rz04.standard
    assert DeductionPolicy.current().pk is not None


def test_a_place_without_a_segment_ties_no_one_by_segment(city):
    """A point far from any road: people and party organisations without segments must not match 'no segment'."""
    from types import SimpleNamespace

    wg = city["wg01"]
    loc = SimpleNamespace(responsibility_grid_id=wg.pk, road_segment_id=None, unit_grid_id=wg.unit_grids.first().pk,
                          responsibility_grid_code=wg.code)
    elsewhere = RoleAssignment.objects.filter(role=Role.GRID_OFFICER, road_segment__isnull=True).exclude(
        person__roles__grid=wg).order_by("pk").first().person
    assert svc._consistency_error("person", elsewhere, loc) is not None
    here = RoleAssignment.objects.filter(role=Role.GRID_OFFICER, grid=wg).order_by("pk").first().person
    assert svc._consistency_error("person", here, loc) is None
    foreign = PartyOrganization.objects.filter(level="group", road_segments__isnull=True).exclude(grids=wg).first()
    assert svc._consistency_error("party", foreign, loc) is not None
    assert svc._consistency_error("party", PartyOrganization.objects.get(grids=wg), loc) is None


def test_appeal_days_come_from_the_policy(city):
    DeductionPolicy.objects.update(appeal_days=7)
    d, _ = rec(city["assessor"])
    assert d.appeal_deadline - d.recorded_at == timedelta(days=7)
    svc.appeal(city["grid_leader"], d.pk, "第六天申诉", at=d.recorded_at + timedelta(days=6))
