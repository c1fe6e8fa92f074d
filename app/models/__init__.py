"""All models, imported here so Alembic and the app see the whole schema."""
from app.models.audit import AuditEvent
from app.models.billing import (
    AccountEntry,
    CashCount,
    DepositRefund,
    Payment,
    Statement,
    StatementRun,
)
from app.models.catalogue import Category, ListStatus, PriceItem, PriceList
from app.models.counters import LiveStamp, NumberSequence
from app.models.duty import NightDuty
from app.models.property import Building, Resident, ResidentKind, Unit
from app.models.reception import Channel, ContactKind, ReceptionEntry
from app.models.settings import PropertySettings
from app.models.slips import Slip, SlipEvent, SlipHelper, SlipLine, SlipPhoto
from app.models.submissions import Submission
from app.models.users import SignInThrottle, StaffSession, User, UserRole

__all__ = [
    "AccountEntry",
    "AuditEvent",
    "Building",
    "CashCount",
    "Category",
    "Channel",
    "ContactKind",
    "DepositRefund",
    "ListStatus",
    "LiveStamp",
    "NightDuty",
    "NumberSequence",
    "Payment",
    "PriceItem",
    "PriceList",
    "PropertySettings",
    "ReceptionEntry",
    "Resident",
    "ResidentKind",
    "SignInThrottle",
    "Slip",
    "SlipEvent",
    "SlipHelper",
    "SlipLine",
    "SlipPhoto",
    "StaffSession",
    "Statement",
    "StatementRun",
    "Submission",
    "Unit",
    "User",
    "UserRole",
]
