"""The interface really switches language: the catalogue is found and used."""
from babel.messages.pofile import read_po

from tests import factories

PO = "app/translations/zh/LC_MESSAGES/messages.po"


def zh(msgid: str) -> str:
    with open(PO, "rb") as f:
        return read_po(f).get(msgid).string


def test_chinese_browser_gets_chinese_login(client):
    resp = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh("Sign in") in resp.text and "Sign in" not in resp.text
    assert '<html lang="zh-CN">' in resp.text


def test_english_browser_gets_english_login(client):
    resp = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Sign in" in resp.text and zh("Sign in") not in resp.text
    assert '<html lang="en">' in resp.text


def test_other_languages_fall_back_to_chinese(client):
    resp = client.get("/login", headers={"Accept-Language": "fr-FR"})
    assert zh("Sign in") in resp.text


def test_language_button_switches_and_is_remembered_for_the_account(app, client, db):
    user = factories.user("clerk")
    db.session.commit()
    client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    page = client.get("/desk/", headers={"Accept-Language": "zh-CN"})
    assert zh("Front desk") in page.text
    client.post("/language", data={"locale": "en", "next": "/desk/"})
    page = client.get("/desk/", headers={"Accept-Language": "zh-CN"})
    assert "<h1>Front desk</h1>" in page.text
    # a new browser, Chinese by default, signs in: the account's choice wins
    other = app.test_client()
    other.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert "<h1>Front desk</h1>" in other.get("/desk/", headers={"Accept-Language": "zh-CN"}).text
