"""The intake queue by keyboard (j / k and m merges into the suggested master) and the unit workbench's
签收 and 转交 in a real browser."""
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from urbangrid.cases import services
from urbangrid.cases.models import Case
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.models import Person, RoleAssignment
from urbangrid.org.scope import actor_for

from ug_testing import jpeg

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def actor(username):
    return actor_for(get_user_model().objects.get(username=username))


def reported():
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    case, _ = services.report(actor("inspector"), catalog_class=cls, lon=117.2352, lat=31.8785, description="路面塌陷",
                              source="inspector", photos=[SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")])
    return case


def test_intake_queue_merges_by_keyboard(live_server, page, demo):
    master, dup = reported(), reported()
    login = demo["intake_operator"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/centre/?sort=-reported")  # newest first: the duplicate is the first row
    page.wait_for_selector(f'tr[data-number="{dup.number}"] button[data-master="{master.number}"]')
    screenshot(page, "centre-intake-duplicates")
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.closest('tr').dataset.number") == dup.number
    page.keyboard.press("m")
    page.wait_for_selector(".messages")
    assert Case.objects.get(pk=dup.pk).state == "merged" and Case.objects.get(pk=dup.pk).duplicate_of_id == master.pk
    assert page.locator(f'tr[data-number="{dup.number}"]').count() == 0


def test_unit_handler_signs_and_hands_over(live_server, page, demo):
    case = reported()
    unit = RoleAssignment.objects.get(person__user__username="unit_handler", role="unit_handler").unit
    for action, who, inputs in (("accept", "intake_operator", {}), ("file", "shift_lead", {}),
                                ("dispatch", "dispatcher", {"unit": unit.code})):
        services.transition(actor(who), case.number, action, inputs)
    mate = Person.objects.create(name="队员甲", employee_no="T-mate", unit=unit)
    RoleAssignment.objects.create(person=mate, role="unit_handler", unit=unit)
    login = demo["unit_handler"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/unit/")
    page.click(f'button[data-accept-task="{case.number}"]')
    page.wait_for_selector(f'tr[data-number="{case.number}"][data-mine="1"]')
    screenshot(page, "unit-bench-mine")
    page.goto(f"{live_server.url}/cases/{case.number}/")
    form = page.locator('form[data-action="assign"]')
    page.click("#more-actions > summary")  # the feedback form comes first; handing over is collapsed
    form.locator("select[name=person]").select_option("T-mate")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#current-person")
    assert page.inner_text("#current-person") == "队员甲"
    assert Case.objects.get(pk=case.pk).current_person_id == mate.pk
