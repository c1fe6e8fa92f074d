"""Every printed document goes through render_pdf(): WeasyPrint, Noto Sans CJK, own files only.

WeasyPrint is imported on first use: it costs most of a second, which `flask` commands and
worker start-up should not pay.
"""
from __future__ import annotations

import ctypes.util
import re
import threading
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template

_MIME = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
         ".jpeg": "image/jpeg", ".otf": "font/otf", ".ttf": "font/ttf", ".woff2": "font/woff2"}


def static_file_for(url: str, static_dir: Path) -> Path:
    """The file under static_dir that a file: URL names. Raises ValueError for anything else.

    A document can never make the server fetch another host or read other local files.
    """
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise ValueError(f"refused: {url}")
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(static_dir.resolve()) or not path.is_file():
        raise ValueError(f"refused: {url}")
    return path


@cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves the app's own static files and data: URIs; refuses everything else."""

        def __init__(self, static_dir: Path):
            super().__init__(fail_on_errors=False)
            self.static_dir = static_dir

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = static_file_for(url, self.static_dir)
            mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})

    return StaticOnlyFetcher


def render_document_html(template: str, context: dict) -> str:
    """The document's HTML: the same markup the PDF and the on-screen preview use."""
    return render_template(template, **context)


_local = threading.local()


def _font_config():
    """One font configuration per thread, kept: building it costs a fifth of a slip's render.

    Per thread because WeasyPrint does not promise it is safe to share between threads.
    """
    fonts = getattr(_local, "fonts", None)
    if fonts is None:
        from weasyprint.text.fonts import FontConfiguration
        fonts = _local.fonts = FontConfiguration()
    return fonts


# <link rel="stylesheet" href="css/print.css"> as the print templates write them.
_STYLESHEET_LINK = re.compile(r'<link rel="stylesheet" href="(css/[\w./-]+\.css)">')


def _stylesheet(static: Path, relative: str):
    """A static stylesheet parsed once per thread (again when the file changes)."""
    from weasyprint import CSS

    path = static_file_for((static / relative).as_uri(), static)
    key = (str(path), path.stat().st_mtime_ns)
    sheets = _local.__dict__.setdefault("sheets", {})
    if key not in sheets:
        sheets[key] = CSS(string=path.read_text(encoding="utf-8"), base_url=path.as_uri(),
                          url_fetcher=_fetcher_class()(static), font_config=_font_config())
    return sheets[key]


def render_pdf(template: str, context: dict) -> bytes:
    """Render templates/<template> with plain values in `context` to PDF bytes.

    The document's own stylesheets (its <link>s to static/css) are parsed once per thread and
    handed to WeasyPrint in the same order: a slip renders about a tenth faster.
    """
    # Imported here, not in the pool's thread: the first import looks for its libraries with
    # a subprocess (ldconfig), which gevent runs only on its main loop.
    import weasyprint.text.fonts  # noqa: F401

    html = render_document_html(template, {**context, "for_print": True})
    return off_the_event_loop(_write_pdf, html, Path(current_app.static_folder))


def _write_pdf(html: str, static: Path) -> bytes:
    from weasyprint import HTML

    sheets = [_stylesheet(static, href) for href in _STYLESHEET_LINK.findall(html)]
    html = _STYLESHEET_LINK.sub("", html)
    return HTML(string=html, base_url=static.as_uri() + "/",
                url_fetcher=_fetcher_class()(static)).write_pdf(stylesheets=sheets,
                                                               font_config=_font_config())


def off_the_event_loop(fn, *args):
    """fn(*args); under gunicorn's gevent workers in a real thread of gevent's pool, so a
    second of layout does not hold up every other screen of the process meanwhile."""
    try:
        from gevent import get_hub, monkey
    except ImportError:
        return fn(*args)
    if not monkey.is_module_patched("threading"):
        return fn(*args)
    return get_hub().threadpool.apply(fn, args)


def harfbuzz_subset_available() -> bool:
    """Without libharfbuzz-subset every CJK PDF takes over ten seconds (fontTools fallback)."""
    return ctypes.util.find_library("harfbuzz-subset") is not None
