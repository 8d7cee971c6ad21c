"""Routes under /assessment/reviews/ (日讲评, 周督查, 月总结, 季调度, 年考核) and people/party roll-ups."""
urlpatterns: list = []
