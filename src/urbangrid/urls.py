from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from urbangrid.api import api
from urbangrid.core import views as core_views
from urbangrid.home import views as home_views
from urbangrid.core.login import LoginView

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("", home_views.home, name="home"),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("urbangrid.places.urls")),
    path("", include("urbangrid.cases.urls")),
    path("", include("urbangrid.cases.web.urls")),
    path("dashboard/", include("urbangrid.dashboard.urls")),
    path("m/", include("urbangrid.mobile.urls")),
    path("open311/v2/", include("urbangrid.public.open311.urls")),
    path("assessment/", include("urbangrid.assessment.urls")),
    path("province/", include("urbangrid.province.urls")),
    path("", include("urbangrid.public.urls")),
]

# Error answers: GeoReport v2 error lists under /open311/, JSON under /api/, the designed pages of
# core/errors.py everywhere else (CSRF_FAILURE_VIEW too).
handler400 = "urbangrid.core.errors.bad_request"
handler403 = "urbangrid.core.errors.permission_denied"
handler404 = "urbangrid.core.errors.page_not_found"
handler500 = "urbangrid.core.errors.server_error"

if settings.URBANGRID_BENCH:  # the benchmarks' baselines (bench/), off by default, never in production
    from urbangrid.ops import baselines as bench_views

    # The Open311 baseline next to the Open311 endpoint, so that a request to either walks the same patterns first.
    at = next(i for i, p in enumerate(urlpatterns) if str(p.pattern) == "open311/v2/")
    urlpatterns.insert(at, path("bench/doc/<slug:name>", bench_views.document))
    urlpatterns[:0] = [path("bench/ping", bench_views.ping), path("bench/write", bench_views.write),
                       path("bench/upload", bench_views.upload)]
