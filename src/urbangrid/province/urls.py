from django.urls import path

from . import views

urlpatterns = [
    path("api/v1/exchange/batches", views.batches, name="province-exchange-batches"),
    path("api/v1/exchange/cursor", views.cursor, name="province-exchange-cursor"),
    path("api/v1/exchange/tasks", views.exchange_tasks, name="task-exchange"),
    path("api/v1/tasks", views.task_api, name="task-api"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/new", views.task_new, name="task-new"),
]
