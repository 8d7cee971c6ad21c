"""What a transition does to the case row besides its state and clocks, as small objects the workflow
table names (``Transition.effects``).

Each effect works both ways: ``apply`` changes a case in memory from the step's cleaned inputs (the engine
calls it for every writer of the loop: live requests, the demo history, the generator), and ``replay``
derives the same fields from the recorded event alone (``replay.py``: ``audit verify`` and the consistency
check recompute each case row from its events with it). An effect that cannot be replayed from what its
event records is a bug the replay tests find.
"""
from dataclasses import dataclass

from .states import ArchiveType


class Effect:
    fields: tuple = ()
    after_clocks = False  # applied after the clocks have stopped and started

    def apply(self, case, inputs, at):  # pragma: no cover - interface
        raise NotImplementedError

    def replay(self, row, event):  # pragma: no cover - interface
        raise NotImplementedError

    def record(self, case, inputs):
        """What the event must carry for ``replay`` to derive the fields (after ``apply``)."""
        return {}


@dataclass(frozen=True)
class Stamp(Effect):
    """The step's time into a case field (立案时间, 派遣时间, 反馈时间)."""

    field: str

    @property
    def fields(self):
        return (self.field,)

    def apply(self, case, inputs, at):
        setattr(case, self.field, at)

    def replay(self, row, event):
        row[self.field] = event.at


@dataclass(frozen=True)
class Flag(Effect):
    """A constant into a case field (督办 → ``is_supervised``; 维持结案 → ``kept_closed``)."""

    field: str
    value: object

    @property
    def fields(self):
        return (self.field,)

    def apply(self, case, inputs, at):
        setattr(case, self.field, self.value)

    def replay(self, row, event):
        row[self.field] = self.value


# The empty value of each field an effect may clear (the model's default).
EMPTY = {"archive_type": "", "closed_at": None, "satisfaction": "", "current_unit_id": None, "current_person_id": None,
         "district_centre_id": None, "kept_closed": False}


@dataclass(frozen=True)
class Clear(Effect):
    """Fields back to empty (回退: nobody holds the case; 重新派遣: the closure is undone)."""

    fields: tuple

    def apply(self, case, inputs, at):
        for name in self.fields:
            setattr(case, name, EMPTY[name])

    def replay(self, row, event):
        for name in self.fields:
            row[name] = EMPTY[name]


@dataclass(frozen=True)
class Verdict(Effect):
    """The citizen's satisfaction (回访/市民评价); a new verdict asks for a new answer (``kept_closed`` off)."""

    fields = ("satisfaction", "kept_closed")

    def apply(self, case, inputs, at):
        case.satisfaction = inputs["satisfaction"]
        case.kept_closed = False

    def replay(self, row, event):
        row["satisfaction"], row["kept_closed"] = event.data["satisfaction"], False


@dataclass(frozen=True)
class HandOver(Effect):
    """派遣 / 二级派遣: the case goes to a unit (which takes its handling limit from the responsibility list,
    ``inputs["assignment"]``) or, for a district-level unit, to that district's sub-centre."""

    fields = ("current_unit_id", "current_person_id", "district_centre_id", "rule_id", "handle_limit_value",
              "handle_limit_unit", "urgency")

    def apply(self, case, inputs, at):
        if inputs.get("to_district"):
            case.district_centre = inputs["district_obj"]
            case.current_unit = None
            return None
        unit = inputs["unit_obj"]
        case.current_unit = unit
        case.current_person = None
        a = inputs["assignment"]
        case.rule_id = a.rule_id
        case.handle_limit_value, case.handle_limit_unit = a.limit_value, a.limit_unit
        if a.urgency:
            case.urgency = a.urgency
        return unit

    def record(self, case, inputs):
        if inputs.get("to_district"):
            district = inputs["district_obj"]
            return {"district": district.code, "district_id": district.pk}
        a = inputs["assignment"]
        return {"rule": a.rule_id, "limit": [str(a.limit_value), a.limit_unit], "urgency": case.urgency}

    def replay(self, row, event):
        data = event.data
        if "district_id" in data:
            row["district_centre_id"] = data["district_id"]
            row["current_unit_id"] = None
            return
        row["current_unit_id"], row["current_person_id"] = event.unit_id, None
        row["rule_id"] = data.get("rule")
        limit = data.get("limit")
        if limit:
            row["handle_limit_value"], row["handle_limit_unit"] = limit
        if data.get("urgency"):
            row["urgency"] = data["urgency"]


@dataclass(frozen=True)
class Claim(Effect):
    """签收 / 转交: the person now holding the case inside its unit."""

    fields = ("current_person_id",)

    def apply(self, case, inputs, at):
        case.current_person = inputs["person_obj"]

    def record(self, case, inputs):
        person = inputs["person_obj"]
        return {"person": person.employee_no, "person_id": person.pk} if person is not None else {"person_id": None}

    def replay(self, row, event):
        row["current_person_id"] = event.data.get("person_id")


@dataclass(frozen=True)
class MergeInto(Effect):
    """合并: the duplicate follows its master case."""

    fields = ("duplicate_of_id",)

    def apply(self, case, inputs, at):
        case.duplicate_of = inputs["master_obj"]

    def record(self, case, inputs):
        master = inputs["master_obj"]
        return {"master": master.number, "master_id": master.pk}

    def replay(self, row, event):
        row["duplicate_of_id"] = event.data.get("master_id")


@dataclass(frozen=True)
class Archive(Effect):
    """结案: the archive type follows the overdue flags the clocks left; the closing time is the step's."""

    fields = ("archive_type", "closed_at")
    after_clocks = True

    def apply(self, case, inputs, at):
        case.archive_type = ArchiveType.OVERDUE if (case.is_overdue or case.handle_overdue) else ArchiveType.NORMAL
        case.closed_at = at

    def replay(self, row, event):
        row["archive_type"] = ArchiveType.OVERDUE if (row["is_overdue"] or row["handle_overdue"]) else ArchiveType.NORMAL
        row["closed_at"] = event.at


# The case fields a point gives (grids.locator's ``Location``): what 定位 sets on a 待定位 case.
PLACE_FIELDS = ("unit_grid_id", "responsibility_grid_id", "community_id", "street_id", "district_id", "road_segment_id")


@dataclass(frozen=True)
class Place(Effect):
    """定位: a 待定位 case gets its point, the grids and regions the locator gives it there and the address the
    gazetteer reads at the point (``inputs["location"]``, ``inputs["address"]``, cleaned by the services)."""

    fields = ("lon", "lat", "address", *PLACE_FIELDS)

    def apply(self, case, inputs, at):
        loc = inputs["location"]
        case.lon, case.lat = inputs["lon"], inputs["lat"]
        for name in PLACE_FIELDS:
            setattr(case, name, getattr(loc, name))
        if inputs.get("address"):
            case.address = inputs["address"][:256]

    def record(self, case, inputs):
        loc = inputs["location"]
        return {"lon": case.lon, "lat": case.lat, "address": case.address,
                "place": {name: getattr(loc, name) for name in PLACE_FIELDS}}

    def replay(self, row, event):
        data = event.data
        row["lon"], row["lat"], row["address"] = data.get("lon"), data.get("lat"), data.get("address")
        row.update(data.get("place") or {})


# The case fields that say which catalogue class it is filed under (``Case.catalog_class`` and its kept codes).
CLASS_FIELDS = ("catalog_class_id", "class_code", "catalog_version", "kind")


def class_record(cls):
    """A class as an event records it: enough to set the case's class fields from the event alone."""
    return {"id": cls.pk, "version": cls.version.code, "kind": cls.kind, "code": cls.code}


@dataclass(frozen=True)
class Reclassify(Effect):
    """重新归类 (分类版本切换): an open case moves to its class's counterpart in the catalogue the city now files
    under (``inputs["class_obj"]``, chosen by ``cases.catalog_switch`` through the crosswalk). The event records the
    class before and after, so from then on the case's class is what its log gives."""

    fields = CLASS_FIELDS

    def apply(self, case, inputs, at):
        cls = inputs["class_obj"]
        case.catalog_class = cls
        case.class_code, case.catalog_version, case.kind = cls.code, cls.version.code, cls.kind

    def record(self, case, inputs):
        return {"class_from": inputs["class_from"], "class": class_record(inputs["class_obj"]),
                "relation": inputs.get("relation", "")}

    def replay(self, row, event):
        c = event.data["class"]
        row["catalog_class_id"], row["class_code"], row["catalog_version"], row["kind"] = (
            c["id"], c["code"], c["version"], c["kind"])
