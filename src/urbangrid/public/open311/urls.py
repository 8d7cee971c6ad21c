from django.urls import re_path

from . import openapi, views

app_name = "open311"
F = r"\.(?P<fmt>xml|json)$"
urlpatterns = [
    re_path(r"^openapi\.(?P<fmt>json)$", openapi.openapi, name="openapi"),
    re_path(r"^discovery" + F, views.discovery, name="discovery"),
    re_path(r"^services" + F, views.service_list, name="services"),
    re_path(r"^services/(?P<code>[^/]+)" + F, views.service_definition, name="service"),
    re_path(r"^requests" + F, views.requests_, name="requests"),
    re_path(r"^requests/(?P<number>[^/]+)" + F, views.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[^/]+)" + F, views.token, name="token"),
    re_path(r"^servicerequestupdates" + F, views.request_updates, name="updates"),
]
