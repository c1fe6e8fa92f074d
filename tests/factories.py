"""Small builders for test data. They flush; the test (or login_as) commits when it needs to."""
from __future__ import annotations

import itertools
from datetime import date

from app.extensions import db
from app.models import Category, ListStatus, PriceItem, PriceList, User
from app.services import clock, staff
from app.services import property as prop

PASSWORD = "secret-pw"
_seq = itertools.count(1)


def user(*roles: str, username: str | None = None, password: str = PASSWORD) -> User:
    n = next(_seq)
    return staff.create_user(username or f"{'-'.join(roles) or 'user'}{n}", f"测试{n}", password,
                                roles or ("clerk",))


def unit(building: str = "3", entrance: int | None = 2, number: str = "1502"):
    from sqlalchemy import select

    from app.models import Building
    b = db.session.scalar(select(Building).where(Building.code == building)) \
        or prop.create_building(building)
    return prop.create_unit(b, entrance, number)


def resident(u=None, name: str = "张伟", kind: str = "owner", phone: str = "13800001111", notes=""):
    return prop.add_resident(u or unit(), name, kind, phone, "", notes)


def category(code: str = "plumbing", zh: str = "水电类", en: str = "Plumbing") -> Category:
    c = Category(code=code, name_zh=zh, name_en=en, sort=next(_seq))
    db.session.add(c)
    db.session.flush()
    return c


def price_list(by: User, *, number: int = 1, effective: date | None = None,
               items=(("疏通下水", "Unclog a drain", "次", 3000, 3000, False, False),
                      ("换管", "Replace a pipe", "次", 1000, 100000, True, False),
                      ("换水暖件(水龙头)", "Replace a tap", "个", 1000, 3000, False, False),
                      ("公共部位报修", "Common-area repair", "次", 0, 0, False, True)),
               ) -> PriceList:
    """An approved version with the given items in one category."""
    from tests.moments import past_list_date
    cat = category(code=f"cat{next(_seq)}")
    pl = PriceList(status=ListStatus.APPROVED, number=number,
                   effective_date=effective or past_list_date(),
                   created_by=by, approved_by=by)
    for i, (zh, en, unit_, lo, hi, workload, free) in enumerate(items, start=1):
        pl.items.append(PriceItem(category_id=cat.id, code=f"P{number}{i:02d}", name_zh=zh,
                                  name_en=en, unit=unit_, price_min_fen=lo, price_max_fen=hi,
                                  by_workload=workload, free=free, department="repair", sort=i))
    db.session.add(pl)
    db.session.flush()
    return pl


def slip(clerk: User | None = None, *, unit_=None, lines=None, urgent: bool = False,
         free: bool = False, pl: PriceList | None = None, window=None, **kw):
    """An open slip quoted from `pl` (or a new approved list): one unclog-a-drain by default."""
    from datetime import timedelta

    from app.services import slips as svc
    clerk = clerk or user("clerk")
    pl = pl or db.session.scalar(
        __import__("sqlalchemy").select(PriceList).where(PriceList.status == ListStatus.APPROVED)
        .order_by(PriceList.number.desc())) or price_list(clerk)
    u = unit_ or unit(number=str(1000 + next(_seq)))
    if lines is None:
        lines = [svc.LineRequest(pl.items[0].id, 1, None)]
    if window is None:
        start = clock.now() + timedelta(hours=1)
        window = (start, start + timedelta(hours=2))
    req = svc.SlipRequest(unit=u, lines=lines, urgent=urgent, free=free,
                          window_start=window[0], window_end=window[1],
                          contact_name=kw.pop("contact_name", "张伟"),
                          contact_phone=kw.pop("contact_phone", "13800001111"), **kw)
    return svc.open_slip(req, clerk, pl)
