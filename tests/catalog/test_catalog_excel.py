from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from urbangrid.catalog.excel import RULE_COLUMNS, export_rules, import_rules
from urbangrid.catalog.models import ResponsibilityRule
from urbangrid.core.excel import ImportErrors
from urbangrid.grids.models import RoadSegment
from urbangrid.org.excel import PEOPLE_COLUMNS, export_people, import_people
from urbangrid.org.models import PartyOrganization, Person, RoleAssignment

RULE_KEYS = ["catalog_class_id", "filing_condition", "region_id", "responsibility_grid_id", "unit_id", "urgency",
             "time_limit_value", "time_limit_unit", "filing_standard", "closing_standard", "auto_dispatch", "active", "note"]


def sheet_rows(path):
    ws = load_workbook(path).worksheets[0]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def write_sheet(path, header, rows):
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)


def rule_state():
    return sorted(tuple(r.values()) for r in ResponsibilityRule.objects.values(*RULE_KEYS))


@pytest.fixture
def rules(geo, units, small_catalog):
    mk = ResponsibilityRule.objects.create
    return [
        mk(catalog_class=small_catalog.building, unit=units.city_bureau, time_limit_value=Decimal("4"), filing_standard="新增违建"),
        mk(catalog_class=small_catalog.building, unit=units.law, filing_condition="拆除", time_limit_value=Decimal("20"),
           time_limit_unit="working_days", urgency="urgent", auto_dispatch=True, closing_standard="拆除完毕"),
        mk(catalog_class=small_catalog.manhole, unit=units.water, region=geo.district, time_limit_value=Decimal("0.5"),
           time_limit_unit="calendar_hours"),
        mk(catalog_class=small_catalog.garbage, unit=units.gardens, responsibility_grid=geo.rg, time_limit_value=Decimal("2"),
           active=False, note="试行"),
    ]


def test_rules_round_trip(tmp_path, rules):
    path = tmp_path / "rules.xlsx"
    before = rule_state()
    assert export_rules(path) == 4
    header, rows = sheet_rows(path)
    assert header == [c.key for c in RULE_COLUMNS]
    assert {(r["version"], r["class_code"], r["unit_code"]) for r in rows} >= {("t-old", "0101", "U-WATER"), ("t-old", "0101", "U-LAW")}
    manhole = next(r for r in rows if r["class_code"] == "0101" and r["kind"] == "component")
    assert (manhole["region_code"], manhole["time_limit_value"], manhole["time_limit_unit"]) == ("330102", 0.5, "自然时")

    result = import_rules(path)      # unchanged sheet → nothing written
    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)
    ResponsibilityRule.objects.all().delete()
    assert import_rules(path).created == 4
    assert rule_state() == before

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    col = header.index("time_limit_value") + 1
    ws.cell(row=2, column=col, value=6)
    wb.save(path)
    result = import_rules(path)
    assert (result.created, result.updated, result.unchanged) == (0, 1, 3)


def test_rules_bad_file_reports_rows_and_imports_nothing(tmp_path, rules, capsys):
    ResponsibilityRule.objects.filter(pk=rules[0].pk).delete()
    before = rule_state()
    header = ["version", "kind", "class_code", "filing_condition", "region_code", "unit_code", "urgency", "time_limit_value",
              "time_limit_unit", "auto_dispatch"]
    path = tmp_path / "bad.xlsx"
    write_sheet(path, header, [
        ["t-old", "event", "0101", "", "", "U-CITY", "一般", 4, "工作时", "否"],          # 2: good (would be new)
        ["t-old", "event", "0101", "", "", "U-NOPE", "一般", 4, "工作时", "否"],          # 3: unknown unit
        ["t-old", "event", "0102", "", "", "U-CITY", "很急", 4, "工作时", "否"],          # 4: bad urgency
        ["t-old", "event", "0102", "", "", "U-CITY", "一般", "四", "工作时", "否"],       # 5: not a number
        ["t-old", "event", "0102", "", "", "U-CITY", "一般", None, "工作时", "否"],       # 6: empty required
        ["t-zzz", "event", "0102", "", "", "U-CITY", "一般", 1, "工作时", "否"],          # 7: unknown version
        ["t-old", "event", "0102", "", "999999", "U-CITY", "一般", 1, "工作时", "maybe"],  # 8: region + bool
        ["t-old", "event", 101, "停工", "", "U-LAW", "一般", 1, "工作日", "是"],          # 9: good, 0101 typed as a number
    ])
    with pytest.raises(ImportErrors) as exc:
        import_rules(path)
    found = {(e.row, e.column) for e in exc.value.errors}
    assert found == {(3, "unit_code"), (4, "urgency"), (5, "time_limit_value"), (6, "time_limit_value"), (7, "version"),
                     (8, "region_code"), (8, "auto_dispatch")}
    assert rule_state() == before
    with pytest.raises(CommandError, match="7"):
        call_command("catalog", "rules-import", str(path))
    err = capsys.readouterr().err
    assert "第3行 [unit_code]" in err and "U-NOPE" in err
    assert rule_state() == before


def test_rules_duplicate_rows_in_file(tmp_path, small_catalog, units):
    path = tmp_path / "dup.xlsx"
    row = ["t-old", "事件/事项", "0102", "U-CITY", 2, "工作日"]
    write_sheet(path, ["version", "类型", "小类代码", "责任单位编码", "处置时限", "时限单位"], [row, row])  # labels work as headers
    with pytest.raises(ImportErrors) as exc:
        import_rules(path)
    assert [(e.row, e.column) for e in exc.value.errors] == [(3, "class_code")]
    assert "第2行" in exc.value.errors[0].message
    assert not ResponsibilityRule.objects.exists()


def test_missing_header_and_unreadable_file(tmp_path, db):
    path = tmp_path / "h.xlsx"
    write_sheet(path, ["version", "class_code"], [["t-old", "0101"]])
    with pytest.raises(ImportErrors) as exc:
        import_rules(path)
    assert {e.column for e in exc.value.errors} == {"unit_code", "time_limit_value", "time_limit_unit"}
    assert all(e.row == 1 for e in exc.value.errors)
    junk = tmp_path / "junk.xlsx"
    junk.write_text("not a workbook")
    with pytest.raises(ImportErrors, match="无法读取"):
        import_rules(junk)


@pytest.fixture
def people(geo, units):
    seg = RoadSegment.objects.create(code="RS-01", name="南山路", road_class="trunk")
    branch = PartyOrganization.objects.create(code="P-01", name="湖滨党总支", level="general_branch", unit=units.hubin)
    li = Person.objects.create(employee_no="1001", name="李明", unit=units.hubin, phone="13800000001", is_party_member=True,
                               party_organization=branch)
    RoleAssignment.objects.create(person=li, role="grid_leader", grid=geo.rg)
    RoleAssignment.objects.create(person=li, role="inspector", road_segment=seg)
    wang = Person.objects.create(employee_no="1002", name="王芳", unit=units.law)
    RoleAssignment.objects.create(person=wang, role="unit_handler", unit=units.law)
    Person.objects.create(employee_no="1003", name="赵强", unit=units.city_bureau)
    return li, wang


def people_state():
    return (sorted(Person.objects.values_list("employee_no", "name", "unit__code", "phone", "is_party_member", "party_organization__code")),
            sorted(RoleAssignment.objects.values_list("person__employee_no", "role", "grid__code", "road_segment__code", "region__code",
                                                      "unit__code"), key=str))


def test_people_round_trip(tmp_path, people):
    path = tmp_path / "people.xlsx"
    before = people_state()
    assert export_people(path) == 4        # 李明 twice, 王芳 once, 赵强 without a role
    header, rows = sheet_rows(path)
    assert header == [c.key for c in PEOPLE_COLUMNS]
    assert [r["employee_no"] for r in rows] == ["1001", "1001", "1002", "1003"]
    assert {r["role"] for r in rows if r["employee_no"] == "1001"} == {"网格长", "网格巡查员"}
    assert rows[3]["role"] is None and rows[0]["party_org_code"] == "P-01"

    r = import_people(path)
    assert (r.persons_created, r.persons_updated, r.roles_created, r.roles_deleted) == (0, 0, 0, 0)
    RoleAssignment.objects.all().delete()
    Person.objects.all().delete()
    r = import_people(path)
    assert (r.persons_created, r.roles_created) == (3, 3)
    assert people_state() == before

    # Edit: 李明 loses the inspector role, 赵强 gets a phone, a new person arrives with a centre post.
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    ws.delete_rows(3)
    ws.cell(row=4, column=4, value="13900000003")
    ws.append(["1004", "陈静", "U-CITY", "", "否", "", "派遣员"])
    wb.save(path)
    r = import_people(path)
    assert (r.persons_created, r.persons_updated, r.roles_created, r.roles_deleted) == (1, 1, 1, 1)
    assert list(Person.objects.get(employee_no="1001").roles.values_list("role", flat=True)) == ["grid_leader"]
    assert Person.objects.get(employee_no="1003").phone == "13900000003"


def test_people_bad_file_imports_nothing(tmp_path, people, capsys):
    before = people_state()
    header = [c.key for c in PEOPLE_COLUMNS]
    path = tmp_path / "bad.xlsx"
    write_sheet(path, header, [
        ["1001", "李明", "U-HB", "13800000009", "是", "P-01", "网格长", "RG-01"],   # 2: good change
        ["1001", "李小明", "U-HB", "13800000009", "是", "P-01", "考核员", "RG-01"],  # 3: name differs from row 2
        ["1005", "周杰", "U-NONE", "", "否", "", "", ""],                           # 4: unknown unit
        ["1006", "吴刚", "U-HB", "", "否", "P-01", "", ""],                         # 5: party org but not a member
        ["1007", "郑红", "U-HB", "", "否", "", "网格长"],                            # 6: grid role without grid
        ["1008", "孙丽", "U-HB", "abc!", "也许", "", "队长"],                        # 7: phone, bool, role
        ["1009", None, "U-HB"],                                                    # 8: empty name
        ["1010", "钱多", "U-HB", "", "否", "", "", "RG-01"],                        # 9: grid without role
    ])
    with pytest.raises(ImportErrors) as exc:
        import_people(path)
    found = {(e.row, e.column) for e in exc.value.errors}
    assert found == {(3, "name"), (4, "unit_code"), (5, "party_org_code"), (6, "grid_code"), (7, "phone"), (7, "is_party_member"),
                     (7, "role"), (8, "name"), (9, "role")}
    assert people_state() == before
    with pytest.raises(CommandError):
        call_command("people", "import", str(path))
    assert "第4行 [unit_code]" in capsys.readouterr().err
    assert people_state() == before


def test_people_command_export(tmp_path, people, capsys):
    path = tmp_path / "out.xlsx"
    call_command("people", "export", str(path))
    assert "4" in capsys.readouterr().out
    assert len(sheet_rows(path)[1]) == 4


def test_rules_code_typed_as_number_keeps_leading_zero(tmp_path, small_catalog, units):
    path = tmp_path / "n.xlsx"
    write_sheet(path, ["version", "kind", "class_code", "unit_code", "time_limit_value", "time_limit_unit"],
                [["t-old", "component", 101, "U-WATER", 1.5, "working_days"]])
    assert import_rules(path).created == 1
    r = ResponsibilityRule.objects.get()
    assert (r.catalog_class, r.time_limit_value, r.time_limit_unit) == (small_catalog.manhole, Decimal("1.5"), "working_days")


def test_exports_never_carry_formulas(tmp_path):
    from openpyxl import load_workbook

    from urbangrid.core.excel import Column, excel_safe, write_workbook

    assert excel_safe("=HYPERLINK(\"http://evil\")").startswith("'=")
    assert excel_safe("-5") == "'-5" and excel_safe("正常") == "正常" and excel_safe(3) == 3
    path = tmp_path / "x.xlsx"
    write_workbook(path, [("s", [Column("name", "名称")], [{"name": "=1+1"}, {"name": "@SUM(A1)"}])])
    ws = load_workbook(path).active
    assert [c.value for c in ws["A"]][1:] == ["'=1+1", "'@SUM(A1)"]
    assert all(c.data_type != "f" for c in ws["A"])
