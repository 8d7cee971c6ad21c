"""The one-page sign folds the 定责任 list per responsible unit: its major classes, how many classes, and the
range of its time limits compared across units of time."""
from types import SimpleNamespace

from urbangrid.places.card import responsibility_by_unit


def _row(unit, major, limit, hours, fallback=False):
    return {"unit": unit, "major_name": major, "limit": limit, "limit_hours": hours, "fallback": fallback}


def test_rows_fold_per_unit_with_the_range_of_limits():
    water, streets = SimpleNamespace(pk=1, name="排水管理处"), SimpleNamespace(pk=2, name="街道办")
    rows = [_row(water, "公用设施", "1 工作日", 8), _row(water, "公用设施", "4 工作时", 4),
            _row(water, "突发事件", "5 工作日", 40), _row(streets, "市容环境", "", None, fallback=True),
            _row(water, "公用设施", "12 自然时", 4)]
    first, second = responsibility_by_unit(rows)
    assert first["unit"] is water and first["count"] == 4 and first["majors"] == ["公用设施", "突发事件"]
    assert first["limits"] == "4 工作时 – 5 工作日" and not first["fallback"]
    assert second["unit"] is streets and second["fallback"] and second["limits"] == ""
    same = responsibility_by_unit([_row(water, "公用设施", "1 工作日", 8), _row(water, "公用设施", "1 工作日", 8)])
    assert same[0]["limits"] == "1 工作日"
