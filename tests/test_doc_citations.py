"""Code and its comments cite the project's own documents only (docs/standards.md and the README), never a
document outside the repository: the repository must stand alone."""
import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "urbangrid"
# A standards, domain, glossary or brief document named without the repository's docs/ folder, a sibling
# checkout, "the (source|seed) document", or an absolute path of some machine's file system (home, work and
# temporary folders).
OUTSIDE = re.compile(r"(?<!docs/)\b(standards|domain|glossary|brief|open311)\.md\b|\.\./shared/(?!data/)|"
                     r"\b(source|seed) document\b|(?:^|[^\w:/.])/(?:work|home|root|tmp|Users)/", re.IGNORECASE)


def test_no_code_comment_cites_a_document_outside_the_repository():
    found = []
    for path in sorted(SRC.rglob("*")):
        if path.suffix not in (".py", ".html", ".js", ".txt", ".css") or not path.is_file():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert not found, "cite docs/standards.md (adding the text there) instead:\n" + "\n".join(found)


def test_the_sections_the_code_cites_exist():
    doc = (SRC.parents[1] / "docs" / "standards.md").read_text(encoding="utf-8")
    headings = {line.lstrip("#").strip() for line in doc.splitlines() if line.startswith("#")}
    cited = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        cited.update(m.strip('" ') for m in re.findall(r'docs/standards\.md, "?([A-Z][A-Za-z -]+)', text))
    assert cited, "the code cites sections of docs/standards.md"
    missing = {c for c in cited if not any(h.startswith(c.strip()) for h in headings)}
    assert not missing, missing
