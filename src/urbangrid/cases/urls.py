from django.urls import path

from . import hotline, views

app_name = "cases"
urlpatterns = [
    path("cases/photos/<int:pk>", views.photo, name="photo"),
    path("centre/hotline/", hotline.hotline_call, name="hotline"),
]
