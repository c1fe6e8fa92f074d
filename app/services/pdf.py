"""Every printed document goes through render_pdf(): WeasyPrint, Noto Sans CJK, own files only.

WeasyPrint is imported on first use: it costs most of a second, which `flask` commands and
worker start-up should not pay.
"""
from __future__ import annotations

import ctypes.util
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


def render_pdf(template: str, context: dict) -> bytes:
    """Render templates/<template> with plain values in `context` to PDF bytes."""
    from weasyprint import HTML

    html = render_document_html(template, {**context, "for_print": True})
    static = Path(current_app.static_folder)
    return HTML(string=html, base_url=static.as_uri() + "/",
                url_fetcher=_fetcher_class()(static)).write_pdf()


def harfbuzz_subset_available() -> bool:
    """Without libharfbuzz-subset every CJK PDF takes over ten seconds (fontTools fallback)."""
    return ctypes.util.find_library("harfbuzz-subset") is not None
