"""How a finished slip is settled: the payer routes, and what a tenant's deposit can pay."""
from __future__ import annotations

from enum import StrEnum


class PayRoute(StrEnum):
    """Who pays, and how (chosen at completion; the default follows the resident's kind)."""

    PAY_NOW = "pay_now"        # 现付: anyone pays at the cashier
    ON_ACCOUNT = "on_account"  # 记帐月结: an owner's monthly account
    DEPOSIT = "deposit"        # 预交: drawn from a tenant's prepaid deposit


def deposit_available(balance_fen: int, promised_fen: int) -> int:
    """What a deposit can still pay: its balance less what refunds waiting for the manager,
    or approved and not yet paid out, have promised back to the tenant."""
    return balance_fen - promised_fen


def deposit_short(owed_fen: int, available_fen: int) -> int:
    """How much the deposit lacks to pay `owed_fen` (0 when it covers it): the one answer to
    "is the deposit short?" that the board, the till and the phone all show."""
    return max(owed_fen - available_fen, 0)
