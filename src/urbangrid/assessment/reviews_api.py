"""JSON API for the periodic reviews and the member / party roll-ups."""
from ninja import Router

router = Router(tags=["reviews"])
