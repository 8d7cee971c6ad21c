from django.urls import path

from . import components, views

app_name = "grids"
urlpatterns = [
    path("components/<str:identifier>/", components.component_page, name="component"),
    path("map/", views.city_map, name="map"),
    path("basemap.json", views.basemap, name="basemap"),
    path("grids/", views.grid_list, name="list"),
    path("grids/<str:code>/", views.grid_page, name="page"),
    path("grids/<str:code>/card/", views.grid_card, name="card"),
    path("grids/<str:code>/card/print/", views.grid_card, {"printable": True}, name="card_print"),
]
