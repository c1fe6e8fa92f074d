"""The office's roles. One person may hold several."""
from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    WORKER = "worker"
    CASHIER = "cashier"
    MANAGER = "manager"


# Order used for menus and for picking the landing screen of a person with several roles.
ROLE_ORDER = (Role.CLERK, Role.SUPERVISOR, Role.WORKER, Role.CASHIER, Role.MANAGER)
