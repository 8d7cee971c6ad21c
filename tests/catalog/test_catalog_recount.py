"""跨版本统计 on the demo city (history under the document's lists, the city on GB/T 47678.5-2026): every case is
counted once, under its class's counterpart or among the ones a person must place; the same figures from the
domain function, the page and its Excel export, the API and the command; bad input is a clear 4xx / CLI error.
The admin action switches with a dry-run confirmation first."""
import io
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from urbangrid.cases.models import Case, CaseEvent
from urbangrid.cases.states import OPEN
from urbangrid.cases.workflow import Action
from urbangrid.cases.recount import recount_cases
from urbangrid.catalog.models import CatalogVersion
from urbangrid.worktime import clock as wt

pytestmark = pytest.mark.django_db

NEW, OLD = "gbt47678.5-2026", "cjt214-2007"


@pytest.fixture
def city(settings, tmp_path):
    from demo_snapshot import build_demo  # the same arguments as test_catalog_switch: one build per session

    settings.VAR_DIR = tmp_path
    _summary, logins, _path = build_demo(seed=9, log=lambda m: None, history=True, cases=400)
    return logins


def _login(client, logins, role):
    client.force_login(get_user_model().objects.get(username=logins[role]["username"]))
    return client


def test_every_case_counted_once_under_either_catalogue(city):
    total = Case.objects.count()
    new = recount_cases(NEW)
    assert [v.code for v in new.versions] == [NEW, "local-demo-2026"]
    assert new.cases == total and new.counted + sum(p["n"] for p in new.pending) == total
    garbage = next(r for r in new.rows if (r["target"].version.code, r["target"].code) == (NEW, "06010"))  # 暴露垃圾
    from_old = sum(n for c, n, _s in garbage["sources"])
    assert from_old == Case.objects.filter(catalog_version="local-demo", class_code="0102").count() > 0
    assert garbage["direct"] == Case.objects.filter(catalog_version=NEW, kind="event", class_code="06010").count()
    assert garbage["total"] == garbage["direct"] + garbage["mapped"]
    assert all(p["status"] in ("split", "none") for p in new.pending)

    old = recount_cases(OLD, kind="event")
    assert [v.code for v in old.versions] == [OLD, "local-demo"]
    assert old.cases == Case.objects.filter(kind="event").count()
    back = next(r for r in old.rows if (r["target"].version.code, r["target"].code) == ("local-demo", "0102"))
    assert back["total"] == Case.objects.filter(kind="event", class_code__in=["0102", "06010"]).count()

    day = Case.objects.order_by("created_at").first().created_at.astimezone(wt.TZ).date()  # the day of the first report
    one_day = recount_cases(NEW, day, day)
    assert 0 < one_day.cases < total and recount_cases(NEW, date(2000, 1, 1), date(2000, 1, 2)).cases == 0


def test_page_export_api_and_command_agree(client, city, tmp_path, capsys):
    _login(client, city, "leader")
    page = client.get("/catalog/recount/", {"version": NEW})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-table="recount"' in html and "06010" in html
    figures = recount_cases(NEW)
    assert f"案件 {figures.cases} 件，计入 {figures.counted} 件" in html

    export = client.get("/catalog/recount.xlsx", {"version": NEW})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(export.content))
    counts, pending = wb.worksheets
    header = [c.value for c in counts[1]]
    total_col = header.index("total")
    assert sum(row[total_col] for row in counts.iter_rows(min_row=2, values_only=True)) == figures.counted
    cases_col = [c.value for c in pending[1]].index("cases")
    assert sum(row[cases_col] for row in pending.iter_rows(min_row=2, values_only=True)) == figures.cases - figures.counted

    api = client.get("/api/v1/catalog/recount", {"version": NEW})
    body = api.json()
    assert api.status_code == 200 and (body["cases"], body["counted"]) == (figures.cases, figures.counted)
    assert body["versions"] == [NEW, "local-demo-2026"]
    assert sum(r["total"] for r in body["rows"]) == body["counted"]

    path = tmp_path / "recount.xlsx"
    call_command("catalog", "recount", "--version", NEW, "--xlsx", str(path))
    out = capsys.readouterr().out
    assert f"案件 {figures.cases} 件，计入 {figures.counted} 件" in out and path.exists()
    assert load_workbook(path).worksheets[0].max_row == counts.max_row


def test_bad_input_and_permissions(client, city):
    _login(client, city, "leader")
    bad = client.get("/api/v1/catalog/recount", {"from": "2026-13-01", "to": "x", "version": "nope", "kind": "thing"})
    assert bad.status_code == 422 and set(bad.json()["fields"]) == {"from", "to", "version", "kind"}
    backwards = client.get("/api/v1/catalog/recount", {"from": "2026-03-02", "to": "2026-03-01"})
    assert backwards.status_code == 422 and set(backwards.json()["fields"]) == {"to"}
    page = client.get("/catalog/recount/", {"from": "not-a-date"})
    assert page.status_code == 422 and 'data-field="from"' in page.content.decode()
    assert client.get("/catalog/recount.xlsx", {"kind": "thing"}).status_code == 422
    with pytest.raises(CommandError, match="--kind"):
        call_command("catalog", "recount", "--kind", "thing")

    _login(client, city, "inspector")
    assert client.get("/api/v1/catalog/recount").status_code == 403
    assert client.get("/catalog/recount/").status_code == 403
    client.logout()
    assert client.get("/catalog/recount/").status_code == 302  # to the login page


def test_admin_action_confirms_a_dry_run_then_switches(client, city):
    admin_client = _login(client, city, "admin")  # the demo's 系统管理员
    old = CatalogVersion.objects.get(code=OLD)
    events = CaseEvent.objects.count()
    url = "/admin/catalog/catalogversion/"
    confirm = admin_client.post(url, {"action": "switch_to", "_selected_action": [old.pk]})
    html = confirm.content.decode()
    assert confirm.status_code == 200 and 'id="switch-report"' in html and "试运行" in html
    assert CaseEvent.objects.count() == events and not CatalogVersion.objects.get(code=OLD).is_current

    done = admin_client.post(url, {"action": "switch_to", "_selected_action": [old.pk], "apply": "1"}, follow=True)
    assert done.status_code == 200 and "已切换到" in done.content.decode()
    assert sorted(CatalogVersion.objects.filter(is_current=True).values_list("code", flat=True)) == [OLD, "local-demo"]
    moved = CaseEvent.objects.filter(action=Action.RECLASSIFY, seq__gt=0).order_by("-pk").first()
    assert moved is not None and moved.actor_user_id is not None  # the administrator who switched
    assert not Case.objects.filter(state__in=OPEN, catalog_version=NEW, kind="event", class_code="06010").exists()

    two = admin_client.post(url, {"action": "switch_to", "_selected_action": [old.pk, old.pk + 1]}, follow=True)
    assert "请只选择一个分类版本" in two.content.decode()
    # is_current is not editable by hand: only the switch moves it (with the cases and the rules).
    form = admin_client.get(f"{url}{old.pk}/change/").content.decode()
    assert 'name="is_current"' not in form
