"""The demo city's gazetteer: roads from its segments (with section and old names as aliases), doorplates along
every road, the intersections of its roads and a few hundred named landmarks with aliases. Deterministic per
seed; everything is replaced on a rebuild."""
import math
import random

from django.db import transaction
from shapely.geometry import box, mapping

from urbangrid.grids import geometry as geo
from urbangrid.grids.models import GridDataVersion, ResponsibilityGrid
from urbangrid.grids.signals import muted

from urbangrid.gazetteer.derive import derive_intersections, number_doorplates, roads_from_segments
from urbangrid.gazetteer.models import Doorplate, Landmark

WORDS = (
    "阳光 幸福 翠竹 锦绣 华府 东方 紫荆 金色 碧水 蓝天 春华 秋实 嘉禾 青松 绿洲 银河 星光 明珠 新城 丽景 福润 安泰 "
    "金桂 玉兰 荷塘 梧桐 枫林 银杏 香樟 芙蓉 凤凰 龙湖 天鹅 白鹭 湖畔 滨江 瑞景 康乐 祥和 宏图 天元 长城 江淮 徽商 "
    "新华 人民 团结 建设 光明 红星 朝阳 育才 启明 求实 南湖 北斗 翡翠 丹桂 锦江 文华"
).split()
COMPOUND_SUFFIX = ["花园", "小区", "苑", "家园", "新村", "公寓", "雅居", "华庭"]
BANKS = [("中国工商银行", "工行"), ("中国建设银行", "建行"), ("中国农业银行", "农行"), ("中国银行", "中行")]
MARKETS = ["华联", "永辉", "苏果", "家乐福", "大润发", "沃尔玛"]
CN_DIGITS = "零一二三四五六七八九"


def cn_number(n):
    """12 → 十二, 3 → 三, 21 → 二十一 (up to 99)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def road_aliases(name, east_west):
    """Section names (长江西路/长江中路/长江东路, 金寨北路/金寨南路) and, for 大道/街, the common 路 form."""
    for tail in ("大道", "路", "街"):
        if name.endswith(tail):
            stem = name[: -len(tail)]
            break
    else:
        return []
    sections = ["西", "中", "东"] if east_west else ["北", "南"]
    aliases = [f"{stem}{s}{tail}" for s in sections]
    if tail != "路":
        aliases.append(f"{stem}路")
    return aliases


class _Names:
    def __init__(self, rng):
        self.rng, self.used = rng, set()

    def take(self, make, tries=200):
        """A name (and its aliases) from ``make(word)`` that no landmark has yet, or None."""
        for _ in range(tries):
            name, aliases = make(self.rng.choice(WORDS))
            aliases = [a for a in aliases if a not in self.used and a != name]
            if name not in self.used:
                self.used.add(name)
                self.used.update(aliases)
                return name, aliases
        return None


@transaction.atomic
def build_gazetteer(seed=2024):
    rng = random.Random(seed * 7919 + 16)
    roads = roads_from_segments()
    with muted():
        for road in roads.values():
            x0, y0, x1, y1 = road.min_lon, road.min_lat, road.max_lon, road.max_lat
            road.aliases = road_aliases(road.name, east_west=(x1 - x0) >= (y1 - y0))
            road.save(update_fields=["aliases"])
        Landmark.objects.all().delete()
    ordered = sorted(roads.values(), key=lambda r: r.name)
    derive_intersections(ordered)
    doorplates = number_doorplates(ordered)
    names = _Names(rng)
    numbered = {"school": iter(range(1, 1000)), "hospital": iter(range(1, 1000))}
    landmarks = []
    road_names = sorted(roads)
    grids = list(ResponsibilityGrid.objects.select_related("region").order_by("code"))
    plane = geo.LocalPlane(sum((g.min_lat + g.max_lat) / 2 for g in grids) / max(len(grids), 1))
    for g in grids:
        cname = g.region.name.removesuffix("社区")
        x0, y0 = plane.xy(g.min_lon, g.min_lat)
        x1, y1 = plane.xy(g.max_lon, g.max_lat)
        # six slots (3 × 2) and the centre, jittered, at least 60 m from the roads on the grid's edges
        slots = [(x0 + (x1 - x0) * (i + 0.5) / 3, y0 + (y1 - y0) * (j + 0.5) / 2) for j in range(2) for i in range(3)]
        slots = [(x + rng.uniform(-25, 25), y + rng.uniform(-25, 25)) for x, y in slots]
        suffix = rng.choice(COMPOUND_SUFFIX)
        kinds = ["compound"] + rng.sample(["school", "hospital", "park", "market", "bank", "hotel", "building"], 5)
        made = []
        for kind, (x, y) in zip(kinds, slots):
            n = None
            if kind == "compound":
                made.append((Landmark.Category.COMPOUND, f"{cname}{suffix}",
                             [f"{cname}小区"] if suffix != "小区" else [f"{cname}苑"], (x, y), 40))
                names.used.update(made[-1][1:2])
                continue
            if kind == "school":
                if rng.random() < 0.5:
                    got = names.take(lambda w: (f"{w}小学", [f"{w}小"]))
                else:
                    n = next(numbered["school"])
                    got = names.take(lambda w: (f"示范市第{n}中学", [f"市{cn_number(n)}中", f"第{cn_number(n)}中学"]))
                cat = Landmark.Category.SCHOOL
            elif kind == "hospital":
                if rng.random() < 0.4:
                    n = next(numbered["hospital"])
                    got = names.take(lambda w: (f"示范市第{n}人民医院", [f"市{cn_number(n)}院", f"第{cn_number(n)}人民医院"]))
                else:
                    got = names.take(lambda w: (f"{w}医院", [f"{w}社区医院"]))
                cat = Landmark.Category.HOSPITAL
            elif kind == "park":
                got = names.take(lambda w: (f"{w}公园", [f"{w}广场"]))
                cat = Landmark.Category.PARK
            elif kind == "market":
                road = rng.choice(road_names)
                got = names.take(lambda w: (f"{rng.choice(MARKETS)}超市（{road}店）", []) if rng.random() < 0.5
                                 else (f"{w}购物中心", [f"{w}商场"]))
                if got and "超市" in got[0]:
                    brand = got[0].split("超市")[0]
                    got = (got[0], [f"{road}{brand}", f"{brand}超市{road}店"])
                cat = Landmark.Category.MARKET
            elif kind == "bank":
                bank, short = rng.choice(BANKS)
                got = names.take(lambda w: (f"{bank}{w}支行", [f"{short}{w}支行"]))
                cat = Landmark.Category.BANK
            elif kind == "hotel":
                got = names.take(lambda w: (f"{w}大酒店", [f"{w}酒店", f"{w}宾馆"]))
                cat = Landmark.Category.HOTEL
            else:
                got = names.take(lambda w: (f"{w}大厦", [f"{w}大楼"]))
                cat = Landmark.Category.BUILDING
            if got:
                made.append((cat, got[0], got[1], (x, y), 0))
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        made.append((Landmark.Category.OFFICE, f"{cname}社区服务中心", [f"{cname}社区居委会"], (cx, cy), 0))
        for cat, name, aliases, (x, y), half in made:
            lon, lat = round(x / plane.kx, 7), round(y / plane.ky, 7)
            outline = None
            if half:
                outline = mapping(box((x - half) / plane.kx, (y - half) / plane.ky, (x + half) / plane.kx, (y + half) / plane.ky))
            landmarks.append(Landmark(name=name, aliases=aliases, category=cat, lon=lon, lat=lat, geometry=outline,
                                      community=g.region))
    with muted():
        Landmark.objects.bulk_create(landmarks)
        # a compound's main gate: its nearest doorplate carries its name
        named = []
        for lm in landmarks:
            if lm.category != Landmark.Category.COMPOUND:
                continue
            best = min(doorplates, key=lambda d: (d.lon - lm.lon) ** 2 * math.cos(math.radians(lm.lat)) ** 2 + (d.lat - lm.lat) ** 2)
            best.building_name = lm.name
            named.append(best)
        Doorplate.objects.bulk_update(named, ["building_name"], batch_size=500)
    GridDataVersion.bump()
    return {"roads": len(roads), "doorplates": len(doorplates), "landmarks": len(landmarks)}
