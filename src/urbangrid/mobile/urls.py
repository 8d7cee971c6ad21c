from django.urls import path

from . import views

app_name = "mobile"
urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("tasks/<str:number>/", views.task, name="task"),
    path("api/grids.json", views.my_grids, name="grids"),
    path("api/top-classes.json", views.top_classes, name="top_classes"),
    path("sw.js", views.service_worker, name="sw"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
]
