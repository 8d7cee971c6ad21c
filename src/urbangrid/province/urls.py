from django.urls import path

from . import pages, views

app_name = "province"
urlpatterns = [
    path("api/v1/exchange/batches", views.batches, name="province-exchange-batches"),
    path("api/v1/exchange/cursor", views.cursor, name="province-exchange-cursor"),
    path("api/v1/exchange/tasks", views.exchange_tasks, name="task-exchange"),
    path("api/v1/tasks", views.task_api, name="task-api"),
    path("tasks/", views.task_list, name="task-list"),
    path("tasks/new", views.task_new, name="task-new"),
    path("", pages.index, name="index"),
    path("evaluation/", pages.evaluation_page, name="evaluation"),
    path("evaluation.json", pages.evaluation_json, name="evaluation_json"),
    path("evaluation.xlsx", pages.evaluation_xlsx, name="evaluation_xlsx"),
    path("cities/<str:code>/cases/", pages.cases, name="cases"),
    path("cities/<str:code>/cases/<str:number>/", pages.case, name="case"),
]
