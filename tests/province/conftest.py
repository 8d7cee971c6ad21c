"""A province holding three cities' summaries for March 2026 (Asia/Shanghai), small enough to count by hand:
合肥 (340100) with a mixed month, 芜湖 (340200) with a clean one and no satisfaction given, 蚌埠 (340300) with
nothing. The expected figures are in test_evaluation.py."""
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.utils import timezone

from urbangrid.org.models import Person, RoleAssignment
from urbangrid.province.evaluation import TZ, period_of
from urbangrid.province.models import (ProvinceBatch, ProvinceCase, ProvinceCity, ProvinceRegionDay,
                                       ProvinceTallyDay)

MARCH = period_of("month", date(2026, 3, 1))
COUNTERS = ("rework", "return", "extension", "suspension", "supervision", "reopen")


def at(month, day, hour=10, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def summary(city, number, reported, *, filed=None, dispatched=None, deadline=None, fed=None, closed=None,
            state="handling", archive="", satisfaction="", rework=0, district="340102", steps=()):
    return ProvinceCase.objects.create(
        city=city, number=number, version=max(1, len(steps)), source="inspector", catalog_version="gbt47678.5-2026",
        class_code="010101", kind="component", urgency="normal", state=state, archive_type=archive,
        satisfaction=satisfaction, unit_grid=district + "001001001", responsibility_grid="WG01",
        community=district + "001001", street=district + "001", district=district, current_unit="CGJ-SZ",
        reported_at=reported, filed_at=filed, dispatched_at=dispatched, fed_back_at=fed, closed_at=closed,
        handle_deadline=deadline, updated_at=closed or fed or dispatched or filed or reported,
        counts={**dict.fromkeys(COUNTERS, 0), "rework": rework}, steps=list(steps))


def _iso(t):
    return t.isoformat()


@pytest.fixture
def cities(db):
    now = timezone.now()
    hf = ProvinceCity.objects.create(code="340100", name="合肥市", key="k" * 40, lon=117.227, lat=31.820,
                                     last_sequence=3, last_received_at=now - timedelta(minutes=5))
    wh = ProvinceCity.objects.create(code="340200", name="芜湖市", key="k" * 40, lon=118.433, lat=31.352,
                                     last_sequence=1, last_received_at=now - timedelta(hours=3))
    bb = ProvinceCity.objects.create(code="340300", name="蚌埠市", key="k" * 40)
    for seq in (1, 2, 3):
        ProvinceBatch.objects.create(city=hf, sequence=seq, cursor_from=seq - 1, cursor_to=seq, payload_version=1,
                                     digest="0" * 64, built_at=now - timedelta(minutes=20 - seq), received_at=now)
    ProvinceBatch.objects.create(city=wh, sequence=1, cursor_from=0, cursor_to=1, payload_version=1, digest="0" * 64,
                                 built_at=now - timedelta(hours=4), received_at=now - timedelta(hours=3))

    # 合肥: A1 reported at 00:30 on 1 March (16:30 UTC the day before: still March in the city's days)
    a1_steps = [[1, 1, "report", "", "reported", _iso(at(3, 1, 0, 30)), "accept", None, None],
                [2, 2, "dispatch", "pending_dispatch", "handling", _iso(at(3, 2)), "handle", _iso(at(3, 5)), "CGJ-SZ"],
                [3, 3, "close", "pending_close", "closed", _iso(at(3, 5)), "", None, None]]
    summary(hf, "HF-A1", at(3, 1, 0, 30), filed=at(3, 2, 9), dispatched=at(3, 2), deadline=at(3, 5), fed=at(3, 4),
            closed=at(3, 5), state="closed", archive="normal", satisfaction="satisfied", steps=a1_steps)
    summary(hf, "HF-A2", at(3, 3), filed=at(3, 3), dispatched=at(3, 3), deadline=at(3, 6), fed=at(3, 8),
            closed=at(3, 9), state="closed", archive="overdue", satisfaction="dissatisfied", rework=1,
            district="340103")
    summary(hf, "HF-A3", at(3, 10), filed=at(3, 10), dispatched=at(3, 10), deadline=at(3, 12))  # overdue, open
    summary(hf, "HF-A4", at(3, 20), filed=at(3, 20), dispatched=at(3, 20), deadline=at(3, 25), fed=at(3, 21),
            closed=at(3, 21), state="closed", archive="normal", satisfaction="basic")
    # filed in February, overdue all March, fed back and closed in April: overdue at the end of March
    summary(hf, "HF-A5", at(2, 25), filed=at(2, 25), dispatched=at(2, 25), deadline=at(2, 28), fed=at(4, 2),
            closed=at(4, 3), state="closed", archive="overdue")
    summary(hf, "HF-A6", at(3, 25), state="pending_filing")
    summary(hf, "HF-A7", at(3, 28), filed=at(3, 28), dispatched=at(3, 28), deadline=at(4, 10))
    # 芜湖: all on time, no satisfaction given
    for i, d in enumerate((5, 6, 7), start=1):
        summary(wh, f"WH-B{i}", at(3, d), filed=at(3, d), dispatched=at(3, d), deadline=at(3, d + 3),
                fed=at(3, d + 1), closed=at(3, d + 2), state="closed", archive="normal")
    summary(wh, "WH-B4", at(3, 30), filed=at(3, 30), dispatched=at(3, 30), deadline=at(4, 5))
    # 合肥's own tallies of two days
    for day, filed, closed, ontime, hsum in ((date(2026, 3, 1), 2, 1, 1, 7200), (date(2026, 3, 2), 3, 1, 0, 3600)):
        ProvinceTallyDay.objects.create(city=hf, day=day, computed_at=now, events=5)
        ProvinceRegionDay.objects.create(city=hf, day=day, district="340102", filed=filed, closed=closed, ontime=ontime,
                                         handle_sum=hsum, handle_n=1)
    return {"hf": hf, "wh": wh, "bb": bb}


@pytest.fixture
def province_user(db):
    """A login of the province's staff: the group "province" holds ``province.view_provincecity``."""
    group = Group.objects.create(name="province")
    group.permissions.add(Permission.objects.get(content_type__app_label="province", codename="view_provincecity"))
    user = get_user_model().objects.create_user("prov", password="x")
    user.groups.add(group)
    return user


@pytest.fixture
def city_leader(db):
    """A city's leader (领导: the city dashboard's reader) without the province's permission."""
    user = get_user_model().objects.create_user("leader1", password="x")
    person = Person.objects.create(name="李领导", employee_no="L-001", user=user)
    RoleAssignment.objects.create(person=person, role="leader")
    return user
