"""Who may print the notice, and what it shows, on a small price list built by the factories."""
from __future__ import annotations

import pytest

from tests import factories
from tests.pdf.conftest import pdf_text

pytestmark = pytest.mark.pdf


@pytest.mark.parametrize("role", ["clerk", "supervisor", "worker", "cashier", "manager"])
def test_every_role_may_print_the_notice(login_as, db, role, tmp_path):
    pl = factories.price_list(factories.user("manager", username=f"boss-{role}"))
    db.session.commit()
    c = login_as(role, username=f"reader-{role}")
    resp = c.get("/catalogue/notice.pdf", headers={"Accept-Language": "zh-CN"})
    assert resp.status_code == 200
    assert resp.mimetype == "application/pdf"
    assert f"price-list-v{pl.number}.pdf" in resp.headers["Content-Disposition"]
    text = pdf_text(resp.data, tmp_path, "notice")
    assert "疏通下水" in text and "换水暖件(水龙头)" in text and "免费" in text
    assert "Unclog a drain" not in text


def test_no_price_list_no_notice(login_as):
    c = login_as("clerk")
    assert c.get("/catalogue/notice.pdf").status_code == 404
