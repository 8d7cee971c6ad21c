"""Concurrent requests on one case and on the number sequence, with real threads and connections."""
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from urbangrid.cases import services
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.scope import actor_for

pytestmark = pytest.mark.django_db(transaction=True)
POINT = (117.2352, 31.8785)


@pytest.fixture
def city(settings, tmp_path):
    from demo_snapshot import build_demo

    settings.VAR_DIR = tmp_path
    build_demo(seed=1, log=lambda m: None)
    users = get_user_model().objects
    return {name: actor_for(users.get(username=name)) for name in ("inspector", "intake_operator", "shift_lead", "dispatcher")}


def run_threads(n, target):
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        try:
            barrier.wait()
            results[i] = ("ok", target(i))
        except Exception as exc:  # collected and asserted on by the test
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _report(actor, key=None):
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    case, created = services.report(actor, catalog_class=cls, lon=POINT[0], lat=POINT[1], description="路面塌陷",
                                    source="inspector", idempotency_key=key, require_photos=False)
    return case.number, created


def test_two_concurrent_dispatches_one_wins(city):
    number, _ = _report(city["inspector"])
    services.transition(city["intake_operator"], number, "accept")
    services.transition(city["shift_lead"], number, "file")
    results = run_threads(2, lambda i: services.transition(city["dispatcher"], number, "dispatch", {"unit": "CGJ-SZ"}).state)
    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["error", "ok"], results
    error = next(r[1] for r in results if r[0] == "error")
    assert isinstance(error, services.Conflict) and error.status == 409
    assert CaseEvent.objects.filter(case__number=number, action="dispatch").count() == 1
    assert Case.objects.get(number=number).version == 4


def test_concurrent_reports_get_unique_numbers(city):
    results = run_threads(6, lambda i: _report(city["inspector"])[0])
    numbers = [r[1] for r in results if r[0] == "ok"]
    assert len(numbers) == 6, results
    assert len(set(numbers)) == 6
    assert Case.objects.count() == 6


def test_mobile_retry_twice_at_once_creates_one_case(city):
    results = run_threads(3, lambda i: _report(city["inspector"], key="device-7:report-42"))
    assert all(r[0] == "ok" for r in results), results
    assert len({r[1][0] for r in results}) == 1
    assert sum(1 for r in results if r[1][1]) == 1  # exactly one call created it
    assert Case.objects.count() == 1
