"""Small geography, units and catalogue built through the ORM for the catalog tests.

Map (lon × lat, each unit grid 0.001° square, row at lat 30.250–30.251):
  120.160 东坡社区 grid ...001001001 (in responsibility grid RG-01)
  120.161 岳王社区 grid ...001002001          — both in 湖滨街道 (has a territorial unit)
  120.162 清波社区 grid ...002001001          — in 清波街道 (no territorial unit → district's)
"""
from types import SimpleNamespace

import pytest

from urbangrid.catalog.models import CatalogClass, CatalogVersion
from urbangrid.grids.locator import locator
from urbangrid.grids.models import Region, ResponsibilityGrid, UnitGrid
from urbangrid.org.models import Unit


def square(lon, lat, size=0.001):
    return {"type": "Polygon", "coordinates": [[[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]]}


@pytest.fixture
def geo(db):
    R = Region.Level
    city = Region.objects.create(code="330100", name="示范市", level=R.CITY)
    district = Region.objects.create(code="330102", name="上城区", level=R.DISTRICT, parent=city)
    hubin = Region.objects.create(code="330102001", name="湖滨街道", level=R.STREET, parent=district)
    qingbo_st = Region.objects.create(code="330102002", name="清波街道", level=R.STREET, parent=district)
    dongpo = Region.objects.create(code="330102001001", name="东坡社区", level=R.COMMUNITY, parent=hubin)
    yuewang = Region.objects.create(code="330102001002", name="岳王社区", level=R.COMMUNITY, parent=hubin)
    qingbo = Region.objects.create(code="330102002001", name="清波社区", level=R.COMMUNITY, parent=qingbo_st)
    rg = ResponsibilityGrid.objects.create(code="RG-01", name="东坡一网格", region=dongpo, geometry=square(120.160, 30.250))
    g1 = UnitGrid.objects.create(code="330102001001001", community=dongpo, responsibility_grid=rg, geometry=square(120.160, 30.250))
    g2 = UnitGrid.objects.create(code="330102001002001", community=yuewang, geometry=square(120.161, 30.250))
    g3 = UnitGrid.objects.create(code="330102002001001", community=qingbo, geometry=square(120.162, 30.250))
    locator.invalidate()
    return SimpleNamespace(
        city=city, district=district, hubin=hubin, qingbo_street=qingbo_st, dongpo=dongpo, yuewang=yuewang, qingbo=qingbo,
        rg=rg, g1=g1, g2=g2, g3=g3,
        p_dongpo=(120.1605, 30.2505), p_yuewang=(120.1615, 30.2505), p_qingbo=(120.1625, 30.2505), p_outside=(121.0, 31.0),
    )


@pytest.fixture
def units(geo):
    mk = Unit.objects.create
    return SimpleNamespace(
        city_bureau=mk(code="U-CITY", name="市城管局", region=geo.city, is_territorial=True),
        district=mk(code="U-SC", name="上城区城管局", region=geo.district, is_territorial=True, command_level="district"),
        hubin=mk(code="U-HB", name="湖滨街道办", region=geo.hubin, is_territorial=True, kind=Unit.Kind.STREET_OFFICE),
        water=mk(code="U-WATER", name="市水务集团", kind=Unit.Kind.ENTERPRISE),
        law=mk(code="U-LAW", name="上城区执法中队", kind=Unit.Kind.TEAM),
        gardens=mk(code="U-GARDEN", name="市园林局", kind=Unit.Kind.DEPARTMENT),
    )


@pytest.fixture
def small_catalog(db):
    """Two tiny versions: CJ/T 214-style components (4-digit codes) and GB/T 47678.5-style (5-digit)."""
    old = CatalogVersion.objects.create(code="t-old", name="旧版", standard="CJ/T 214-2007", code_length=4)
    new = CatalogVersion.objects.create(code="t-new", name="新版", standard="GB/T 47678.5-2026", code_length=5, is_current=True)
    mk = CatalogClass.objects.create
    C, E = CatalogClass.Kind.COMPONENT, CatalogClass.Kind.EVENT
    return SimpleNamespace(
        old=old, new=new,
        manhole=mk(version=old, kind=C, major_code="01", major_name="公用设施", code="0101", name="上水井盖"),
        sewer=mk(version=old, kind=C, major_code="01", major_name="公用设施", code="0102", name="污水井盖"),
        building=mk(version=old, kind=E, major_code="01", major_name="市容环境", code="0101", name="私搭乱建"),
        garbage=mk(version=old, kind=E, major_code="01", major_name="市容环境", code="0102", name="暴露垃圾"),
        supply=mk(version=new, kind=C, major_code="01", major_name="市政公用设施", code="01001", name="供水井盖"),
    )
