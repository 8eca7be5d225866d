"""Settings from environment variables, with safe embedded defaults for local use."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEV_JWT_SECRET = "development-only-secret-not-for-production-use!"


class ConfigError(RuntimeError):
    pass


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if raw in (None, "") else int(raw)


def _point(name: str) -> tuple[float, float] | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        lat, lon = (float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"{name} must be 'lat,lon', got {raw!r}") from None
    return lat, lon


def _normalize_database_url(url: str) -> str:
    # API.md names plain `postgresql://` URLs; psycopg 3 is the driver behind them.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def load_config(overrides: dict | None = None) -> dict:
    env = os.environ.get("APP_ENV", "development")
    if overrides and "APP_ENV" in overrides:
        env = overrides["APP_ENV"]
    default_db = f"sqlite:///{PROJECT_ROOT / 'instance' / 'app.db'}"
    config: dict = {
        "APP_ENV": env,
        "DATABASE_URL": os.environ.get("DATABASE_URL", default_db),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "JWT_SECRET_KEY": os.environ.get("JWT_SECRET_KEY") or None,
        "TRUSTED_PROXY_COUNT": _int("TRUSTED_PROXY_COUNT", 0),
        "CORS_ORIGINS": [o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()],
        "PUSH_BACKEND": os.environ.get("PUSH_BACKEND", "log"),
        "PUSH_LOG_FILE": os.environ.get("PUSH_LOG_FILE") or None,
        "GOOGLE_APPLICATION_CREDENTIALS": os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") or None,
        "MEDIA_DIR": os.environ.get("MEDIA_DIR", str(PROJECT_ROOT / "instance" / "media")),
        # Request bodies: JSON stays small; photo uploads raise it per endpoint.
        "MAX_CONTENT_LENGTH": _int("MAX_CONTENT_LENGTH", 1024 * 1024),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=30),
        "JWT_TOKEN_LOCATION": ["headers"],
        # Failed logins (api.throttle; successful ones are refunded). Tight per account and
        # address, looser per account from everywhere: a stranger's guesses do not lock the
        # owner out of their own phone.
        "LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT_AND_ADDRESS", "5 per 15 minutes"),
        "LOGIN_LIMIT_PER_ACCOUNT": os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "50 per 15 minutes"),
        "LOGIN_LIMIT_PER_ADDRESS": os.environ.get("LOGIN_LIMIT_PER_ADDRESS", "100 per 15 minutes"),
        # A school class of 30 registers from one address within minutes.
        "REGISTER_LIMIT_PER_ADDRESS": os.environ.get("REGISTER_LIMIT_PER_ADDRESS", "60 per hour"),
        # Reset links: an address may ask for many accounts (a family, a school), one account
        # gets few mails. The per-account limit is silent (202 as ever): no enumeration.
        "PASSWORD_RESET_LIMIT_PER_ACCOUNT": os.environ.get("PASSWORD_RESET_LIMIT_PER_ACCOUNT", "3 per hour"),
        "PASSWORD_RESET_LIMIT_PER_ADDRESS": os.environ.get("PASSWORD_RESET_LIMIT_PER_ADDRESS", "20 per hour"),
        "CONFIRM_RESEND_LIMIT_PER_ACCOUNT": os.environ.get("CONFIRM_RESEND_LIMIT_PER_ACCOUNT", "5 per hour"),
        # Creating, supporting, flagging and voting wait for a confirmed e-mail address.
        "REQUIRE_CONFIRMED_EMAIL": os.environ.get("REQUIRE_CONFIRMED_EMAIL", "0") not in ("", "0", "false", "no", "off"),
        # Mail (notifications.mail): links in mails point at the app's web pages here.
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "log"),
        "MAIL_LOG_FILE": os.environ.get("MAIL_LOG_FILE") or None,
        "SMTP_URL": os.environ.get("SMTP_URL") or None,
        "MAIL_FROM": os.environ.get("MAIL_FROM", "Dortmund Beteiligung <noreply@localhost>"),
        "MAIL_MAX_ATTEMPTS": _int("MAIL_MAX_ATTEMPTS", 5),
        # Push delivery (notifications/): attempts before a push is given up (the inbox
        # keeps it), and how many go to FCM per call (send_each takes at most 500).
        "PUSH_MAX_ATTEMPTS": _int("PUSH_MAX_ATTEMPTS", 6),
        "PUSH_BATCH_SIZE": min(500, max(1, _int("PUSH_BATCH_SIZE", 500))),
        "FCM_PROJECT_ID": os.environ.get("FCM_PROJECT_ID") or None,
        # Celery (production): broker and how often its beat runs the drain.
        "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") or None,
        "CELERY_DRAIN_SECONDS": float(os.environ.get("CELERY_DRAIN_SECONDS", "2")),
        "PASSWORD_HASH_TIME_COST": _int("PASSWORD_HASH_TIME_COST", 3),
        "PASSWORD_HASH_MEMORY_COST": _int("PASSWORD_HASH_MEMORY_COST", 65536),
        # Ideas and moderation
        "IDEA_SUPPORT_THRESHOLD": _int("IDEA_SUPPORT_THRESHOLD", 50),
        "PREMODERATE_IDEAS": os.environ.get("PREMODERATE_IDEAS", "1") != "0",
        "PREMODERATE_COMMENTS": os.environ.get("PREMODERATE_COMMENTS", "1") != "0",
        "FLAG_HIDE_THRESHOLD": _int("FLAG_HIDE_THRESHOLD", 3),
        "REQUEST_LOG": os.environ.get("REQUEST_LOG", "1") != "0",
        # Open311 GeoReport v2 (api/open311): what discovery says, and each key's allowance
        # for filing unless the key has its own (`open311 create-key --rate-limit`).
        "OPEN311_JURISDICTION": os.environ.get("OPEN311_JURISDICTION", "dortmund.de"),
        "OPEN311_CONTACT": os.environ.get("OPEN311_CONTACT", "Stadt Dortmund, Dortmund-App <open311@dortmund.example>"),
        "OPEN311_KEY_SERVICE": os.environ.get("OPEN311_KEY_SERVICE", "API-Schlüssel auf Anfrage bei der Stadt Dortmund (open311@dortmund.example)"),
        "OPEN311_KEY_RATE_LIMIT": os.environ.get("OPEN311_KEY_RATE_LIMIT", "600 per hour"),
        # Staff console (console/): how long a login lasts, whether every account (not only
        # admins) must use a second factor, and the map tiles of its report pages (none:
        # the district outline is drawn instead).
        "CONSOLE_SESSION_MINUTES": _int("CONSOLE_SESSION_MINUTES", 480),
        "CONSOLE_REQUIRE_2FA": os.environ.get("CONSOLE_REQUIRE_2FA", "0") not in ("", "0", "false", "no", "off"),
        "CONSOLE_TILE_URL": os.environ.get("CONSOLE_TILE_URL") or None,
        # Address-only Open311 requests need a geocoder: none (refused, 400) or nominatim.
        "GEOCODER": os.environ.get("GEOCODER", "none"),
        "NOMINATIM_URL": os.environ.get("NOMINATIM_URL", "https://nominatim.openstreetmap.org"),
        # Reports (Dreckpetze, Angsträume). The city boundary and the Stadtbezirke are files,
        # so the city can drop in its official district layer without a code change.
        "CITY_BOUNDARY_FILE": os.environ.get("CITY_BOUNDARY_FILE") or str(PROJECT_ROOT / "models" / "geodata" / "dortmund-boundary.geojson"),
        "DISTRICTS_FILE": os.environ.get("DISTRICTS_FILE") or str(PROJECT_ROOT / "models" / "geodata" / "dortmund-stadtbezirke-approx.geojson"),
        # The app's untouched default pin, "lat,lon" (unset: nothing refused); refused within the radius.
        "REFUSED_PIN": _point("REFUSED_PIN"),
        "REFUSED_PIN_RADIUS_M": float(os.environ.get("REFUSED_PIN_RADIUS_M", "10")),
        "REPORT_REOPEN_DAYS": _int("REPORT_REOPEN_DAYS", 14),
        "REPORT_FEEDBACK_DELAY_HOURS": _int("REPORT_FEEDBACK_DELAY_HOURS", 72),
        "REPORT_NEARBY_DAYS": _int("REPORT_NEARBY_DAYS", 30),
        "PREMODERATE_UNSAFE_PLACES": os.environ.get("PREMODERATE_UNSAFE_PLACES", "1") != "0",
        # Report statistics (GET /stats/reports): each worker keeps a computed answer this many
        # seconds (0: computed every time), clients and shared caches may keep it STATS_MAX_AGE.
        "STATS_CACHE_SECONDS": _int("STATS_CACHE_SECONDS", 60),
        "STATS_MAX_AGE": _int("STATS_MAX_AGE", 300),
        # Photos (media/): per file, per request with up to three, and photo-first uploads' lifetime.
        "PHOTO_STORAGE": os.environ.get("PHOTO_STORAGE", "local"),
        "PHOTO_MAX_BYTES": _int("PHOTO_MAX_BYTES", 15 * 1024 * 1024),
        "PHOTO_MAX_PIXELS": _int("PHOTO_MAX_PIXELS", 50_000_000),
        "PHOTO_UPLOAD_MAX_CONTENT_LENGTH": _int("PHOTO_UPLOAD_MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        "REPORT_UPLOAD_MAX_CONTENT_LENGTH": _int("REPORT_UPLOAD_MAX_CONTENT_LENGTH", 46 * 1024 * 1024),
        "PHOTO_UPLOAD_TTL_HOURS": _int("PHOTO_UPLOAD_TTL_HOURS", 24),
        # flask-smorest / OpenAPI
        "API_TITLE": "Dortmund Beteiligung API",
        "API_VERSION": "1.0.0",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "/docs",
        # Served by the app itself (api/docs.py): the page works offline, no CDN sees visitors.
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
        "JSON_SORT_KEYS": False,
    }
    if overrides:
        config.update(overrides)
    config["DATABASE_URL"] = _normalize_database_url(config["DATABASE_URL"])
    _check_secrets(config)
    return config


def _check_secrets(config: dict) -> None:
    secret = config.get("JWT_SECRET_KEY")
    if config["APP_ENV"] == "production" and not config.get("REDIS_URL"):
        # Throttle counters in one worker's memory would give every worker its own budget.
        raise ConfigError("APP_ENV=production needs REDIS_URL (throttle counters shared by all workers)")
    if config["APP_ENV"] == "production":
        if not secret or len(secret.encode()) < 32:
            raise ConfigError("APP_ENV=production needs JWT_SECRET_KEY of at least 32 bytes")
    elif not secret:
        config["JWT_SECRET_KEY"] = DEV_JWT_SECRET
