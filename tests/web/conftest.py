"""Fixtures of the web tests."""
from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def world(app, db) -> dict:
    """One of everything a URL can point at (tests/factories.py: one_of_everything)."""
    return factories.one_of_everything(app)
