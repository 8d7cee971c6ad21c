"""Point → grid lookup speed: our locator against raw Shapely on the same polygons, in the same run.

    .venv/bin/python bench/bench_locate.py [--grids 10000 100000] [--points 200000]

For each grid count it builds a synthetic city of square unit grids (about 100 m) in a temporary SQLite
database through the GeoJSON importer, then times single-point lookups (``locator.find_unit_grid`` and
``locator.locate(..., with_road=False)``) against ``STRtree.query(Point, predicate="covered_by")`` on
the same (prepared) polygons, and ``locator.locate_many`` against one vectorised STRtree query.
Prints a Markdown table; the goal is a ratio of at least 0.8 of raw Shapely.
"""
import argparse
import json
import math
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

LON0, LAT0 = 116.30, 39.95  # north-west corner of the synthetic city
SIDE_M = 100.0
MAX_GRIDS = 2_000_000  # 999 communities per street × 100 grids each leaves room; memory does not


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grids", type=int, nargs="+", default=[10_000, 100_000], metavar="N", help="unit grid counts (default 10000 100000)")
    p.add_argument("--points", type=int, default=200_000, help="lookups per measurement (default 200000)")
    p.add_argument("--repeat", type=int, default=3, help="measurements per method, best kept (default 3)")
    p.add_argument("--seed", type=int, default=2024, help="random seed of the points")
    args = p.parse_args(argv)
    for name, values in (("--grids", args.grids), ("--points", [args.points]), ("--repeat", [args.repeat])):
        if any(v <= 0 for v in values):
            p.error(f"{name} must be a positive whole number, got {' '.join(map(str, values))}")
    if max(args.grids) > MAX_GRIDS:
        p.error(f"--grids at most {MAX_GRIDS:,}")
    return args


def setup_django(tmp):
    # Before django.setup(): the settings read the database and var directory from the environment.
    os.environ["URBANGRID_VAR_DIR"] = str(tmp)
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "urbangrid.settings"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def city(n):
    """A FeatureCollection of n squares, row by row; 10 × 10 grids per community, 100 communities per street."""
    cols = math.ceil(math.sqrt(n))
    dlon = SIDE_M / (111_320 * math.cos(math.radians(LAT0)))
    dlat = SIDE_M / 110_574
    xs = [round(LON0 + c * dlon, 7) for c in range(cols + 1)]
    ys = [round(LAT0 - r * dlat, 7) for r in range(math.ceil(n / cols) + 1)]
    block_cols = math.ceil(cols / 10)

    def region(code, name, level, parent):
        props = {"layer": "region", "code": code, "name": name, "level": level, "parent_code": parent}
        return {"type": "Feature", "geometry": None, "properties": props}

    features = [region("110000", "示例市", "city", None), region("110101", "示例区", "district", "110000")]
    communities = set()
    for i in range(n):
        r, c = divmod(i, cols)
        block = (r // 10) * block_cols + c // 10
        street, community = f"110101{block // 100 + 1:03d}", f"110101{block // 100 + 1:03d}{block % 100 + 1:03d}"
        if community not in communities:
            if not any(code.startswith(street) for code in communities):
                features.append(region(street, f"街道{street[-3:]}", "street", "110101"))
            communities.add(community)
            features.append(region(community, f"社区{community[-6:]}", "community", street))
        ring = [[xs[c], ys[r]], [xs[c], ys[r + 1]], [xs[c + 1], ys[r + 1]], [xs[c + 1], ys[r]], [xs[c], ys[r]]]
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {
            "code": f"{community}{(r % 10) * 10 + c % 10 + 1:03d}", "community_code": community}})
    return {"type": "FeatureCollection", "features": features}, (xs[0], ys[-1], xs[-1], ys[0])


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(n, points, repeat, seed, log):
    import numpy as np
    import shapely

    from urbangrid.grids.importer import export_geojson, import_geojson
    from urbangrid.grids.locator import locator
    from urbangrid.grids.models import UnitGrid

    import_geojson({"type": "FeatureCollection", "features": []}, replace=True)  # the previous city goes
    doc, (x0, y0, x1, y1) = city(n)
    log(f"{n:,} grids: importing")
    import_s = _timed(lambda: import_geojson(doc))
    del doc
    export_s = _timed(export_geojson)
    locator.invalidate()
    build_s = _timed(lambda: locator.find_unit_grid(x0, y0))

    rows = sorted(UnitGrid.objects.values_list("code", "geometry"))
    codes = [code for code, _ in rows]
    polys = shapely.from_geojson([json.dumps(g) for _, g in rows])
    shapely.prepare(polys)
    tree = shapely.STRtree(polys)
    rng = np.random.default_rng(seed)
    lons_a, lats_a = rng.uniform(x0, x1, points), rng.uniform(y0, y1, points)
    lons, lats = lons_a.tolist(), lats_a.tolist()

    # Same answers first: the lowest code among raw hits.
    sample = 20_000
    raw_answer = [codes[int(h.min())] if len(h) else None for h in (tree.query(shapely.Point(x, y), predicate="covered_by")
                                                                     for x, y in zip(lons[:sample], lats[:sample]))]
    ours = [a[1] if a else None for a in map(locator.find_unit_grid, lons[:sample], lats[:sample])]
    assert ours == raw_answer, "locator and raw Shapely disagree"
    assert locator.locate_many(lons_a[:sample], lats_a[:sample]) == raw_answer

    def raw_single():
        query, Point = tree.query, shapely.Point
        for x, y in zip(lons, lats):
            query(Point(x, y), predicate="covered_by")

    def ours_find():
        find = locator.find_unit_grid
        for x, y in zip(lons, lats):
            find(x, y)

    def ours_locate():
        from urbangrid.grids.locator import OutsideManagedArea

        locate = locator.locate
        for x, y in zip(lons, lats):
            try:
                locate(x, y, with_road=False)
            except OutsideManagedArea:
                pass

    def raw_many():
        tree.query(shapely.points(lons_a, lats_a), predicate="covered_by")

    def ours_many():
        locator.locate_many(lons_a, lats_a)

    log(f"{n:,} grids: timing {points:,} points × {repeat}")
    rates = {}
    for _ in range(repeat):  # interleaved, so drift in machine load hits every method alike
        for name, fn in (("raw", raw_single), ("find", ours_find), ("locate", ours_locate), ("raw_many", raw_many), ("many", ours_many)):
            if name.endswith("many"):
                fn()  # warm-up: a vectorised run allocates 100,000s of geometries; time it on reused memory
            rates[name] = max(rates.get(name, 0), points / _timed(fn))
    inside = sum(a is not None for a in raw_answer) / len(raw_answer)
    return {"n": n, "import_s": import_s, "export_s": export_s, "build_s": build_s, "inside": inside, **rates}


def machine():
    import numpy
    import shapely

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"CPU {cpu} ({os.cpu_count()} logical CPUs), Python {platform.python_version()}, "
            f"Shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), NumPy {numpy.__version__}")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    tmp = Path(tempfile.mkdtemp(prefix="urbangrid-bench-"))
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    try:
        setup_django(tmp)
        from django.conf import settings

        results = [measure(n, args.points, args.repeat, args.seed, log) for n in args.grids]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    exe = os.path.relpath(sys.executable) if not os.path.relpath(sys.executable).startswith("..") else sys.executable
    print(f"Command: `{shlex.join([exe, *sys.argv])}`  ")
    print(f"Machine: {machine()}  ")
    print(f"Points: {args.points:,} uniform in the city's bounding box, best of {args.repeat}; "
          f"grid version TTL {settings.URBANGRID_GRID_VERSION_TTL:g} s\n")
    print("| grids | lookup | ours (points/s) | raw Shapely (points/s) | ratio |")
    print("|---:|---|---:|---:|---:|")
    for r in results:
        for label, ours, raw in (("`find_unit_grid` (single point)", r["find"], r["raw"]),
                                 ("`locate(with_road=False)` (single point)", r["locate"], r["raw"]),
                                 ("`locate_many` (vectorised)", r["many"], r["raw_many"])):
            print(f"| {r['n']:,} | {label} | {ours:,.0f} | {raw:,.0f} | {ours / raw:.2f} |")
    print("\nRaw single point: `STRtree.query(Point(lon, lat), predicate=\"covered_by\")` on prepared polygons; "
          "raw vectorised: one `STRtree.query(points(lons, lats), predicate=\"covered_by\")`.\n")
    print("| grids | import into an empty database (validate + write) | export | locator index build | points inside a grid |")
    print("|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['n']:,} | {r['import_s']:.1f} s | {r['export_s']:.1f} s | {r['build_s']:.2f} s | {r['inside']:.0%} |")


if __name__ == "__main__":
    main()
