"""The assessment app's routes (namespace ``assessment``), gathered from its three rooms."""
from .deductions import urls as deduction_urls
from .evaluation import urls as evaluation_urls
from .reviews import urls as review_urls

app_name = "assessment"
urlpatterns: list = [
    *evaluation_urls.urlpatterns,  # 综合评价: the tables and their exports
    *deduction_urls.urlpatterns,  # deductions/… (倒扣分, appeals, the deduction standard)
    *review_urls.urlpatterns,  # reviews/… (日讲评 … 年考核, member records, party roll-ups)
]
