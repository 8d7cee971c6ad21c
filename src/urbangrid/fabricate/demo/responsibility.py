"""The demo city's responsibility list (责任清单) and component inventory (部件普查).

The history is filed under the document's lists: events under the local 5/54 list, components under the
CJ/T 214-2007 6/85 list. Then the city switches to GB/T 47678.5-2026 (``switch_to_current``: open cases and the
rules follow the crosswalk, the classes it gives no rule get one here); the old lists stay for the history. The component register
is kept under GB/T 47678.5-2026 (17-digit identifiers). Limits follow the
practice values of docs/standards.md, "Stage time limits"; each district's sanitation and enforcement units take
their district's street-cleaning and street-order classes (two-level command), and 私搭乱建 shows
filing conditions (停工 / 处罚 / 拆除) with their own limits.
"""
import random
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext_noop

from urbangrid.cases.catalog_switch import switch_catalogue
from urbangrid.cases.models import Case
from urbangrid.catalog import responsibility
from urbangrid.catalog.loader import load_catalogues
from urbangrid.catalog.models import CatalogClass, CatalogVersion, Component, ResponsibilityRule
from urbangrid.grids.locator import locator
from urbangrid.grids.models import Region, UnitGrid
from urbangrid.org.models import Unit

H, D = "working_hours", "working_days"
EVENT_VERSION, COMPONENT_VERSION = "local-demo", "cjt214-2007"
CURRENT_VERSION = "gbt47678.5-2026"  # the national list in force since 2026-07-01; the demo runs on it

# event code -> (unit code, limit, unit of limit, urgent?)
EVENT_RULES = {
    "0101": ("CGJ-ZF", 20, D, False), "0102": ("CGJ-HW", 4, H, False), "0103": ("CGJ-HW", 2, D, False),
    "0104": ("CGJ-HW", 2, H, False), "0105": ("CGJ-PS", 1, D, False), "0106": ("CGJ-YL", 4, H, False),
    "0107": ("CGJ-ZF", 5, D, False), "0108": ("CGJ-HW", 1, D, False), "0109": ("CGJ-YL", 1, D, False),
    "0110": ("CGJ-ZF", 4, H, False), "0111": ("CGJ-ZF", 5, D, False), "0112": ("CGJ-HW", 2, H, True),
    "0113": ("EXT-HB", 3, D, False), "0114": ("CGJ-HW", 2, H, True), "0115": ("CGJ-HW", 4, H, False),
    "0201": ("CGJ-GG", 1, D, False), "0202": ("CGJ-GG", 3, D, False), "0203": ("CGJ-GG", 2, D, False),
    "0204": ("CGJ-ZF", 4, H, False), "0205": ("CGJ-GG", 3, D, False), "0206": ("CGJ-GG", 2, D, False),
    "0301": ("CGJ-ZF", 4, H, False), "0302": ("EXT-ZJ", 1, D, False), "0303": ("CGJ-JS", 4, H, False),
    "0304": ("CGJ-JS", 2, D, False), "0305": ("CGJ-ZF", 1, D, False), "0306": ("CGJ-SZ", 1, D, True),
    "0307": ("CGJ-JS", 4, H, False), "0308": ("EXT-ZJ", 3, D, False), "0309": ("EXT-ZJ", 5, D, False),
    "0401": ("CGJ-SZ", 2, H, True), "0402": ("CGJ-GS", 2, H, True), "0403": ("CGJ-RQ", 1, H, True),
    "0404": ("CGJ-PS", 4, H, True), "0405": ("CGJ-GY", 2, H, True), "0406": ("CGJ-PS", 4, H, True),
    "0407": ("CGJ-HW", 4, H, True), "0408": ("EXT-GD", 4, H, True), "0409": ("CGJ-ZF", 1, H, True),
    "0410": ("CGJ-ZF", 1, H, True), "0411": ("CGJ-YL", 4, H, True),
    "0501": ("CGJ-ZF", 2, H, False), "0502": ("CGJ-ZF", 4, H, False), "0503": ("CGJ-ZF", 1, D, False),
    "0504": ("CGJ-ZF", 4, H, False), "0505": ("EXT-JJ", 4, H, False), "0506": ("CGJ-TC", 4, H, False),
    "0507": ("CGJ-ZF", 1, D, False), "0508": ("CGJ-ZF", 4, H, False), "0509": ("EXT-JJ", 1, D, False),
    "0510": ("CGJ-ZF", 2, H, False), "0511": ("CGJ-ZF", 1, D, False), "0512": ("CGJ-ZF", 2, H, False),
    "0513": ("CGJ-TC", 4, H, False),
}
FILING_CONDITIONS = {"0101": [("责令停工", 4, H), ("立案处罚", 7, D), ("依法拆除", 20, D)]}
# Classes each district's own units take inside that district (区级指挥): code -> district unit suffix.
DISTRICT_RULES = {"0102": "HW", "0104": "HW", "0115": "HW", "0501": "ZF", "0504": "ZF", "0512": "ZF"}

COMPONENT_UNIT_BY_NAME = [
    ("上水井盖", "CGJ-GS"), ("供水器", "CGJ-GS"), ("民用水井", "CGJ-GS"),
    ("污水井盖", "CGJ-PS"), ("雨水", "CGJ-PS"), ("化粪池", "CGJ-HW"), ("中水井盖", "CGJ-PS"),
    ("电力", "EXT-GD"), ("高压线", "EXT-GD"), ("变压器", "EXT-GD"), ("立杆", "EXT-GD"),
    ("路灯", "CGJ-LD"), ("地灯", "CGJ-LD"), ("景观灯", "CGJ-LD"),
    ("通讯", "EXT-TX"), ("电视井盖", "EXT-TX"), ("网络井盖", "EXT-TX"), ("电话亭", "EXT-TX"),
    ("燃气", "CGJ-RQ"), ("输油", "CGJ-RQ"), ("热力井盖", "CGJ-GY"),
    ("公安井盖", "EXT-JJ"), ("监控电子眼", "EXT-JJ"), ("治安岗亭", "EXT-JJ"),
    ("停车", "CGJ-TC"), ("存车支架", "CGJ-TC"),
    ("交通", "EXT-JJ"),
    ("公共厕所", "CGJ-HW"), ("公厕", "CGJ-HW"), ("垃圾", "CGJ-HW"),
    ("灯箱", "CGJ-GG"), ("广告", "CGJ-GG"), ("宣传栏", "CGJ-GG"),
    ("监测站", "EXT-HB"), ("噪声", "EXT-HB"),
    ("人防", "EXT-ZJ"), ("公房", "EXT-ZJ"), ("工地", "EXT-ZJ"), ("危险源", "EXT-ZJ"),
    ("水域", "CGJ-PS"), ("防汛", "CGJ-PS"), ("港监", "CGJ-PS"),
    ("桥", "CGJ-SZ"), ("地下通道", "CGJ-SZ"), ("路名牌", "CGJ-SZ"), ("隔音屏", "CGJ-SZ"), ("无主井盖", "CGJ-SZ"),
    ("特殊井盖", "CGJ-SZ"),
]
# Most common components in a street scene, weighted for the inventory (GB/T 47678.5-2026 codes: the register is
# kept under the catalogue the city files under; 01030 电力立杆 is one of the five classes 0117 立杆 split into).
COMMON_COMPONENTS = {"01002": 6, "01003": 6, "01004": 5, "01001": 4, "01037": 6, "03005": 5, "04002": 8, "04007": 3,
                     "02017": 2, "02012": 2, "01030": 3, "03001": 1, "02010": 2}


def component_unit(cls):
    if cls.major_code == "04":
        return "CGJ-YL"
    for needle, unit in COMPONENT_UNIT_BY_NAME:
        if needle in cls.name:
            return unit
    return "CGJ-GY"


@transaction.atomic
def build_rules():
    units = {u.code: u for u in Unit.objects.all()}
    events = CatalogClass.objects.filter(version__code=EVENT_VERSION, kind="event")
    components = CatalogClass.objects.filter(version__code=COMPONENT_VERSION, kind="component")
    created = 0

    def rule(cls, unit_code, value, limit_unit, urgent, condition="", region=None):
        nonlocal created
        _, made = ResponsibilityRule.objects.update_or_create(
            catalog_class=cls, filing_condition=condition, region=region, responsibility_grid=None,
            defaults={"unit": units[unit_code], "urgency": "urgent" if urgent else "normal",
                      "time_limit_value": Decimal(value), "time_limit_unit": limit_unit,
                      "filing_standard": f"发现{cls.name}即立案" if not condition else f"{cls.name}：{condition}",
                      "closing_standard": f"{cls.name}已处置到位，现场恢复整洁有序",
                      "auto_dispatch": not urgent and cls.code in ("0201", "0204")},
        )
        created += made

    for cls in events:
        unit_code, value, limit_unit, urgent = EVENT_RULES[cls.code]
        rule(cls, unit_code, value, limit_unit, urgent)
        for condition, cvalue, cunit in FILING_CONDITIONS.get(cls.code, []):
            rule(cls, unit_code, cvalue, cunit, urgent, condition)
        if cls.code in DISTRICT_RULES:
            for district in Region.objects.filter(level=Region.Level.DISTRICT):
                rule(cls, f"D{district.code}-{DISTRICT_RULES[cls.code]}", value, limit_unit, urgent, region=district)
    for cls in components:
        manhole = "井盖" in cls.name or "箅子" in cls.name
        rule(cls, component_unit(cls), 1 if manhole else 5, D, manhole)
    return created


@transaction.atomic
def build_components(seed, per_unit_grid=2):
    """About two components per unit grid, with valid 17-digit GB/T 47678.5-2026 identifiers (idempotent)."""
    rng = random.Random(f"components-{seed}")
    if Component.objects.exists():
        return 0
    classes = {c.code: c for c in CatalogClass.objects.filter(version__code=CURRENT_VERSION, kind="component")}
    weighted = [code for code, w in COMMON_COMPONENTS.items() for _ in range(w)] + list(classes)
    units = {u.code: u for u in Unit.objects.all()}
    serial = {}
    rows = []
    for ug in UnitGrid.objects.order_by("code").only("pk", "code", "min_lon", "min_lat", "max_lon", "max_lat"):
        for _ in range(per_unit_grid):
            cls = classes[rng.choice(weighted)]
            lon = rng.uniform(ug.min_lon, ug.max_lon)
            lat = rng.uniform(ug.min_lat, ug.max_lat)
            key = (ug.code[:6], cls.code)
            serial[key] = serial.get(key, 0) + 1
            unit = units[component_unit(cls)]
            rows.append(Component(
                identifier=f"{ug.code[:6]}{cls.code}{serial[key]:06d}", catalog_class=cls, name=cls.name,
                lon=round(lon, 7), lat=round(lat, 7), unit_grid_id=ug.pk, competent_unit=unit, maintenance_unit=unit,
                state=rng.choices(["intact", "damaged", "lost"], [95, 4, 1])[0], data_source="survey",
            ))
    Component.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def build_responsibility(seed, city=None):
    load_catalogues()
    if not Case.objects.exists():
        # The history is filed under the document's lists: the local events and CJ/T 214-2007 components.
        CatalogVersion.objects.filter(code__in=[EVENT_VERSION, COMPONENT_VERSION]).update(is_current=True)
        CatalogVersion.objects.exclude(code__in=[EVENT_VERSION, COMPONENT_VERSION]).update(is_current=False)
    locator.invalidate()
    build_rules()
    build_components(seed)


# Matters of GB/T 47678.5-2026 (behaviour classes 06–10, no component): the bureau unit by major class.
MATTER_UNIT_BY_MAJOR = {"06": "CGJ-HW", "07": "CGJ-GG", "08": "CGJ-JS", "09": "CGJ-ZF", "10": "CGJ-SZ"}
# The problems citizens report most, with the words they use (the public report page's chips): (version, kind,
# code) → plain name, on both catalogues so the chips follow a switch either way.
PLAIN_NAMES = {
    ("local-demo", "event", "0201"): gettext_noop("小广告"), ("local-demo", "event", "0102"): gettext_noop("垃圾没人清"),
    ("local-demo", "event", "0507"): gettext_noop("乱堆乱放"), ("local-demo", "event", "0504"): gettext_noop("店外经营"),
    ("local-demo", "event", "0505"): gettext_noop("乱停车"), ("local-demo", "event", "0104"): gettext_noop("路面脏"),
    ("local-demo", "event", "0401"): gettext_noop("路面塌陷"), ("cjt214-2007", "component", "0103"): gettext_noop("井盖坏了"),
    ("cjt214-2007", "component", "0118"): gettext_noop("路灯不亮"), ("cjt214-2007", "component", "0305"): gettext_noop("垃圾箱坏了"),
    (CURRENT_VERSION, "event", "07001"): gettext_noop("小广告"), (CURRENT_VERSION, "event", "06010"): gettext_noop("垃圾没人清"),
    (CURRENT_VERSION, "event", "06036"): gettext_noop("乱堆乱放"), (CURRENT_VERSION, "event", "09005"): gettext_noop("店外经营"),
    (CURRENT_VERSION, "event", "09009"): gettext_noop("乱停车"), (CURRENT_VERSION, "event", "06012"): gettext_noop("路面脏"),
    ("local-demo-2026", "event", "21001"): gettext_noop("路面塌陷"), (CURRENT_VERSION, "event", "01003"): gettext_noop("井盖坏了"),
    (CURRENT_VERSION, "event", "01037"): gettext_noop("路灯不亮"), (CURRENT_VERSION, "event", "03005"): gettext_noop("垃圾箱坏了"),
}


def _limit_for(cls):
    manhole = "井盖" in cls.name or "箅子" in cls.name
    return (1, D, True) if manhole else (5, D, False)


@transaction.atomic
def build_current_rules():
    """A city-wide rule for every current class that has none after the switch (the crosswalk gave it none: a
    class new in 2026, a split): components and their "…异常" matters by name, behaviour matters by major class."""
    units = {u.code: u for u in Unit.objects.all()}
    ruled = set(ResponsibilityRule.objects.filter(region=None, responsibility_grid=None, filing_condition="")
                .values_list("catalog_class_id", flat=True))
    rules = []
    for cls in CatalogClass.objects.filter(version__is_current=True).exclude(pk__in=ruled).select_related("component"):
        basis = cls.component or cls
        if cls.kind == "event" and cls.component_id is None:
            unit, (value, limit_unit, urgent) = MATTER_UNIT_BY_MAJOR.get(cls.major_code, "CGJ-ZF"), (1, D, False)
        else:
            unit, (value, limit_unit, urgent) = component_unit(basis), _limit_for(basis)
        rules.append(ResponsibilityRule(
            catalog_class=cls, unit=units[unit], urgency="urgent" if urgent else "normal", time_limit_value=Decimal(value),
            time_limit_unit=limit_unit, filing_standard=f"发现{cls.name}即立案", closing_standard=f"{cls.name}已处置到位，现场恢复整洁有序"))
    ResponsibilityRule.objects.bulk_create(rules)
    return len(rules)


def set_plain_names():
    """The citizens' words for the commonest problems, where nobody has given a class its own yet."""
    for (version, kind, code), words in PLAIN_NAMES.items():
        CatalogClass.objects.filter(version__code=version, kind=kind, code=code, plain_name="").update(plain_name=words)


def switch_to_current():
    """The city moves to GB/T 47678.5-2026 (``cases.catalog_switch``): open cases and the responsibility list follow the
    crosswalk, what needs a person's decision is reported; the classes left without a rule get one."""

    report = switch_catalogue(CURRENT_VERSION)
    build_current_rules()
    set_plain_names()
    responsibility.invalidate()  # bulk writes send no signals
    locator.invalidate()
    return report