"""Configuration classes; secrets and the database URL come from the environment."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _database_url(instance: Path) -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{instance / 'desk.sqlite3'}"
    # Accept the URLs hosting panels hand out and use the psycopg 3 driver for them.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def instance_secret_key(instance: Path) -> str:
    """A key generated once and kept under instance/, for installs that set no SECRET_KEY."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class Config:
    INSTANCE_PATH = Path(os.environ.get("PSD_INSTANCE", ROOT / "instance"))
    SQLALCHEMY_DATABASE_URI = _database_url(INSTANCE_PATH)
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SECRET_KEY = os.environ.get("SECRET_KEY")  # None: create_app uses instance_secret_key()
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Served to browsers over HTTPS (a proxy terminates TLS): cookies only over TLS, and HSTS.
    BEHIND_HTTPS = os.environ.get("PSD_HTTPS", "0") == "1"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    HSTS_SECONDS = 365 * 24 * 3600
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)  # one shift from signing in
    SESSION_REFRESH_EACH_REQUEST = False  # no Set-Cookie on every static file
    WTF_CSRF_TIME_LIMIT = None  # a desk page may stay open all shift; the session bounds it
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    LANGUAGES = ("zh_CN", "en")
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCK_MINUTES = 15
    # One address (an office behind one router, or an attacker): this many failed sign-ins
    # within the window slow it down until the window ends; no account is locked by it.
    ADDRESS_MAX_FAILURES = 20
    ADDRESS_WINDOW_MINUTES = 10
    TRUST_PROXY = os.environ.get("TRUST_PROXY", "0") == "1"
    # Live screens: how long one wait request is held, and how often each process looks.
    LIVE_WAIT_SECONDS = float(os.environ.get("PSD_LIVE_WAIT", "25"))
    LIVE_TICK_SECONDS = float(os.environ.get("PSD_LIVE_TICK", "0.25"))
    PHOTO_MAX_BYTES = 6 * 1024 * 1024
    # The address workers' phones reach the app at, for the QR code on printed slips.
    PUBLIC_URL = os.environ.get("PSD_PUBLIC_URL", "")
    # Urgent slips: the worker must be at the door this many minutes after the call.
    URGENT_RESPONSE_MINUTES = 30
    # ...so one must be sent within this many: after it, the board raises the alarm (first on
    # the on-duty supervisor's board), and this many more later on every other board too.
    URGENT_DISPATCH_MINUTES = 10
    URGENT_ESCALATE_MINUTES = 10


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    # CSRF stays on in tests: the suite sends real tokens, like a browser does.
    WTF_CSRF_ENABLED = True
    LIVE_WAIT_SECONDS = 0  # the test client answers a wait at once; browser tests set their own
