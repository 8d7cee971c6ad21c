"""Geocoding (words → ranked candidates) and reverse geocoding (point → "路名 + 门牌/标志物 + 方位") over the
city's gazetteer, in memory, no network service.

Parsing of a Chinese address, in this order:
1. normalisation: NFKC (full-width digits and letters → ASCII), traditional → simplified characters (zhconv's
   MediaWiki tables, ~5 µs an address), Chinese numerals before 号/栋/幢/座/单元/室/层 → digits (三百一十八号 →
   318号, 十二栋 → 12栋), ``12#楼`` → 12号楼;
2. leading administrative levels, each optional and in any subset (missing levels): city, district, street,
   community, known ones kept as hints, unknown ones (a wrong or foreign district) dropped;
3. trailing modifiers: 附近/旁/对面/门口/东北角/东侧/…/约50米, and the intersection words 交叉口/路口/交汇处;
4. building, unit and room numbers (5栋, 3号楼2单元301室) at the end;
5. what is left is matched as road + number (号, 318-2号 = 318号's sub-number), two roads (an intersection:
   "A与B交叉口", "A、B路口", "A B 十字路口" or two road names in a row), a landmark/POI or compound, a road alone
   or a community.

Candidates carry a score in [0, 1] and a precision: ``doorplate`` (an exact or interpolated number), ``landmark``,
``intersection``, ``road`` (its middle) or ``community`` (its unit grids' middle). A candidate is *confident*
when its precision is a point (doorplate, landmark, intersection), its score reaches
``URBANGRID_GEOCODE_CONFIDENCE`` (0.85) and no other candidate more than 100 m away comes within 0.05 of it.
A hint that disagrees with the candidate's district (a wrong district in the text) costs 0.03: it only breaks ties.

Fuzzy matching uses RapidFuzz (``rapidfuzz.process.extractOne`` with ``fuzz.ratio``): a maintained, MIT-licensed
C++ library that compares Unicode code points (one Chinese character is one unit, so a one-character slip in a
four-character name scores 75), scores a query against thousands of names in one call with an early
``score_cutoff`` exit, and is 10–100× faster than difflib or the unmaintained fuzzywuzzy; python-Levenshtein is
GPL. Exact names, aliases and names contained in the text are looked up in dictionaries first, so the fuzzy call
only runs for the texts that need it.

The index is rebuilt when the grid data version changes (the gazetteer's edits bump it), re-read at most every
``URBANGRID_GRID_VERSION_TTL`` seconds, as the point → grid locator's (``grids.locator.VersionedIndex``); an edit made
in this process drops it at once.
"""
import math
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import shapely
from django.conf import settings
from django.utils.translation import gettext as _
from rapidfuzz import fuzz, process

from urbangrid.core.tenancy import PerCity
from urbangrid.grids import geometry as geo
from urbangrid.grids.locator import VersionedIndex, locator
from urbangrid.grids.models import Region, UnitGrid, grid_data_changed

from .models import Doorplate, Intersection, Landmark, Road

POINT_PRECISIONS = ("doorplate", "landmark", "intersection")
PRECISION_WEIGHT = {"doorplate": 1.0, "landmark": 1.0, "intersection": 1.0, "road": 0.6, "community": 0.5}
MAX_TEXT = 256
FUZZY_CUTOFF = 60
AMBIGUOUS_M = 100.0


class GeocodeInputError(ValueError):
    """The text cannot be geocoded at all (empty, too long, control characters)."""


@dataclass(slots=True)
class Candidate:
    lon: float
    lat: float
    score: float
    precision: str
    label: str
    confident: bool = False
    source_id: int | None = None  # the doorplate, landmark, intersection, road or community row
    extras: dict = field(default_factory=dict)

    def as_dict(self):
        return {"lon": round(self.lon, 7), "lat": round(self.lat, 7), "score": round(self.score, 3),
                "precision": self.precision, "label": self.label, "confident": self.confident, **self.extras}


# --- normalisation -------------------------------------------------------------------------------

_CN_DIGIT = {c: i for i, c in enumerate("零一二三四五六七八九")}
_CN_DIGIT.update({"〇": 0, "两": 2})
_CN_UNIT = {"十": 10, "百": 100, "千": 1000}
_CN_NUMBER = re.compile(r"(?<=第)([零〇一二两三四五六七八九十百千]+)|([零〇一二两三四五六七八九十百千]+)(?=号|栋|幢|座|单元|室|层|楼|-|之)")
_HASH = re.compile(r"(\d+)#")
_SPACE = re.compile(r"\s+")
_DROP = re.compile(r"[,，。.;；:：\"'“”‘’()（）\[\]【】<>《》!！?？·~～|]+")


def cn_to_int(text):
    """三百一十八 → 318, 十二 → 12, 一二三 → 123 (digit by digit when there is no 十/百/千)."""
    if not any(c in _CN_UNIT for c in text):
        return int("".join(str(_CN_DIGIT[c]) for c in text))
    total, digit = 0, None
    for c in text:
        if c in _CN_DIGIT:
            digit = _CN_DIGIT[c]
        else:
            total += (1 if digit is None else digit) * _CN_UNIT[c]
            digit = None
    return total + (digit or 0)


def normalize(text):
    """The comparable form of a name or an address: NFKC, simplified, lower case, Arabic numbers, no spaces or
    punctuation except the intersection connectors ``、`` and ``/`` and the sub-number dash."""
    # here, not at the top: zhconv loads pkg_resources, ~70 ms of every process's start-up; only geocoding needs it
    import zhconv

    text = unicodedata.normalize("NFKC", text)
    text = zhconv.convert(text, "zh-cn")
    text = _SPACE.sub("", text.lower())
    text = _DROP.sub("", text)
    text = _CN_NUMBER.sub(lambda m: str(cn_to_int(m.group(1) or m.group(2))), text)
    text = _HASH.sub(r"\1号", text)
    return text.replace("号号", "号")


# --- parsing -------------------------------------------------------------------------------------

_DIRS = "东北|西北|东南|西南|东|西|南|北"
_MODIFIER = re.compile(
    rf"(?:附近|旁边|边上|旁|对面|对过|门口|门前|周边|一带|处"
    rf"|(?:{_DIRS})(?:角|侧|边|面|方向|方)?(?:约?\d+米)?|以(?:{_DIRS})|(?:往|向)(?:{_DIRS})约?\d*米?|约?\d+米)$")
_CROSSING = re.compile(r"(?:交叉路口|十字路口|丁字路口|交叉口|交汇处|交界处|交口|路口)$")
_CONNECTOR = re.compile(r"与|和|同|跟|、|/|&|×|\+|交")
_BUILDING = re.compile(r"(?:(\d+)(?:栋|幢|座|号楼|楼))?(?:(\d+)单元)?(?:(\d+)(?:室|层|楼|号房))?$")
_ROAD_END = re.compile(r"大道|大街|路|街")
_DOORPLATE = re.compile(r"^(?P<road>\D+?)(?P<num>\d+)(?:[-－—之附](?P<sub>\d+))?号(?:院)?(?P<rest>.*)$")
_UNKNOWN_LEVELS = [
    re.compile(r"^[\u4e00-\u9fff]{2,6}?省"),
    re.compile(r"^[\u4e00-\u9fff]{2,4}?(?<!超|城|菜|夜|股)市(?!场)"),
    re.compile(r"^[\u4e00-\u9fff]{2,4}?(?<![小社园校景街城])[区县](?!\d)"),
    re.compile(r"^[\u4e00-\u9fff\d]{2,8}?街道(?:办事处)?"),
    re.compile(r"^[\u4e00-\u9fff]{2,4}?社区(?!服务|居委|医院|卫生)"),
]


@dataclass(slots=True)
class Parsed:
    text: str  # normalised
    body: str  # what is left to match
    hints: dict  # level → region id of the known prefixes
    unknown_levels: list
    modifier: str
    crossing: bool
    building: str


def _directional_label(dx, dy):
    angle = math.degrees(math.atan2(dy, dx)) % 360
    return ["东", "东北", "北", "西北", "西", "西南", "南", "东南"][int(((angle + 22.5) % 360) // 45)]


# --- the index -----------------------------------------------------------------------------------

class _Index:
    def __init__(self, version):
        self.version = version
        regions = list(Region.objects.values_list("pk", "name", "level", "parent_id"))
        self.region_level = {pk: level for pk, _n, level, _p in regions}
        self.region_name = {pk: name for pk, name, _l, _p in regions}
        self.region_parent = {pk: parent for pk, _n, _l, parent in regions}
        self.prefixes = {}
        for pk, name, level, _parent in regions:
            self.prefixes.setdefault(normalize(name), (level, pk))
        self.prefix_re = re.compile("|".join(re.escape(n) for n in sorted(self.prefixes, key=len, reverse=True))) \
            if self.prefixes else None
        # communities: the middle of their unit grids' bounding boxes (a representative point, the grids are convex)
        boxes = {}
        for cid, x0, y0, x1, y1 in UnitGrid.objects.values_list("community_id", "min_lon", "min_lat", "max_lon", "max_lat"):
            b = boxes.setdefault(cid, [x0, y0, x1, y1])
            b[0], b[1], b[2], b[3] = min(b[0], x0), min(b[1], y0), max(b[2], x1), max(b[3], y1)
        self.communities = {}
        for cid, (x0, y0, x1, y1) in boxes.items():
            name = self.region_name.get(cid)
            if name:
                entry = (cid, (x0 + x1) / 2, (y0 + y1) / 2, name)
                self.communities[normalize(name)] = entry
                self.communities.setdefault(normalize(name.removesuffix("社区")), entry)
        ref = np.mean([e[2] for e in self.communities.values()]) if self.communities else 30.0
        self.plane = geo.LocalPlane(float(ref))
        kx, ky = self.plane.kx, self.plane.ky

        roads = list(Road.objects.exclude(geometry=None).order_by("name"))
        self.roads = [(r.pk, r.name) for r in roads]
        self.road_lines = [self.plane.project(r.shape) for r in roads]
        self.road_middle = []
        for line in self.road_lines:
            p = line.interpolate(0.5, normalized=True) if line.geom_type == "LineString" else line.representative_point()
            self.road_middle.append((p.x / kx, p.y / ky))
        self.road_names = {}  # normalised name/alias/stem → (road index, score)
        stems = {}
        for i, r in enumerate(roads):
            for n in [r.name, *r.aliases]:
                self.road_names[normalize(n)] = (i, 1.0)
                stem = re.sub(r"(?:大道|大街|路|街|巷|道)$", "", normalize(n))
                if len(stem) >= 2:
                    stems.setdefault(stem, set()).add(i)
        for stem, idx in stems.items():
            if len(idx) == 1 and stem not in self.road_names:
                self.road_names[stem] = (idx.pop(), 0.9)
        self.road_keys = list(self.road_names)
        self.road_max_len = max((len(k) for k in self.road_keys), default=0)

        self.doorplates = {}  # (road index, number) → (lon, lat, id)
        self.numbers = {}  # road index → {parity: sorted numbers}
        road_index = {r.pk: i for i, r in enumerate(roads)}
        self.landmark_names = {}  # normalised name/alias → (landmark or doorplate entry index, score)
        self.places = []  # (kind, id, label, lon, lat)
        dp_xy, dp_ref, gates = [], [], []
        for pk, road_id, number, suffix, bname, lon, lat in Doorplate.objects.values_list(
                "pk", "road_id", "number", "suffix", "building_name", "lon", "lat"):
            i = road_index.get(road_id)
            if i is None:
                continue
            if not suffix:
                self.doorplates[(i, number)] = (lon, lat, pk)
                self.numbers.setdefault(i, {0: [], 1: []})[number % 2].append(number)
            dp_xy.append((lon * kx, lat * ky))
            dp_ref.append((i, number, suffix, lon, lat))
            if bname:
                gates.append(("doorplate", pk, f"{self.roads[i][1]}{number}{suffix}号（{bname}）", lon, lat, bname))
        for parities in self.numbers.values():
            for nums in parities.values():
                nums.sort()
        lm_xy, lm_ref = [], []
        compounds = {}  # community id → its compounds' place indexes
        for pk, name, aliases, lon, lat, category, community_id in Landmark.objects.order_by("name").values_list(
                "pk", "name", "aliases", "lon", "lat", "category", "community_id"):
            self.places.append(("landmark", pk, name, lon, lat))
            k = len(self.places) - 1
            if category == Landmark.Category.COMPOUND and community_id:
                compounds.setdefault(community_id, []).append(k)
            for n in [name, *(aliases or [])]:
                self.landmark_names.setdefault(normalize(n), (k, 1.0))
            lm_xy.append((lon * kx, lat * ky))
            lm_ref.append((name, lon, lat))
        for *place, bname in gates:  # a building or compound named only on its doorplate
            if normalize(bname) not in self.landmark_names:
                self.places.append(tuple(place))
                self.landmark_names[normalize(bname)] = (len(self.places) - 1, 1.0)
        self.landmark_keys = list(self.landmark_names)
        # "杏花社区12栋": the buildings of a community with one residential compound are that compound's
        self.community_compound = {cid: ks[0] for cid, ks in compounds.items() if len(ks) == 1}
        self.landmark_max_len = max((len(k) for k in self.landmark_keys), default=0)

        self.crossings = {}
        x_xy, x_ref = [], []
        for pk, a, b, lon, lat in Intersection.objects.values_list("pk", "road_a_id", "road_b_id", "lon", "lat"):
            ia, ib = road_index.get(a), road_index.get(b)
            if ia is None or ib is None:
                continue
            self.crossings.setdefault(frozenset((ia, ib)), []).append((lon, lat, pk))
            x_xy.append((lon * kx, lat * ky))
            x_ref.append((self.roads[ia][1], self.roads[ib][1], lon, lat))

        def tree(xy):
            return shapely.STRtree(shapely.points(np.array(xy, dtype=float))) if xy else None

        self.dp_tree, self.dp_ref = tree(dp_xy), dp_ref
        self.lm_tree, self.lm_ref = tree(lm_xy), lm_ref
        self.x_tree, self.x_ref = tree(x_xy), x_ref
        self.road_tree = shapely.STRtree(self.road_lines) if self.road_lines else None

    # -- parsing ------------------------------------------------------------------------------------

    def parse(self, text):
        norm = normalize(text)
        rest, hints, unknown = norm, {}, []
        for _ in range(6):  # leading levels, in any order and subset, never into a landmark's name
            if self._starts_with_landmark(rest):
                break
            m = self.prefix_re.match(rest) if self.prefix_re else None
            if m and len(m.group()) < len(rest):
                level, pk = self.prefixes[m.group()]
                hints.setdefault(level, pk)
                rest = rest[m.end():]
                continue
            for rx in _UNKNOWN_LEVELS:
                m = rx.match(rest)
                if m and len(m.group()) < len(rest) and m.group() not in self.road_names:
                    unknown.append(m.group())
                    rest = rest[m.end():]
                    break
            else:
                break
        modifiers, crossing = [], False
        for _ in range(4):
            m = _CROSSING.search(rest)
            if m and m.start() > 0:
                crossing = True
                rest = rest[:m.start()]
                continue
            m = _MODIFIER.search(rest)
            if m and m.start() > 0 and not (rest[:m.end()] in self.landmark_names or rest[:m.end()] in self.road_names):
                modifiers.insert(0, m.group())
                rest = rest[:m.start()]
                continue
            break
        building = ""
        m = _BUILDING.search(rest)
        if m and m.group():
            building, rest = m.group(), rest[:m.start()]
        return Parsed(norm, rest, hints, unknown, "".join(modifiers), crossing, building)

    def _starts_with_landmark(self, text):
        for length in range(min(len(text), self.landmark_max_len), 3, -1):
            if text[:length] in self.landmark_names:
                return True
        return False

    # -- matching -----------------------------------------------------------------------------------

    def _road(self, part):
        """(road index, score) for a road's words: exact, then a known road contained in them, then fuzzy."""
        if not part:
            return None
        hit = self.road_names.get(part)
        if hit:
            return hit
        found = _contained(part, self.road_names, self.road_max_len)
        if found:
            key, (i, s) = found
            return i, s * (0.95 if len(key) >= 3 else 0.85)
        best = process.extractOne(part, self.road_keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if best:
            i, s = self.road_names[best[0]]
            return i, s * best[1] / 100
        return None

    def _landmarks(self, part, limit=3):
        if not part:
            return []
        hit = self.landmark_names.get(part)
        if hit:
            return [hit]
        out = []
        found = _contained(part, self.landmark_names, self.landmark_max_len, min_len=3)
        if found:
            key, (k, s) = found
            out.append((k, s * (0.9 + 0.1 * len(key) / len(part))))
        for key, score, _ in process.extract(part, self.landmark_keys, scorer=fuzz.ratio, limit=limit,
                                             score_cutoff=FUZZY_CUTOFF):
            k, s = self.landmark_names[key]
            out.append((k, s * score / 100))
        return out

    def _doorplate(self, i, number, sub, road_score, parsed):
        road = self.roads[i][1]
        exact = self.doorplates.get((i, number))
        label = f"{road}{number}号" + (f"-{sub}" if sub else "")
        if exact:
            return Candidate(exact[0], exact[1], road_score * (0.99 if sub else 1.0), "doorplate", label, source_id=exact[2],
                             extras={"road": road, "number": number})
        nums = self.numbers.get(i, {}).get(number % 2) or []
        if nums and nums[0] - 10 <= number <= nums[-1] + 10:  # a gap or a little past the ends: interpolated
            j = int(np.searchsorted(nums, number))
            lo, hi = nums[max(j - 1, 0)], nums[min(j, len(nums) - 1)]
            a, b = self.doorplates[(i, lo)], self.doorplates[(i, hi)]
            t = 0.0 if hi == lo else (number - lo) / (hi - lo)
            t = min(max(t, 0.0), 1.0)
            return Candidate(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), road_score * 0.9, "doorplate",
                             label + "（插值）", extras={"road": road, "number": number, "interpolated": True})
        return self._road_candidate(i, road_score, f"{road}（无{number}号）")

    def _road_candidate(self, i, score, label=None):
        lon, lat = self.road_middle[i]
        return Candidate(lon, lat, score, "road", label or self.roads[i][1], source_id=self.roads[i][0],
                         extras={"road": self.roads[i][1]})

    def _crossing(self, a, b, sa, sb):
        names = f"{self.roads[a][1]}与{self.roads[b][1]}交叉口"
        points = self.crossings.get(frozenset((a, b)), [])
        return [Candidate(lon, lat, min(sa, sb), "intersection", names, source_id=pk,
                          extras={"roads": [self.roads[a][1], self.roads[b][1]]}) for lon, lat, pk in points]

    def _two_roads(self, body):
        """The best pair of roads named in a row, split at a connector (与/和/、/…) or after a road's 路/街/大道:
        ((road index, score), (road index, score)) or None. Every split is tried, since 和 and 交 also occur
        inside names (淮和路 as typed for 淮河路)."""
        cuts = {(m.start(), m.end()) for m in _CONNECTOR.finditer(body)}
        cuts |= {(m.end(), m.end()) for m in _ROAD_END.finditer(body)}
        best, best_score = None, 0.0
        for start, end in sorted(cuts):
            left, right = body[:start], body[end:]
            if len(left) < 2 or len(right) < 2:
                continue
            ra = self._road(left)
            rb = self._road(right) if ra else None
            if ra and rb and ra[0] != rb[0] and min(ra[1], rb[1]) > best_score:
                best, best_score = (ra, rb), min(ra[1], rb[1])
        return best

    def candidates(self, parsed):
        body, out = parsed.body, []
        if not body:
            pass
        elif (m := _DOORPLATE.match(body)) is not None:
            road = self._road(m.group("road"))
            if road:
                i, s = road
                out.append(self._doorplate(i, int(m.group("num")), m.group("sub"), s, parsed))
            rest = m.group("rest")
            rest = rest[:_BUILDING.search(rest).start()] if rest else rest
            for k, s in self._landmarks(rest):
                out.append(self._place(k, s * 0.95))
        else:
            two = self._two_roads(body) if (parsed.crossing or _CONNECTOR.search(body) or len(body) >= 5) else None
            if two:
                ra, rb = two
                if parsed.crossing or min(ra[1], rb[1]) >= 0.8:
                    found = self._crossing(ra[0], rb[0], ra[1], rb[1])
                    out.extend(found)
                    if not found:  # roads that never meet (parallel): only the roads themselves
                        out.append(self._road_candidate(ra[0], ra[1] * 0.8, f"{self.roads[ra[0]][1]}（与{self.roads[rb[0]][1]}不相交）"))
            if not out:  # a road or community named exactly comes before a landmark named only nearly
                road, community = self.road_names.get(body), self.communities.get(body)
                if road:
                    out.append(self._road_candidate(*road))
                if community:
                    out.append(self._community(community, 1.0))
                if not out or body in self.landmark_names:
                    for k, s in self._landmarks(body):
                        out.append(self._place(k, s))
        if not out and "community" in parsed.hints:
            cid = parsed.hints["community"]
            entry = next((e for e in self.communities.values() if e[0] == cid), None)
            if entry and (not body or parsed.building or len(body) <= 2):
                k = self.community_compound.get(cid)
                if k is not None and parsed.building and not body:
                    out.append(self._place(k, 0.9))
                out.append(self._community(entry, 1.0))
        return out

    def _place(self, k, score):
        kind, pk, label, lon, lat = self.places[k]
        return Candidate(lon, lat, score, "landmark" if kind == "landmark" else "doorplate", label, source_id=pk)

    def _community(self, entry, score):
        cid, lon, lat, name = entry
        return Candidate(lon, lat, score, "community", name, source_id=cid)

    # -- reverse ------------------------------------------------------------------------------------

    def reverse(self, lon, lat, max_m=200.0):
        x, y = lon * self.plane.kx, lat * self.plane.ky
        pt = shapely.Point(x, y)

        def nearest(tree, refs):
            if tree is None:
                return None, None
            idx, dist = tree.query_nearest(pt, max_distance=max_m, return_distance=True, all_matches=False)
            if len(idx) == 0:
                return None, None
            return refs[int(idx[0])], float(dist[0])

        parts, out = [], {"lon": lon, "lat": lat}
        cross, dc = nearest(self.x_tree, self.x_ref)
        door, dd = nearest(self.dp_tree, self.dp_ref)
        mark, dm = nearest(self.lm_tree, self.lm_ref)
        if cross is not None and dc <= 40:
            a, b, clon, clat = cross
            where = _directional_label(x - clon * self.plane.kx, y - clat * self.plane.ky)
            side = "" if dc < 8 else (f"{where}角" if len(where) == 2 else f"{where}侧")
            parts.append(f"{a}与{b}交叉口{side}")
            out.update(road=a, intersection=[a, b], distance_m=round(dc, 1))
        elif door is not None:
            i, number, suffix, dlon, dlat = door
            road = self.roads[i][1]
            where = _directional_label(x - dlon * self.plane.kx, y - dlat * self.plane.ky)
            parts.append(f"{road}{number}{suffix}号" + (f"{where}约{round(dd / 10) * 10:.0f}米" if dd >= 15 else ""))
            out.update(road=road, number=number, distance_m=round(dd, 1))
        if mark is not None and dm <= 150:
            name, mlon, mlat = mark
            where = _directional_label(x - mlon * self.plane.kx, y - mlat * self.plane.ky)
            parts.append(f"{name}" + (f"{where}约{round(dm / 10) * 10:.0f}米" if dm >= 15 else ""))
            out["landmark"] = name
        if not parts:
            return None
        out["address"] = "，".join(parts)
        return out


def _contained(text, table, max_len, min_len=2):
    """The longest key of ``table`` that is a substring of ``text`` (at most ``max_len`` long), or None."""
    n = len(text)
    for length in range(min(n, max_len), min_len - 1, -1):
        for start in range(0, n - length + 1):
            key = text[start:start + length]
            hit = table.get(key)
            if hit is not None:
                return key, hit
    return None


class Geocoder(VersionedIndex):
    """The process-wide geocoder: thread-safe, rebuilds lazily on a new grid data version."""

    def _build(self, version):
        return _Index(version)

    def geocode(self, text, limit=5):
        """Ranked candidates for an address text (best first; empty when nothing matches).

        Raises ``GeocodeInputError`` for a text that is empty, longer than 256 characters or holds control
        characters."""
        if not isinstance(text, str) or not text.strip():
            raise GeocodeInputError("address is empty")
        if len(text) > MAX_TEXT:
            raise GeocodeInputError(f"address is longer than {MAX_TEXT} characters")
        if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
            raise GeocodeInputError("address contains control characters")
        index = self.index()
        parsed = index.parse(text)
        found = index.candidates(parsed)
        if not found:
            return []

        for c in found:
            c.score *= PRECISION_WEIGHT[c.precision]
            attrs = locator.find_unit_grid(c.lon, c.lat)
            if attrs is None:
                c.score *= 0.5  # outside the managed area
                continue
            c.extras.update(unit_grid=attrs[1], responsibility_grid=attrs[3], community=attrs[7])
            if parsed.hints and not _agrees(parsed.hints, attrs):
                c.score -= 0.03
            if parsed.modifier:
                c.extras["modifier"] = parsed.modifier
            if parsed.building:
                c.extras["building"] = parsed.building
        found.sort(key=lambda c: (-c.score, c.label))
        unique, seen = [], set()
        for c in found:
            key = (round(c.lon, 6), round(c.lat, 6))
            if key not in seen:
                seen.add(key)
                unique.append(c)
        best = unique[0]
        threshold = settings.URBANGRID_GEOCODE_CONFIDENCE
        kx, ky = index.plane.kx, index.plane.ky
        rival = any(c.score >= best.score - 0.05 and math.hypot((c.lon - best.lon) * kx, (c.lat - best.lat) * ky) > AMBIGUOUS_M
                    for c in unique[1:])
        best.confident = best.precision in POINT_PRECISIONS and best.score >= threshold and not rival
        return unique[:limit]

    def locate(self, text):
        """The best candidate if it is confident, else None."""
        found = self.geocode(text, limit=2)
        return found[0] if found and found[0].confident else None

    def reverse(self, lon, lat):
        """{"address": "长江路318号东约20米，杏花小学北约40米", "road", "number"|"intersection", "landmark",
        "distance_m"} for a point, or None far from every road and landmark."""
        if not (isinstance(lon, (int, float)) and isinstance(lat, (int, float)) and math.isfinite(lon) and math.isfinite(lat)):
            raise GeocodeInputError("lon and lat must be finite numbers")
        return self.index().reverse(float(lon), float(lat))


class AddressNotPlaced(ValueError):
    """An address text the gazetteer cannot place with confidence; the message says why (for the user)."""


def place_of(text):
    """(lon, lat) of an address text the gazetteer places with confidence (a doorplate, landmark or intersection,
    certain enough: ``Geocoder.locate``), else ``AddressNotPlaced`` with the best candidate named."""

    try:
        found = geocoder.geocode(text, limit=2)
    except GeocodeInputError:
        raise AddressNotPlaced(_("请填写地址（不超过 %(n)s 个字，不含控制字符）") % {"n": MAX_TEXT}) from None
    if found and found[0].confident:
        return found[0].lon, found[0].lat
    if found:
        raise AddressNotPlaced(_("地址不能确定到具体位置（最接近的是“%(label)s”），请从候选中选择或填写经纬度")
                               % {"label": found[0].label})
    raise AddressNotPlaced(_("地址库中找不到这个地址，请填写经纬度"))


def _agrees(hints, attrs):
    """Do the text's known levels agree with the unit grid's (community, street, district ids)?"""
    community_id, street_id, district_id = attrs[5], attrs[8], attrs[11]
    for level, pk in hints.items():
        if level == "community" and pk != community_id:
            return False
        if level == "street" and pk != street_id:
            return False
        if level == "district" and pk != district_id:
            return False
    return True


geocoder = PerCity(Geocoder)  # each city its own gazetteer
grid_data_changed.connect(lambda **_: geocoder.invalidate(), weak=False, dispatch_uid="geocoder-invalidate")
