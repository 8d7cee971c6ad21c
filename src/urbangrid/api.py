"""The JSON API under /api/v1/ (django-ninja); OpenAPI at /api/v1/openapi.json."""
from django.contrib.auth import authenticate
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError

from urbangrid.core.auth import API_AUTH
from urbangrid.core.models import ApiToken


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


api = UrbanGridAPI(title="UrbanGrid API", version="1", urls_namespace="api", auth=API_AUTH, docs_url="/docs")


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

    from django.db import DataError

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
