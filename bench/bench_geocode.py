"""Geocoding: a noisy address set generated from the demo city's gazetteer, our geocoder against plain RapidFuzz.

    .venv/bin/python bench/bench_geocode.py [--addresses 20000] [--baseline 2000] [--seed 2024]

Builds the demo city (no history) in a temporary SQLite database, then writes addresses the way people do:
doorplates (name or section alias, 5 % with a homophone slip, 3 % without 路, + number as digits, full-width digits, Chinese numerals or a sub-number, with building
and unit numbers), landmarks by name or alias (5 % with a homophone slip), intersections in five phrasings, the buildings of a community,
each with or without the city/district/street/community levels, sometimes the wrong district, a trailing
附近/旁/对面/东北角…, traditional characters and stray spaces; 5 % name places that do not exist (unknown roads and
landmarks, numbers past a road's end, parallel roads "crossing"). Reports top-1 within 50 m on the existing ones,
confident answers on the non-existent ones and addresses per second on one core (one thread), and the same
figures for a raw-library baseline: ``rapidfuzz.process.extractOne`` (default scorer WRatio) of the raw text over
every name of the gazetteer (each doorplate as 路名+号, landmarks and aliases, 甲路与乙路交叉口, communities),
"confident" at a score of 85 or more. Goal: ≥ 95 % top-1 within 50 m, ≤ 2 % confident non-existent, ≥ 2,000
addresses/s.
"""
import argparse
import math
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import log, positive, print_header, setup_django, teardown  # noqa: E402

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CN = "零一二三四五六七八九"
MODIFIERS = ["附近", "旁", "对面", "门口", "东北角", "西侧约30米", "南边", "旁边"]
# common slips of a hotline operator's input method: one character for a homophone
HOMOPHONES = dict(zip("庐寨徽湖江园华花山河安春州溪厦苑宿望", "卢赛辉胡将元化化三和按村洲西下院速旺"))
UNKNOWN_WORDS = ["幸福", "和谐", "振兴", "友谊", "繁华", "兴业", "光华", "育英", "万福", "迎宾", "复兴", "龙腾"]


def cn_number(n):
    """318 → 三百一十八 (up to 9999)."""
    out, units = [], [(1000, "千"), (100, "百"), (10, "十")]
    zero = False
    for value, unit in units:
        d, n = divmod(n, value)
        if d:
            if zero:
                out.append("零")
                zero = False
            out.append(("" if (value == 10 and d == 1 and not out) else CN[d]) + unit)
        elif out:
            zero = True
    if n:
        if zero:
            out.append("零")
        out.append(CN[n])
    return "".join(out) or "零"


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--addresses", type=int, default=20_000, help="addresses to geocode (default 20000)")
    p.add_argument("--baseline", type=int, default=2_000, help="of which the raw baseline runs on the first N (default 2000)")
    p.add_argument("--seed", type=int, default=2024)
    args = p.parse_args(argv)
    positive(p, args, "--addresses", "--baseline", "--seed")
    return args


class Generator:
    def __init__(self, rng):
        from urbangrid.gazetteer.models import Doorplate, Intersection, Landmark, Road
        from urbangrid.grids.locator import locator
        from urbangrid.grids.models import Region

        self.rng = rng
        self.roads = {r.pk: r for r in Road.objects.all()}
        self.doorplates = list(Doorplate.objects.filter(suffix="").order_by("pk"))
        self.max_number = {}
        for d in self.doorplates:
            self.max_number[d.road_id] = max(self.max_number.get(d.road_id, 0), d.number)
        self.landmarks = list(Landmark.objects.order_by("pk"))
        self.compounds = [lm for lm in self.landmarks if lm.category == "compound"]
        self.crossings = list(Intersection.objects.order_by("pk"))
        self.regions = {r.pk: r for r in Region.objects.all()}
        self.districts = [r for r in self.regions.values() if r.level == "district"]
        self.locator = locator
        crossing_pairs = {frozenset((x.road_a_id, x.road_b_id)) for x in self.crossings}
        ids = sorted(self.roads)
        self.parallel = [(a, b) for a in ids for b in ids if a < b and frozenset((a, b)) not in crossing_pairs]
        names = {r.name for r in self.roads.values()} | {lm.name for lm in self.landmarks}
        self.unknown_words = [w for w in UNKNOWN_WORDS if not any(w in n for n in names)]

    def levels(self, lon, lat):
        """A prefix of administrative levels for the true point: none, right or wrong district, the full chain."""
        attrs = self.locator.find_unit_grid(lon, lat)
        if attrs is None:  # the far side of a road on the managed area's edge
            return ""
        community = self.regions[attrs[5]]
        street = self.regions[community.parent_id]
        district = self.regions[street.parent_id]
        r = self.rng.random()
        if r < 0.40:
            return ""
        if r < 0.60:
            return district.name
        if r < 0.70:
            return district.name + street.name + community.name
        if r < 0.85:
            return self.rng.choice([d for d in self.districts if d.pk != district.pk]).name  # the wrong district
        if r < 0.90:
            return "示范市" + district.name
        return community.name

    def road_name(self, road):
        name = road.name if (not road.aliases or self.rng.random() < 0.6) else self.rng.choice(road.aliases)
        r = self.rng.random()
        if r < 0.05:
            return self.typo(name)
        if r < 0.08 and name.endswith("路"):
            return name[:-1]  # 长江318号
        return name

    def typo(self, name):
        spots = [i for i, c in enumerate(name) if c in HOMOPHONES]
        if not spots:
            return name
        i = self.rng.choice(spots)
        return name[:i] + HOMOPHONES[name[i]] + name[i + 1:]

    def number(self, n):
        r = self.rng.random()
        if r < 0.5:
            return f"{n}号"
        if r < 0.7:
            return f"{n}号".translate(FULLWIDTH)
        if r < 0.85:
            return f"{cn_number(n)}号"
        if r < 0.95:
            return f"{n}-{self.rng.randint(1, 5)}号"
        return f"{n}号院"

    def tail(self, building=False):
        out = ""
        if building and self.rng.random() < 0.3:
            out += self.rng.choice([f"{self.rng.randint(1, 30)}栋", f"{self.rng.randint(1, 20)}号楼{self.rng.randint(1, 4)}单元",
                                    f"{self.rng.randint(1, 12)}幢"])
        if self.rng.random() < 0.5:
            out += self.rng.choice(MODIFIERS)
        return out

    def noise(self, text):
        import zhconv

        if self.rng.random() < 0.1:
            text = zhconv.convert(text, "zh-tw")
        if self.rng.random() < 0.1 and len(text) > 4:
            k = self.rng.randint(1, len(text) - 1)
            text = text[:k] + " " + text[k:]
        return text

    def existing(self):
        r = self.rng.random()
        if r < 0.55:
            d = self.rng.choice(self.doorplates)
            road = self.roads[d.road_id]
            text = self.levels(d.lon, d.lat) + self.road_name(road) + self.number(d.number) + self.tail(building=True)
            return "doorplate", text, (d.lon, d.lat)
        if r < 0.80:
            lm = self.rng.choice(self.landmarks)
            name = lm.name if (not lm.aliases or self.rng.random() < 0.5) else self.rng.choice(lm.aliases)
            if self.rng.random() < 0.05:
                name = self.typo(name)
            return "landmark", self.levels(lm.lon, lm.lat) + name + self.tail(), (lm.lon, lm.lat)
        if r < 0.95:
            x = self.rng.choice(self.crossings)
            a, b = self.road_name(self.roads[x.road_a_id]), self.road_name(self.roads[x.road_b_id])
            if self.rng.random() < 0.5:
                a, b = b, a
            phrase = self.rng.choice([f"{a}与{b}交叉口", f"{a}和{b}路口", f"{a}、{b}十字路口", f"{a}{b}路口", f"{a}/{b}交汇处"])
            return "intersection", self.levels(x.lon, x.lat) + phrase + self.tail(), (x.lon, x.lat)
        lm = self.rng.choice(self.compounds)
        community = self.regions[lm.community_id]
        return "community building", f"{community.name}{self.rng.randint(1, 30)}栋{self.tail()}", (lm.lon, lm.lat)

    def missing(self):
        r = self.rng.random()
        if r < 0.3:
            return f"{self.rng.choice(self.unknown_words)}路{self.rng.randint(1, 400)}号"
        if r < 0.55:
            road = self.rng.choice(list(self.roads.values()))
            return f"{self.road_name(road)}{self.max_number[road.pk] + self.rng.randint(50, 900)}号"
        if r < 0.8:
            return self.rng.choice(self.unknown_words) + self.rng.choice(["大酒店", "购物中心", "小学", "公园", "大厦", "花园"])
        a, b = self.rng.choice(self.parallel)
        return f"{self.roads[a].name}与{self.roads[b].name}交叉口"

    def sample(self, n):
        out = []
        for _ in range(n):
            if self.rng.random() < 0.05:
                out.append(("non-existent", self.noise(self.missing()), None))
            else:
                kind, text, point = self.existing()
                out.append((kind, self.noise(text), point))
        return out


def distance_m(a, b):
    kx = 111_320.0 * math.cos(math.radians(a[1]))
    return math.hypot((a[0] - b[0]) * kx, (a[1] - b[1]) * 110_574.0)


def evaluate(rows, answer):
    """answer(text) → (point or None, confident); returns the figures and the seconds spent answering."""
    from collections import Counter

    hits, total, kinds_hit, kinds_total = 0, 0, Counter(), Counter()
    confident_right, confident_wrong, false_confident, missing = 0, 0, 0, 0
    answers = []
    started = time.perf_counter()
    for _kind, text, _point in rows:
        answers.append(answer(text))
    seconds = time.perf_counter() - started
    for (kind, _text, point), (got, confident) in zip(rows, answers):
        if point is None:
            missing += 1
            false_confident += bool(confident)
            continue
        total += 1
        kinds_total[kind] += 1
        ok = got is not None and distance_m(got, point) <= 50
        hits += ok
        kinds_hit[kind] += ok
        if confident:
            confident_right += ok
            confident_wrong += not ok
    return {
        "top1": hits / max(total, 1), "confident_right": confident_right / max(total, 1),
        "confident_wrong": confident_wrong / max(total, 1), "false_confident": false_confident / max(missing, 1),
        "per_kind": {k: (kinds_hit[k], kinds_total[k]) for k in sorted(kinds_total)},
        "rate": len(rows) / seconds, "n": len(rows), "n_missing": missing,
    }


def raw_baseline():
    from rapidfuzz import process

    from urbangrid.gazetteer.models import Doorplate, Intersection, Landmark, Road
    from urbangrid.grids.models import Region, UnitGrid

    names, points = [], []
    roads = {r.pk: r.name for r in Road.objects.all()}
    for d in Doorplate.objects.all():
        names.append(f"{roads[d.road_id]}{d.number}{d.suffix}号")
        points.append((d.lon, d.lat))
    for lm in Landmark.objects.all():
        for n in [lm.name, *lm.aliases]:
            names.append(n)
            points.append((lm.lon, lm.lat))
    for x in Intersection.objects.all():
        names.append(f"{roads[x.road_a_id]}与{roads[x.road_b_id]}交叉口")
        points.append((x.lon, x.lat))
    for c in Region.objects.filter(level="community"):
        grids = list(UnitGrid.objects.filter(community=c).values_list("min_lon", "min_lat", "max_lon", "max_lat"))
        if grids:
            names.append(c.name)
            points.append(((min(g[0] for g in grids) + max(g[2] for g in grids)) / 2,
                           (min(g[1] for g in grids) + max(g[3] for g in grids)) / 2))

    def answer(text):
        best = process.extractOne(text, names)
        if best is None:
            return None, False
        return points[best[2]], best[1] >= 85

    return answer, len(names)


def ours():
    from urbangrid.gazetteer.geocoder import geocoder

    def answer(text):
        found = geocoder.geocode(text, limit=2)
        if not found:
            return None, False
        return (found[0].lon, found[0].lat), found[0].confident

    geocoder.index()  # built before the clock starts, as in a running server
    return answer


def report(name, r):
    kinds = ", ".join(f"{k} {h / t:.1%} of {t}" for k, (h, t) in r["per_kind"].items())
    print(f"| {name} | {r['n']:,} | {r['top1']:.1%} | {r['confident_right']:.1%} | {r['confident_wrong']:.2%} | "
          f"{r['false_confident']:.1%} of {r['n_missing']} | {r['rate']:,.0f} |")
    return kinds


def main(argv=None):
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ug-bench-geocode-"))
    try:
        setup_django("sqlite", tmp)
        import rapidfuzz
        import zhconv  # noqa: F401

        from urbangrid.gazetteer.models import Doorplate, Intersection, Landmark, Road

        rows = Generator(random.Random(args.seed)).sample(args.addresses)
        log(f"geocoding {len(rows):,} addresses")
        answer = ours()
        mine = evaluate(rows, answer)
        log(f"raw baseline on {min(args.baseline, len(rows)):,} addresses")
        raw_answer, n_names = raw_baseline()
        raw = evaluate(rows[: args.baseline], raw_answer)
        gazetteer = (f"{Road.objects.count()} roads, {Doorplate.objects.count():,} doorplates, "
                     f"{Intersection.objects.count()} intersections, {Landmark.objects.count()} landmarks")
        print_header("Geocoding", "sqlite", [f"RapidFuzz {rapidfuzz.__version__}", f"Gazetteer: {gazetteer} (demo city, seed 2024)",
                                             f"Addresses: {args.addresses:,} (seed {args.seed}), 5 % non-existent; one thread"])
        print("| method | addresses | top-1 within 50 m | confident and right | confident and wrong | "
              "confident on non-existent | addresses/s |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        kinds_mine = report("UrbanGrid geocoder", mine)
        kinds_raw = report(f"raw `process.extractOne` over {n_names:,} names", raw)
        print()
        print(f"- by kind, ours: {kinds_mine}")
        print(f"- by kind, raw: {kinds_raw}")
        met = mine["top1"] >= 0.95 and mine["false_confident"] <= 0.02 and mine["rate"] >= 2000
        print(f"- goal (≥ 95 % top-1 within 50 m, ≤ 2 % confident non-existent, ≥ 2,000 addresses/s): "
              f"{'met' if met else 'not met'}")
    finally:
        teardown("sqlite", tmp)


if __name__ == "__main__":
    main()
