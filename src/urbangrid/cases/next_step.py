"""Which of the actions a viewer may take on a case is the one he most likely takes next.

The case page shows that form first and open, the others collapsed (``<details>``); this orders forms, it
never adds or removes one (the workflow table and ``services.available_actions`` decide what is allowed).
A state or row the orders below do not name (added to the table later) keeps the table's own order.
"""
from .states import State as S
from .workflow import Action as A

# Per state: the loop's forward step first, then the usual alternatives, in the order they are taken.
LIKELY = {
    S.UNLOCATED: (A.LOCATE,),
    S.REPORTED: (A.ACCEPT, A.SEND_VERIFY, A.NOT_FILE, A.MERGE),
    S.VERIFYING: (A.VERIFY,),
    S.PENDING_FILING: (A.FILE, A.NOT_FILE, A.MERGE),
    S.PENDING_DISPATCH: (A.DISPATCH,),
    S.PENDING_DISTRICT_DISPATCH: (A.DISPATCH_SECOND, A.HAND_BACK),
    # The unit handler's work: the feedback closes his step; claiming and handing over come next.
    S.HANDLING: (A.FEED_BACK, A.ACCEPT_TASK, A.ASSIGN, A.REQUEST_EXTENSION, A.REQUEST_RETURN, A.REQUEST_SUSPENSION),
    S.RETURN_REQUESTED: (A.APPROVE_RETURN, A.REFUSE_RETURN),
    S.EXTENSION_REQUESTED: (A.APPROVE_EXTENSION, A.REFUSE_EXTENSION),
    S.SUSPENSION_REQUESTED: (A.APPROVE_SUSPENSION, A.REFUSE_SUSPENSION),
    S.SUSPENDED: (A.RESUME,),
    S.FED_BACK: (A.SEND_CHECK,),
    S.CHECKING: (A.CHECK_PASS, A.CHECK_FAIL),
    S.PENDING_CLOSE: (A.CLOSE,),
    S.CLOSED: (A.CALLBACK, A.KEEP_CLOSED, A.REOPEN),
}
# Rare or destructive in any state: always after the others.
LAST = (A.SUPERVISE, A.VOID)


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
