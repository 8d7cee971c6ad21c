"""The JSON API under /api/v1/ (django-ninja); OpenAPI at /api/v1/openapi.json."""
from datetime import datetime

from django.db import DataError
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Path, Schema, Status, Swagger
from ninja.errors import HttpError

from urbangrid.assessment.evaluation.api import router as assessment_router
from urbangrid.assessment.deductions.api import router as deductions_router
from urbangrid.assessment.reviews.api import router as reviews_router
from urbangrid.cases.api import router as cases_router
from urbangrid.cases.services import CaseError
from urbangrid.catalog.api import router as catalog_router
from urbangrid.places.components_api import router as components_router
from urbangrid.core import login, tokens
from urbangrid.core.auth import API_AUTH
from urbangrid.core.models import ApiToken
from urbangrid.gazetteer.api import router as gazetteer_router
from urbangrid.places.api import router as grids_router
from urbangrid.org.api import router as org_router

# Answers every operation can give and that no route lists itself, declared once so the schema says what the
# server does: ninja's request validation (422 {"detail": [{"loc", "msg", "type"}]}), an HttpError's
# {"detail": "..."} (401 bad token, 403 from api_require, 404 for an unknown or out-of-scope object, 422 from
# a domain check).
VALIDATION_ERROR = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "array", "items": {
    "type": "object", "required": ["loc", "msg", "type"],
    "properties": {"loc": {"type": "array"}, "msg": {"type": "string"}, "type": {"type": "string"}}}}}}
DETAIL_ERROR = {"type": "object", "required": ["detail"], "properties": {"detail": {"type": "string"}}}
GENERIC = {401: "Unauthorized", 403: "Forbidden for the actor's roles", 404: "Not found or outside the actor's scope"}


def _declare_common_errors(schema):
    for item in schema.get("paths", {}).values():
        for op in item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses = op["responses"]
            declared = {int(k) for k in responses if str(k).isdigit()}
            if op.get("parameters") or op.get("requestBody"):
                if 422 not in declared:
                    responses[422] = {"description": "Invalid input", "content": {
                        "application/json": {"schema": {"anyOf": [VALIDATION_ERROR, DETAIL_ERROR]}}}}
                else:
                    body = responses.get(422, responses.get("422")).get("content", {}).get("application/json")
                    if body is not None:
                        body["schema"] = {"anyOf": [body["schema"], VALIDATION_ERROR, DETAIL_ERROR]}
            if op.get("requestBody") and 400 not in declared:  # a body that is not JSON / not multipart at all
                responses[400] = {"description": "Unreadable body", "content": {"application/json": {"schema": DETAIL_ERROR}}}
            if op.get("security"):
                for status, text in GENERIC.items():
                    if status == 404 and not any(p.get("in") == "path" for p in op.get("parameters", [])):
                        continue
                    if status not in declared:
                        responses[status] = {"description": text, "content": {"application/json": {"schema": DETAIL_ERROR}}}
    return schema


class UrbanGridAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        return _declare_common_errors(super().get_openapi_schema(*args, **kwargs))


# Swagger UI from ninja's bundled static files ("ninja" is in INSTALLED_APPS), its settings passed as JSON data and
# started by ninja's swagger-ui-init.js: no inline script, nothing from another host (the site's CSP allows it).
api = UrbanGridAPI(title="UrbanGrid API", version="1", urls_namespace="api", auth=API_AUTH, docs_url="/docs",
                   docs=Swagger(settings={"persistAuthorization": False, "displayRequestDuration": True}))


class TokenIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=4096)


class TokenOut(Schema):
    token: str
    token_type: str = "bearer"
    expires_at: datetime | None = Field(None, description="when the token stops working (URBANGRID_TOKEN_TTL_DAYS)")


class TokenInfo(Schema):
    id: int
    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    current: bool


def _token_out(token, raw):
    return {"token": raw, "token_type": "bearer", "expires_at": token.expires_at}


@api.post("/auth/token", auth=None, response={200: TokenOut, 401: dict, 429: dict}, tags=["auth"],
          summary="Issue a bearer token (login policy: core/login.py)")
def issue_token(request, payload: TokenIn):
    user, error = login.attempt(request, payload.username, payload.password, door="api")
    if error == "locked":
        raise HttpError(429, _("登录失败次数过多，账号已暂时锁定，请稍后再试"))
    if user is None:
        raise HttpError(401, _("用户名或密码错误"))
    token, raw = tokens.issue(user, request)
    return _token_out(token, raw)


def _bearer(request):
    token = getattr(request, "api_token", None)
    if token is None:
        raise HttpError(400, _("此操作须以令牌（Authorization: Bearer）调用"))
    return token


@api.post("/auth/token/rotate", response={200: TokenOut, 400: dict}, tags=["auth"],
          summary="Replace the presented token by a new one (the old one stops working)")
def rotate_token(request):
    token, raw = tokens.rotate(_bearer(request), request)
    return _token_out(token, raw)


@api.post("/auth/token/revoke", response={204: None, 400: dict}, tags=["auth"], summary="Revoke the presented token")
def revoke_token(request):
    tokens.revoke(_bearer(request), request)
    return Status(204, None)


@api.get("/auth/tokens", response=list[TokenInfo], tags=["auth"], summary="The actor's usable tokens")
def list_tokens(request):
    current = getattr(getattr(request, "api_token", None), "pk", None)
    found = ApiToken.objects.filter(user=request.user, revoked_at__isnull=True).select_related("user").order_by("-created_at")
    return [{"id": t.pk, "prefix": t.prefix, "name": t.name, "created_at": t.created_at, "last_used_at": t.last_used_at,
             "expires_at": t.expires_at, "current": t.pk == current} for t in found if not t.invalid_reason()]


@api.delete("/auth/tokens/{token_id}", response={204: None}, tags=["auth"], summary="Revoke one of the actor's tokens")
def delete_token(request, token_id: int = Path(..., ge=1, le=2**63 - 1)):
    token = ApiToken.objects.filter(pk=token_id, user=request.user).select_related("user").first()
    if token is None:
        raise HttpError(404, "Not found")
    tokens.revoke(token, request)
    return Status(204, None)


def _mount():
    api.add_router("/", grids_router)
    api.add_router("/", org_router)
    api.add_router("/", catalog_router)
    api.add_router("/", components_router)
    api.add_router("/", cases_router)

    api.add_router("/", assessment_router)

    api.add_router("/", deductions_router)
    api.add_router("/", reviews_router)

    api.add_router("/", gazetteer_router)

    @api.exception_handler(DataError)
    def data_error(request, exc):
        # Text the database refuses (a NUL character on PostgreSQL, a value over a column's length) is bad
        # input, found by fuzzing: a 422, never a 500.
        from django.utils.translation import gettext as _

        return api.create_response(request, {"detail": _("输入含有无法保存的内容（如 NUL 字符或超长文本）"),
                                             "code": "invalid_input", "fields": None}, status=422)

    @api.exception_handler(CaseError)
    def case_error(request, exc):
        return api.create_response(request, {"detail": exc.message, "code": exc.code, "fields": exc.fields or None},
                                   status=exc.status)


_mount()
