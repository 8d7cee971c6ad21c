"""Routes under /assessment/deductions/ (倒扣分 and 申诉)."""
urlpatterns: list = []
