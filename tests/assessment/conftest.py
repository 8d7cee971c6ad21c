import pytest


@pytest.fixture(params=["tallies", "events"])
def both_sources(request, settings):
    """Run a test against the daily tallies and against the raw-event reference: the same numbers."""
    settings.URBANGRID_EVALUATION_TALLIES = request.param == "tallies"
    return request.param
