"""JSON API for the deduction standard, deductions (倒扣分) and appeals (申诉)."""
from ninja import Router

router = Router(tags=["deductions"])
