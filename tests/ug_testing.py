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


def suite_vendor():
    """The database the suite runs on (.ci/run runs it once per database)."""
    import os

    return "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"


def pg_admin(sql):
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True, connect_timeout=5) as c:
        c.execute(sql)


def site_database(name):
    """The PostgreSQL database name of a test's own site: ``name`` and the run's database (so that two runs of
    the suite on one server, e.g. a developer's beside CI's, never drop each other's sites)."""
    import os
    from urllib.parse import urlparse

    run = urlparse(os.environ.get("DATABASE_URL", "")).path.lstrip("/") or "test"
    return f"{name}_{run}"[:63]


def site_env(var_dir, pg_name, **extra):
    """The environment of a fresh site for the ``urbangrid`` command: its var dir, and on PostgreSQL a new empty
    database ``pg_name`` (drop it with ``drop_site``); on SQLite the var dir's own file."""
    import os

    env = dict(os.environ, URBANGRID_VAR_DIR=str(var_dir), **extra)
    if suite_vendor() == "postgresql":
        pg_name = site_database(pg_name)
        pg_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
        pg_admin(f'CREATE DATABASE "{pg_name}"')
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{pg_name}"
    else:
        env.pop("DATABASE_URL", None)
    return env


def drop_site(pg_name):
    if suite_vendor() == "postgresql":
        pg_admin(f'DROP DATABASE IF EXISTS "{site_database(pg_name)}" WITH (FORCE)')


def dispatched_case(**dispatch):
    """A demo inspector's report in WG01 taken through accept, file and dispatch to CGJ-SZ (its notifications
    written on the way; ``dispatch``: more inputs of the dispatch step): the returned case is in 处置中."""
    from django.contrib.auth import get_user_model

    from urbangrid.cases import services
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.org.scope import actor_for

    users = get_user_model().objects
    a = {n: actor_for(users.get(username=n)) for n in ("inspector", "intake_operator", "shift_lead", "dispatcher")}
    cls = CatalogClass.objects.get(version__code="local-demo", code="0401")
    case, _ = services.report(a["inspector"], catalog_class=cls, lon=117.2352, lat=31.8785, description="塌陷",
                              source="inspector", require_photos=False)
    services.transition(a["intake_operator"], case.number, "accept")
    services.transition(a["shift_lead"], case.number, "file")
    return services.transition(a["dispatcher"], case.number, "dispatch", {"unit": "CGJ-SZ", **dispatch})
