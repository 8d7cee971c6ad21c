"""Cities as tenants (core/tenancy.py): two cities in one deployment, each in its own database (SQLite files on an
SQLite run, two new PostgreSQL databases on a PostgreSQL run), made by ``urbangrid city add`` and served through
the whole request stack by host name. City A holds the demo city (grids, people, an Open311 key); city B only
what ``city add`` loads (catalogue, calendar, evaluation scheme) and one user of its own."""
import json
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import Client, override_settings

from ug_testing import pg_admin, suite_vendor

A_HOST, B_HOST = "aa.tenancy.test", "bb.tenancy.test"
INSIDE = (117.2352, 31.8785)  # inside a unit grid of the demo city (tests/open311)
SERVICE = "local-demo-2026:event:21001"


def _url(tmp, name):
    if suite_vendor() == "postgresql":
        return f"postgres://postgres@127.0.0.1:5432/{name}"
    return f"sqlite:///{tmp / (name + '.sqlite3')}"


@pytest.fixture(scope="module")
def cities(django_db_blocker, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cities")
    names = {code: f"ug_tenancy_{uuid.uuid4().hex[:8]}_{code}" for code in ("aa", "bb")}
    overrides = override_settings(
        URBANGRID_CITIES_FILE=str(tmp / "cities.json"), VAR_DIR=tmp, MEDIA_ROOT=tmp / "media",
        ALLOWED_HOSTS=["testserver", "unknown.tenancy.test", A_HOST, B_HOST],
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        URBANGRID_OPEN311_POSTS_PER_HOUR=10**6, URBANGRID_GRID_VERSION_TTL=0)
    overrides.enable()
    from urbangrid.core import tenancy
    from urbangrid.fabricate.demo.build import build_demo
    from urbangrid.public.open311.keys import ensure_demo_key

    try:
        with django_db_blocker.unblock():
            call_command("city", "add", "aa", "--name", "甲市", "--host", A_HOST, "--database-url", _url(tmp, names["aa"]))
            call_command("city", "add", "bb", "--name", "乙市", "--host", B_HOST, "--database-url", _url(tmp, names["bb"]))
            with tenancy.activate("aa"):
                _summary, logins, _path = build_demo(seed=5, log=lambda m: None)
                key = ensure_demo_key(5)
            with tenancy.activate("bb"):
                from django.contrib.auth import get_user_model

                get_user_model().objects.create_superuser("b_clerk", password="b-password-123")
            yield {"logins": logins, "open311_key": key, "tmp": tmp}
    finally:
        for code in ("aa", "bb"):
            alias = tenancy.alias_of(code)
            if alias in connections.settings:
                connections[alias].close()
        overrides.disable()
        tenancy.reload()
        if suite_vendor() == "postgresql":
            for name in names.values():
                pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _login(host, username, password):
    c = Client(HTTP_HOST=host)
    r = c.post("/accounts/login/", {"username": username, "password": password})
    return c, r


def test_the_registry_lists_both_cities_and_each_database_holds_its_own(cities, capsys):
    call_command("city", "list")
    out = capsys.readouterr().out
    assert "aa\t甲市\taa.tenancy.test" in out and "bb\t乙市\tbb.tenancy.test" in out
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.core import tenancy
    from urbangrid.grids.models import UnitGrid
    from urbangrid.assessment.models import EvaluationScheme
    from urbangrid.worktime.models import TimeLimitSetting, WorkCalendarDay

    with tenancy.activate("aa"):
        a_grids = UnitGrid.objects.count()
        assert UnitGrid.objects.first()._state.db == "city_aa"
    with tenancy.activate("bb"):
        assert UnitGrid.objects.count() == 0
        # city add loaded the catalogue and the calendar; the migrations the scheme and the stage limits
        assert CatalogClass.objects.exists() and WorkCalendarDay.objects.exists()
        assert EvaluationScheme.objects.exists() and TimeLimitSetting.objects.exists()
    assert a_grids > 0


def _a_staff(cities):
    staff = cities["logins"]["dispatcher"]
    c, r = _login(A_HOST, staff["username"], staff["password"])
    assert r.status_code == 302
    return c


def _b_staff():
    c, r = _login(B_HOST, "b_clerk", "b-password-123")
    assert r.status_code == 302
    return c


def test_each_host_sees_only_its_own_grids_and_the_locator_answers_per_city(cities):
    from urbangrid.core import tenancy
    from urbangrid.grids.models import GridDataVersion

    with tenancy.activate("aa"):
        version = GridDataVersion.current()
    with tenancy.activate("bb"):  # the same grid data version number: only the city tells the indexes apart
        GridDataVersion.objects.update_or_create(pk=1, defaults={"version": version})
    a, b = _a_staff(cities), _b_staff()
    for _round in range(2):  # A, B, A, B: each answer from its own city's index, never the other's cached one
        ra = a.get("/api/v1/locate", {"lon": INSIDE[0], "lat": INSIDE[1]})
        assert ra.status_code == 200, ra.content
        assert ra.json()["unit_grid_code"]
        rb = b.get("/api/v1/locate", {"lon": INSIDE[0], "lat": INSIDE[1]})
        assert rb.status_code == 422, rb.content
    assert a.get("/api/v1/unit-grids", {"bbox": "117.2,31.85,117.27,31.9"}).json()["features"]
    assert b.get("/api/v1/unit-grids", {"bbox": "117.2,31.85,117.27,31.9"}).json()["features"] == []


def test_a_user_of_one_city_cannot_log_in_at_another_nor_bring_a_session_there(cities):
    staff = cities["logins"]["dispatcher"]
    c, r = _login(A_HOST, staff["username"], staff["password"])
    assert r.status_code == 302, r.content[:300]
    assert c.get("/cases/").status_code == 200
    cookie = c.cookies["sessionid"].value

    _b, r = _login(B_HOST, staff["username"], staff["password"])
    assert r.status_code == 200 and "sessionid" not in r.cookies  # the login form again

    b = Client(HTTP_HOST=B_HOST)
    b.cookies["sessionid"] = cookie  # A's session cookie at B: B's database knows no such session
    r = b.get("/cases/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    _c, r = _login(B_HOST, "b_clerk", "b-password-123")
    assert r.status_code == 302
    _c, r = _login(A_HOST, "b_clerk", "b-password-123")
    assert r.status_code == 200


def test_an_api_token_of_one_city_is_refused_at_another(cities):
    from django.contrib.auth import get_user_model

    from urbangrid.core import tenancy
    from urbangrid.core.models import ApiToken

    with tenancy.activate("aa"):
        _token, raw = ApiToken.issue(get_user_model().objects.get(username=cities["logins"]["dispatcher"]["username"]))
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    for _round in range(2):  # the token cache must not carry A's answer to B
        assert Client(HTTP_HOST=A_HOST).get("/api/v1/cases", **auth).status_code == 200
        assert Client(HTTP_HOST=B_HOST).get("/api/v1/cases", **auth).status_code == 401


def test_an_open311_key_of_one_city_is_refused_at_another_and_cases_stay_in_theirs(cities):
    from urbangrid.cases.models import Case
    from urbangrid.core import tenancy

    data = {"api_key": cities["open311_key"], "service_code": SERVICE, "lat": INSIDE[1], "long": INSIDE[0],
            "description": "路面塌陷一处"}
    ra = Client(HTTP_HOST=A_HOST).post("/open311/v2/requests.json", data)
    assert ra.status_code == 200 and ra.json()[0]["service_request_id"], ra.content
    rb = Client(HTTP_HOST=B_HOST).post("/open311/v2/requests.json", data)
    assert rb.status_code in (400, 403), rb.content
    with tenancy.activate("aa"):
        number = Case.objects.order_by("-id").values_list("number", flat=True).first()
        assert Case.objects.count() >= 1
    with tenancy.activate("bb"):
        assert Case.objects.count() == 0
    a, b = _a_staff(cities), _b_staff()
    assert a.get(f"/api/v1/cases/{number}").status_code == 200
    assert [c["number"] for c in a.get("/api/v1/cases").json()["items"]] == [number]
    assert b.get("/api/v1/cases").json()["items"] == []
    assert b.get(f"/api/v1/cases/{number}").status_code in (403, 404)


def test_services_json_and_the_responsibility_list_answer_per_city(cities):
    from urbangrid.catalog import responsibility
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.core import tenancy
    from urbangrid.grids.locator import OutsideManagedArea

    with tenancy.activate("bb"):
        cls = CatalogClass.objects.filter(active=True, version__is_current=True).order_by("pk").first()
        CatalogClass.objects.filter(pk=cls.pk).update(name="乙市自定名称")  # no signal: only the city key separates
    a, b = Client(HTTP_HOST=A_HOST), Client(HTTP_HOST=B_HOST)
    for _round in range(2):
        names_a = {s["service_name"] for s in a.get("/open311/v2/services.json").json()}
        names_b = {s["service_name"] for s in b.get("/open311/v2/services.json").json()}
        assert "乙市自定名称" in names_b and "乙市自定名称" not in names_a
    with tenancy.activate("aa"):
        a_class = CatalogClass.objects.get(version__is_current=True, code=SERVICE.rsplit(":", 1)[1], kind="event")
        assert responsibility.resolve(a_class.pk, *INSIDE).unit is not None
    with tenancy.activate("bb"):  # B has no grids: the same question is outside its managed area
        with pytest.raises(OutsideManagedArea):
            responsibility.resolve(a_class.pk, *INSIDE)


def test_a_host_no_city_names_is_refused_without_reaching_any_database(cities):
    from contextlib import ExitStack

    statements = []

    def spy(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with ExitStack() as stack:  # every database this process knows: the default and both cities
        for alias in connections:
            stack.enter_context(connections[alias].execute_wrapper(spy))
        r = Client(HTTP_HOST="unknown.tenancy.test").get("/")
        assert r.status_code == 404
        assert Client(HTTP_HOST="unknown.tenancy.test").get("/api/v1/cases").status_code == 404
        assert statements == []
        assert _login(A_HOST, "nobody", "wrong-password")[1].status_code == 200
    assert statements  # the spy sees what a known host's request reads (its users table)


def test_the_django_cache_keeps_each_city_apart(cities):
    from django.core.cache import cache

    from urbangrid.core import tenancy

    with tenancy.activate("aa"):
        cache.set("tenancy-probe", "aa")
    with tenancy.activate("bb"):
        assert cache.get("tenancy-probe") is None
        cache.set("tenancy-probe", "bb")
    with tenancy.activate("aa"):
        assert cache.get("tenancy-probe") == "aa"
    assert cache.get("tenancy-probe") is None


def test_city_add_refuses_bad_input_and_leaves_nothing_behind(cities, monkeypatch):
    from urbangrid.ops.management.commands import city as city_command

    registry = cities["tmp"] / "cities.json"
    before = registry.read_text()
    with pytest.raises(CommandError, match="aa"):
        call_command("city", "add", "aa", "--name", "again", "--host", "cc.tenancy.test")
    with pytest.raises(CommandError):
        call_command("city", "add", "Bad-Code", "--name", "x", "--host", "cc.tenancy.test")
    with pytest.raises(CommandError, match=A_HOST):
        call_command("city", "add", "cc", "--name", "丙市", "--host", A_HOST)
    url = _url(cities["tmp"], f"ug_tenancy_{uuid.uuid4().hex[:8]}_cc")
    with pytest.raises(CommandError, match="no-such-dir"):  # named before any database is made
        call_command("city", "add", "cc", "--name", "丙市", "--host", "cc.tenancy.test", "--database-url", url,
                     "--catalog-dir", str(cities["tmp"] / "no-such-dir"))
    made = []

    def migration_fails_half_way(name, *args, database=None, **kwargs):
        # A migration that dies after writing to the new database (a real one here costs seconds a run).
        assert name == "migrate"
        with connections[database].cursor() as cursor:
            cursor.execute("CREATE TABLE half_migrated (x integer)")
        made.append(connections[database].settings_dict["NAME"])
        raise RuntimeError("disk full")

    monkeypatch.setattr(city_command, "call_command", migration_fails_half_way)
    with pytest.raises(CommandError, match="disk full"):  # fails after the database was made: it is dropped again
        call_command("city", "add", "cc", "--name", "丙市", "--host", "cc.tenancy.test", "--database-url", url)
    assert [Path(n).name for n in made] == [url.rsplit("/", 1)[1]]  # the failure came with the database made
    assert registry.read_text() == before
    assert [c["code"] for c in json.loads(before)["cities"]] == ["aa", "bb"]
    assert "city_cc" not in connections.settings
    if suite_vendor() == "sqlite":
        assert not (cities["tmp"] / url.rsplit("/", 1)[1]).exists()
    else:
        import psycopg

        with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres") as c:
            assert c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [url.rsplit("/", 1)[1]]).fetchone() is None


def test_a_task_enqueued_in_a_city_runs_in_that_city(cities, monkeypatch):
    from huey.contrib.djhuey import HUEY

    from urbangrid.cases.tasks import sweep_now
    from urbangrid.core import tenancy

    queued = []
    monkeypatch.setattr(HUEY, "enqueue", queued.append)
    with tenancy.activate("bb"):
        sweep_now()
    assert queued[0].args == ("bb",)
    seen = []
    monkeypatch.setattr("urbangrid.cases.tasks.sweep", lambda: seen.append(
        (tenancy.current_code(), connections["default"].settings_dict["NAME"])))
    queued[0].execute()  # the worker, outside any city
    assert seen == [("bb", connections["city_bb"].settings_dict["NAME"])]


def test_a_city_may_name_its_own_map_tiles(cities):
    registry = cities["tmp"] / "cities.json"
    before = registry.read_text()
    data = json.loads(before)
    data["cities"][0]["settings"] = {"URBANGRID_TILE_URL": "https://tiles.aa.example/{z}/{x}/{y}.png"}
    registry.write_text(json.dumps(data, ensure_ascii=False))
    try:
        a, b = Client(HTTP_HOST=A_HOST), Client(HTTP_HOST=B_HOST)
        for _round in range(2):
            assert "tiles.aa.example" in a.get("/accounts/login/")["Content-Security-Policy"]
            assert "tiles.aa.example" not in b.get("/accounts/login/")["Content-Security-Policy"]
        assert "tiles.aa.example" in a.get("/report/").content.decode()
        assert "tiles.aa.example" not in b.get("/report/").content.decode()
    finally:
        registry.write_text(before)


def test_urbangrid_city_option_backs_up_one_city_with_its_own_photos(cities, capsys, monkeypatch):
    import os
    import subprocess
    import sys
    import tarfile

    tmp = cities["tmp"]
    for code in ("aa", "bb"):
        folder = tmp / "media" / "cities" / code / "photos"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{code}.jpg").write_bytes(b"jpeg of " + code.encode())
    import urbangrid

    src = str(Path(urbangrid.__file__).resolve().parents[1])  # this checkout's code, whatever the working directory
    env = dict(os.environ, URBANGRID_CITIES_FILE=str(tmp / "cities.json"), URBANGRID_VAR_DIR=str(tmp),
               PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))

    def urbangrid(*args):
        return subprocess.run([sys.executable, "-m", "urbangrid", *args], env=env, capture_output=True, text=True,
                              cwd=tmp)

    run = urbangrid("--city", "aa", "backup", "-o", str(tmp / "aa.tar.gz"))
    assert run.returncode == 0, run.stderr
    with tarfile.open(tmp / "aa.tar.gz") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert "media/photos/aa.jpg" in names and not any("bb" in n for n in names)
    assert manifest["vendor"] == suite_vendor()
    # The same entry point in this process (a new one costs a second each): an unknown city, and the registry
    # the settings read (the subprocess above found city aa through URBANGRID_CITIES_FILE).
    from urbangrid import cli

    # Django's command runner closes every connection when done: not this process's.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.main(["urbangrid", "--city", "zz", "backup", "-o", str(tmp / "zz.tar.gz")])
    assert exc.value.code == 2 and "zz" in capsys.readouterr().err and not (tmp / "zz.tar.gz").exists()
    cli.main(["urbangrid", "city", "list"])
    assert "aa\t甲市" in capsys.readouterr().out


def test_open311_names_the_posted_class_and_unassigned_answers_are_each_citys_own(cities):
    """The per-process caches main added beside the tenancy work (Open311 fastread's name maps, the services
    document's class map, responsible_units_cached) keep each city apart, as the older ones do."""
    from urbangrid.catalog import responsibility
    from urbangrid.catalog.models import CatalogClass
    from urbangrid.core import tenancy
    from urbangrid.grids.models import GridDataVersion
    from urbangrid.public.open311 import fastread, services_doc

    with tenancy.activate("aa"):
        version = GridDataVersion.current()
        a_class = CatalogClass.objects.get(version__is_current=True, code=SERVICE.rsplit(":", 1)[1], kind="event")
    with tenancy.activate("bb"):  # the same grid data version number: only the city tells the answers apart
        GridDataVersion.objects.update_or_create(pk=1, defaults={"version": version})
        pk = CatalogClass.objects.order_by("pk").values_list("pk", flat=True).first()
        CatalogClass.objects.filter(pk=pk).update(plain_name="乙市的叫法")  # no signal: only the city key separates
    item = (a_class.pk, *INSIDE)
    for _round in range(2):  # A, B, A, B: never the other city's cached answer
        with tenancy.activate("aa"):
            assert fastread.names({"class": [pk]})["class"].get(pk) != "乙市的叫法"
            assert services_doc.current_class(SERVICE)._state.db == "city_aa"
            assert responsibility.responsible_units_cached([item])[item] is not None
        with tenancy.activate("bb"):
            assert fastread.names({"class": [pk]})["class"][pk] == "乙市的叫法"
            found = services_doc.current_class(SERVICE)
            assert found is None or found._state.db == "city_bb"
            assert responsibility.responsible_units_cached([item])[item] is None  # B has no grids


def test_each_city_pushes_to_the_province_with_its_own_code_and_key_only(cities, settings):
    from urbangrid.core import tenancy
    from urbangrid.exchange import outbox

    settings.URBANGRID_EXCHANGE_URL = "https://province.example/"
    settings.URBANGRID_EXCHANGE_KEY = "deployment-key-" + "d" * 32
    settings.URBANGRID_EXCHANGE_CITY = "340000"
    registry = cities["tmp"] / "cities.json"
    before = registry.read_text()
    data = json.loads(before)
    data["cities"][1]["settings"] = {"URBANGRID_EXCHANGE_KEY": "bb-key-" + "b" * 32, "URBANGRID_EXCHANGE_CITY": "330200",
                                     "URBANGRID_PROVINCE_TASK_CLASS": "bb-task-class"}
    registry.write_text(json.dumps(data, ensure_ascii=False))
    tenancy.reload()
    try:
        assert (outbox.config().city, outbox.config().key) == ("340000", settings.URBANGRID_EXCHANGE_KEY)
        with tenancy.activate("aa"):  # no key of its own: the deployment's is not lent to it
            with pytest.raises(outbox.NotConfigured):
                outbox.config()
        with tenancy.activate("bb"):
            cfg = outbox.config()
            assert (cfg.url, cfg.city, cfg.key) == ("https://province.example", "330200", "bb-key-" + "b" * 32)
            assert tenancy.setting("URBANGRID_PROVINCE_TASK_CLASS") == "bb-task-class"  # the fallback class of its tasks
    finally:
        registry.write_text(before)
        tenancy.reload()
