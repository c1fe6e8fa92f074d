"""Who may do what: the single table every view, template and test reads.

A view declares one permission (`app.web.guards.require`); templates ask `can(perm)`;
tests walk every route against this table for every role.
"""
from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from app.domain.roles import Role


class Perm(StrEnum):
    SIGNED_IN = "signed_in"                # any active staff account
    DESK = "desk"                          # the front-desk workspace (log a call, open a slip)
    RECEPTION_LOG = "reception_log"        # read the reception log and the desk's slip list
    SUPERVISE = "supervise"                # the supervisor's workspace
    BOARD_VIEW = "board_view"              # watch the dispatch board (the manager: read only)
    DUTY_SET = "duty_set"                  # say who is the supervisor on duty tonight
    FIELD = "field"                        # the worker's phone screens
    CASHIER = "cashier"                    # the cashier's workspace
    TILL_VIEW = "till_view"                # watch the till's queue (the manager: read only)
    MANAGE = "manage"                      # the manager's workspace
    PROPERTY_VIEW = "property_view"        # find units and residents, see a unit card
    PROPERTY_EDIT = "property_edit"        # add and edit buildings, units, residents
    PROPERTY_IMPORT = "property_import"    # import units and residents from CSV
    CATALOGUE_VIEW = "catalogue_view"      # read the price list, its versions and notice
    CATALOGUE_DRAFT = "catalogue_draft"    # propose changes to the price list
    CATALOGUE_APPROVE = "catalogue_approve"  # approve a draft into a numbered version
    STAFF_MANAGE = "staff_manage"          # create staff, set roles, reset passwords
    AUDIT_VIEW = "audit_view"              # browse the audit trail
    SETTINGS_EDIT = "settings_edit"        # the property's name, address, time zone...
    RECEPTION = "reception"                # keep the reception log, open slips, add a caller
    SLIP_VIEW = "slip_view"                # any slip's page and timeline, the slip list
    SLIP_PRINT = "slip_print"              # print a slip's two copies
    CARD_PRINT = "card_print"              # print the nobody-home card (workers: own slips)
    LIVE = "live"                          # wait for changes to show on an open screen
    RECEIPT_PRINT = "receipt_print"        # print a receipt (票据) again
    STATEMENT_PRINT = "statement_print"    # print a unit's monthly statement
    CASH_REPORT = "cash_report"            # the daily cash report and its PDF
    ACCOUNT_REVIEW = "account_review"      # review owners' monthly-account entries
    ENTRY_REVERSE = "entry_reverse"        # correct an account entry by its reversal
    REFUND_APPROVE = "refund_approve"      # approve or refuse a deposit refund
    MONEY_CORRECTIONS = "money_corrections"  # see every voided receipt and reversed entry


_ALL = frozenset(Role)
_OFFICE = frozenset({Role.CLERK, Role.SUPERVISOR, Role.CASHIER, Role.MANAGER})

GRANTS: dict[Perm, frozenset[Role]] = {
    Perm.SIGNED_IN: _ALL,
    # The SOP's 主管/领班 comes to the front desk to talk a call through: a supervisor may
    # log it and open the slip there too.
    Perm.DESK: frozenset({Role.CLERK, Role.SUPERVISOR}),
    # 项目经理负责对有偿服务进行监督: the manager reads the log; it has no buttons for them.
    Perm.RECEPTION_LOG: frozenset({Role.CLERK, Role.SUPERVISOR, Role.MANAGER}),
    Perm.SUPERVISE: frozenset({Role.SUPERVISOR}),
    # 项目经理负责对有偿服务进行监督: the manager watches; the board's buttons come from the
    # state table, which gives the manager none, so the board is read-only for them.
    Perm.BOARD_VIEW: frozenset({Role.SUPERVISOR, Role.MANAGER}),
    Perm.DUTY_SET: frozenset({Role.SUPERVISOR, Role.MANAGER}),
    Perm.FIELD: frozenset({Role.WORKER}),
    Perm.CASHIER: frozenset({Role.CASHIER}),
    Perm.TILL_VIEW: frozenset({Role.CASHIER, Role.MANAGER}),
    Perm.MANAGE: frozenset({Role.MANAGER}),
    Perm.PROPERTY_VIEW: _OFFICE,
    Perm.PROPERTY_EDIT: frozenset({Role.MANAGER}),
    Perm.PROPERTY_IMPORT: frozenset({Role.MANAGER}),
    Perm.CATALOGUE_VIEW: _ALL,
    Perm.CATALOGUE_DRAFT: frozenset({Role.SUPERVISOR, Role.MANAGER}),
    Perm.CATALOGUE_APPROVE: frozenset({Role.MANAGER}),
    Perm.STAFF_MANAGE: frozenset({Role.MANAGER}),
    Perm.AUDIT_VIEW: frozenset({Role.MANAGER}),
    Perm.SETTINGS_EDIT: frozenset({Role.MANAGER}),
    Perm.RECEPTION: frozenset({Role.CLERK, Role.SUPERVISOR}),
    Perm.SLIP_VIEW: _OFFICE,
    Perm.SLIP_PRINT: frozenset({Role.CLERK, Role.SUPERVISOR, Role.MANAGER}),
    Perm.CARD_PRINT: frozenset({Role.CLERK, Role.SUPERVISOR, Role.WORKER}),
    Perm.LIVE: _ALL,
    # Only the cashier records money (Perm.CASHIER: payments, deposits, month end, voids).
    Perm.RECEIPT_PRINT: frozenset({Role.CASHIER, Role.MANAGER, Role.CLERK}),
    Perm.STATEMENT_PRINT: frozenset({Role.CASHIER, Role.MANAGER}),
    Perm.CASH_REPORT: frozenset({Role.CASHIER, Role.MANAGER}),
    Perm.ACCOUNT_REVIEW: frozenset({Role.SUPERVISOR}),
    Perm.ENTRY_REVERSE: frozenset({Role.SUPERVISOR, Role.CASHIER}),
    Perm.REFUND_APPROVE: frozenset({Role.MANAGER}),
    Perm.MONEY_CORRECTIONS: frozenset({Role.MANAGER}),
}


def allowed(roles: Iterable[str], perm: Perm) -> bool:
    """True when any of the person's roles holds `perm`."""
    granted = GRANTS[perm]
    return any(Role(r) in granted for r in roles)
