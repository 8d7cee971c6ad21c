from django.urls import path

from . import hotline, views
from .web import recount

app_name = "cases"
urlpatterns = [
    path("catalog/recount/", recount.recount, name="recount"),
    path("catalog/recount.xlsx", recount.recount_export, name="recount_export"),
    path("cases/photos/<int:pk>", views.photo, name="photo"),
    path("centre/hotline/", hotline.hotline_call, name="hotline"),
]
