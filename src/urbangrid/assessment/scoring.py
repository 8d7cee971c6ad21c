"""Target scores from deductions (倒扣分): each target starts a period at 100 and loses upheld points.

Interface shared with the reviews: ``target_scores(start, end, target_type=None)`` returns one dict per
target with deductions in [start, end): ``{"target_type", "target_id", "name", "deductions",
"points", "earned_back", "score"}``. Until the deduction models exist it has nothing to report.
"""


def target_scores(start, end, target_type=None):
    return []
