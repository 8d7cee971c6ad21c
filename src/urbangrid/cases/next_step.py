"""Which of the actions a viewer may take on a case is the one he most likely takes next.

The case page shows that form first and open, the others collapsed (``<details>``); this orders forms, it
never adds or removes one (the workflow table and ``services.available_actions`` decide what is allowed).
Keys are state values and action names as plain strings, so a state or row added to the table later falls
back to the table's own order instead of breaking the page.
"""

# Per state: the loop's forward step first, then the usual alternatives, in the order they are taken.
LIKELY = {
    "reported": ("accept", "send_verify", "not_file", "merge"),
    "verifying": ("verify",),
    "pending_filing": ("file", "not_file", "merge"),
    "pending_dispatch": ("dispatch",),
    "pending_district_dispatch": ("dispatch_second",),
    # The unit handler's work: the feedback closes his step; claiming and handing over come next.
    "handling": ("feed_back", "accept_task", "assign", "request_extension", "request_return", "request_suspension"),
    "return_requested": ("approve_return", "refuse_return"),
    "extension_requested": ("approve_extension", "refuse_extension"),
    "suspension_requested": ("approve_suspension", "refuse_suspension"),
    "suspended": ("resume",),
    "fed_back": ("send_check",),
    "checking": ("check_pass", "check_fail"),
    "pending_close": ("close",),
    "closed": ("callback", "keep_closed", "reopen"),
}
# Rare or destructive in any state: always after the others.
LAST = ("supervise", "void")


def order(state, actions, failed=None):
    """``actions`` (names, in table order) sorted by likelihood; the one that just failed (its form carries the
    errors and the user's input) comes first."""
    likely = LIKELY.get(str(state or ""), ())

    def rank(indexed):
        i, action = indexed
        if failed and action == failed:
            return (0, 0, i)
        if action in likely:
            return (1, likely.index(action), i)
        if action in LAST:
            return (3, LAST.index(action), i)
        return (2, 0, i)

    return [a for _i, a in sorted(enumerate(actions), key=rank)]
