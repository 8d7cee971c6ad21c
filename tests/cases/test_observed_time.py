"""A report's observation time (e.g. queued offline on a phone) is its report time when plausible (cases/observed.py)."""
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.utils import timezone

from urbangrid.cases.models import Case, CaseEvent

from django.contrib.auth import get_user_model
from django.test import Client

from ug_testing import jpeg

pytestmark = pytest.mark.django_db
INSIDE_WG01 = (117.2352, 31.8785)


def client_for(username):
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def report(c, **extra):
    return c.post("/api/v1/cases", {"catalog_version": "local-demo", "class_code": "0401", "lon": INSIDE_WG01[0],
                                    "lat": INSIDE_WG01[1], "description": "路面出现塌陷，约一平方米", "source": "inspector",
                                    "photos": [jpeg()], **extra})


@pytest.fixture
def inspector(demo_city):
    return client_for("inspector")


def _case(r):
    assert r.status_code == 201, r.content
    return Case.objects.get(number=r.json()["number"])


def test_an_observation_three_hours_ago_is_the_report_time_and_starts_the_clock(inspector):
    before = timezone.now()
    observed = (before - timedelta(hours=3)).replace(microsecond=0)
    case = _case(report(inspector, observed_at=observed.isoformat()))
    assert case.created_at == observed
    assert case.stage_started_at == observed  # the accept clock runs from the observation
    event = CaseEvent.objects.get(case=case, seq=1)
    assert event.at == observed
    assert event.data["observed_ignored"] is None
    received = datetime.fromisoformat(event.data["received_at"])
    assert before <= received <= timezone.now()
    # The case page shows both times.
    page = client_for("intake_operator").get(f"/cases/{case.number}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="report-times"' in html and "现场观察" in html and "系统接收" in html
    local = timezone.localtime(observed)
    assert local.strftime("%Y-%m-%d %H:%M") in html


def test_utc_z_suffix_is_read(inspector):
    observed = (timezone.now() - timedelta(minutes=30)).replace(microsecond=0)
    case = _case(report(inspector, observed_at=observed.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))
    assert case.created_at == observed


def test_a_time_in_the_future_is_ignored_with_the_reason(inspector):
    before = timezone.now()
    case = _case(report(inspector, observed_at=(before + timedelta(hours=1)).isoformat()))
    assert before <= case.created_at <= timezone.now()
    assert CaseEvent.objects.get(case=case, seq=1).data["observed_ignored"] == {"rule": "future", "bound_s": 300}
    html = client_for("intake_operator").get(f"/cases/{case.number}/").content.decode()
    assert "观察时间晚于接收时间（超过允许的 300 秒误差），按接收时间计" in html


def test_a_little_clock_skew_ahead_is_clamped_to_the_received_time(inspector, settings):
    settings.URBANGRID_OBSERVED_FUTURE_SKEW_SECONDS = 300
    before = timezone.now()
    case = _case(report(inspector, observed_at=(before + timedelta(seconds=60)).isoformat()))
    assert before <= case.created_at <= timezone.now()
    assert CaseEvent.objects.get(case=case, seq=1).data["observed_ignored"] is None


def test_older_than_the_bound_is_ignored_with_the_reason(inspector, settings):
    settings.URBANGRID_OBSERVED_MAX_AGE_HOURS = 2
    before = timezone.now()
    case = _case(report(inspector, observed_at=(before - timedelta(hours=3)).isoformat()))
    assert before <= case.created_at <= timezone.now()
    assert CaseEvent.objects.get(case=case, seq=1).data["observed_ignored"] == {"rule": "too_old", "bound_s": 7200}
    html = client_for("intake_operator").get(f"/cases/{case.number}/").content.decode()
    assert "观察时间早于接收时间 2 小时以上，按接收时间计" in html


@pytest.mark.parametrize("bad", ["yesterday", "2026-12-03T08:00:00", "x" * 60])
def test_an_unreadable_observed_time_is_a_422_and_writes_nothing(inspector, bad):
    n = Case.objects.count()
    r = report(inspector, observed_at=bad)
    assert r.status_code == 422, r.content
    assert "observed_at" in r.json()["fields"]
    assert Case.objects.count() == n


def test_without_an_observed_time_nothing_changes(inspector):
    before = timezone.now()
    case = _case(report(inspector))
    assert before <= case.created_at <= timezone.now()
    assert "observed_at" not in CaseEvent.objects.get(case=case, seq=1).data
