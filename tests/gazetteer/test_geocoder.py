"""Geocoding and reverse geocoding over the demo city's gazetteer."""
import math

import pytest

from urbangrid.gazetteer.geocoder import GeocodeInputError, cn_to_int, geocoder, normalize
from urbangrid.gazetteer.models import Doorplate, Intersection, Landmark, Road
from urbangrid.grids.locator import locator

pytestmark = pytest.mark.django_db


def metres(a, b):
    kx = 111_320.0 * math.cos(math.radians(a[1]))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 110_574.0)


def best(text):
    found = geocoder.geocode(text)
    assert found, text
    return found[0]


def doorplate(road, number):
    return Doorplate.objects.get(road__name=road, number=number, suffix="")


def test_normalize():
    assert normalize("長江西路　３１８號") == "长江西路318号"
    assert normalize("长江路三百一十八号十二栋") == "长江路318号12栋"
    assert normalize("示范市第六人民医院") == "示范市第6人民医院"
    assert normalize("12#楼") == "12号楼"
    assert cn_to_int("三百零八") == 308 and cn_to_int("十") == 10 and cn_to_int("一二三") == 123


def test_demo_gazetteer(demo_city):
    assert Road.objects.count() == 17 and "长江西路" in Road.objects.get(name="长江路").aliases
    assert Doorplate.objects.count() > 5000
    assert Intersection.objects.count() == 70  # 7 east–west roads × 10 north–south roads
    assert 300 <= Landmark.objects.count() <= 400
    assert Landmark.objects.exclude(aliases=[]).count() >= 300
    assert demo_city["summary"]["道路/门牌/交叉口/标志物"].startswith("17/")


def test_parse(demo_city):
    p = geocoder.index().parse("示范市中山区中山第1街道杏花社区長江路３１８號3號樓2單元附近")
    assert p.body == "长江路318号" and p.modifier == "附近" and p.building == "3号楼2单元"
    assert set(p.hints) == {"city", "district", "street", "community"}
    p = geocoder.index().parse("黄山路与金寨路交叉口东北角")
    assert p.crossing and p.modifier == "东北角" and p.body == "黄山路与金寨路"
    p = geocoder.index().parse("某某区长江路1号")  # a district the city does not have: dropped
    assert p.unknown_levels == ["某某区"] and p.body == "长江路1号"


@pytest.mark.parametrize("text", ["长江路318号", "中山区长江路318号附近", "長江西路３１８號對面", "长江中路三百一十八号5栋",
                                  "西城区长江东路318号", "长江路318-2号", "长江318号", "  长江路 318 号 "])
def test_doorplate(demo_city, text):
    c = best(text)
    target = doorplate("长江路", 318)
    assert c.precision == "doorplate" and c.confident, c
    assert metres((c.lon, c.lat), (target.lon, target.lat)) < 1
    assert c.extras["road"] == "长江路" and c.extras["number"] == 318
    assert c.extras["unit_grid"] == locator.find_unit_grid(target.lon, target.lat)[1]


def test_missing_number_is_interpolated(demo_city):
    gone = doorplate("金寨路", 51)
    gone.delete()
    c = best("金寨路51号")
    assert c.precision == "doorplate" and c.extras["interpolated"] and metres((c.lon, c.lat), (gone.lon, gone.lat)) < 5


def test_landmark_by_name_and_alias(demo_city):
    lm = Landmark.objects.filter(category="hotel").order_by("name").first()
    for text in (lm.name, lm.aliases[0], f"东湖区{lm.aliases[-1]}对面"):
        c = best(text)
        assert c.precision == "landmark" and c.confident and c.label == lm.name, (text, c)
    hospital = Landmark.objects.get(name="示范市第1人民医院")
    for text in ("市一院", "第一人民医院", "示范市第一人民醫院門口"):
        assert best(text).label == hospital.name


def test_intersection(demo_city):
    x = Intersection.objects.get(road_a__name__in=["黄山路", "金寨路"], road_b__name__in=["黄山路", "金寨路"])
    for text in ("黄山路与金寨路交叉口东北角", "金寨路和黄山路路口", "黄山路、金寨北路十字路口", "黄山路金寨路路口",
                 "黄山路/金寨路交汇处附近", "黃山路與金寨路交叉口"):
        c = best(text)
        assert c.precision == "intersection" and c.confident and (c.lon, c.lat) == (x.lon, x.lat), (text, c)


def test_road_and_community_are_never_confident(demo_city):
    c = best("长江路")
    assert c.precision == "road" and not c.confident
    c = best("杏花社区")
    assert c.precision == "community" and not c.confident and c.label == "杏花社区"


def test_community_buildings_are_its_compound(demo_city):
    compound = Landmark.objects.get(community__name="杏花社区", category="compound")
    c = best("杏花社区12栋旁")
    assert c.precision == "landmark" and c.label == compound.name and c.extras["building"] == "12栋"


@pytest.mark.parametrize("text", ["幸福路88号", "长江路9999号", "长江路与黄山路交叉口", "星河湾大酒店", "火星基地"])
def test_non_existent_is_not_confident(demo_city, text):
    found = geocoder.geocode(text)
    assert not found or not found[0].confident, found


@pytest.mark.parametrize("text", ["", "   ", "长" * 10_000, "长江路\x00318号", None, 318])
def test_bad_input(demo_city, text):
    with pytest.raises(GeocodeInputError):
        geocoder.geocode(text)


def test_reverse(demo_city):
    d = doorplate("长江路", 318)
    got = geocoder.reverse(d.lon, d.lat)
    assert got["address"].startswith("长江路318号") and got["road"] == "长江路" and got["number"] == 318
    x = Intersection.objects.get(road_a__name__in=["黄山路", "金寨路"], road_b__name__in=["黄山路", "金寨路"])
    kx = 111_320.0 * math.cos(math.radians(x.lat))
    got = geocoder.reverse(x.lon + 15 / kx, x.lat + 15 / 110_574.0)
    assert "交叉口东北角" in got["address"] and {"黄山路", "金寨路"} == set(got["intersection"])
    lm = Landmark.objects.order_by("name").first()
    got = geocoder.reverse(lm.lon, lm.lat + 30 / 110_574.0)
    assert f"{lm.name}北约30米" in got["address"]
    assert geocoder.reverse(116.0, 30.0) is None
    with pytest.raises(GeocodeInputError):
        geocoder.reverse(float("nan"), 31.0)


def test_edits_are_seen(demo_city):
    lm = Landmark.objects.order_by("name").first()
    lm.aliases = [*lm.aliases, "老地方茶馆"]
    lm.save()
    assert best("老地方茶馆").label == lm.name
