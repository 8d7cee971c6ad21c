"""``urbangrid city``: the cities of a multi-city deployment (多城市部署; core/tenancy.py).

``city add`` creates a city's database (a PostgreSQL ``CREATE DATABASE`` or an SQLite file), migrates it
(the migrations seed the default evaluation scheme, deduction standard, working periods and stage limits),
loads the standard catalogue and seeds the working calendar, the way a fresh single-city install is set up;
only then is the city written to the registry. A failure on the way drops what was created.
"""
import json
import os
import tempfile
from io import StringIO
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.translation import gettext as _

from urbangrid.catalog.loader import CatalogDataError, check_catalog_dir
from urbangrid.core import tenancy


def _registry_path():
    path = settings.URBANGRID_CITIES_FILE
    if not path:
        raise CommandError(_("未设置 URBANGRID_CITIES_FILE（城市登记文件的路径）"))
    return Path(path)


def _read_registry(path):
    if not path.exists():
        return {"cities": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(_("城市登记文件无法读取：%(e)s") % {"e": exc}) from None
    if not isinstance(data, dict) or not isinstance(data.get("cities"), list):
        raise CommandError(_("城市登记文件格式不对：应为 {\"cities\": [...]}"))
    return data


def _write_registry(path, data):
    """Whole or not at all: a temporary file beside it, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".cities-", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def default_database_url(code):
    """Beside the deployment's own database: an SQLite file var/cities/<code>.sqlite3, or a database
    ``<name>_<code>`` on the same PostgreSQL server."""
    s = connections.settings["default"]
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(settings.VAR_DIR).resolve() / 'cities' / f'{code}.sqlite3'}"
    if "postgresql" not in s["ENGINE"]:
        raise CommandError(_("请用 --database-url 指定新城市的数据库"))
    auth = quote(str(s.get("USER") or ""), safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(str(s["PASSWORD"]), safe="")
    host = f"{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}"
    return f"postgres://{auth}{'@' if auth else ''}{host}/{s['NAME']}_{code}"


def create_database(alias):
    """Create the alias's database; CommandError if it already exists (an existing city's data is never reused)."""
    conn = connections[alias]
    name = conn.settings_dict["NAME"]
    if conn.vendor == "sqlite":
        path = Path(name)
        if path.exists():
            raise CommandError(_("数据库文件已存在：%(f)s") % {"f": path})
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    if conn.vendor != "postgresql":
        raise CommandError(_("不支持的数据库：%(v)s") % {"v": conn.vendor})
    with conn.creation._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone():
            raise CommandError(_("数据库已存在：%(n)s") % {"n": name})
        cursor.execute(f"CREATE DATABASE {conn.ops.quote_name(name)}")


def drop_database(alias):
    conn = connections[alias]
    name = conn.settings_dict["NAME"]
    conn.close()
    if conn.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(name) + suffix).unlink(missing_ok=True)
        return
    with conn.creation._nodb_cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {conn.ops.quote_name(name)}")


def forget_alias(alias):
    connections[alias].close()
    connections.settings.pop(alias, None)
    settings.DATABASES.pop(alias, None)
    try:
        delattr(connections._connections, alias)
    except AttributeError:
        pass


class Command(BaseCommand):
    help = _("多城市部署：添加城市（建库、迁移、加载分类目录和工作日历）、列出城市、对所有城市执行迁移")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help=_("添加一个城市"))
        add.add_argument("code", help=_("城市代码：小写字母、数字或下划线，如 hz"))
        add.add_argument("--name", required=True, help=_("城市名称"))
        add.add_argument("--host", action="append", required=True, dest="hosts", help=_("该城市的主机名（可重复）"))
        add.add_argument("--database-url", help=_("数据库地址；默认与本部署的数据库同一服务器（SQLite：var/cities/代码.sqlite3）"))
        add.add_argument("--catalog-dir", help=_("分类目录 CSV 目录（默认同 catalog load）"))
        sub.add_parser("list", help=_("列出城市"))
        migrate = sub.add_parser("migrate", help=_("对城市的数据库执行迁移"))
        which = migrate.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help=_("所有城市"))
        which.add_argument("code", nargs="?", help=_("一个城市的代码"))

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_list(self, **_options):
        cities = tenancy.cities()
        if not cities:
            self.stdout.write(_("未配置城市：单城市模式"))
            return
        for city in cities:
            db = connections.settings[city.alias]
            self.stdout.write(f"{city.code}\t{city.name}\t{','.join(city.hosts)}\t{db['ENGINE'].rsplit('.', 1)[-1]}:{db['NAME']}")

    def do_migrate(self, all=False, code=None, verbosity=1, **_options):
        targets = tenancy.cities() if all else [self._city(code)]
        if not targets:
            raise CommandError(_("未配置城市"))
        for city in targets:
            self.stdout.write(_("城市 %(c)s：") % {"c": city.code})
            with tenancy.activate(city):  # data migrations without `using` must write to this city
                call_command("migrate", database=city.alias, interactive=False, verbosity=verbosity, stdout=self.stdout)

    def _city(self, code):
        try:
            return tenancy.get(code)
        except tenancy.UnknownCity:
            raise CommandError(_("没有这个城市：%(c)s") % {"c": code}) from None

    def do_add(self, code, name, hosts, database_url=None, catalog_dir=None, verbosity=1, **_options):
        path = _registry_path()
        data = _read_registry(path)
        try:
            code = tenancy.check_code(code)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        entry = {"code": code, "name": (name or "").strip(), "hosts": [h.strip().lower() for h in hosts],
                 "database_url": (database_url or "").strip() or default_database_url(code), "settings": {}}
        try:
            city = tenancy.parse(data["cities"] + [entry])[-1]
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if city.alias in connections.settings:
            raise CommandError(_("数据库别名 %(a)s 已被使用") % {"a": city.alias})
        if catalog_dir:  # a wrong directory is named at once, not after the new database's migration
            try:
                check_catalog_dir(catalog_dir)
            except CatalogDataError as exc:
                raise CommandError(str(exc)) from None
        out = self.stdout if verbosity > 1 else StringIO()
        created = False
        try:
            tenancy._ensure_alias(city)
            create_database(city.alias)
            created = True
            with tenancy.activate(city):
                call_command("migrate", database=city.alias, interactive=False, verbosity=0, stdout=out)
                call_command("catalog", "load", *(["--dir", catalog_dir] if catalog_dir else []), stdout=out)
                call_command("worktime", "seed", stdout=out)
        except BaseException as exc:
            if created:
                drop_database(city.alias)
            forget_alias(city.alias)
            if isinstance(exc, CommandError):
                raise
            if isinstance(exc, Exception):
                raise CommandError(_("添加城市 %(c)s 失败，已撤销：%(e)s") % {"c": code, "e": exc}) from exc
            raise
        connections[city.alias].close()
        data["cities"].append(entry)
        _write_registry(path, data)
        tenancy.reload()
        self.stdout.write(self.style.SUCCESS(_("已添加城市 %(c)s（%(n)s），主机 %(h)s；运行中的服务进程在重启后（或主机名列入 URBANGRID_ALLOWED_HOSTS 后）接受这些主机名") % {
            "c": code, "n": city.name, "h": ", ".join(city.hosts)}))
