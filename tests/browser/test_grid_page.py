"""The grid page in a real browser: from the grid list, switch the period, open a case from the open-case list."""
import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from urbangrid.cases import services
from urbangrid.catalog.models import CatalogClass
from urbangrid.org.scope import actor_for

from ug_testing import jpeg

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grid_page_from_the_list(live_server, page, demo):
    inspector = actor_for(get_user_model().objects.get(username=demo["inspector"]["username"]))
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    case, _ = services.report(inspector, catalog_class=cls, lon=117.2352, lat=31.8785, description="路面塌陷", source="inspector",
                              photos=[SimpleUploadedFile("p.jpg", jpeg().read(), "image/jpeg")])
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])
    page.goto(f"{live_server.url}/grids/")
    page.click('a[href="/grids/WG01/"] >> nth=0')
    page.wait_for_selector("#figures")
    assert page.inner_text('[data-figure="received"]') == "1"
    page.click('a[data-period="day"]')
    page.wait_for_selector('a[data-period="day"][aria-current="page"]')
    assert page.inner_text('[data-figure="received"]') == "1"
    screenshot(page, "grid-page-zh")
    page.click(f'#open-cases a[href="/cases/{case.number}/"]')
    page.wait_for_selector("#case-number")
    assert page.inner_text("#case-number") == case.number
