from django.urls import path

app_name = "work"
urlpatterns: list = []
