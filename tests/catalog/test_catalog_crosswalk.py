import pytest

from urbangrid.catalog.crosswalk import counterparts, recount, translate_code
from urbangrid.catalog.loader import load_catalogues
from urbangrid.catalog.models import CatalogClass, CrosswalkEntry

OLD, NEW = "cjt214-2007", "gbt47678.5-2026"


@pytest.fixture
def loaded(db):
    load_catalogues()


def cls(version, code, kind=CatalogClass.Kind.COMPONENT):
    return CatalogClass.objects.get(version__code=version, kind=kind, code=code)


def test_translate_both_ways(loaded):
    assert translate_code("0101", OLD, NEW) == ["01001"]
    assert translate_code("01001", NEW, OLD) == ["0101"]
    assert translate_code("0502", OLD, NEW) == []          # 人防工事: no 2026 class
    assert translate_code("9999", OLD, NEW) == []
    assert translate_code("0101", OLD, OLD) == ["0101"]
    assert [c.code for c in counterparts(cls(NEW, "03006"), OLD)] == ["0306"]


def test_recount_old_to_new(loaded):
    r = recount({"0101": 3, "0102": 2, "0306": 4, "0502": 1, "9999": 5}, OLD, NEW)
    assert r.counts == {"01001": 3, "01002": 2, "03006": 4}
    assert r.unmapped == {"0502": 1, "9999": 5}
    assert r.ambiguous == {}


def test_split_is_ambiguous_not_double_counted(loaded):
    # The shared crosswalk splits 0117 立杆 into the five 2026 pole classes: one row per class.
    split = ["01030", "01031", "01032", "01033", "01034"]
    assert sorted(CrosswalkEntry.objects.filter(old_class=cls(OLD, "0117")).values_list("new_class__code", flat=True)) == split
    r = recount({"0117": 4, "0101": 1}, OLD, NEW)
    assert r.ambiguous == {"0117": (split, 4)}
    assert r.counts == {"01001": 1}
    back = recount({"01030": 2, "01031": 1, "01034": 1}, NEW, OLD)
    assert back.counts == {"0117": 4} and not back.unmapped and not back.ambiguous


def test_edited_entry_changes_counts(loaded):
    entry = CrosswalkEntry.objects.get(old_class=cls(OLD, "0502"))
    entry.new_class, entry.relation = cls(NEW, "05002"), "renamed"
    entry.save()
    assert recount({"0502": 2}, OLD, NEW).counts == {"05002": 2}


def test_counterpart_decisions_both_ways(loaded):
    """The switch's and the recount's rule: one verified counterpart maps; a draft row ('verify') awaits a person;
    a split maps once a person verifies one of its rows; the reverse of a split is its one old class."""
    from urbangrid.catalog.crosswalk import Crosswalk, Status, family

    walk = Crosswalk()
    new, old = family("local-demo-2026"), family("local-demo")
    assert [v.code for v in new] == [NEW, "local-demo-2026"] and [v.code for v in old] == [OLD, "local-demo"]
    E = CatalogClass.Kind.EVENT

    def decide(version, code, target, kind=CatalogClass.Kind.COMPONENT):
        found = walk.counterpart(cls(version, code, kind), target)
        return found.status, found.target.code if found.target else None, [c.code for c in found.candidates]

    assert decide(OLD, "0101", new) == (Status.MAPPED, "01001", ["01001"])
    assert decide(OLD, "0306", new) == (Status.UNVERIFIED, "03006", ["03006"])  # merged into 户外广告 (verify)
    assert decide(OLD, "0117", new) == (Status.SPLIT, None, ["01030", "01031", "01032", "01033", "01034"])
    assert decide(OLD, "0502", new) == (Status.NONE, None, [])
    assert decide(NEW, "01031", old) == (Status.MAPPED, "0117", ["0117"])  # the reverse of the split
    assert decide(NEW, "01001", new) == (Status.SAME, "01001", [])
    assert decide("local-demo", "0102", new, E) == (Status.MAPPED, "06010", ["06010"])
    assert decide("local-demo", "0401", new, E) == (Status.MAPPED, "21001", ["21001"])  # a local extension matter
    assert decide("local-demo", "0202", new, E) == (Status.SPLIT, None, ["07003", "07006"])
    assert decide(NEW, "07003", old, E) == (Status.SPLIT, None, ["0202", "0203"])  # two local events became one
    row = CrosswalkEntry.objects.get(old_class=cls("local-demo", "0202", E), new_class__code="07006")
    row.verified = True
    row.save()
    assert Crosswalk().counterpart(cls("local-demo", "0202", E), new).target.code == "07006"
