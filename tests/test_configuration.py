"""One city policy: every ``URBANGRID_*`` setting the code reads is declared once, with its default, in
``settings.py`` (read sites name it, they do not carry a second default), and every variable the code knows is a
row of the README's configuration table, which names nothing else."""
import re
from pathlib import Path

from django.conf import settings

import urbangrid

SRC = Path(urbangrid.__file__).parent
README = SRC.parents[1] / "README.md"
TOKEN = re.compile(r"\bURBANGRID_[A-Z0-9_]+\b")
READ = re.compile(r'settings\.(URBANGRID_[A-Z0-9_]+)|getattr\(\s*settings\s*,\s*"(URBANGRID_[A-Z0-9_]+)"')
SECOND_DEFAULT = re.compile(r'(getattr\(\s*settings\s*,\s*|\w*setting\(\s*)"URBANGRID_[A-Z0-9_]+"\s*,')


def _sources():
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def _readme_rows():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return [m.group(1) for m in re.finditer(r"^\| `([A-Z0-9_]+)` \|", section, re.M)]


def test_every_setting_read_is_declared_with_its_default_in_settings():
    undeclared, second = [], []
    for path, text in _sources():
        if path.name == "settings.py":
            continue
        for m in READ.finditer(text):
            name = m.group(1) or m.group(2)
            if not hasattr(settings, name):
                undeclared.append(f"{path.relative_to(SRC)}: {name}")
        second += [f"{path.relative_to(SRC)}: {m.group(0)}" for m in SECOND_DEFAULT.finditer(text)]
    assert not undeclared, "read but not declared in settings.py:\n" + "\n".join(undeclared)
    assert not second, "a second default beside settings.py:\n" + "\n".join(second)


def test_the_readme_table_documents_every_variable_once_and_nothing_else():
    rows = _readme_rows()
    assert len(rows) == len(set(rows)), sorted({r for r in rows if rows.count(r) > 1})
    known = {t for _p, text in _sources() for t in TOKEN.findall(text)} | {"DATABASE_URL"}
    assert sorted(known - set(rows)) == [], "variables the code knows but the README does not document"
    assert sorted(set(rows) - known) == [], "README rows no code reads"
