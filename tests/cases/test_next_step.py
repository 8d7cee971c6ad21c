"""The case page's order of action forms (cases/next_step.py): order only, the same actions."""
from urbangrid.cases.next_step import order

HANDLER = ["accept_task", "assign", "request_return", "request_extension", "request_suspension", "feed_back"]


def test_the_handler_in_handling_sees_the_feedback_first():
    ordered = order("handling", HANDLER)
    assert ordered[0] == "feed_back" and sorted(ordered) == sorted(HANDLER)


def test_a_failed_form_comes_first_with_its_errors():
    assert order("handling", HANDLER, failed="request_extension")[0] == "request_extension"


def test_void_and_supervise_come_last_and_unknown_states_keep_the_table_order():
    assert order("reported", ["void", "accept", "not_file", "supervise"]) == ["accept", "not_file", "supervise", "void"]
    assert order("some_new_state", ["b_step", "a_step", "void"]) == ["b_step", "a_step", "void"]
