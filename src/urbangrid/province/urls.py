from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/exchange/batches", views.batches, name="province-exchange-batches"),
    path("api/v1/exchange/cursor", views.cursor, name="province-exchange-cursor"),
]
