"""Issue 17 (findings 4 and 5) in a real browser on the demo city with its history: a subject without activity
reads 无数据 and has no rank, the award candidates have scores, and the running month's summary says it is
partial and which span of the previous month it is compared with."""
import pytest

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(demo_history):
    return demo_history


def test_no_data_and_partial_month(live_server, page, demo):
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login = demo["leader"]
    log_in(page, live_server.url, login["username"], login["password"])

    # the evaluation page: units without cases in the month read 无数据 in score and grade
    page.goto(f"{live_server.url}/assessment/?period=month")
    units = page.locator("table[data-table=units]")
    texts = [t.strip() for t in units.locator("tbody tr td:last-child").all_inner_texts()]
    assert "无数据" in texts
    assert any(t in ("A", "B", "C", "D", "E") for t in texts)

    # the rankings: the idle units are last and unranked; every ranked one has a score
    page.goto(f"{live_server.url}/assessment/reviews/rankings/?dim=unit&period=month")
    page.wait_for_selector("#review[data-ready='1']", timeout=30_000)
    rows = page.locator("table[data-section=rankings] tbody tr")
    ranks = rows.locator("td[data-key=rank]").all_inner_texts()
    scores = rows.locator("td[data-key=score]").all_inner_texts()
    assert "无数据" in scores
    for rank, score in zip(ranks, scores):
        assert (rank.strip() == "—") == (score.strip() == "无数据")
    assert scores.index("无数据") > 0 and all(s == "无数据" for s in scores[scores.index("无数据"):])

    # the running month: partial, compared with the same span of the previous month
    page.goto(f"{live_server.url}/assessment/reviews/monthly/")
    assert "本月进行中" in page.inner_text("[data-partial]")
    span = page.inner_text("[data-span]")
    assert "与上期同期" in span and "天" in span
    assert page.locator("table[data-section=trend] tbody tr").count() >= 5
    # the quarterly review has a summary like the monthly one
    page.goto(f"{live_server.url}/assessment/reviews/quarterly/")
    assert page.locator(".rv-kpi[data-kpi=reported]").count() == 1
    assert "本季进行中" in page.inner_text("[data-partial]")
    # the yearly award candidates all have scores
    page.goto(f"{live_server.url}/assessment/reviews/yearly/")
    awards = page.locator("table[data-section=unit_awards] td[data-key=pay_score]").all_inner_texts()
    assert awards and "无数据" not in awards and "—" not in awards
    assert errors == []
