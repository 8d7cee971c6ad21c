"""What the page's links may point to: a role's menus and breadcrumbs link only to pages it may open."""
from functools import cached_property

from urbangrid.assessment.reviews.base import scope_of
from urbangrid.cases.outbox import dead_count
from urbangrid.org.access import actor_of


class CanOpen:
    """``{% if can_open.assessment %}`` … in templates; each answer is computed once, only when asked."""

    def __init__(self, request):
        self.request = request

    @cached_property
    def _actor(self):
        user = getattr(self.request, "user", None)
        return actor_of(self.request) if user is not None and user.is_authenticated else None

    @cached_property
    def assessment(self):
        """综合评价 (/assessment/) and its exports."""
        return self._actor is not None and self._actor.can("assessment.view")

    @cached_property
    def reviews(self):
        """讲评与考核 (/assessment/reviews/), member records and party roll-ups."""

        return self._actor is not None and not scope_of(self._actor).empty

    @cached_property
    def notifications(self):
        """通知投递 (/notifications/): the outbox, for the centre and administrators."""
        return self._actor is not None and self._actor.can("notify.view")

    @cached_property
    def dead_notifications(self):
        """How many notification deliveries gave up (the top bar's alert); asked only of those who may open the page."""
        if not self.notifications:
            return 0

        return dead_count()


def nav(request):
    return {"can_open": CanOpen(request)}
