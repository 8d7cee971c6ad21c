"""Django settings for UrbanGrid, read from the environment.

DATABASE_URL        default: SQLite file var/urbangrid.sqlite3 (WAL, IMMEDIATE transactions)
URBANGRID_SECRET_KEY  required in production: `urbangrid serve` and `check --deploy` refuse the built-in key
                    unless URBANGRID_DEBUG or URBANGRID_DEMO is on; `urbangrid demo` writes a random
                    per-install key to var/secret.key, used when this is unset
URBANGRID_DEBUG     "1" to turn debug on (off by default)
URBANGRID_DEMO      "1" on a demo server (`make demo` sets it): allows the built-in key if no other is set
URBANGRID_TRUSTED_PROXIES  comma-separated addresses/networks of reverse proxies whose X-Forwarded-For is
                    believed (default none: the header is ignored)
URBANGRID_ALLOWED_HOSTS  comma-separated, default "127.0.0.1,localhost"
URBANGRID_VAR_DIR   where the SQLite file, uploads and demo logins live (default ./var of the checkout)
"""
import json
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
_checkout = PACKAGE_DIR.parents[1]
_default_var = _checkout / "var" if (_checkout / "pyproject.toml").exists() else Path.cwd() / "var"
VAR_DIR = Path(os.environ.get("URBANGRID_VAR_DIR", _default_var))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("URBANGRID_DEBUG")
BUILTIN_SECRET_KEY = "urbangrid-development-key-change-me-in-production-0123456789"
URBANGRID_DEMO = env_bool("URBANGRID_DEMO")


def _secret_key():
    if os.environ.get("URBANGRID_SECRET_KEY"):
        return os.environ["URBANGRID_SECRET_KEY"]
    try:  # the demo's per-install key (core/secretkey.py writes it)
        key = (VAR_DIR / "secret.key").read_text().strip()
    except OSError:
        key = ""
    return key if len(key) >= 50 else BUILTIN_SECRET_KEY


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("URBANGRID_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in os.environ.get("URBANGRID_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "urbangrid.core",
    "urbangrid.grids",
    "urbangrid.gazetteer",
    "urbangrid.org",
    "urbangrid.catalog",
    "urbangrid.worktime",
    "urbangrid.cases",
    "urbangrid.dashboard",
    "urbangrid.mobile",
    "urbangrid.public",
    "urbangrid.assessment",
    "urbangrid.places",
    "urbangrid.home",
    "urbangrid.ops",
    "urbangrid.fabricate",
    "urbangrid.province",
    "urbangrid.exchange",
    "huey.contrib.djhuey",
    # django-ninja as an app: /api/v1/docs loads Swagger UI from its bundled static files (ninja/static/ninja/),
    # served by us like every other script (no CDN, which the CSP would block and an offline network cannot reach).
    "ninja",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The city by host name (core/tenancy.py), before anything that reads a database or a city's settings.
    "urbangrid.core.tenancy.CityMiddleware",
    "urbangrid.core.middleware.ContentSecurityPolicyMiddleware",
    "urbangrid.core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "urbangrid.core.middleware.ChineseByDefaultMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "urbangrid.core.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "urbangrid.urls"
WSGI_APPLICATION = "urbangrid.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "urbangrid.grids.context_processors.map_tiles",
                "urbangrid.home.context_processors.nav",
            ],
        },
    },
]


# PostgreSQL: the hot reads (core/prepared.py) run as prepared statements, parsed and planned once per connection.
# Off behind a connection pooler in transaction mode, which cannot keep a session's prepared statements.
URBANGRID_PG_PREPARED = env_bool("URBANGRID_PG_PREPARED", True)


def database_from_url(url):
    """A DATABASES entry for a database URL (empty: the SQLite file of the var dir); core/tenancy.py builds
    each city's entry with it too."""
    if not url:
        db = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "urbangrid.sqlite3",
        }
    else:
        db = dj_database_url.parse(url)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db.setdefault("OPTIONS", {})
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of failing
        # with "database is locked" halfway through a transaction; WAL lets readers run meanwhile.
        db["OPTIONS"].update({
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # FULL: a commit is on disk before the request answers 201 (NORMAL in WAL mode may lose the
            # last commits on power loss); bulk loads relax it on their own connection (core/bulk.py).
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
        })
        # Tests run on a file (not :memory:) so that several threads and processes can share it, as in production.
        db["TEST"] = {"NAME": os.environ.get("URBANGRID_TEST_SQLITE") or str(VAR_DIR / "test_urbangrid.sqlite3")}
    if db["ENGINE"] == "django.db.backends.postgresql":
        # psycopg prepares a statement at its first use on the cursors of core/prepared.py only (Django's own,
        # client-binding cursors never prepare); None (psycopg's default under Django) prepares nothing.
        db.setdefault("OPTIONS", {})["prepare_threshold"] = 0 if URBANGRID_PG_PREPARED else None
    db["CONN_MAX_AGE"] = int(os.environ.get("URBANGRID_CONN_MAX_AGE", "600"))
    db["CONN_HEALTH_CHECKS"] = True
    db["ATOMIC_REQUESTS"] = False
    return db


DATABASES = {"default": database_from_url(os.environ.get("DATABASE_URL", "").strip())}

# Several cities in one deployment (core/tenancy.py): the registry file lists each city's code, name, host
# names, database URL and setting overrides; `urbangrid city add` writes it. No file, or no city in it: one city.
URBANGRID_CITIES_FILE = os.environ.get("URBANGRID_CITIES_FILE", "")


def read_cities_file(path):
    """The registry's raw city entries (core/tenancy.py checks them); none when the file does not exist yet."""
    if not path or not Path(path).exists():
        return []
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"URBANGRID_CITIES_FILE {path}: {exc}") from None
    entries = data.get("cities") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ImproperlyConfigured(f"URBANGRID_CITIES_FILE {path}: expected {{\"cities\": [...]}}")
    return entries


# The cities known at start get their aliases and host names here (a city added later gets its alias on first
# use; its host names must be allowed by URBANGRID_ALLOWED_HOSTS or a restart).
for _city in read_cities_file(URBANGRID_CITIES_FILE):
    if isinstance(_city, dict) and _city.get("code") and _city.get("database_url"):
        DATABASES[f"city_{_city['code']}"] = database_from_url(str(_city["database_url"]))
        DATABASES[f"city_{_city['code']}"]["TEST"] = {"NAME": None}
        ALLOWED_HOSTS += [str(h).strip().lower() for h in _city.get("hosts") or () if str(h).strip()]
# Inside a city the ORM goes to its database (outside any, this router answers nothing: Django's default).
DATABASE_ROUTERS = ["urbangrid.core.tenancy.CityRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "urbangrid.core.tenancy.CityFileStorage"},  # MEDIA_ROOT; a city's own folder in it
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "urbangrid.core.errors.csrf_failure"  # the designed, localised page (not Django's English one)
SESSION_COOKIE_SECURE = env_bool("URBANGRID_SECURE_COOKIES")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_AGE = int(os.environ.get("URBANGRID_SESSION_SECONDS", str(12 * 3600)))
# Behind HTTPS (production): secure cookies, HSTS, redirect plain HTTP; the proxy must set X-Forwarded-Proto.
if env_bool("URBANGRID_HTTPS"):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("URBANGRID_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# How long a process trusts its in-memory grid index before re-reading the grid data version.
URBANGRID_GRID_VERSION_TTL = float(os.environ.get("URBANGRID_GRID_VERSION_TTL", "1.0"))
# Geocoding (gazetteer/geocoder.py): the score from which a doorplate, landmark or intersection candidate that has
# no close rival places a case by itself (Open311 address-only POSTs).
URBANGRID_GEOCODE_CONFIDENCE = float(os.environ.get("URBANGRID_GEOCODE_CONFIDENCE", "0.85"))
# Public base URL printed on the 六定 card's QR code (the report page of a grid).
URBANGRID_PUBLIC_BASE_URL = os.environ.get("URBANGRID_PUBLIC_BASE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("URBANGRID_LOG_LEVEL", "WARNING")},
}

# Map tiles: a Leaflet URL template (Tianditu, AMap or OpenStreetMap); empty draws on a plain background.
URBANGRID_TILE_URL = os.environ.get("URBANGRID_TILE_URL", "")
URBANGRID_TILE_ATTRIBUTION = os.environ.get("URBANGRID_TILE_ATTRIBUTION", "")
# The tiles' datum: "wgs84" (Tianditu, OpenStreetMap) or "gcj02" (AMap, Tencent); empty: gcj02 when the URL
# is an autonavi/amap/gtimg one, else wgs84. Data stays WGS-84; the maps shift for display (grids/coords.py).
URBANGRID_TILE_CRS = os.environ.get("URBANGRID_TILE_CRS", "")

# Reports made offline (mobile queue): the client's observation time is the report time when it is at most this
# many hours before the server received it and not later than the received time plus the skew (seconds);
# otherwise the received time is used and the report event says why (cases/observed.py).
URBANGRID_OBSERVED_MAX_AGE_HOURS = int(os.environ.get("URBANGRID_OBSERVED_MAX_AGE_HOURS", "72"))
URBANGRID_OBSERVED_FUTURE_SKEW_SECONDS = int(os.environ.get("URBANGRID_OBSERVED_FUTURE_SKEW_SECONDS", "300"))

# Cache: Redis when configured (shared by all app processes, so rate limits hold across them).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["URBANGRID_REDIS_URL"]}
          if os.environ.get("URBANGRID_REDIS_URL") else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CACHES["default"]["KEY_FUNCTION"] = "urbangrid.core.tenancy.cache_key"  # each city's keys apart
# Public POSTs (citizen reports, ratings): at most this many per client address per hour.
URBANGRID_PUBLIC_POSTS_PER_HOUR = int(os.environ.get("URBANGRID_PUBLIC_POSTS_PER_HOUR", "30"))
# Address searches of the citizen report page (public/geocode.json) per client address and hour.
URBANGRID_PUBLIC_GEOCODES_PER_HOUR = int(os.environ.get("URBANGRID_PUBLIC_GEOCODES_PER_HOUR", "300"))
# Open311 POSTs per client address and hour, and per API key and hour (a key's own posts_per_hour overrides the latter).
URBANGRID_OPEN311_POSTS_PER_HOUR = int(os.environ.get("URBANGRID_OPEN311_POSTS_PER_HOUR", "120"))
# Seconds a process may answer services.json/xml from its cached document after another process changed the catalogue.
URBANGRID_OPEN311_SERVICES_TTL = int(os.environ.get("URBANGRID_OPEN311_SERVICES_TTL", "60"))
URBANGRID_OPEN311_KEY_POSTS_PER_HOUR = int(os.environ.get("URBANGRID_OPEN311_KEY_POSTS_PER_HOUR", "600"))
# Upload limits (cases/photos.py), all checked before a pixel is decoded.
URBANGRID_MAX_PHOTO_BYTES = int(os.environ.get("URBANGRID_MAX_PHOTO_BYTES", str(10 * 1024 * 1024)))
URBANGRID_MAX_PHOTO_PIXELS = int(os.environ.get("URBANGRID_MAX_PHOTO_PIXELS", "25000000"))
URBANGRID_PHOTO_MAX_SIDE = int(os.environ.get("URBANGRID_PHOTO_MAX_SIDE", "2048"))
URBANGRID_MAX_PHOTOS_PER_REQUEST = int(os.environ.get("URBANGRID_MAX_PHOTOS_PER_REQUEST", "6"))
URBANGRID_MAX_PHOTOS_PER_CASE = int(os.environ.get("URBANGRID_MAX_PHOTOS_PER_CASE", "30"))
# Django stops reading a multipart body after this many files (a 400), before any view runs.
DATA_UPLOAD_MAX_NUMBER_FILES = URBANGRID_MAX_PHOTOS_PER_REQUEST + 4

# Task engine (huey): SQLite storage beside the database by default, Redis in production.
URBANGRID_REDIS_URL = os.environ.get("URBANGRID_REDIS_URL", "")
HUEY = {
    "name": "urbangrid",
    "immediate": env_bool("URBANGRID_HUEY_IMMEDIATE"),
    "utc": True,
    "consumer": {"workers": int(os.environ.get("URBANGRID_TASK_WORKERS", "2")), "worker_type": "thread"},
}
if URBANGRID_REDIS_URL:
    HUEY.update({"huey_class": "huey.RedisHuey", "url": URBANGRID_REDIS_URL})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(VAR_DIR / "huey.sqlite3")})
# Re-check deadlines (overdue, approaching) this often, in minutes.
URBANGRID_SWEEP_MINUTES = int(os.environ.get("URBANGRID_SWEEP_MINUTES", "5"))
# 综合评价 from the daily tallies (assessment/evaluation/tallies.py) instead of the raw event log; today's tally is
# refreshed when older than this many seconds and new events arrived (0: always exact).
# Seconds a process trusts its cached bearer tokens and actors (roles, scope) when they change in another
# process or by a bulk write (changes through the ORM in this process apply at once).
# Login policy (core/login.py) and bearer tokens (core/tokens.py).
URBANGRID_LOGIN_MAX_FAILURES = int(os.environ.get("URBANGRID_LOGIN_MAX_FAILURES", "5"))
URBANGRID_LOGIN_ACCOUNT_MAX_FAILURES = int(os.environ.get("URBANGRID_LOGIN_ACCOUNT_MAX_FAILURES", "20"))
URBANGRID_LOGIN_ADDRESS_MAX_FAILURES = int(os.environ.get("URBANGRID_LOGIN_ADDRESS_MAX_FAILURES", "50"))
URBANGRID_LOGIN_LOCK_SECONDS = int(os.environ.get("URBANGRID_LOGIN_LOCK_SECONDS", "900"))
URBANGRID_TOKEN_TTL_DAYS = int(os.environ.get("URBANGRID_TOKEN_TTL_DAYS", "30"))
URBANGRID_TRUSTED_PROXIES = [p.strip() for p in os.environ.get("URBANGRID_TRUSTED_PROXIES", "").split(",") if p.strip()]
URBANGRID_AUTH_CACHE_TTL = float(os.environ.get("URBANGRID_AUTH_CACHE_TTL", "5"))
URBANGRID_EVALUATION_TALLIES = env_bool("URBANGRID_EVALUATION_TALLIES", True)
# Evaluations (assessment/evaluation/rules.py): the longest period a request may ask for; below this many events a
# period with untallied days is counted from the raw events (bounded cost), above it the ready days are shown.
URBANGRID_EVALUATION_MAX_DAYS = int(os.environ.get("URBANGRID_EVALUATION_MAX_DAYS", "1097"))
URBANGRID_EVALUATION_RAW_MAX_EVENTS = int(os.environ.get("URBANGRID_EVALUATION_RAW_MAX_EVENTS", "20000"))
URBANGRID_TALLY_BACKFILL_SECONDS = int(os.environ.get("URBANGRID_TALLY_BACKFILL_SECONDS", "300"))
URBANGRID_TALLY_TODAY_MAX_AGE = int(os.environ.get("URBANGRID_TALLY_TODAY_MAX_AGE", "60"))

# The case loop (cases/duplicates.py, cases/services.py): the windows of duplicate and recurrence checks, and
# whether a rework keeps the first handling deadline (off: it gets a fresh one).
URBANGRID_DUPLICATE_DAYS = int(os.environ.get("URBANGRID_DUPLICATE_DAYS", "7"))
URBANGRID_DUPLICATE_RADIUS_M = float(os.environ.get("URBANGRID_DUPLICATE_RADIUS_M", "50"))
URBANGRID_RECURRENCE_DAYS = int(os.environ.get("URBANGRID_RECURRENCE_DAYS", "30"))
URBANGRID_RECURRENCE_RADIUS_M = float(os.environ.get("URBANGRID_RECURRENCE_RADIUS_M", "30"))
URBANGRID_REWORK_KEEPS_FIRST_DEADLINE = env_bool("URBANGRID_REWORK_KEEPS_FIRST_DEADLINE")
# Seconds a process trusts its cached responsibility list and working calendar after another process changed them.
URBANGRID_RESPONSIBILITY_TTL = float(os.environ.get("URBANGRID_RESPONSIBILITY_TTL", "5"))
# Seconds a process may show a stale count of dead notification deliveries (the top bar's alert).
URBANGRID_DEAD_NOTIFY_TTL = float(os.environ.get("URBANGRID_DEAD_NOTIFY_TTL", "30"))
URBANGRID_WORKTIME_CALENDAR_TTL = float(os.environ.get("URBANGRID_WORKTIME_CALENDAR_TTL", "300"))
# Member and unit review weights over the defaults (assessment/reviews/members.py), JSON: {"person": {...}, ...}.
URBANGRID_REVIEW_WEIGHTS = json.loads(os.environ.get("URBANGRID_REVIEW_WEIGHTS") or "{}")
# Open311 discovery (public/open311/views.py) and its one jurisdiction; the largest POST body (0: the photo
# limits of one request plus the form fields).
URBANGRID_OPEN311_JURISDICTION = os.environ.get("URBANGRID_OPEN311_JURISDICTION", "")
URBANGRID_OPEN311_CONTACT = os.environ.get("URBANGRID_OPEN311_CONTACT", "城市管理指挥中心 UrbanGrid")
URBANGRID_OPEN311_KEY_SERVICE = os.environ.get(
    "URBANGRID_OPEN311_KEY_SERVICE", "API keys are issued by the city management command centre (管理后台 → Open311 接口密钥).")
URBANGRID_OPEN311_ENDPOINT_TYPE = os.environ.get("URBANGRID_OPEN311_ENDPOINT_TYPE", "production")
URBANGRID_OPEN311_MAX_BODY = int(os.environ.get("URBANGRID_OPEN311_MAX_BODY", "0"))
# The benchmarks' baseline views (/bench/…, ops/baselines.py): mounted only when this is on; never in production.
URBANGRID_BENCH = env_bool("URBANGRID_BENCH")

# 联网上报 (exchange/outbox.py, docs/exchange.md): the province's base URL (empty: nothing is sent), this city's
# code there (empty: the code of the city-level region) and its signing key; seconds a request may take; events
# per batch; days acknowledged batches are kept. The province node: the largest batch it reads (bytes).
URBANGRID_EXCHANGE_URL = os.environ.get("URBANGRID_EXCHANGE_URL", "")
URBANGRID_EXCHANGE_CITY = os.environ.get("URBANGRID_EXCHANGE_CITY", "")
URBANGRID_EXCHANGE_KEY = os.environ.get("URBANGRID_EXCHANGE_KEY", "")
URBANGRID_EXCHANGE_TIMEOUT = float(os.environ.get("URBANGRID_EXCHANGE_TIMEOUT", "30"))
URBANGRID_EXCHANGE_BATCH_EVENTS = int(os.environ.get("URBANGRID_EXCHANGE_BATCH_EVENTS", "2000"))
URBANGRID_EXCHANGE_KEEP_DAYS = int(os.environ.get("URBANGRID_EXCHANGE_KEEP_DAYS", "30"))
# 上级交办 (exchange/inbox.py): the class (a code of the current catalogue) a province task's case takes when the task
# names none the city has ("" : such a task waits, with an error, until the class is set).
URBANGRID_PROVINCE_TASK_CLASS = os.environ.get("URBANGRID_PROVINCE_TASK_CLASS", "")
URBANGRID_PROVINCE_MAX_BATCH_BYTES = int(os.environ.get("URBANGRID_PROVINCE_MAX_BATCH_BYTES", str(32 * 1024 * 1024)))
# The province dashboard shows a city in red when its last batch arrived longer ago than this (minutes).
URBANGRID_PROVINCE_SYNC_LAG_MINUTES = float(os.environ.get("URBANGRID_PROVINCE_SYNC_LAG_MINUTES", "60"))

# Notification channels (see urbangrid/cases/notify.py); JSON in the environment, none by default.
URBANGRID_NOTIFY_CHANNELS = json.loads(os.environ.get("URBANGRID_NOTIFY_CHANNELS", "[]"))
EMAIL_BACKEND = os.environ.get("URBANGRID_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
