"""Service tests read messages in English (the app's default language is Chinese)."""
import pytest


@pytest.fixture(autouse=True)
def english(request):
    """Messages built while a test's database is open come out in English."""
    if "db" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("db")
    from flask_babel import force_locale
    with force_locale("en"):
        yield
