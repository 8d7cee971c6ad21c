"""Routes of the 综合评价 pages under /assessment/: the three tables and their Excel exports."""
from django.urls import path

from . import views

urlpatterns: list = [
    path("", views.index, name="index"),
    path("export/<str:table>.xlsx", views.export, name="export"),
]
