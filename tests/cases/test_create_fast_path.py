"""POST /api/v1/cases without waste: the answer is built from what the request holds instead of reading
the case back, and the photos are checked and stored before the transaction (on SQLite the write lock
is database-wide). The caches it uses are tested in test_create_fast_path_live.py.
"""
import io

import pytest
from django.test import Client

from urbangrid.cases.models import Case, CasePhoto

from ug_testing import jpeg, login_client

INSIDE_WG01 = (117.2352, 31.8785)  # WG01, patrolled by the demo inspector


def _report(client, code="0401", point=INSIDE_WG01, photos=None, **extra):
    data = {"catalog_version": "local-demo", "class_code": code, "lon": point[0], "lat": point[1],
            "description": "路面出现塌陷，约一平方米", "source": "inspector", "photos": photos or [jpeg()], **extra}
    return client.post("/api/v1/cases", data)


@pytest.mark.django_db
def test_created_case_answer_equals_the_stored_case(demo_city, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    login_client(client, "inspector")
    # A closed case at the same place makes the new one a recurrence (反复), the one relation it can have.
    n = client.post("/api/v1/cases", {
        "catalog_version": "local-demo", "class_code": "0201", "lon": INSIDE_WG01[0], "lat": INSIDE_WG01[1],
        "description": "垃圾满溢", "source": "inspector", "self_handled": "true", "photos": [jpeg()],
        "after_photos": [jpeg()]}).json()["number"]
    assert login_client(Client(), "intake_operator").post(f"/api/v1/cases/{n}/actions/accept").status_code == 200
    assert login_client(Client(), "shift_lead").post(f"/api/v1/cases/{n}/actions/close").status_code == 200
    r = _report(client, code="0201", address="长江中路 1 号")
    assert r.status_code == 201, r.content
    created = r.json()
    assert created["recurrence_of"] == n
    stored = client.get(f"/api/v1/cases/{created['number']}").json()
    assert {k: v for k, v in stored.items() if k in created} == created
    case = Case.objects.get(number=created["number"])
    photo = CasePhoto.objects.get(case=case)
    assert photo.event.action == "report" and (photo.width, photo.height) == (64, 48)
    assert photo.image.storage.exists(photo.image.name)


@pytest.mark.django_db
def test_a_refused_photo_writes_nothing(demo_city, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    login_client(client, "inspector")
    cases, photos = Case.objects.count(), CasePhoto.objects.count()
    bad = io.BytesIO(b"not an image at all")
    bad.name = "photo.jpg"
    r = _report(client, photos=[jpeg(), bad])
    assert r.status_code == 422 and r.json()["code"] == "invalid_photo", r.content
    assert (Case.objects.count(), CasePhoto.objects.count()) == (cases, photos)
    assert not any(p.is_file() for p in (tmp_path / "media").rglob("*"))
