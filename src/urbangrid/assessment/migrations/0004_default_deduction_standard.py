"""Seed the deduction rules and a default deduction standard (检查项目) of local practice: patrol, people on
duty, cleanliness, piled clutter, small ads, street-occupying business, facilities, party responsibility.
Points follow local rules ("饭店提前店外经营，1处扣0.1分"; docs/standards.md, Deductions)."""
from django.db import migrations

ALL = ["grid", "segment", "unit", "party", "person"]
PLACE = ["grid", "segment", "unit", "party"]
# code, name, standard, 六定 aspect, default, max, max times (per month), target types, earn back, local class code
ITEMS = [
    ("XC01", "巡查不到位", "网格巡查员未按定巡查的频次、时段、路线巡查，每次扣0.5分", "patrol", "0.5", "1", 10, ["grid", "person"], False, ""),
    ("XC02", "问题发现不及时", "考核员发现的问题未由网格巡查员在时限内上报，每处扣0.2分", "patrol", "0.2", "0.5", None, ["grid", "segment", "person"], False, ""),
    ("RY01", "网格人员不在岗", "网格责任员、巡查员等在岗时间脱岗，每人次扣0.5分", "people", "0.5", "1", None, ["grid", "person"], False, ""),
    ("FW01", "责任边界推诿", "网格、路段交界处问题无人负责或相互推诿，每处扣0.5分", "scope", "0.5", "1", None, PLACE, False, ""),
    ("HW01", "暴露垃圾", "路面、绿地有暴露垃圾、果皮纸屑，每处扣0.1分", "content", "0.1", "0.5", None, PLACE, True, "0102"),
    ("HW02", "积存垃圾渣土", "积存垃圾渣土未及时清运，每处扣0.2分", "content", "0.2", "1", None, PLACE, True, "0103"),
    ("HW03", "垃圾箱满溢", "垃圾箱（桶）满溢、周边脏乱，每处扣0.1分", "content", "0.1", "0.5", None, PLACE, True, "0115"),
    ("RZ01", "乱堆物堆料", "占用道路、人行道乱堆物堆料，每处扣0.1分", "content", "0.1", "0.5", None, PLACE, True, "0507"),
    ("RZ02", "非法小广告", "乱张贴、乱涂写、乱刻画小广告，每处扣0.05分", "content", "0.05", "0.5", None, PLACE, True, "0201"),
    ("RZ03", "占道经营", "流动摊贩占道经营，每处扣0.1分", "content", "0.1", "0.5", None, PLACE, True, "0512"),
    ("RZ04", "店外经营", "饭店提前店外经营，1处扣0.1分；门店出店经营同", "content", "0.1", "0.5", None, PLACE, True, "0504"),
    ("SZ01", "市政设施破损未修复", "井盖、道路、护栏等设施破损超过时限未修复，每处扣0.2分", "responsibility", "0.2", "1", None, ["grid", "segment", "unit"], True, ""),
    ("YL01", "绿化损毁", "绿化带损毁、黄土裸露未及时补植，每处扣0.1分", "content", "0.1", "0.5", None, PLACE, True, ""),
    ("BZ01", "作业质量不达标", "清扫保洁、养护作业未达到定标准的质量要求，每处扣0.2分", "standards", "0.2", "1", None, ["grid", "segment", "unit"], False, ""),
    ("ZR01", "案件超时未处置", "责任单位对派遣案件超过处置时限未处置，每件扣0.3分", "responsibility", "0.3", "1", None, ["unit"], False, ""),
    ("DJ01", "党员责任区问题未落实", "党员包保网格、路段内问题未落实整改，每处扣0.5分", "responsibility", "0.5", "1", None, ["party", "person"], False, ""),
]


def seed(apps, schema_editor):
    Policy = apps.get_model("assessment", "DeductionPolicy")
    Item = apps.get_model("assessment", "InspectionItem")
    if not Policy.objects.exists():
        Policy.objects.create(name="倒扣分规则（期初100分，3天内可申诉）", active=True, base_score=100, appeal_days=3)
    if Item.objects.exists():
        return
    CatalogClass = apps.get_model("catalog", "CatalogClass")
    for code, name, standard, aspect, dp, mp, times, targets, earn_back, cls in ITEMS:
        catalog_class = CatalogClass.objects.filter(version__code="local-demo", code=cls).first() if cls else None
        Item.objects.create(code=code, name=name, standard=standard, aspect=aspect, default_points=dp, max_points=mp,
                            max_times=times, count_period="month", target_types=targets, earn_back=earn_back,
                            earn_back_ratio="0.5", catalog_class=catalog_class, active=True)


class Migration(migrations.Migration):
    dependencies = [("assessment", "0003_deductions")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
