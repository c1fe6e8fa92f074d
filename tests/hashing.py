"""Cheap scrypt for tests that sign people in a lot.

Production hashes with werkzeug's scrypt defaults (n=2**15, ~0.1 s a time: the point of it).
The suite hashes with real scrypt at n=2**10 (the autouse fixture `cheap_password_hashing`
in tests/conftest.py), checked by the same code path (the cost is read back from the stored
hash). test_auth checks that production keeps the strong default.
"""
from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

CHEAP = "scrypt:1024:8:1"


def _cheap(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
    assert method == "scrypt", f"the app asked for {method!r}, not scrypt"
    return generate_password_hash(password, method=CHEAP, salt_length=salt_length)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    from app.models import users
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(users, "generate_password_hash", _cheap)
        yield
