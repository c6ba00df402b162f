"""Settings from the environment (django-environ).

Two modes share every code path; only these settings differ:
- embedded default (no DATABASE_URL / REDIS_URL): SQLite in WAL mode, local-memory cache,
  in-memory channel layer and an in-memory Celery broker, all inside the one `serve` process;
- production: PostgreSQL via DATABASE_URL and Redis via REDIS_URL (Celery broker, channel
  layer, cache for the latest market snapshots).
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# PRODUCTION=true (docker-compose, the Dockerfile) refuses to start without a real key: a
# missing, short or published key would let anyone forge sessions and password-reset links.
EMBEDDED_SECRET_KEY = "embedded-demo-key-not-for-production-use-0123456789"
KNOWN_SECRET_KEYS = {EMBEDDED_SECRET_KEY, "change-me-in-production", "changeme", "secret"}
PRODUCTION = env.bool("PRODUCTION", default=False)
SECRET_KEY = env("SECRET_KEY", default="" if PRODUCTION else EMBEDDED_SECRET_KEY)
if PRODUCTION and (SECRET_KEY in KNOWN_SECRET_KEYS or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "PRODUCTION=true needs SECRET_KEY: at least 50 characters, not a published default "
        '(python -c "import secrets; print(secrets.token_urlsafe(64))")'
    )
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.apps.ConsoleAdminConfig",  # django.contrib.admin, as the product console
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI from our own static files: /api/docs/ works offline
    "channels",
    "axes",
    "core",
    "accounts",
    "marketdata",
    "oms",
    "sor",
    "ems",
    "rfq",
    "tca",
    "fix",
    "demo",
]

MIDDLEWARE = [
    # First: every log line of the request carries its id (core.logs), the response names it.
    "core.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.overload.OverloadMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during authentication into a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.role",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
EMBEDDED_DB_PATH = Path(env("EMBEDDED_DB_PATH", default=str(BASE_DIR / "var" / "db.sqlite3")))
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{EMBEDDED_DB_PATH}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    EMBEDDED_DB_PATH.parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue (busy timeout) instead of failing on lock upgrade.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        # A writer waits this long for the lock, then the request answers 503 + Retry-After
        # (config.overload), not a 500 after 30 s.
        "timeout": env.float("SQLITE_BUSY_TIMEOUT", default=5.0),
    }
    DATABASES["default"]["TEST"] = {"NAME": str(EMBEDDED_DB_PATH.parent / "test.sqlite3")}
else:
    # One psycopg pool per process, bounded: a process never holds more than
    # DB_POOL_MAX_SIZE connections, and the server admits at most that many requests at once
    # (config.overload.ConcurrencyLimit), so the total is WEB_WORKERS x DB_POOL_MAX_SIZE
    # (+ the Celery worker's) whatever the load. A request that cannot get one within
    # DB_POOL_TIMEOUT seconds answers 503 with Retry-After.
    DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=8)
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, channel layer, Celery broker ----------------------------------------
REDIS_URL = env("REDIS_URL", default="")
EMBEDDED = not REDIS_URL
if REDIS_URL:
    # The cache may live in its own Redis database so clearing it never touches queues.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env("REDIS_CACHE_URL", default=REDIS_URL),
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
    CELERY_BROKER_URL = REDIS_URL
    # acks_late tasks of a killed worker come back after this many seconds (Redis has no
    # consumer liveness); it must exceed the longest countdown we schedule (an RFQ window, 300 s).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600)}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "smart-trading"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CELERY_BROKER_URL = "memory://localhost//"

CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 100
CELERY_TASK_DEFAULT_QUEUE = "default"
# default: ticks, reports, RFQs, short upkeep; analytics: the TCA's backtests (a worker of its own).
CELERY_QUEUES_WORKED = ("default", "analytics")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    # The books reconciled every night (oms.ledger); admins also run it from the console.
    "oms-reconciliation-nightly": {
        "task": "oms.tasks.reconciliation_nightly",
        "schedule": crontab(
            hour=env.int("RECONCILIATION_HOUR_UTC", default=2), minute=env.int("RECONCILIATION_MINUTE", default=0)
        ),
    },
    "refresh-instrument-analytics": {
        "task": "marketdata.tasks.analytics_refresh_all",
        "schedule": env.float("ANALYTICS_REFRESH_SECONDS", default=300.0),
    },
    "purge-market-samples": {
        "task": "marketdata.tasks.market_samples_purge_old",
        "schedule": env.float("MARKETDATA_SAMPLE_PURGE_SECONDS", default=3600.0),
    },
    # Finished orders get their post-trade analysis stored once (tca.tasks).
    "tca-compute-finished": {
        "task": "tca.tasks.tca_compute_finished",
        "schedule": env.float("TCA_SWEEP_SECONDS", default=30.0),
        "options": {"expires": env.float("TCA_SWEEP_SECONDS", default=30.0) * 2},
    },
    # Impact coefficients re-fitted from realised costs (tca.services.impact_refit).
    "tca-impact-refit": {
        "task": "tca.tasks.impact_refit_all",
        "schedule": env.float("TCA_REFIT_SECONDS", default=3600.0),
    },
    # One entry ticks every due execution in batches (ems.tasks), whatever their number. It
    # polls at a fraction of the tick period: each execution keeps its own phase in the
    # period, so they come due all through it, and a tick waits at most one poll.
    # Orders finished more than HISTORY_RETENTION_DAYS ago leave the live tables, exported
    # first (config.archive); monthly, at night.
    "history-archive-due": {
        "task": "config.tasks.history_archive_due",
        "schedule": crontab(day_of_month=1, hour=3, minute=30),
    },
    "ems-tick-due": {
        "task": "ems.tasks.executions_tick_due",
        "schedule": env.float("EMS_TICK_POLL_SECONDS", default=0.2),
        "options": {"expires": env.float("EMS_TICK_POLL_SECONDS", default=0.2) * 5},
    },
}

# Regulators ask for five to seven years: the archive (config.archive) exports older
# finished orders, with everything that hangs on them, to HISTORY_ARCHIVE_DIR, then deletes.
HISTORY_RETENTION_DAYS = env.int("HISTORY_RETENTION_DAYS", default=7 * 366)
HISTORY_ARCHIVE_DIR = env("HISTORY_ARCHIVE_DIR", default=str(BASE_DIR / "var" / "archive"))

# --- Auth, i18n, static -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = []
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
# Dates everywhere Django formats them (the console included) in UTC with the zone named.
FORMAT_MODULE_PATH = ["config.formats"]
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "var" / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True  # serve from the source tree in the embedded mode, no collectstatic
WHITENOISE_AUTOREFRESH = DEBUG

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["core.api.StrictFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 100,
    # JSON only: the browsable renderer would list filter choices beyond a user's scope.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "core.api.SafeJSONParser",
        "core.api.SafeFormParser",
        "core.api.SafeMultiPartParser",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "pretrade": env("PRETRADE_THROTTLE", default="300/min"),
        # POST /api/auth/token/ per client address, before any password is checked.
        "auth": env("AUTH_THROTTLE", default="30/min"),
    },
    "DEFAULT_SCHEMA_CLASS": "core.schema.DocumentedErrorsSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Smart Trading API",
    "DESCRIPTION": "OMS/EMS: orders, compliance, smart order routing, market data.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs' assets from drf-spectacular-sidecar's static files: /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Security: login lockout, tokens, TLS, request size, concurrency -------------------
# django-axes counts failed logins (login page, admin, token endpoint) per username and
# address in the database; a locked-out pair gets 429 until the cool-off or an admin
# resets it (admin: Axes > Access attempts).
AUTHENTICATION_BACKENDS = ["accounts.backends.LockoutBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.backends.lockout_response"
AXES_VERBOSE = False
# API tokens live API_TOKEN_TTL_HOURS and die with a password change (accounts.tokens).
API_TOKEN_TTL_HOURS = env.float("API_TOKEN_TTL_HOURS", default=12.0)

# TLS_AT_PROXY=true: a proxy terminates TLS and sets X-Forwarded-Proto; everything is
# HTTPS-only (redirect, HSTS, Secure cookies) except the container health check.
TLS_AT_PROXY = env.bool("TLS_AT_PROXY", default=False)
if TLS_AT_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # the container health check and Prometheus, inside
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True

# Every body is capped, multipart included (core.api parsers; config.overload for the rest).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
# HTTP requests admitted at once per web process (each may hold a thread and a database
# connection); more wait up to WEB_QUEUE_SECONDS for a slot, then get 503 + Retry-After.
WEB_MAX_INFLIGHT = env.int("WEB_MAX_INFLIGHT", default=globals().get("DB_POOL_MAX_SIZE", 8))
WEB_QUEUE_SECONDS = env.float("WEB_QUEUE_SECONDS", default=1.0)
WEB_WORKERS = env.int("WEB_WORKERS", default=1)
OVERLOAD_RETRY_AFTER_SECONDS = 1

# --- Domain settings --------------------------------------------------------------------
# No demo password in production unless one is given (seed_demo refuses an empty one).
DEMO_PASSWORD = env("DEMO_PASSWORD", default="" if PRODUCTION else "demo")
MARKETDATA_STALE_SECONDS = env.float("MARKETDATA_STALE_SECONDS", default=5.0)
# Where the simulator runs: inside `serve` (embedded) or as `run_marketdata` (production).
MARKETDATA_EMBEDDED = env.bool("MARKETDATA_EMBEDDED", default=EMBEDDED)
MARKETDATA_SEED = env.int("MARKETDATA_SEED", default=7)
MARKETDATA_PUBLISH_INTERVAL = env.float("MARKETDATA_PUBLISH_INTERVAL", default=0.25)
# The stored market history (marketdata.sampling): one MarketSample row per instrument every
# MARKETDATA_SAMPLE_SECONDS (0 switches it off), kept MARKETDATA_SAMPLE_RETENTION_HOURS.
MARKETDATA_SAMPLE_SECONDS = env.float("MARKETDATA_SAMPLE_SECONDS", default=1.0)
MARKETDATA_SAMPLE_RETENTION_HOURS = env.float("MARKETDATA_SAMPLE_RETENTION_HOURS", default=72.0)
# The impact refit (tca.domain.refit): orders needed, and the largest step per refit.
TCA_REFIT_MIN_ORDERS = env.int("TCA_REFIT_MIN_ORDERS", default=5)
TCA_REFIT_MAX_STEP = env.float("TCA_REFIT_MAX_STEP", default=0.2)
# What the publisher feeds from: "simulator", or "replay:<trades.csv>,<quotes.csv>" (either
# may be empty) to replay recorded files at MARKETDATA_REPLAY_SPEED times real time.
MARKETDATA_FEED = env("MARKETDATA_FEED", default="simulator")
MARKETDATA_REPLAY_SPEED = env.float("MARKETDATA_REPLAY_SPEED", default=1.0)
FIX_PORT = env.int("FIX_PORT", default=9878)

# --- RFQ ---------------------------------------------------------------------------------
RFQ_DEFAULT_WINDOW_SECONDS = env.int("RFQ_DEFAULT_WINDOW_SECONDS", default=10)
RFQ_TOP_N = env.int("RFQ_TOP_N", default=5)  # automatic selection; never fewer than 3 when 3 exist
RFQ_PROVIDER_SEED = env.int("RFQ_PROVIDER_SEED", default=11)  # the simulated providers' answers repeat

# --- EMS (ems.conf reads these) ---------------------------------------------------------
EMS_TICK_SECONDS = env.float("EMS_TICK_SECONDS", default=1.0)
EMS_TICK_POLL_SECONDS = env.float("EMS_TICK_POLL_SECONDS", default=0.2)
# Executions ticked per transaction: 100 cost 10% less CPU per tick than 50 in bench/ems.py.
EMS_TICK_BATCH = env.int("EMS_TICK_BATCH", default=100)
EMS_TICK_HELPERS = env.int("EMS_TICK_HELPERS", default=3)
EMS_RESEND_AFTER_SECONDS = env.float("EMS_RESEND_AFTER_SECONDS", default=5.0)
EMS_DEFAULT_HORIZON_SECONDS = env.float("EMS_DEFAULT_HORIZON_SECONDS", default=3600.0)
EMS_REPORT_CLAIM_IDLE_MS = env.int("EMS_REPORT_CLAIM_IDLE_MS", default=10_000)
EMS_TICK_REPORT_SECONDS = env.float("EMS_TICK_REPORT_SECONDS", default=10.0)
# The venue command/report streams (core.streams): Redis in production, in memory embedded.
STREAMS_URL = env("STREAMS_URL", default=REDIS_URL)
# The simulated venue runs in the loop that owns the simulator (marketdata.publisher).
EMS_VENUE_ENABLED = env.bool("EMS_VENUE_ENABLED", default=True)

# --- Operations: logs and metrics (docs/operations.md) ----------------------------------
# JSON lines in production (one object per line, with the request/order/execution/RFQ ids
# bound in core.logs); readable lines with the same fields in the embedded default.
LOG_FORMAT = env("LOG_FORMAT", default="json" if PRODUCTION else "console")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"default": {"()": "core.logs.formatter", "json": LOG_FORMAT == "json"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "default"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}, "celery": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
# Celery keeps Django's logging (config.celery connects setup_logging), so its lines are JSON too.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# /metrics (web) and METRICS_ADDR:METRICS_PORT (worker, beat, market data) answer the internal
# network, and anyone with the token (Authorization: Bearer ...). A request that came through a
# proxy (X-Forwarded-For, Forwarded, X-Real-IP) counts as outside: it needs the token.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
# The worker, beat and market-data processes serve their figures here; 0 turns that off (the
# default outside production: the web server's /metrics has the embedded processes' figures).
METRICS_PORT = env.int("METRICS_PORT", default=9100 if PRODUCTION else 0)
METRICS_ADDR = env("METRICS_ADDR", default="0.0.0.0" if PRODUCTION else "127.0.0.1")
METRICS_SAMPLE_SECONDS = env.float("METRICS_SAMPLE_SECONDS", default=5.0)

# FIX (fix/): the client acceptor. QuickFIX's acceptor listens on every interface (it has no
# listen-address setting), so every logon authenticates (Username 553 / Password 554).
FIX_PORT = env.int("FIX_PORT", default=9878)
FIX_ENABLED = env.bool("FIX_ENABLED", default=True)  # `serve` starts the acceptor in the embedded mode
FIX_STORE_DIR = env("FIX_STORE_DIR", default=str(BASE_DIR / "var" / "fix"))
FIX_HEARTBEAT_SECONDS = env.int("FIX_HEARTBEAT_SECONDS", default=30)
FIX_REPORT_POLL_SECONDS = env.float("FIX_REPORT_POLL_SECONDS", default=0.02)
FIX_REPORT_IDLE_SECONDS = env.float("FIX_REPORT_IDLE_SECONDS", default=0.2)
# The EMS's venue gateway (ems.gateways): "simulator", or "fix" (run_fix_venue owns the FIX
# sessions to the venues; run_fix_simulator is the simulator's FIX acceptor front).
EMS_GATEWAY = env("EMS_GATEWAY", default="simulator")
FIX_VENUE_HOST = env("FIX_VENUE_HOST", default="127.0.0.1")
FIX_VENUE_PORT = env.int("FIX_VENUE_PORT", default=9879)
FIX_VENUE_PASSWORD = env("FIX_VENUE_PASSWORD", default="" if PRODUCTION else "simulator")
