"""The office's roles. One person may hold several."""
from enum import StrEnum

from flask_babel import lazy_gettext as _l


class Role(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    WORKER = "worker"
    CASHIER = "cashier"
    MANAGER = "manager"


# Order used for menus and for picking the landing screen of a person with several roles.
ROLE_ORDER = (Role.CLERK, Role.SUPERVISOR, Role.WORKER, Role.CASHIER, Role.MANAGER)

ROLE_LABELS = {  # menus, the role switcher, the staff forms
    "clerk": _l("Front desk (clerk)"),
    "supervisor": _l("Supervisor"),
    "worker": _l("Service worker"),
    "cashier": _l("Cashier"),
    "manager": _l("Manager"),
}
