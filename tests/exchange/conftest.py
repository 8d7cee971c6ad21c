import pytest

from .province_node import CITY, KEY, ProvinceNode


@pytest.fixture
def province(tmp_path, request):
    """A running province node with the test city registered (its own database of the run's vendor)."""
    from ug_testing import suite_vendor

    node = ProvinceNode(tmp_path / "province", f"ug_exchange_province_{suite_vendor()}")
    try:
        node.start()
        yield node
    finally:
        node.close()


@pytest.fixture
def city_settings(settings, province):
    """The test process's city, configured to send to ``province``."""
    settings.URBANGRID_EXCHANGE_URL = province.base
    settings.URBANGRID_EXCHANGE_KEY = KEY
    settings.URBANGRID_EXCHANGE_CITY = CITY
    settings.URBANGRID_EXCHANGE_TIMEOUT = 20
    settings.URBANGRID_EXCHANGE_BATCH_EVENTS = 400
    return settings
