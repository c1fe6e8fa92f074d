"""Every printed document goes through render_pdf(): WeasyPrint, Noto Sans CJK, own files only."""
from __future__ import annotations

import ctypes.util
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse


class StaticOnlyFetcher(URLFetcher):
    """Serves the app's own static files and data: URIs; refuses everything else.

    A document can never make the server fetch another host or read other local files.
    """

    def __init__(self, static_dir: Path):
        super().__init__(fail_on_errors=False)
        self.static_dir = static_dir.resolve()

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        parts = urlsplit(url)
        if parts.scheme != "file":
            raise ValueError(f"refused: {url}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            raise ValueError(f"refused: {url}")
        mime = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
                ".jpg": "image/jpeg", ".otf": "font/otf", ".ttf": "font/ttf"}.get(
            path.suffix.lower(), "application/octet-stream")
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": mime})


def render_document_html(template: str, context: dict) -> str:
    """The document's HTML: the same markup the PDF and the on-screen preview use."""
    return render_template(template, **context)


def render_pdf(template: str, context: dict) -> bytes:
    """Render templates/pdf/<template> with plain values in `context` to PDF bytes."""
    html = render_document_html(template, {**context, "for_print": True})
    static = Path(current_app.static_folder)
    return HTML(string=html, base_url=static.as_uri() + "/",
                url_fetcher=StaticOnlyFetcher(static)).write_pdf()


def harfbuzz_subset_available() -> bool:
    """Without libharfbuzz-subset every CJK PDF takes over ten seconds (fontTools fallback)."""
    return ctypes.util.find_library("harfbuzz-subset") is not None
