import pytest


@pytest.fixture(params=["tallies", "events"])
def both_sources(request, settings, monkeypatch):
    """Run a test against the daily tallies and against the raw-event reference: the same numbers. In the
    tallies run every evaluation first tallies what it misses, as the worker would have (requests never do)."""
    from urbangrid.assessment.evaluation import evaluate

    settings.URBANGRID_EVALUATION_TALLIES = request.param == "tallies"
    if request.param == "tallies":
        monkeypatch.setattr(evaluate, "BUILD_TALLIES", True)
    return request.param
