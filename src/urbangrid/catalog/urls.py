from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("components/<str:identifier>/", views.component_page, name="component"),
]
