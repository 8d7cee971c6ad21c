"""Code outside the workflow table names case-loop actions through ``workflow.Action`` (or derives them from
the table with ``counting``/``rows_that``), never as bare strings: a renamed or removed row then fails at
import, not silently in a filter that matches nothing.

The check reads every module under ``src/urbangrid`` with ``ast`` and reports, as ``file:line``, a string
constant equal to an action name where it stands for an action:

(a) compared (``==``, ``!=``, ``in``, ``not in``) with an expression whose source mentions ``action``;
(b) passed as ``action=``/``action__in=`` (or ``…__action``/``…__action__in``) keyword, as the action of a
    ``transition(actor, number, action, …)`` call, as the value of an ``"action"`` key in a dict, or as the
    default of a parameter whose name contains ``action``;
(c) inside an assignment to a name containing ``action`` (tuple/list/set element, dict key or value), or in any
    tuple/list/set literal of two or more elements that are all action names, or as a key of a dict literal
    whose keys are all action names (two or more).
"""
import ast
from pathlib import Path

from urbangrid.cases import workflow
from urbangrid.cases.workflow import Action

SRC = Path(workflow.__file__).resolve().parents[1]  # src/urbangrid
NAMES = frozenset(t.action for t in workflow.TRANSITIONS)

# (path relative to src/urbangrid, string): genuine non-action uses that the rules above would flag, each with
# a comment saying why. None at present: counters (``counts``), stages, clock names and URL names that happen
# to equal an action name do not stand in an action context.
ALLOWLIST = frozenset({
})

COMPARE_OPS = (ast.Eq, ast.NotEq, ast.In, ast.NotIn)
ACTION_KEYWORDS = ("action", "action__in")


def _is_name(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in NAMES


def _elements(node):
    """The action-name constants ``node`` is, or holds as a tuple/list/set element or a dict key."""
    if _is_name(node):
        return [node]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [e for e in node.elts if _is_name(e)]
    if isinstance(node, ast.Dict):
        return [k for k in node.keys if k is not None and _is_name(k)]
    return []


def _mentions_action(node):
    return "action" in ast.unparse(node).lower()


def _target_names(node):
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    else:
        return []
    names = []
    for t in targets:
        for sub in ast.walk(t):
            if isinstance(sub, ast.Name):
                names.append(sub.id)
            elif isinstance(sub, ast.Attribute):
                names.append(sub.attr)
    return names


def _func_name(call):
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def offences(tree):
    """The action-name constants of ``tree`` that stand for an action, as (line, string)."""
    found = {}

    def hit(nodes):
        for n in nodes:
            found[(n.lineno, n.col_offset)] = n.value

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):  # (a)
            operands = [node.left, *node.comparators]
            for op, left, right in zip(node.ops, operands, operands[1:]):
                if not isinstance(op, COMPARE_OPS):
                    continue
                if _mentions_action(right):
                    hit(_elements(left))
                if _mentions_action(left):
                    hit(_elements(right))
        elif isinstance(node, ast.Call):  # (b)
            for kw in node.keywords:
                if kw.arg and (kw.arg in ACTION_KEYWORDS or kw.arg.endswith(("__action", "__action__in"))):
                    hit(_elements(kw.value))
            if _func_name(node) == "transition" and len(node.args) >= 3:
                hit(_elements(node.args[2]))
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):  # (c)
            if node.value is not None and any("action" in n.lower() for n in _target_names(node)):
                hit([node.value] if _is_name(node.value) else [])
                for sub in ast.walk(node.value):
                    if isinstance(sub, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
                        hit(_elements(sub))
                    if isinstance(sub, ast.Dict):  # {status: action}
                        hit([v for v in sub.values if _is_name(v)])
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):  # (c)
            if len(node.elts) >= 2 and all(_is_name(e) for e in node.elts):
                hit(node.elts)
        elif isinstance(node, ast.Dict):  # (b), (c)
            keys = [k for k in node.keys if k is not None]
            if len(keys) >= 2 and len(keys) == len(node.keys) and all(_is_name(k) for k in keys):
                hit(keys)
            for k, v in zip(node.keys, node.values):
                if isinstance(k, ast.Constant) and k.value == "action":
                    hit(_elements(v))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):  # def f(action="close")
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
            for a, d in pairs:
                if "action" in a.arg.lower():
                    hit(_elements(d))
    return sorted((line, s) for (line, _col), s in found.items())


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "cases/workflow.py" or "/migrations/" in f"/{rel}":
            continue
        yield rel, path


def test_no_action_literals_outside_the_table():
    problems = []
    for rel, path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        problems += [f"src/urbangrid/{rel}:{line}: {s!r} (use Action.{s.upper()})"
                     for line, s in offences(tree) if (rel, s) not in ALLOWLIST]
    assert not problems, "action names spelled as strings:\n" + "\n".join(problems)


def test_allowlist_entries_are_still_needed():
    """An allowlist entry that no longer matches anything is stale and is to be removed."""
    trees = {rel: ast.parse(path.read_text(encoding="utf-8")) for rel, path in _modules()}
    stale = [(rel, s) for rel, s in ALLOWLIST if rel not in trees or s not in {v for _l, v in offences(trees[rel])}]
    assert not stale


def test_the_check_catches_each_kind_of_use():
    code = '''
if e.action == "close": pass
if "void" != event.action: pass
if a in ("dispatch", "dispatch_second"): pass
CaseEvent.objects.filter(action="file", case__action__in=["merge"])
services.transition(actor, number, "rate", {})
MY_ACTIONS = {"report": None}
pair = ("feed_back", "check_fail")
labels = {"reopen": 1, "keep_closed": 2}
row = {"action": "supervise"}
def f(action="callback"): pass
LAST_ACTION = "not_file"
UPDATE_ACTIONS = {"FIXED": "accept_task"}
'''
    flagged = {s for _line, s in offences(ast.parse(code))}
    assert flagged == {"close", "void", "dispatch", "dispatch_second", "file", "merge", "rate", "report",
                       "feed_back", "check_fail", "reopen", "keep_closed", "supervise", "callback", "not_file", "accept_task"}


def test_the_check_leaves_other_strings_alone():
    code = '''
path("report/", views.report, name="report")
options["file"]
if kind == "rate": pass
x = ("file",)
if Action.CLOSE == e.action: pass
SATISFACTION_ACTIONS = counting("callback")
'''
    assert offences(ast.parse(code)) == []


def test_action_members_are_the_strings():
    assert Action.FEED_BACK == "feed_back" and Action.MERGED_IN == "merged_in"
    assert {a.value for a in Action} == NAMES


def test_groups_derived_from_the_table_are_the_lists_they_replaced():
    """The evaluation's and the member records' action groups come from the table's columns now; they name
    the same actions as the hand-written lists they replaced."""
    from urbangrid.assessment.evaluation import rules, tallies
    from urbangrid.assessment.reviews import members

    A = Action
    assert rules.COUNTED == (A.REPORT, A.SEND_VERIFY, A.VERIFY, A.ACCEPT, A.FILE, A.DISPATCH, A.DISPATCH_SECOND,
                                  A.APPROVE_RETURN, A.FEED_BACK, A.SEND_CHECK, A.CHECK_PASS, A.CHECK_FAIL, A.CLOSE, A.VOID)
    assert rules.DISPATCHES == (A.DISPATCH, A.DISPATCH_SECOND)
    assert rules.HANDLE_STARTS == (A.DISPATCH, A.DISPATCH_SECOND, A.CHECK_FAIL)
    assert set(rules.HANDLE_STOPS) == {A.FEED_BACK, A.APPROVE_RETURN, A.VOID}
    # and the recomputation on a changed working calendar (重算时限), which gives a running 处置 clock a new deadline
    assert rules.HANDLE_DEADLINES == (A.APPROVE_EXTENSION, A.RESUME, A.RECALENDAR)
    assert tallies.CLOCK_ACTIONS == {A.DISPATCH, A.DISPATCH_SECOND, A.CHECK_FAIL, A.FEED_BACK, A.APPROVE_RETURN, A.VOID,
                                     A.APPROVE_SUSPENSION, A.RESUME, A.APPROVE_EXTENSION, A.RECALENDAR}
    assert members.PERSON_ACTIONS == {A.REPORT: None, A.VERIFY: "verify", A.CHECK_PASS: "check", A.CHECK_FAIL: "check",
                                      A.FEED_BACK: "handle"}
    assert list(members.PERSON_ACTIONS) == [A.REPORT, A.VERIFY, A.CHECK_PASS, A.CHECK_FAIL, A.FEED_BACK]
    assert members.SATISFACTION_ACTIONS == (A.CALLBACK, A.RATE)
    assert workflow.rows_that(lambda t: t.scope == "grid_inspector") == (A.VERIFY, A.CHECK_PASS, A.CHECK_FAIL)
