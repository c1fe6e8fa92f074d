"""A resident who says no at the door (住户拒绝), and what the supervisor decides about it.

After check-in nobody cancels a slip: the worker records the refusal with the resident's
reason, and the slip waits on the supervisor's board. The supervisor then has it quoted again
at the door, closes it without charge, or charges a call-out fee from the price list in force
through the slip's payer route (a receipt, the owner's monthly account, the tenant's
deposit). So no job ends quietly between the worker and the resident (严禁私下结算): every
refusal has a named supervisor's decision and a reason in the timeline.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.domain import settlement
from app.domain.errors import DomainError
from app.domain.pricing import price_label
from app.domain.slip_states import Action
from app.models.catalogue import PriceItem
from app.models.slips import Slip
from app.models.users import User
from app.services import catalogue, clock, slip_money
from app.services.slips import act, clear_agreed, quote_line


def refuse(slip: Slip, user: User, reason: str, **kw) -> Slip:
    """The worker: the resident refused (the price, the work) after check-in."""
    def effect(s: Slip) -> dict:
        s.refusal_reason = reason.strip()[:300]
        clear_agreed(s)
        return {"reason": s.refusal_reason}
    return act(slip, Action.REFUSE, user, note=reason, effect=effect, **kw)


def requote(slip: Slip, user: User, note: str, **kw) -> Slip:
    """The supervisor talked it over with the resident: the worker agrees a fee again."""
    def effect(s: Slip) -> dict:
        clear_agreed(s)
        return {}
    return act(slip, Action.REQUOTE, user, note=note, effect=effect, **kw)


def close_refused(slip: Slip, user: User, note: str, **kw) -> Slip:
    """The supervisor closes the refused job without charge; the number stays, cancelled,
    with the resident's reason and the supervisor's."""
    def effect(s: Slip) -> dict:
        s.cancel_reason = (s.refusal_reason or note.strip())[:300]
        s.paused_since = None
        return {"reason": s.cancel_reason}
    return act(slip, Action.CLOSE_REFUSED, user, note=note, effect=effect, **kw)


def call_out_items() -> list[PriceItem]:
    """What a call-out fee may be: the charged items of the list in force that have a price."""
    price_list = catalogue.in_force()
    if price_list is None:
        return []
    return [it for it in price_list.items if not it.price.free and it.price.min_fen]


def charge_call_out(slip: Slip, user: User, item_id: int | None, price_fen: int | None,
                    note: str, **kw) -> Slip:
    """The supervisor charges a call-out fee for the visit: one item of the price list in
    force, at a price inside its range, replaces the work that was not done. The slip is
    completed without the resident's signature (the supervisor's decision stands for it) and
    its money goes the payer's way: the till, or an entry on the owner's monthly account."""
    if slip.free:
        raise DomainError(_l("This job is covered by the management fee: it charges no "
                             "call-out fee. Close it without charge."), "item_id")
    item = next((it for it in call_out_items() if it.id == item_id), None)
    if item is None:
        raise DomainError(_l("Choose the call-out fee from the price list in force."),
                          "item_id")
    fee = quote_line(item, 1, price_fen)
    if fee.needs_approval or fee.unit_price_fen <= 0:
        listed = price_label(item.price, symbol="¥")
        raise DomainError(_l("The call-out fee must be a price inside the list's range "
                             "(%(range)s).", range=listed) if listed else
                          _l("Choose a call-out fee that has a list price."), "price")
    fee.final_price_fen = fee.unit_price_fen
    slip_money.check_route(slip, slip.pay_route)

    def effect(s: Slip) -> dict:
        dropped = [line.code or line.name_zh for line in s.lines]
        s.lines[:] = [fee]
        s.agreed_total_fen = fee.amount_fen
        s.completed_at = clock.now()
        if s.errand:
            s.purchase_spent_fen = 0  # nothing was bought: the prepayment comes back less the fee
        return {"fee_fen": fee.amount_fen, "item": fee.code or fee.name_zh,
                "not_done": dropped}
    before = slip.version
    act(slip, Action.CHARGE_CALL_OUT, user, note=note, effect=effect, **kw)
    if slip.version != before and settlement.posts_to_account(slip):
        slip_money.post_to_account(slip, user)
    return slip
