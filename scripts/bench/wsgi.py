"""What gunicorn serves in the benchmarks (`scripts.bench.wsgi:bench_wsgi()`): the real app,
one do-nothing route of it, and a bare Flask app on one path beside it (the ceiling)."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BARE_PATH = "/_bench/bare"            # a fresh Flask() app: the ceiling
APP_HELLO_PATH = "/_bench/app-hello"  # a route of the real app that does nothing


def bench_wsgi() -> Callable[[dict, Any], Iterable[bytes]]:
    from flask import Flask

    from app import create_app
    from app.web.guards import public

    app = create_app()

    @app.route(APP_HELLO_PATH)
    @public
    def bench_app_hello() -> str:
        return "hello"

    bare = Flask("bare")

    @bare.route(BARE_PATH)
    def hello() -> str:
        return "hello"

    def dispatch(environ: dict, start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == BARE_PATH:
            return bare(environ, start_response)
        return app(environ, start_response)

    return dispatch
