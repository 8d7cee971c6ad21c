from django.urls import path

from . import views

app_name = "public"
urlpatterns = [
    path("report/", views.report, name="report"),
    # The fixed URL a grid card's QR code prints: the report page pinned to the grid.
    path("report/<str:grid_code>/", views.report, name="report_entry"),
    path("public/grids.json", views.grid_outlines, name="grids"),
    path("public/geocode.json", views.geocode, name="geocode"),
    path("public/", views.transparency, name="transparency"),
    path("track/", views.track_lookup, name="track_lookup"),
    path("track/<str:code>/", views.track, name="track"),
    path("track/<str:code>/photos/<int:pk>", views.track_photo, name="track_photo"),
]
