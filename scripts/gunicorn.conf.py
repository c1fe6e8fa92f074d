"""gunicorn for the office server: `gunicorn -c scripts/gunicorn.conf.py`.

Two processes with threads: every open screen holds one waiting request (/live, up to
LIVE_WAIT_SECONDS) on a thread, so threads, not processes, carry the idle screens. Each
process wakes its own waiting screens (app.services.live.Watcher); a change made in one
process reaches the other's screens through the shared change counter in the database.

Environment: PORT (a port, or host:port; default 127.0.0.1:5000), HOST (default
127.0.0.1), WEB_CONCURRENCY (processes, default 2), PSD_THREADS (threads per process,
default 16), PSD_LIVE_WAIT (seconds a live wait is held, default 25).
"""
import os

wsgi_app = "wsgi:app"

_port = os.environ.get("PORT", "").strip() or "5000"
bind = [_port if ":" in _port else f"{os.environ.get('HOST', '127.0.0.1')}:{_port}"]

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# Long waits hold a thread each: 2 × 16 threads serve ~25 open screens and still leave room
# for the clicks. More screens than that: raise PSD_THREADS.
threads = int(os.environ.get("PSD_THREADS", "16"))

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
