"""The layers of the code (README, "Layout"; the contract in pyproject.toml's [tool.importlinter]) hold: the
kept import checker passes with no list of exceptions, and no module imports itself round a cycle."""
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True,
                          text=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "2 kept, 0 broken" in done.stdout


def test_the_contract_has_no_exceptions():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    contract = text[text.index("[tool.importlinter]"):text.index("[tool.pytest.ini_options]")]
    assert "ignore_imports" not in contract and "unmatched_ignore" not in contract


def _cycles(graph):
    """Strongly connected groups of more than one module (Tarjan), each a cycle of imports."""
    adj = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for m in sorted(adj):
        if m not in index:
            visit(m)
    return out


def test_no_module_imports_itself_round_a_cycle():
    graph = grimp.build_graph("urbangrid", include_external_packages=False)
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_one():
    class Graph:  # a → b → c → a, and d alone
        modules = {"a", "b", "c", "d"}

        @staticmethod
        def find_modules_directly_imported_by(m):
            return {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}[m]

    assert _cycles(Graph) == [["a", "b", "c"]]


def _unexplained_local_imports(path):
    """Imports inside functions with no comment on their line, or above their block of imports, saying why."""
    import ast

    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for fn in ast.walk(ast.parse(source)):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        imports = [n for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))]
        spans = {line for n in imports for line in range(n.lineno, n.end_lineno + 1)}
        for node in imports:
            if "#" in lines[node.lineno - 1]:
                continue
            above = node.lineno - 1
            while above >= 1 and (above in spans or not lines[above - 1].strip()):
                above -= 1
            if above >= 1 and lines[above - 1].strip().startswith("#"):
                continue
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {lines[node.lineno - 1].strip()}")
    return sorted(set(found))


def test_function_local_imports_say_why():
    src = ROOT / "src" / "urbangrid"
    unexplained = [hit for path in sorted(src.rglob("*.py")) if "migrations" not in path.parts
                   for hit in _unexplained_local_imports(path)]
    assert unexplained == []


def test_the_local_import_rule_can_fail(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    import os\n    return os\n\n\ndef g():\n"
                                   "    # here, not at the top: a reason\n    import sys\n    return sys\n")
    global ROOT
    root, ROOT = ROOT, tmp_path
    try:
        assert _unexplained_local_imports(tmp_path / "m.py") == ["m.py:2: import os"]
    finally:
        ROOT = root
