"""masthead settings, all driven by the environment.

Defaults give the embedded demo: SQLite in ./var, in-process cache, DEBUG on. Production sets
DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0; `masthead serve` refuses the
demo secret key so a demo install can never be exposed as production by accident.
"""

import os
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("MASTHEAD_DATA_DIR", Path.cwd() / "var")).resolve()

# Shown in the README; `masthead serve` will not start with it.
DEMO_SECRET_KEY = "masthead-demo-key-not-for-production-use-only-on-127.0.0.1"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY") or DEMO_SECRET_KEY
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "masthead.news",
    "masthead.comments",
    "masthead.sourcing",
    "masthead.distribution",
    "masthead.search",
    "masthead.api",
    "masthead.importers",
    "masthead.demo",
    "masthead.serving",
    "masthead.caching",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
]

MIDDLEWARE = [
    # Whole pages for anonymous readers, first: a hit costs no query and runs no other
    # middleware (a stored page already carries the security headers added below it).
    "masthead.caching.middleware.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The defaults made active, so that reading them is not a miss (why: masthead/locale.py).
    "masthead.locale.DefaultLocaleMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "masthead.urls"
WSGI_APPLICATION = "masthead.wsgi.application"

# The public pages are Jinja2 templates (each app's jinja2/ folder; why: masthead/templating.py);
# the admin's are Django's, in the apps' templates/ folders. A name is looked up in that order.
# Django's Jinja2 backend lays the context processors' names over the view's context, not under
# it: no view may name its own `nav_sections` or `site_name`.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [PACKAGE_DIR / "jinja2"],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "masthead.templating.environment",
            "extensions": ["wagtail.jinja2tags.core", "wagtail.images.jinja2tags.images"],
            "context_processors": ["masthead.news.context_processors.navigation"],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "masthead.news.context_processors.navigation",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

# SQLite is the embedded default; DATABASE_URL selects PostgreSQL (psycopg 3) in production.
# Either way each thread keeps its connection between requests (DB_CONN_MAX_AGE seconds, 60 by
# default; 0 closes it after each request). SQLite's too: a new SQLite connection costs more
# than an article page's queries (the file opened, the PRAGMAs below, the schema of a hundred
# tables parsed again, a cold page cache): 7.6 ms an uncached article in one process with a
# connection per request, 4.7 ms with one kept (BENCHMARKS.md).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{DATA_DIR / 'masthead.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, with each query's placeholder rewriting remembered (masthead/sqlite).
    DATABASES["default"]["ENGINE"] = "masthead.sqlite"
    # WAL lets readers proceed while an editor publishes; synchronous=FULL makes each commit
    # durable across power loss, not only a process crash; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock between concurrent writers.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
    }

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Page queries take a few milliseconds; starting parallel workers for them took ~45 ms on
    # a busy 2-core machine (the 200,000-article scale run, BENCHMARKS.md).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c max_parallel_workers_per_gather=0"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "masthead",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "masthead",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = DATA_DIR / "media"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed names and pre-compressed copies: long-lived caching without stale assets.
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "masthead.serving.staticfiles.MinifiedStaticFilesStorage"
        ),
    },
}
# WhiteNoise caches hashed files for a year by itself; unhashed ones keep its short default.

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Wagtail
WAGTAIL_SITE_NAME = os.environ.get("MASTHEAD_SITE_NAME", "The Masthead")
WAGTAILADMIN_BASE_URL = os.environ.get("MASTHEAD_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILREDIRECTS_AUTO_CREATE = True
# The admin must not call out either: no update check, no Gravatar images of editors.
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILEMBEDS_RESPONSIVE_HTML = True
WAGTAILIMAGES_EXTENSIONS = ["gif", "jpg", "jpeg", "png", "webp", "avif"]
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "rtf", "txt", "xlsx"]
WAGTAIL_I18N_ENABLED = False
TAGGIT_CASE_INSENSITIVE = True

# How many articles a section or tag page lists per page.
MASTHEAD_PAGE_SIZE = int(os.environ.get("MASTHEAD_PAGE_SIZE", "20"))
# Serve uploaded images from Django when no reverse proxy does it (the demo, small sites).
MASTHEAD_SERVE_MEDIA = env_bool("MASTHEAD_SERVE_MEDIA", True)
# Proxies whose X-Forwarded-For is believed for the reader's address (comment rate limits):
# addresses or networks, comma-separated, e.g. "127.0.0.1,::1" behind a local Varnish. Empty:
# none, and REMOTE_ADDR is the reader (masthead/comments/identity.py).
MASTHEAD_TRUSTED_PROXIES = env_list("MASTHEAD_TRUSTED_PROXIES", [])

# Full-page cache (masthead/caching; README "Caching"): in-process by default, in Redis when
# REDIS_URL is set. MASTHEAD_CACHE_PURGERS: dotted paths of purge backends (CDN, Varnish).
MASTHEAD_PAGE_CACHE = env_bool("MASTHEAD_PAGE_CACHE", True)
MASTHEAD_CACHE_MAX_MB = int(os.environ.get("MASTHEAD_CACHE_MAX_MB", "64"))
MASTHEAD_CACHE_TTL = int(os.environ.get("MASTHEAD_CACHE_TTL", "3600"))
MASTHEAD_CACHE_PREFIX = os.environ.get("MASTHEAD_CACHE_PREFIX", "masthead:pages")  # Redis key namespace
MASTHEAD_CACHE_DEBUG_HEADERS = env_bool("MASTHEAD_CACHE_DEBUG_HEADERS", False)  # X-Cache-Process: <pid>
MASTHEAD_CACHE_PURGERS: list[str] = []

# Emails (comment notices, workflow notices, password resets): printed to the console unless
# an SMTP server is configured. The EMAIL_BACKEND variable names what sends them; the site hands
# every message to a thread beside the requests first (masthead/mail.py), unless
# MASTHEAD_MAIL_IN_BACKGROUND=0 has the request send it itself.
MASTHEAD_EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_BACKEND = (
    "masthead.mail.BackgroundEmailBackend"
    if env_bool("MASTHEAD_MAIL_IN_BACKGROUND", True)
    else MASTHEAD_EMAIL_BACKEND
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
# Seconds before a mail server that stopped answering fails the send (Django waits forever by
# default), so that one hung connection cannot stall the notices queued behind it.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "newsroom@localhost")

# Varnish in front of masthead (deploy/varnish/): its pages are banned by surrogate key after
# every change. VARNISH_URL: http://HOST:PORT of each Varnish, comma-separated.
VARNISH_URL = os.environ.get("VARNISH_URL", "")
VARNISH_TIMEOUT = float(os.environ.get("VARNISH_TIMEOUT", "1"))  # seconds per BAN request
# Each ban is repeated this many seconds later (unset: chosen from the page store; 0: never).
VARNISH_REBAN_DELAY = float(os.environ["VARNISH_REBAN_DELAY"]) if os.environ.get("VARNISH_REBAN_DELAY") else None
if VARNISH_URL:
    MASTHEAD_CACHE_PURGERS = [*globals().get("MASTHEAD_CACHE_PURGERS", []), "masthead.caching.varnish.purge"]
