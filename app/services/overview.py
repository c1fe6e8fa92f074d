"""What the home screens summarise: the team, the property's size, the price list's state."""
from __future__ import annotations

from sqlalchemy import func, select

from app.domain.roles import Role
from app.extensions import db
from app.models import AuditEvent, Building, Resident, Unit, User, UserRole
from app.services import catalogue


def staff_with_role(role: Role) -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole).where(UserRole.role == role.value, User.active.is_(True))
        .order_by(User.full_name)))


def property_counts() -> dict[str, int]:
    return {
        "buildings": db.session.scalar(select(func.count(Building.id))) or 0,
        "units": db.session.scalar(select(func.count(Unit.id))) or 0,
        "owners": db.session.scalar(select(func.count(Resident.id)).where(
            Resident.active.is_(True), Resident.kind == "owner")) or 0,
        "tenants": db.session.scalar(select(func.count(Resident.id)).where(
            Resident.active.is_(True), Resident.kind == "tenant")) or 0,
        "staff": db.session.scalar(select(func.count(User.id)).where(User.active.is_(True))) or 0,
    }


def recent_audit(limit: int = 8) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))


def price_list_status() -> dict:
    return {"in_force": catalogue.in_force(), "draft": catalogue.current_draft(),
            "latest": catalogue.latest_approved()}
