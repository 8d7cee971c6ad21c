from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("recount/", views.recount, name="recount"),
    path("recount.xlsx", views.recount_export, name="recount_export"),
]
