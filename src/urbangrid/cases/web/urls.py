from django.urls import path

from . import views

app_name = "work"
urlpatterns = [
    path("centre/", views.centre, name="centre"),
    path("command/", views.command, name="command"),
    path("district/", views.district, name="district"),
    path("unit/", views.unit, name="unit"),
    path("cases/", views.case_list, name="list"),
    path("cases/<str:number>/", views.case_page, name="case"),
    path("cases/<str:number>/act/<str:action>/", views.act, name="act"),
]
