"""Helpers shared by the test modules."""


def login_client(client, username):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    return client


def assert_matches_openapi(doc, path, method, status, body):
    """Validate a response body against the OpenAPI response schema of (path template, method, status)."""
    import jsonschema

    op = doc["paths"][path][method]
    schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": doc["components"]})


def jpeg(color=(200, 30, 30), size=(64, 48)):
    """A small JPEG file object for upload tests."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    buf.seek(0)
    buf.name = "photo.jpg"
    return buf
