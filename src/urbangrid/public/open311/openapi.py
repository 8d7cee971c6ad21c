"""OpenAPI 3.0 description of our Open311 GeoReport v2 endpoint (JSON format), served at
/open311/v2/openapi.json: what a client may send and every answer it can get, so that it can be
checked (and fuzzed) against the running server. The XML twins (``.xml``) have the same parameters."""
from django.http import JsonResponse

from .views import endpoint

STRING = {"type": "string"}
NULLABLE_STRING = {"type": "string", "nullable": True}
W3C = {"type": "string", "format": "date-time"}
ERRORS = {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["code", "description"],
    "properties": {"code": {"oneOf": [{"type": "integer"}, {"type": "string"}]}, "description": STRING}}}
SERVICE = {"type": "object", "required": ["service_code", "service_name", "metadata", "type"], "properties": {
    "service_code": STRING, "service_name": STRING, "description": STRING, "metadata": {"type": "boolean"},
    "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]}, "keywords": STRING, "group": STRING}}
NOTE = {"type": "object", "required": ["datetime", "type", "action", "summary"], "properties": {
    "datetime": W3C, "type": STRING, "action": STRING, "summary": STRING, "description": NULLABLE_STRING,
    "status": {"type": "string", "enum": ["open", "closed"], "nullable": True}}}
REQUEST = {"type": "object", "required": ["service_request_id", "status", "service_code", "requested_datetime"], "properties": {
    "service_request_id": STRING, "status": {"type": "string", "enum": ["open", "closed"]},
    "status_notes": NULLABLE_STRING, "service_name": STRING, "service_code": STRING, "description": NULLABLE_STRING,
    "agency_responsible": NULLABLE_STRING, "service_notice": NULLABLE_STRING, "requested_datetime": W3C,
    "updated_datetime": {**W3C, "nullable": True}, "expected_datetime": {**W3C, "nullable": True},
    "address": NULLABLE_STRING, "address_id": NULLABLE_STRING, "zipcode": NULLABLE_STRING,
    # null while the request waits 待定位 (an address_string the gazetteer could not place with confidence)
    "lat": {"type": "number", "nullable": True}, "long": {"type": "number", "nullable": True}, "media_url": NULLABLE_STRING,
    "notes": {"type": "array", "items": NOTE}}}
CREATED = {"type": "array", "items": {"type": "object", "required": ["service_request_id"], "properties": {
    "service_request_id": STRING, "service_notice": STRING, "account_id": NULLABLE_STRING, "token": NULLABLE_STRING}}}
UPDATE = {"type": "object", "required": ["update_id", "service_request_id", "status", "updated_datetime"], "properties": {
    "update_id": STRING, "service_request_id": STRING, "status": STRING, "updated_datetime": W3C,
    "description": NULLABLE_STRING, "media_url": NULLABLE_STRING, "external_status_code": NULLABLE_STRING}}
DISCOVERY = {"type": "object", "required": ["changeset", "endpoints"], "properties": {
    "changeset": W3C, "contact": STRING, "key_service": STRING, "max_requests": {"type": "integer"},
    "endpoints": {"type": "array", "items": {"type": "object", "required": ["specification", "url"], "properties": {
        "specification": STRING, "url": STRING, "changeset": W3C, "type": STRING,
        "formats": {"type": "array", "items": STRING}}}}}}


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses):
    text = {400: "Invalid request", 403: "Missing or invalid api_key", 404: "Not found", 405: "Method not allowed",
            413: "Request body too large", 429: "Too many POSTs from this address or with this api_key"}
    return {str(s): _json(ERRORS, text[s]) for s in statuses}


def _q(name, schema=STRING, required=False, description=""):
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


# Path segments are matched by [^/]+ in urls.py; a slash inside one is another URL.
SEGMENT = {"type": "string", "minLength": 1, "pattern": "^[^/?#]+$"}
JURISDICTION = _q("jurisdiction_id", description="ignored unless the city set one; another value is 404")
EXTENSIONS = _q("extensions", {"type": "string", "enum": ["true", "false"]}, description="add the flow log as notes")
RANGE = [_q("start_date", description="W3C date-time"), _q("end_date", description="W3C date-time")]
PAGING = [_q("page", {"type": "string"}, description="from 1"), _q("page_size", {"type": "string"}, description="at most 1000")]
POST_REQUEST = {"type": "object", "required": ["api_key", "service_code"], "properties": {
    "api_key": STRING, "jurisdiction_id": STRING, "service_code": STRING,
    "lat": STRING, "long": STRING, "address_string": STRING, "address_id": STRING,
    "email": STRING, "device_id": STRING, "account_id": STRING, "first_name": STRING, "last_name": STRING,
    "phone": STRING, "description": STRING, "media_url": STRING, "attribute[fixmystreet_id]": STRING}}
POST_UPDATE = {"type": "object", "required": ["api_key", "service_request_id", "update_id", "status", "description"],
               "properties": {"api_key": STRING, "jurisdiction_id": STRING, "service_request_id": STRING, "update_id": STRING,
                              "status": STRING, "description": STRING, "updated_datetime": STRING}}


def _form(schema):
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


def document():
    return {
        "openapi": "3.0.3",
        "info": {"title": "UrbanGrid Open311 GeoReport v2", "version": "2",
                 "description": "GeoReport v2 with the pagination and FixMyStreet servicerequestupdates extensions; "
                                "service_code = <catalogue version>:<kind>:<class code>."},
        "servers": [{"url": "/open311/v2"}],
        "paths": {
            "/discovery.json": {"get": {"operationId": "discovery", "parameters": [JURISDICTION],
                                        "responses": {"200": _json(DISCOVERY), **_errors(404)}}},
            "/services.json": {"get": {"operationId": "services", "parameters": [JURISDICTION],
                                       "responses": {"200": _json({"type": "array", "items": SERVICE}), **_errors(404)}}},
            "/services/{service_code}.json": {"get": {
                "operationId": "service_definition",
                "parameters": [{"name": "service_code", "in": "path", "required": True, "schema": SEGMENT}, JURISDICTION],
                # A code of a catalogue no longer current (a request keeps it) answers too: replaced, with the
                # current code(s) that replace it (an informational attribute says the same in words).
                "responses": {"200": _json({"type": "object", "required": ["service_code", "attributes"], "properties": {
                    "service_code": STRING, "attributes": {"type": "array"}, "replaced": {"type": "boolean"},
                    "replaced_by": {"type": "array", "items": STRING}}}), **_errors(404)}}},
            "/requests.json": {
                "get": {"operationId": "requests", "parameters": [
                    JURISDICTION, _q("service_request_id", description="comma-separated; overrides the rest"),
                    _q("service_code", description="comma-separated"), _q("status", description="open, closed or both"),
                    *RANGE, *PAGING, EXTENSIONS],
                    "responses": {"200": _json({"type": "array", "items": REQUEST}), **_errors(400, 404)}},
                "post": {"operationId": "create_request", "requestBody": _form(POST_REQUEST),
                         "responses": {"200": _json(CREATED), **_errors(400, 403, 404, 413, 429)}}},
            "/requests/{service_request_id}.json": {"get": {
                "operationId": "request",
                "parameters": [{"name": "service_request_id", "in": "path", "required": True, "schema": SEGMENT},
                               JURISDICTION, EXTENSIONS],
                "responses": {"200": _json({"type": "array", "items": REQUEST, "maxItems": 1}), **_errors(404)}}},
            "/tokens/{token}.json": {"get": {
                "operationId": "token",
                "parameters": [{"name": "token", "in": "path", "required": True, "schema": SEGMENT}, JURISDICTION],
                "responses": _errors(404)}},
            "/servicerequestupdates.json": {
                "get": {"operationId": "updates", "parameters": [
                    _q("api_key", required=True), JURISDICTION, _q("service_request_id"), *RANGE, *PAGING],
                    "responses": {"200": _json({"type": "array", "items": UPDATE}), **_errors(400, 403, 404)}},
                "post": {"operationId": "post_update", "requestBody": _form(POST_UPDATE),
                         "responses": {"200": _json({"type": "array", "items": {"type": "object", "required": ["update_id"],
                                                                                "properties": {"update_id": STRING}}}),
                                       **_errors(400, 403, 404, 413, 429)}}},
        },
    }


@endpoint("GET")
def openapi(request, fmt):
    return JsonResponse(document(), json_dumps_params={"ensure_ascii": False})
