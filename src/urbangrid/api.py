"""The JSON API under /api/v1/ (django-ninja); OpenAPI at /api/v1/openapi.json."""
from django.contrib.auth import authenticate
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError

from urbangrid.core.auth import API_AUTH
from urbangrid.core.models import ApiToken

api = NinjaAPI(title="UrbanGrid API", version="1", urls_namespace="api", auth=API_AUTH, docs_url="/docs")


class TokenIn(Schema):
    username: str
    password: str


class TokenOut(Schema):
    token: str
    token_type: str = "bearer"


@api.post("/auth/token", auth=None, response={200: TokenOut, 401: dict, 429: dict}, tags=["auth"], summary="Issue a bearer token")
def issue_token(request, payload: TokenIn):
    from django.utils.translation import gettext as _

    from urbangrid.core.login import clear_failures, locked, record_failure
    from urbangrid.core.ratelimit import client_address

    address = client_address(request)
    if locked(payload.username, address):
        raise HttpError(429, _("登录失败次数过多，账号已暂时锁定，请稍后再试"))
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not user.is_active:
        record_failure(payload.username, address)
        raise HttpError(401, _("用户名或密码错误"))
    clear_failures(payload.username, address)
    _, raw = ApiToken.issue(user, name="api")
    return {"token": raw, "token_type": "bearer"}


def _mount():
    from urbangrid.cases.api import router as cases_router
    from urbangrid.cases.services import CaseError
    from urbangrid.catalog.api import router as catalog_router
    from urbangrid.grids.api import router as grids_router
    from urbangrid.org.api import router as org_router

    api.add_router("/", grids_router)
    api.add_router("/", org_router)
    api.add_router("/", catalog_router)
    api.add_router("/", cases_router)
    from urbangrid.assessment.api import router as assessment_router

    api.add_router("/", assessment_router)
    from urbangrid.assessment.deductions_api import router as deductions_router
    from urbangrid.assessment.reviews_api import router as reviews_router

    api.add_router("/", deductions_router)
    api.add_router("/", reviews_router)

    @api.exception_handler(CaseError)
    def case_error(request, exc):
        return api.create_response(request, {"detail": exc.message, "code": exc.code, "fields": exc.fields or None},
                                   status=exc.status)


_mount()
