"""Routes under /assessment/deductions/ (倒扣分 and 申诉)."""
from django.urls import path

from . import views as v

urlpatterns: list = [
    path("deductions/", v.index, name="deduction_index"),
    path("deductions/new/", v.new, name="deduction_new"),
    path("deductions/candidates/", v.candidates, name="deduction_candidates"),
    path("deductions/items/", v.items, name="deduction_items"),
    path("deductions/items/export.xlsx", v.items_export, name="deduction_items_export"),
    path("deductions/<int:pk>/", v.detail, name="deduction_detail"),
    path("deductions/<int:pk>/appeal/", v.appeal, name="deduction_appeal"),
    path("deductions/<int:pk>/review/", v.review, name="deduction_review"),
    path("deductions/<int:pk>/photos/<int:photo_pk>/", v.photo, name="deduction_photo"),
    path("deductions/target/<str:target_type>/<str:code>/", v.target, name="deduction_target"),
]
