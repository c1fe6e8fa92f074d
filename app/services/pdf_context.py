"""What every printed document carries in its header and footer."""
from __future__ import annotations

from app.services import clock
from app.services.settings import property_settings


def office_header() -> dict:
    """The property's name, address, phone and the print time in its own time zone."""
    s = property_settings()
    now = clock.local()
    return {"office": {"name": s.name, "name_en": s.name_en, "address": s.address,
                       "phone": s.phone, "currency": s.currency},
            "printed_at": now.strftime("%Y-%m-%d %H:%M")}
