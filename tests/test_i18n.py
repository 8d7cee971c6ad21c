"""The English catalogue is complete, keeps every placeholder, and the committed .mo matches the .po.

The .po is read with a small parser here on purpose: the test environment has no polib.
"""

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

import urbangrid

LC_MESSAGES = Path(urbangrid.__file__).resolve().parent / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# Python %-format conversions, named (%(name)s, %(lon).6f, %(layer)r) or positional (%s, %d), and %%.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
NAMED_PLACEHOLDER = re.compile(r"%\([^)]*\)[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]")
# Django template placeholders that blocktrans turns into %(name)s are covered above; HTML tags here.
TAG = re.compile(r"</?[A-Za-z][^<>]*>")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


@dataclass
class Entry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def translations(self):
        return list(self.msgstr_plural.values()) if self.msgid_plural is not None else [self.msgstr]

    def __str__(self):
        return f"line {self.line}: {self.msgid!r}"


def _unquote(text, lineno):
    text = text.strip()
    assert len(text) >= 2 and text[0] == '"' and text[-1] == '"', f"line {lineno}: expected a quoted string"

    def unescape(m):
        char = m.group(1)
        assert char in ESCAPES, f"line {lineno}: unknown escape \\{char}"
        return ESCAPES[char]

    return re.sub(r"\\(.)", unescape, text[1:-1])


def parse_po(path):
    """Entries of a .po file (header included, obsolete #~ entries left out)."""
    entries, entry, target = [], None, None
    pending_flags = set()

    def finish():
        nonlocal entry, target
        if entry is not None:
            entries.append(entry)
        entry, target = None, None

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#"):
            if line.startswith("#~"):
                continue
            if entry is not None and target is not None:  # a comment starts the next entry
                finish()
            if line.startswith("#,"):
                pending_flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
            continue
        if line.startswith('"'):
            assert entry is not None and target is not None, f"line {lineno}: continuation without keyword"
            key, index = target
            value = _unquote(line, lineno)
            if index is None:
                setattr(entry, key, getattr(entry, key) + value)
            else:
                entry.msgstr_plural[index] += value
            continue
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and entry is not None and target is not None and target[0].startswith("msgstr"):
            finish()
        if entry is None:
            entry = Entry(line=lineno, flags=pending_flags)
            pending_flags = set()
        value = _unquote(rest, lineno)
        if keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr"):
            setattr(entry, keyword, value)
            target = (keyword, None)
        elif m := re.fullmatch(r"msgstr\[(\d+)\]", keyword):
            entry.msgstr_plural[int(m.group(1))] = value
            target = ("msgstr_plural", int(m.group(1)))
        else:
            raise AssertionError(f"line {lineno}: unknown keyword {keyword!r}")
    finish()
    return entries


@pytest.fixture(scope="module")
def po_entries():
    assert PO_PATH.is_file(), f"{PO_PATH} is missing: run makemessages -l en"
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def header(po_entries):
    assert po_entries and po_entries[0].msgid == "", "the .po has no header entry"
    return po_entries[0]


@pytest.fixture(scope="module")
def messages(po_entries):
    msgs = [e for e in po_entries if e.msgid != ""]
    assert len(msgs) > 100, "the English catalogue is suspiciously small"
    return msgs


# --- (a) the .po itself -------------------------------------------------------------------------------


def test_po_header(header):
    assert "fuzzy" not in header.flags
    fields = dict(line.split(":", 1) for line in header.msgstr.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    assert fields.get("Language") == "en"
    assert fields.get("Content-Type") == "text/plain; charset=UTF-8"
    assert fields.get("Plural-Forms") == "nplurals=2; plural=(n != 1);"


def test_every_entry_translated(messages):
    untranslated = [str(e) for e in messages if not all(s.strip() for s in e.translations)]
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)
    plurals_incomplete = [str(e) for e in messages if e.msgid_plural is not None and sorted(e.msgstr_plural) != [0, 1]]
    assert not plurals_incomplete, "plural entries need msgstr[0] and msgstr[1]:\n" + "\n".join(plurals_incomplete)


def test_no_fuzzy_entries(messages):
    fuzzy = [str(e) for e in messages if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy entries:\n" + "\n".join(fuzzy)


def test_placeholders_kept(messages):
    def named(text):
        return sorted(NAMED_PLACEHOLDER.findall(text))

    wrong = []
    for e in messages:
        if e.msgid_plural is None:
            if named(e.msgid) != named(e.msgstr):
                wrong.append(f"{e}: {e.msgstr!r}")
            # In a python-format entry every %-sequence, positional ones and %% too, must survive.
            elif "python-format" in e.flags and sorted(PLACEHOLDER.findall(e.msgid)) != sorted(PLACEHOLDER.findall(e.msgstr)):
                wrong.append(f"{e}: {e.msgstr!r}")
        else:
            # The singular may drop the count ("one case"), but the plural form keeps every placeholder,
            # and no form may bring in a placeholder the source does not have.
            source = set(named(e.msgid)) | set(named(e.msgid_plural))
            if named(e.msgstr_plural.get(1, "")) != named(e.msgid_plural):
                wrong.append(f"{e}: {e.msgstr_plural!r}")
            elif any(not set(named(s)) <= source for s in e.msgstr_plural.values()):
                wrong.append(f"{e}: {e.msgstr_plural!r}")
    assert not wrong, "placeholders changed:\n" + "\n".join(wrong)


def test_markup_kept(messages):
    wrong = [
        f"{e}: {s!r}"
        for e in messages
        for s in e.translations
        if sorted(TAG.findall(e.msgid)) != sorted(TAG.findall(s))
    ]
    assert not wrong, "HTML markup changed:\n" + "\n".join(wrong)


def test_no_duplicate_entries(messages):
    keys = [(e.msgctxt, e.msgid) for e in messages]
    assert len(keys) == len(set(keys))


def test_parser_reads_multiline_plural_and_escapes(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#, fuzzy, python-format\nmsgctxt "c"\nmsgid ""\n"a \\"b\\"\\n"\n"c"\nmsgstr "x"\n\n'
        'msgid "%(n)s 个"\nmsgid_plural "%(n)s 个"\nmsgstr[0] "%(n)s item"\nmsgstr[1] ""\n"%(n)s items"\n\n'
        '#~ msgid "old"\n#~ msgstr "alt"\n',
        encoding="utf-8",
    )
    header, first, second = parse_po(po)
    assert header.msgstr == "Language: en\n"
    assert (first.msgctxt, first.msgid, first.msgstr, first.flags) == ("c", 'a "b"\nc', "x", {"fuzzy", "python-format"})
    assert second.msgstr_plural == {0: "%(n)s item", 1: "%(n)s items"} and second.flags == set()


# --- (b) the committed .mo matches the .po ------------------------------------------------------------


def test_mo_matches_po(messages):
    assert MO_PATH.is_file(), f"{MO_PATH} is missing: run compilemessages"
    with MO_PATH.open("rb") as fp:
        mo = gettext.GNUTranslations(fp)
    stale = []
    for e in messages:
        if e.msgid_plural is None:
            got = mo.gettext(e.msgid) if e.msgctxt is None else mo.pgettext(e.msgctxt, e.msgid)
            if got != e.msgstr:
                stale.append(f"{e}: .mo has {got!r}, .po has {e.msgstr!r}")
        else:
            for index, n in ((0, 1), (1, 2)):
                if e.msgctxt is None:
                    got = mo.ngettext(e.msgid, e.msgid_plural, n)
                else:
                    got = mo.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n)
                if got != e.msgstr_plural.get(index):
                    stale.append(f"{e} [{index}]: .mo has {got!r}, .po has {e.msgstr_plural.get(index)!r}")
    assert not stale, "django.mo is stale, run compilemessages:\n" + "\n".join(stale)

    # Nor does the .mo hold messages the .po no longer has.
    po_keys = {e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}" for e in messages}
    mo_keys = {k[0] if isinstance(k, tuple) else k for k in mo._catalog} - {""}
    assert mo_keys == po_keys, f"django.mo is stale: only in .mo {sorted(mo_keys - po_keys)[:10]}, only in .po {sorted(po_keys - mo_keys)[:10]}"


# --- (c) Django picks the catalogue up ----------------------------------------------------------------


def test_django_translates_to_english():
    with translation.override("en"):
        assert translation.gettext("六定管理卡") == "Six-fix card"
        assert translation.gettext("网格地图") == "Grid map"


def test_django_keeps_chinese_source():
    with translation.override("zh-hans"):
        assert translation.gettext("六定管理卡") == "六定管理卡"
        assert translation.gettext("网格地图") == "网格地图"


def test_no_full_width_punctuation_outside_translated_text_in_templates():
    """A full-width mark written in a template outside ``{% trans %}``/``{% blocktrans %}`` shows in the English UI
    too ("Welcome，…"): such marks go through ``{% p "：" %}`` (core/templatetags/punct.py) or into the msgid."""
    import re
    from pathlib import Path

    import urbangrid

    blank = lambda m: " " * len(m.group(0))  # noqa: E731
    found = []
    for path in sorted(Path(urbangrid.__file__).parent.rglob("templates/**/*.html")):
        text = path.read_text(encoding="utf-8")
        t = re.sub(r"{%\s*blocktrans(late)?\b.*?{%\s*endblocktrans(late)?\s*%}", blank, text, flags=re.S)
        for pattern in (r"{%.*?%}", r"{{.*?}}", r"{#.*?#}", r"<!--.*?-->", r"<(script|style)\b.*?</\1>"):
            t = re.sub(pattern, blank, t, flags=re.S)
        found += [f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}" for m in re.finditer("[：，、；。（）！？]", t)]
    assert not found, found
