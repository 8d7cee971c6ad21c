from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("cases/photos/<int:pk>", views.photo, name="photo"),
]
