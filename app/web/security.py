"""Response headers every page carries. The CSP forbids inline script and foreign hosts."""
from __future__ import annotations

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def _has_control_characters(text: str) -> bool:
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def register_security_headers(app) -> None:
    @app.before_request
    def refuse_control_characters_in_the_address():
        """No search box or link of the app puts a NUL or a newline in an address: such a
        request is refused whole (400) before any page reads it — PostgreSQL cannot even
        compare text holding NUL, so it would otherwise fail deep inside a query."""
        from flask import abort, request
        values = [*request.args.keys(), *request.args.values(),
                  *(str(v) for v in (request.view_args or {}).values())]
        if any(_has_control_characters(v) for v in values):
            abort(400)

    hsts = (f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
            if app.config.get("BEHIND_HTTPS") else None)

    @app.after_request
    def headers(resp):
        from flask import request
        if hsts:  # browsers then refuse plain HTTP to this host for a year
            resp.headers.setdefault("Strict-Transport-Security", hsts)
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
        # Pages, PDFs (receipts, statements, slips) and answers of every kind stay out of any
        # cache, also the browser's own on a shared desk PC; only the static files are kept.
        if request.endpoint != "static":
            resp.headers.setdefault("Cache-Control", "private, no-store")
        return resp
