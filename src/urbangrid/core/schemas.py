"""The error body every JSON API answers (``{detail, code, fields}``): one schema, so the OpenAPI document names one
``ErrorOut`` and every client reads errors the same way (the handlers: ``core/errors.py`` and each app's API)."""
from ninja import Schema


class ErrorOut(Schema):
    detail: str
    code: str | None = None
    fields: dict[str, str] | None = None
