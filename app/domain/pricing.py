"""How a price-list item is priced: fixed, a min–max range, by workload, or free."""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.domain.errors import DomainError
from app.domain.money import format_yuan

# A slip holds at most MAX_LINES items, each of 1 to MAX_QUANTITY units.
MAX_QUANTITY = 999
MAX_LINES = 30

# Units of charge printed on the office's price list. The Chinese character is stored.
UNITS_OF_CHARGE: dict[str, object] = {
    "次": _l("job"),
    "个": _l("piece"),
    "扇": _l("leaf"),
    "台": _l("appliance"),
    "套": _l("set"),
    "件": _l("item"),
    "只": _l("fixture"),
    "盏": _l("lamp"),
    "位": _l("point"),
    "把": _l("lock"),
    "小时": _l("hour"),
    "平方米": _l("m²"),
}


class Department(StrEnum):
    REPAIR = "repair"
    CLEANING = "cleaning"
    HOUSEKEEPING = "housekeeping"
    ERRANDS = "errands"


DEPARTMENT_LABELS = {
    Department.REPAIR: _l("Repairs and installation"),
    Department.CLEANING: _l("Cleaning"),
    Department.HOUSEKEEPING: _l("Housekeeping"),
    Department.ERRANDS: _l("Errands and purchasing"),
}


@dataclass(frozen=True)
class PriceSpec:
    """A validated price. min/max in fen; both None only for a workload item without a guide."""

    min_fen: int | None
    max_fen: int | None
    by_workload: bool = False
    free: bool = False

    @property
    def is_fixed(self) -> bool:
        return not self.by_workload and not self.free and self.min_fen == self.max_fen

    @property
    def is_range(self) -> bool:
        return (not self.free and self.min_fen is not None and self.max_fen is not None
                and self.min_fen < self.max_fen)

    def contains(self, fen: int) -> bool:
        """True when `fen` may be charged without a supervisor's approval.

        A workload item with a guide range (换管 10–1000) is agreed within that range;
        one without a guide always needs the supervisor.
        """
        if self.free:
            return fen == 0
        if self.min_fen is None or self.max_fen is None:
            return False
        return self.min_fen <= fen <= self.max_fen


def make_price(min_fen: int | None, max_fen: int | None, *, by_workload: bool = False,
               free: bool = False) -> PriceSpec:
    """Validate a price-list price. Raises DomainError on the field at fault."""
    if free:
        if (min_fen or 0) != 0 or (max_fen or 0) != 0:
            raise DomainError(_l("A free item has no price."), "price_min")
        return PriceSpec(0, 0, by_workload=False, free=True)
    if min_fen is None:
        if max_fen is not None:
            raise DomainError(_l("Give the lowest price too."), "price_min")
        if not by_workload:
            raise DomainError(_l("Give a price, or mark the item as priced by workload."),
                              "price_min")
        return PriceSpec(None, None, by_workload=True)
    if max_fen is None:
        max_fen = min_fen
    if min_fen > max_fen:
        raise DomainError(_l("The highest price must not be below the lowest."), "price_max")
    if min_fen == 0 and max_fen == 0:
        raise DomainError(_l("A price of zero: mark the item as free instead."), "price_min")
    return PriceSpec(min_fen, max_fen, by_workload=by_workload)


def price_label(spec: PriceSpec, *, symbol: str = "") -> str:
    """The price as printed on the list: '30', '10–1,000', or '' (see flags) — no unit."""
    if spec.free:
        return "0"
    if spec.min_fen is None or spec.max_fen is None:
        return ""
    lo = format_yuan(spec.min_fen, symbol=symbol, trim=True)
    if spec.min_fen == spec.max_fen:
        return lo
    return f"{lo}–{format_yuan(spec.max_fen, symbol=symbol, trim=True)}"
