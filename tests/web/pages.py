"""Reading a page the way a person does: the message under a field, the alert, the visible text."""
from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
SEPARATE = {"td", "th", "tr", "p", "div", "li", "br", "h1", "h2", "h3", "dt", "dd", "option",
            "span", "strong"}


class _Grab(HTMLParser):
    """Collects the text of every element for which match(tag, attrs) is true."""

    def __init__(self, match):
        super().__init__(convert_charrefs=True)
        self.match = match
        self.found: list[str] = []
        self._buf: list[str] | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        if self._buf is not None:
            if tag in SEPARATE:
                self._buf.append(" ")
            if tag not in VOID:
                self._depth += 1
            return
        if self.match(tag, dict(attrs)):
            if tag in VOID:
                self.found.append("")
            else:
                self._buf, self._depth = [], 1

    def handle_endtag(self, tag):
        if self._buf is None or tag in VOID:
            return
        self._depth -= 1
        if self._depth == 0:
            self.found.append(" ".join("".join(self._buf).split()))
            self._buf = None

    def handle_data(self, data):
        if self._buf is not None:
            self._buf.append(data)


def _html(page) -> str:
    return page if isinstance(page, str) else page.get_data(as_text=True)


def grab(page, match) -> list[str]:
    parser = _Grab(match)
    parser.feed(_html(page))
    parser.close()
    return parser.found


def field_errors(page, field: str) -> list[str]:
    """The messages shown right under the form field `field` (its `<p id="field-error">`)."""
    return grab(page, lambda tag, a: a.get("id") == f"{field}-error")


def form_alerts(page) -> list[str]:
    """Messages in the form's alert box (errors that belong to no single field)."""
    return grab(page, lambda tag, a: "alert" in a.get("class", "").split()
                and "error" in a.get("class", "").split())


def flashes(page) -> list[str]:
    return grab(page, lambda tag, a: tag == "div" and "alert" in a.get("class", "").split()
                and a.get("role") == "status")


def text(page) -> str:
    """All visible text of the page body, whitespace collapsed."""
    found = grab(page, lambda tag, a: tag == "body")
    return found[0] if found else " ".join(_html(page).split())


def html_lang(page) -> str | None:
    found = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "html":
                found.append(dict(attrs).get("lang"))

    P().feed(_html(page))
    return found[0] if found else None


def in_english(client):
    """Ask for English pages, as a browser set to English does."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def in_chinese(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    return client


def chinese(app, message: str, **values) -> str:
    """The zh_CN catalogue's wording of an English message, as the app would show it.

    Fails loudly when the catalogue has no Chinese for it: a Chinese-speaking clerk would
    then read English.
    """
    from flask_babel import force_locale, gettext
    with app.test_request_context():
        with force_locale("zh_CN"):
            translated = gettext(message, **values)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in translated), (
        f"no Chinese translation in the zh_CN catalogue for {message!r} (got {translated!r}); "
        "compile app/translations (pybabel compile) after translating it")
    return translated
