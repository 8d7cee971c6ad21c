"""The answer to the citizen (公开答复, ``workflow.PUBLIC_NOTE``): declared by the table's rows, taken through the
case API and the case page, recorded apart from the internal note, refused where a row takes none."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from urbangrid.cases.models import CaseEvent
from urbangrid.cases.workflow import PUBLIC_NOTE, TRANSITIONS, takes_public_note
from urbangrid.public.timeline import PUBLIC_STEPS

from ug_testing import jpeg

pytestmark = pytest.mark.django_db
INSIDE_WG01 = (117.2352, 31.8785)


def client_for(username):
    c = Client()
    c.force_login(get_user_model().objects.get(username=username))
    return c


def report(c):
    data = {"catalog_version": "local-demo", "class_code": "0401", "lon": INSIDE_WG01[0], "lat": INSIDE_WG01[1],
            "description": "路面出现塌陷，约一平方米", "source": "inspector", "photos": [jpeg()]}
    r = c.post("/api/v1/cases", data)
    assert r.status_code == 201, r.content
    return r.json()["number"]


def test_the_rows_that_answer_the_citizen():
    answering = {t.action for t in TRANSITIONS if takes_public_note(t)}
    assert answering == {"not_file", "feed_back", "close", "void", "merge", "keep_closed"}
    # Each of them shows on the tracking page's timeline, so its answer is seen there too.
    assert answering <= set(PUBLIC_STEPS)


def test_public_note_through_the_api_and_the_case_page(demo_city):
    inspector, intake = client_for("inspector"), client_for("intake_operator")
    number = report(inspector)
    page = intake.get(f"/cases/{number}/").content.decode()
    # The case page asks for the answer where the step gives one (不予立案), and only there (受理).
    assert 'name="public_note"' in page and 'id="not_file-public_note"' in page and 'id="accept-public_note"' not in page
    refused = intake.post(f"/api/v1/cases/{number}/actions/accept", {PUBLIC_NOTE: "已受理，请耐心等待"})
    assert refused.status_code == 422 and PUBLIC_NOTE in refused.content.decode()
    assert not CaseEvent.objects.filter(case__number=number, action="accept").exists()
    r = intake.post(f"/api/v1/cases/{number}/actions/not_file",
                    {"reason": "内部：上报人与施工方有纠纷", PUBLIC_NOTE: "该处为在建工地，由建设单位负责"})
    assert r.status_code == 200, r.content
    event = CaseEvent.objects.get(case__number=number, action="not_file")
    assert event.note == "内部：上报人与施工方有纠纷" and event.data[PUBLIC_NOTE] == "该处为在建工地，由建设单位负责"
    # Staff see both on the case page, the answer marked as public.
    page = intake.get(f"/cases/{number}/").content.decode()
    assert "内部：上报人与施工方有纠纷" in page and "该处为在建工地，由建设单位负责" in page and "公开答复" in page
