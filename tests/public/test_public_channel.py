"""Citizens: report without login, track by code, rate; nothing private on the public pages."""
import re

import pytest
from django.test import Client

from urbangrid.cases import services
from urbangrid.cases.models import Case, CaseEvent
from urbangrid.catalog.models import CatalogClass
from ug_testing import jpeg, login_client

pytestmark = pytest.mark.django_db
POINT = {"lon": "117.2352", "lat": "31.8785"}


def _class(code="06010", version="gbt47678.5-2026"):  # 暴露垃圾 in the demo's current catalogue
    return CatalogClass.objects.get(version__code=version, code=code)


def _report(client, **extra):
    data = {"catalog_class": _class().pk, "description": "路边垃圾堆了三天", "name": "张先生", "contact": "13912345678",
            **POINT, **extra}
    return client.post("/report/", data)


def test_report_track_and_privacy(demo_city):
    anon = Client()
    page = anon.get("/report/WG01/")
    assert page.status_code == 200 and "WG01" in page.content.decode()
    resp = anon.post("/report/WG01/", {"catalog_class": _class().pk, "description": "路边垃圾", "name": "张先生",
                                       "contact": "13912345678", "photos": [jpeg()], **POINT})
    assert resp.status_code == 302 and "/track/" in resp.url
    case = Case.objects.get()
    assert case.source == "public_web" and case.needs_verification and case.reporter_contact == "13912345678"
    track = anon.get(resp.url).content.decode()
    assert case.tracking_code in track and "已收到" in track
    # Staff work on it; the public timeline shows steps and the unit, never notes, names or the contact.
    staff = {r: login_client(Client(), r) for r in ("intake_operator", "inspector", "shift_lead", "dispatcher")}
    staff["intake_operator"].post(f"/api/v1/cases/{case.number}/actions/send_verify", {})
    staff["inspector"].post(f"/api/v1/cases/{case.number}/actions/verify", {"opinion": "内部意见：属实，张三核实", "photos": [jpeg()]})
    staff["shift_lead"].post(f"/api/v1/cases/{case.number}/actions/file", {})
    track = anon.get(f"/track/{case.tracking_code}/").content.decode()
    assert "现场核实完成" in track and "已立案" in track
    for private in ("13912345678", "张先生", "内部意见", "张三"):
        assert private not in track, private
    inspector_name = CaseEvent.objects.get(case=case, action="verify").actor_person.name
    assert inspector_name not in track
    # Before photos are visible; the verify photo is internal.
    photo_urls = re.findall(r'/track/\w+/photos/(\d+)', track)
    assert photo_urls and all(anon.get(f"/track/{case.tracking_code}/photos/{pk}").status_code == 200 for pk in photo_urls)
    verify_photo = case.photos.get(kind="verify")
    assert anon.get(f"/track/{case.tracking_code}/photos/{verify_photo.pk}").status_code == 404
    assert anon.get("/track/NOSUCHCODE/").status_code == 404


def test_rating_dissatisfied_reopens(demo_city):
    inspector = login_client(Client(), "inspector")
    number = inspector.post("/api/v1/cases", {"catalog_version": "gbt47678.5-2026", "class_code": "07001", **POINT,
                                              "description": "小广告", "self_handled": "true", "photos": [jpeg()],
                                              "after_photos": [jpeg()]}).json()["number"]
    login_client(Client(), "intake_operator").post(f"/api/v1/cases/{number}/actions/accept", {})
    login_client(Client(), "shift_lead").post(f"/api/v1/cases/{number}/actions/close", {})
    case = Case.objects.get(number=number)
    anon = Client()
    page = anon.get(f"/track/{case.tracking_code}/").content.decode()
    assert "提交评价" in page
    bad = anon.post(f"/track/{case.tracking_code}/", {"satisfaction": "great"})
    assert bad.status_code == 200 and Case.objects.get(pk=case.pk).satisfaction == ""
    anon.post(f"/track/{case.tracking_code}/", {"satisfaction": "dissatisfied", "comment": "没处理干净"})
    case.refresh_from_db()
    assert case.state == "pending_dispatch" and case.reopen_count == 1 and case.satisfaction == ""
    actions = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["rate", "reopen"]
    rate_event = CaseEvent.objects.get(case=case, action="rate")
    assert rate_event.role == "citizen" and rate_event.data["satisfaction"] == "dissatisfied"
    # A second rating of the same closure is refused (the case is no longer closed).
    assert "提交评价" not in anon.get(f"/track/{case.tracking_code}/").content.decode()


def test_bad_public_reports(demo_city, settings):
    anon = Client()
    outside = _report(anon, lon="116.0", lat="30.0")
    assert outside.status_code == 400 and "不在管理范围内" in outside.content.decode()
    no_place = anon.post("/report/", {"catalog_class": _class().pk, "description": "x"})
    assert no_place.status_code == 400 and "请在地图上点选问题位置" in no_place.content.decode()
    kept = anon.post("/report/", {"catalog_class": "", "description": "我写的描述", **POINT})
    assert kept.status_code == 400 and "我写的描述" in kept.content.decode()
    evil = _report(anon, photos=[_text_file()])
    assert evil.status_code == 400 and "不是有效的图片" in evil.content.decode()
    assert Case.objects.count() == 0
    settings.URBANGRID_PUBLIC_POSTS_PER_HOUR = 2
    from django.core.cache import cache

    cache.clear()
    fresh = Client(REMOTE_ADDR="10.99.0.1")  # the refused posts above counted against 127.0.0.1 too
    codes = [_report(fresh).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    cache.clear()


def _text_file():
    import io

    f = io.BytesIO(b"GIF89a<script>alert(1)</script>")
    f.name = "x.gif"
    return f


def test_merged_reporter_follows_the_master(demo_city):
    anon = Client()
    first = anon.post("/report/", {"catalog_class": _class().pk, "description": "垃圾一", **POINT})
    second = anon.post("/report/", {"catalog_class": _class().pk, "description": "垃圾二", **POINT})
    master, dup = Case.objects.order_by("pk")
    shift = login_client(Client(), "shift_lead")
    assert shift.post(f"/api/v1/cases/{dup.number}/actions/merge", {"master": master.number}).status_code == 200
    login_client(Client(), "intake_operator").post(f"/api/v1/cases/{master.number}/actions/send_verify", {})
    page = anon.get(second.url.split("?")[0]).content.decode()
    assert "已与同一问题合并" in page and "已安排现场核实" in page and "正在现场核实" in page


def test_transparency_page_counts_and_privacy(demo_city):
    anon = Client()
    anon.post("/report/", {"catalog_class": _class().pk, "description": "垃圾", "name": "李女士", "contact": "13800001111", **POINT})
    page = anon.get("/public/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="received-year">1<' in html and "暴露垃圾" in html
    assert "13800001111" not in html and "李女士" not in html


def test_hotline_operator_form(demo_city):
    operator = login_client(Client(), "intake_operator")
    assert operator.get("/centre/hotline/").status_code == 200
    data = {"hotline": "12319", "external_no": "RX-77", "catalog_class": _class("09009").pk, "description": "乱停车堵门",
            "caller_phone": "13600000000", **POINT}
    first = operator.post("/centre/hotline/", data)
    assert first.status_code == 302
    case = Case.objects.get(external_ref="12319:RX-77")
    assert case.source == "hotline_12319" and case.needs_verification and first.url == f"/cases/{case.number}/"
    again = operator.post("/centre/hotline/", data)
    assert again.status_code == 302 and Case.objects.filter(external_ref="12319:RX-77").count() == 1
    bad = operator.post("/centre/hotline/", {**data, "lon": "116.0", "lat": "30.0", "external_no": "RX-78"})
    assert bad.status_code == 400 and "不在管理范围内" in bad.content.decode() and "乱停车堵门" in bad.content.decode()
    assert login_client(Client(), "inspector").get("/centre/hotline/").status_code == 403
