"""Every figure the bureau reads on the demo city (dashboard tiles, the reviews' summaries and tables) equals the
length of the case list its link opens: each is defined once (``cases.indicators``) and both sides read that."""
import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from ug_testing import login_client
from urbangrid.assessment.reviews import periodic
from urbangrid.assessment.periods import period_of
from urbangrid.org.reach import Reach
from demo_snapshot import build_demo


def _listed(client, href, _seen={}):
    # one request per distinct list: the same link recurs across summaries, tables and periods
    key = (id(client), unescape(href))
    if key not in _seen:
        _seen[key] = _count(client, key[1])
    return _seen[key]


def _count(client, href):
    page = client.get(href)
    assert page.status_code == 200, href
    html = page.content.decode()
    total = re.search(r'data-total="(\d+)"', html)
    assert total, href
    if "kpi=" in href:  # the list says which figure it is
        assert re.search(r'data-indicator="\w+"', html), href
    return int(total.group(1))


def _sample(cells, n=6):
    """A table's cells of one column to open: the largest and the smallest figure and others spread between
    (every row's link is built by the same code: opening 600 lists of a 3,000-case city costs minutes)."""
    ranked = sorted((c for c in cells if isinstance(c[0], int)), key=lambda c: c[0])
    if len(ranked) <= n:
        return ranked
    step = (len(ranked) - 1) / (n - 1)
    return [ranked[round(i * step)] for i in range(n)]


@pytest.fixture
def demo_history(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    # the same arguments as the assessment and browser tests' history: one 3,000-case build per session, restored here
    build_demo(seed=11, log=lambda m: None, history=True, cases=3000)


@pytest.mark.django_db
def test_every_figure_equals_the_list_behind_it(demo_history, client):
    login_client(client, "leader")
    today = timezone.localdate()
    checked = {}
    # the dashboard, over a week, a month, a quarter and a year
    for start in (today - timedelta(days=6), today.replace(day=1), today - timedelta(days=90), today - timedelta(days=365)):
        page = client.get(f"/dashboard/?period=custom&from={start.isoformat()}&to={today.isoformat()}").content.decode()
        tiles = re.findall(r'href="([^"]+)" data-kpi="(\w+)" data-count="(\d+)"', page)
        assert len(tiles) == 7
        for href, key, value in tiles:
            assert _listed(client, href) == int(value), ("dashboard", start, key, href)
            checked[f"dashboard:{key}"] = checked.get(f"dashboard:{key}", 0) + int(value)
    # the reviews: every figure with a link to the case list, in the summaries and in the tables
    everything = Reach(everything=True)
    for kind, on in (("daily", today - timedelta(days=1)), ("daily", today - timedelta(days=2)), ("weekly", today),
                     ("monthly", today), ("monthly", (today.replace(day=1) - timedelta(days=1))), ("quarterly", today),
                     ("yearly", today)):
        review = periodic.build(kind, period_of({"daily": "day", "weekly": "week", "monthly": "month",
                                                "quarterly": "quarter", "yearly": "year"}[kind], on), everything)
        figures = [(f"summary:{key}", value, link) for key, _label, value, _kind, link in review.summary]
        for section in review.sections:
            columns = {}
            for row in section.rows:
                for column, link in row.get("_links", {}).items():
                    columns.setdefault(column, []).append((row.get(column), link))
            for column, cells in columns.items():
                figures += [(f"{section.key}:{column}", value, link) for value, link in _sample(cells)]
        for name, value, link in figures:
            if not link or not link.startswith("/cases/?") or not isinstance(value, int):
                continue
            assert _listed(client, link) == value, (kind, on, name, link)
            checked[f"{kind}:{name}"] = checked.get(f"{kind}:{name}", 0) + value
    # the check saw real numbers for every figure of the dashboard and the review summaries
    for key in ("received", "filed", "dispatched", "closed", "overdue"):
        assert checked[f"dashboard:{key}"] > 0, key
    for name in ("monthly:summary:reported", "monthly:summary:filed", "monthly:summary:dispatched", "monthly:summary:closed",
                 "monthly:summary:rework", "weekly:summary:filed", "yearly:summary:closed", "daily:by_unit:open"):
        assert checked.get(name, 0) > 0, (name, sorted(checked))
    for name in ("daily:summary:reported", "daily:summary:overdue_now", "daily:by_grid:filed", "daily:by_unit:dispatched"):
        assert name in checked, (name, sorted(checked))  # compared (a quiet day may count none)
