"""gunicorn for the office server: `gunicorn -c scripts/gunicorn.conf.py`.

Two processes of gevent workers: every open screen holds one waiting request (/live, up to
LIVE_WAIT_SECONDS), and under gevent a waiting request is a greenlet that costs a few KB and
no thread, so hundreds of open phones and screens leave the board as quick as with none.
psycopg (3.1.14 and later) cooperates with gevent by itself; SQLite calls are short; PDFs are
laid out in gevent's pool of real threads (app.services.pdf.off_the_event_loop). Each process
wakes its own waiting screens (app.services.live.Watcher); a change made in one process reaches
the other's screens through the shared change counter in the database.

Environment: PORT (a port, or host:port; default 127.0.0.1:5000), HOST (default
127.0.0.1), WEB_CONCURRENCY (processes, default 2), PSD_WORKER_CLASS (gevent; gthread for
the old thread workers, then PSD_THREADS threads each), PSD_WORKER_CONNECTIONS (open
connections per process, default 1000), PSD_LIVE_WAIT (seconds a live wait is held, default 25).
"""
import os

wsgi_app = "wsgi:app"

_port = os.environ.get("PORT", "").strip() or "5000"
bind = [_port if ":" in _port else f"{os.environ.get('HOST', '127.0.0.1')}:{_port}"]

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = os.environ.get("PSD_WORKER_CLASS", "gevent")
worker_connections = int(os.environ.get("PSD_WORKER_CONNECTIONS", "1000"))
threads = int(os.environ.get("PSD_THREADS", "16"))  # gthread only

_live_wait = float(os.environ.get("PSD_LIVE_WAIT", "25"))
# A worker silent this long is restarted; a live wait is never that long.
timeout = max(60, int(_live_wait) + 30)
# On restart or deploy, waiting screens get their answer (at most one wait) before the exit.
graceful_timeout = int(_live_wait) + 5
# A browser asks again at once after each wait: keep its connection open for that.
keepalive = 5

accesslog = os.environ.get("PSD_ACCESS_LOG", "-")
errorlog = "-"
# No control socket: its default path is per user, so a second server on the machine (a
# test, a benchmark) would take it over.
control_socket_disable = True
