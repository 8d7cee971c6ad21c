"""Routes under /assessment/reviews/ (日讲评, 周督查, 月总结, 季调度, 年考核) and people/party roll-ups."""
from django.urls import path

from . import views as v

urlpatterns: list = [
    path("reviews/", v.index, name="review_index"),
    path("reviews/rankings/", v.rankings, name="review_rankings"),
    path("reviews/rankings.xlsx", v.rankings_export, name="review_rankings_export"),
    path("reviews/<str:kind>/", v.review_page, name="review_page"),
    path("reviews/<str:kind>/print/", v.review_print, name="review_print"),
    path("reviews/<str:kind>.xlsx", v.review_export, name="review_export"),
    path("members/", v.member_list, name="review_members"),
    path("members.xlsx", v.member_export, name="review_members_export"),
    path("members/<int:person_id>/", v.member_detail, name="review_member"),
    path("party/", v.party_list, name="review_party"),
    path("party.xlsx", v.party_export, name="review_party_export"),
    path("party/<str:code>/", v.party_detail, name="review_party_detail"),
]
