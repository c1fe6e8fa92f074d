"""The navigation, as data: each entry shows only to those whose roles grant its permission."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.domain.permissions import Perm
from app.web.guards import can

# endpoint, label, permission
OFFICE_NAV = [
    ("desk.home", _l("Front desk"), Perm.DESK),
    ("desk.log", _l("Reception log"), Perm.RECEPTION_LOG),
    ("desk.slips", _l("Slips"), Perm.RECEPTION_LOG),
    ("supervise.home", _l("Dispatch board"), Perm.BOARD_VIEW),
    ("supervise.accounts", _l("Account review"), Perm.ACCOUNT_REVIEW),
    ("cashier.home", _l("Cashier"), Perm.TILL_VIEW),
    ("cashier.today", _l("Cash report"), Perm.CASH_REPORT),
    ("cashier.month_end", _l("Month end"), Perm.CASHIER),
    ("manage.home", _l("Manager"), Perm.MANAGE),
    ("field.home", _l("My jobs"), Perm.FIELD),
    ("property.units", _l("Units & residents"), Perm.PROPERTY_VIEW),
    ("catalogue.index", _l("Price list"), Perm.CATALOGUE_VIEW),
    ("manage.staff", _l("Staff"), Perm.STAFF_MANAGE),
    ("manage.refunds", _l("Deposit refunds"), Perm.REFUND_APPROVE),
    ("manage.corrections", _l("Money corrections"), Perm.MONEY_CORRECTIONS),
    ("manage.audit", _l("Audit trail"), Perm.AUDIT_VIEW),
    ("manage.settings", _l("Settings"), Perm.SETTINGS_EDIT),
]



def nav_items() -> list[tuple[str, object]]:
    return [(endpoint, label) for endpoint, label, perm in OFFICE_NAV if can(perm)]
