from django.urls import path

from . import notifications, views

app_name = "work"
urlpatterns = [
    path("centre/", views.centre, name="centre"),
    path("command/", views.command, name="command"),
    path("district/", views.district, name="district"),
    path("unit/", views.unit, name="unit"),
    path("notifications/", notifications.outbox_page, name="notifications"),
    path("notifications/<int:pk>/retry/", notifications.retry, name="notification_retry"),
    path("notifications/retry-channel/", notifications.retry_channel, name="notification_retry_channel"),
    path("cases/", views.case_list, name="list"),
    path("cases/<str:number>/", views.case_page, name="case"),
    path("cases/<str:number>/act/<str:action>/", views.act, name="act"),
]
