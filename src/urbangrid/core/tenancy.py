"""Cities as tenants (多城市部署): one deployment serves several cities, each in its own database.

The registry (``URBANGRID_CITIES_FILE``, JSON) lists the cities: code, name, host names, database URL and a
few per-city settings (map tiles, public base URL, Open311 jurisdiction). Without it, or with no city in it,
nothing here changes anything: the single-city mode is today's UrbanGrid.

Why the ``default`` alias is rebound rather than only routed: ``transaction.atomic()`` without ``using``, raw
``connection.cursor()`` (fast case loads, the append-only event log, the audit chain, tallies) and
``select_for_update`` all go to ``default``. A router alone would send the ORM's reads and writes to the city
while those went to another database, splitting a transaction. So ``activate(city)`` makes
``connections["default"]`` *be* the city's connection for the current thread (Django keeps connections in a
per-thread ``asgiref.Local``; a gunicorn sync worker serves one request per thread) and puts it back after;
``CityRouter`` routes the ORM to the city's alias so instances carry the city in ``_state.db`` and a row
loaded in one city is never written to another. Both names open the very same connection object, so a
transaction is never split.

Process-wide caches key their entries with ``current_code()`` (or hold one instance per city: ``PerCity``);
the Django cache gets a per-city key prefix (``cache_key``); rate-limit counters too.
"""
import contextvars
import functools
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage
from django.db import connections
from django.http import FileResponse, HttpResponseNotFound
from django.http.request import split_domain_port
from django.utils.translation import gettext as _

# Settings a city may override in the registry (the rest are the deployment's); data settings (catalogue
# version, calendar, time limits, evaluation scheme) live in each city's own database already.
CITY_SETTINGS = frozenset({
    "URBANGRID_TILE_URL", "URBANGRID_TILE_ATTRIBUTION", "URBANGRID_TILE_CRS", "URBANGRID_PUBLIC_BASE_URL",
    "URBANGRID_OPEN311_JURISDICTION", "URBANGRID_OPEN311_CONTACT",
    # 联网上报 (exchange/outbox.py): a city's code and key at the province are only ever its own entry's.
    "URBANGRID_EXCHANGE_URL", "URBANGRID_EXCHANGE_CITY", "URBANGRID_EXCHANGE_KEY", "URBANGRID_PROVINCE_TASK_CLASS",
})
CODE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


class UnknownCity(LookupError):
    pass


@dataclass(frozen=True)
class City:
    """A city of the registry (城市)."""

    code: str
    name: str
    hosts: tuple
    database_url: str
    settings: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def alias(self):
        return alias_of(self.code)


def alias_of(code):
    return f"city_{code}"


def check_code(code):
    """A city code is 2–20 lower-case letters, digits or underscores, starting with a letter (it names a
    database alias, a file and cache keys)."""
    code = str(code or "")
    if not (2 <= len(code) <= 20) or not code[0].isalpha() or not set(code) <= CODE_CHARS:
        raise ValueError(_("城市代码须为 2–20 个小写字母、数字或下划线，以字母开头：%(c)s") % {"c": code})
    return code


def parse(entries):
    """Cities from the registry's ``cities`` list; ValueError naming the first problem."""
    cities, hosts = [], {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(_("第 %(i)s 个城市不是对象") % {"i": i + 1})
        code = check_code(entry.get("code"))
        if any(c.code == code for c in cities):
            raise ValueError(_("城市代码重复：%(c)s") % {"c": code})
        name = str(entry.get("name") or "").strip()
        if not name:
            raise ValueError(_("城市 %(c)s 缺少名称") % {"c": code})
        city_hosts = tuple(str(h).strip().lower() for h in entry.get("hosts") or () if str(h).strip())
        if not city_hosts:
            raise ValueError(_("城市 %(c)s 缺少主机名") % {"c": code})
        for h in city_hosts:
            if h in hosts:
                raise ValueError(_("主机名 %(h)s 同时属于 %(a)s 和 %(b)s") % {"h": h, "a": hosts[h], "b": code})
            hosts[h] = code
        url = str(entry.get("database_url") or "").strip()
        if not url:
            raise ValueError(_("城市 %(c)s 缺少数据库地址") % {"c": code})
        overrides = entry.get("settings") or {}
        unknown = sorted(set(overrides) - CITY_SETTINGS)
        if unknown:
            raise ValueError(_("城市 %(c)s 不能单独设置：%(s)s") % {"c": code, "s": ", ".join(unknown)})
        cities.append(City(code, name, city_hosts, url, dict(overrides)))
    return cities


# --- the registry -------------------------------------------------------------------------------

_registry = {"stamp": None, "cities": [], "by_host": {}, "by_code": {}}
_registry_lock = threading.Lock()


def _stamp(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (path, None, None)
    return (path, st.st_mtime_ns, st.st_size)


def cities():
    """The configured cities (empty: single-city mode), re-read when the registry file changes."""
    path = settings.URBANGRID_CITIES_FILE
    if not path:
        return []
    stamp = _stamp(path)
    if _registry["stamp"] != stamp:
        with _registry_lock:
            if _registry["stamp"] != stamp:
                from urbangrid.settings import read_cities_file  # local: the one reader, beside DATABASES

                try:
                    found = parse(read_cities_file(path))
                except ValueError as exc:
                    raise ImproperlyConfigured(f"URBANGRID_CITIES_FILE {path}: {exc}") from None
                for city in found:
                    _ensure_alias(city)
                _registry.update(by_host={h: c for c in found for h in c.hosts}, by_code={c.code: c for c in found},
                                 cities=found, stamp=stamp)
    return _registry["cities"]


def multi_city():
    return bool(cities())


def get(code):
    cities()
    try:
        return _registry["by_code"][code]
    except KeyError:
        raise UnknownCity(code) from None


def for_host(host):
    """The city serving this host name (port ignored, case-insensitive), or None."""
    cities()
    domain, _port = split_domain_port(host or "")
    return _registry["by_host"].get(domain.lower())


def reload():
    """Read the registry again on next use (it was just written: a file's mtime may not have moved)."""
    with _registry_lock:
        _registry["stamp"] = None


def database_settings(url):
    """Django's DATABASES entry for a database URL, with the project's SQLite options."""
    from urbangrid.settings import database_from_url  # local: the one DATABASES builder, in the settings module

    return database_from_url(url)


def _ensure_alias(city):
    """Make the city's alias known to Django (a city added while the process runs, or by a test)."""
    alias = city.alias
    if alias in connections.settings:
        return
    db = database_settings(city.database_url)
    db.setdefault("TEST", {})["NAME"] = None  # never a test database of the default's name
    configured = connections.configure_settings({"default": connections.settings["default"], alias: db})[alias]
    connections.settings[alias] = configured
    settings.DATABASES[alias] = configured


# --- the active city ----------------------------------------------------------------------------

_current = contextvars.ContextVar("urbangrid_city", default=None)


def current():
    """The active City, or None (single-city mode, or outside any city)."""
    return _current.get()


def current_code():
    """The active city's code, "" outside any: the key every process-wide cache adds to its entries."""
    city = _current.get()
    return city.code if city is not None else ""


def current_alias():
    city = _current.get()
    return city.alias if city is not None else None


@contextmanager
def activate(city):
    """Run the block in ``city`` (a City or a code): ``connections["default"]`` is the city's connection
    in this thread until the block ends. None runs the block as it is (no city)."""
    if city is None:
        yield None
        return
    if not isinstance(city, City):
        city = get(city)
    _ensure_alias(city)
    local = connections._connections  # the per-thread store behind connections[...]
    previous = getattr(local, "default", None)
    conn = connections[city.alias]
    token = _current.set(city)
    setattr(local, "default", conn)
    try:
        yield city
    finally:
        _current.reset(token)
        if previous is None:
            try:
                delattr(local, "default")
            except AttributeError:
                pass
        else:
            setattr(local, "default", previous)


def each_city(fn):
    """``fn()`` once in single-city mode; else once in every city ({code: result})."""
    if not multi_city():
        return fn()
    results = {}
    for city in cities():
        with activate(city):
            results[city.code] = fn()
    return results


def setting(name):
    """A setting's value for the active city: its registry override, else the deployment's."""
    city = _current.get()
    if city is not None and name in city.settings:
        return city.settings[name]
    return getattr(settings, name)


# --- the router, the middleware, the cache key, the file storage --------------------------------

class CityRouter:
    """Sends the ORM to the active city's database; outside a city it says nothing (Django's default)."""

    def db_for_read(self, model, **hints):
        return current_alias()

    def db_for_write(self, model, **hints):
        return current_alias()

    def allow_relation(self, obj1, obj2, **hints):
        a, b = obj1._state.db, obj2._state.db
        if a == b or a is None or b is None:
            return None
        # "default" inside a city is the city's own connection; any two other names are two databases.
        return connections[a] is connections[b]

    def allow_migrate(self, db, app_label, **hints):
        return None


class CityMiddleware:
    """Chooses the city by the request's host name and runs the rest of the request in it. In multi-city
    mode a host no city names answers 404 and reaches no database; without cities it does nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not multi_city():
            return self.get_response(request)
        city = for_host(request.get_host())
        if city is None:
            return HttpResponseNotFound(_("此地址不属于本平台的任何城市"), content_type="text/plain; charset=utf-8")
        request.city = city
        with activate(city):
            response = self.get_response(request)
        if response.streaming and not isinstance(response, FileResponse):
            # A generator's queries run after this returns: in the city too (a file was opened in it already).
            response.streaming_content = _in_city(city, response.streaming_content)
        return response


def _in_city(city, content):
    with activate(city):
        yield from content


def cache_key(key, key_prefix, version):
    """Django's cache key, with the active city's code in it (the default format outside a city)."""
    code = current_code()
    if code:
        return f"{key_prefix}:{version}:city-{code}:{key}"
    return f"{key_prefix}:{version}:{key}"


def media_root():
    """Where uploaded files of the active city live: MEDIA_ROOT, or its ``cities/<code>`` folder."""
    root = Path(settings.MEDIA_ROOT)
    code = current_code()
    return root / "cities" / code if code else root


class CityFileStorage(FileSystemStorage):
    """The default file storage, in the active city's media folder (``media_root``)."""

    @property
    def base_location(self):
        return str(media_root()) if self._location is None else self._location

    @property
    def location(self):
        return os.path.abspath(self.base_location)


class PerCity:
    """One instance of ``factory()`` per city (and one outside any city), reached as if it were one object:
    attribute reads go to the active city's instance (``locator.locate(...)``)."""

    def __init__(self, factory):
        object.__setattr__(self, "_factory", factory)
        object.__setattr__(self, "_instances", {})
        object.__setattr__(self, "_lock", threading.Lock())

    def current(self):
        code = current_code()
        instance = self._instances.get(code)
        if instance is None:
            with self._lock:
                instance = self._instances.get(code)
                if instance is None:
                    instance = self._instances[code] = self._factory()
        return instance

    def __getattr__(self, name):
        return getattr(self.current(), name)

    def __setattr__(self, name, value):
        setattr(self.current(), name, value)

    # A per-city dict (a cache of a few named entries) is read and written with [] too.
    def __getitem__(self, key):
        return self.current()[key]

    def __setitem__(self, key, value):
        self.current()[key] = value

    def __contains__(self, key):
        return key in self.current()

    def __len__(self):
        return len(self.current())

    def all(self):
        """Every city's instance made so far (to clear them all)."""
        return list(self._instances.values())


def city_task(*task_args, **task_kwargs):
    """``huey``'s ``db_task`` for work that belongs to a city: enqueuing records the active city's code
    and the worker runs the task in that city."""
    from huey.contrib.djhuey import db_task  # local: only task modules need huey's Django glue loaded

    def decorate(fn):
        def run(city_code, *args, **kwargs):
            with activate(city_code or None):
                return fn(*args, **kwargs)

        run.__name__, run.__qualname__, run.__module__ = fn.__name__, fn.__qualname__, fn.__module__
        task = db_task(*task_args, **task_kwargs)(run)

        @functools.wraps(fn)
        def enqueue(*args, **kwargs):
            return task(current_code(), *args, **kwargs)

        enqueue.task = task
        return enqueue

    return decorate
