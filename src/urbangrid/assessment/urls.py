from django.urls import path

from . import deduction_urls, review_urls, views

app_name = "assessment"
urlpatterns: list = [
    path("", views.index, name="index"),
    path("export/<str:table>.xlsx", views.export, name="export"),
    *deduction_urls.urlpatterns,  # deductions/… (倒扣分, appeals, the deduction standard)
    *review_urls.urlpatterns,  # reviews/… (日讲评 … 年考核, member records, party roll-ups)
]
