"""How a finished slip is settled: the payer routes (the rules that choose among them follow
in the money restructuring)."""
from __future__ import annotations

from enum import StrEnum


class PayRoute(StrEnum):
    """Who pays, and how (chosen at completion; the default follows the resident's kind)."""

    PAY_NOW = "pay_now"        # 现付: anyone pays at the cashier
    ON_ACCOUNT = "on_account"  # 记帐月结: an owner's monthly account
    DEPOSIT = "deposit"        # 预交: drawn from a tenant's prepaid deposit
