from django.urls import path

from .web import hotline, photos, recount

app_name = "cases"
urlpatterns = [
    path("catalog/recount/", recount.recount, name="recount"),
    path("catalog/recount.xlsx", recount.recount_export, name="recount_export"),
    path("cases/photos/<int:pk>", photos.photo, name="photo"),
    path("centre/hotline/", hotline.hotline_call, name="hotline"),
]
