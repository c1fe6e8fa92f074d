"""PDF tests: the lobby notice of the demo price list, fetched once per language and kept as
text."""
from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.extensions import db as _db
from tests.conftest import _wipe

TOOLS = ("pdftotext", "pdftoppm")


@dataclass
class Notice:
    lang: str
    status: int
    content_type: str
    disposition: str
    pdf: bytes
    seconds: float
    text: str  # pdftotext -layout

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def pdf_text(pdf: bytes, workdir: Path, name: str) -> str:
    path = workdir / f"{name}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def first_page_png(pdf: bytes, workdir: Path, target: Path) -> Path:
    """pdftoppm -r 60 of page 1, written to `target` (a .png path)."""
    path = workdir / f"{target.stem}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", "-singlefile",
                    str(path), str(target.with_suffix(""))], check=True, capture_output=True)
    return target


@pytest.fixture(scope="module")
def demo_client(app) -> Iterator:
    """A client signed in as the demo clerk on the seeded demo property; the tables are
    emptied afterwards, as the `db` fixture does, so other tests start from nothing."""
    from app import demo

    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.fail(f"poppler-utils missing: {missing}")
    with app.app_context():
        demo.seed()
        _db.session.commit()
        _db.session.remove()
    client = app.test_client()
    resp = client.post("/login", data={"username": "clerk", "password": demo.DEMO_PASSWORD})
    assert resp.status_code == 302, resp.text
    try:
        yield client
    finally:
        _wipe(app)


def fetch_notice(client, lang: str, workdir: Path) -> Notice:
    """Choose the language with the header switch, then GET /catalogue/notice.pdf."""
    resp = client.post("/language", data={"locale": lang, "next": "/desk/"})
    assert resp.status_code == 302, resp.text
    started = time.perf_counter()
    resp = client.get("/catalogue/notice.pdf")
    seconds = time.perf_counter() - started
    assert resp.status_code == 200, resp.text[:2000]
    return Notice(lang=lang, status=resp.status_code, content_type=resp.headers["Content-Type"],
                  disposition=resp.headers.get("Content-Disposition", ""), pdf=resp.data,
                  seconds=seconds, text=pdf_text(resp.data, workdir, f"notice-{lang}"))


@pytest.fixture(scope="module")
def notices(demo_client, tmp_path_factory) -> dict[str, Notice]:
    """The demo notice in Chinese ("zh_CN") and in English ("en")."""
    workdir = tmp_path_factory.mktemp("notice")
    return {lang: fetch_notice(demo_client, lang, workdir) for lang in ("zh_CN", "en")}
