"""Demo slips for 阳光花园: 90 days of history and a live day, made through the real services.

Every job is logged at the desk, opened, dispatched, worked and handed back by the services the
screens use, each step under the person who would take it (acting_as), so the timelines and the
audit trail read true. History is written in the order it happened and each step runs with the
app's clock at its own time (app.demo.replay), so every stamp it writes reads that time. Slips
are opened in the order of their opening times, so numbers run per month of opening
(YC202609-0001, ...) without gaps and in time order.

The money follows the work (app.demo.money): errands prepaid before dispatch, each
finished job settled by its route, month ends, deposits, refunds and the evening counts. What
happens after a job's signature is planned on an agenda and taken in time order with the rest,
so receipt numbers read in the order the money came in.
"""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.demo import data
from app.demo.money import Till, tenants_of
from app.demo.replay import Replay, Story, first_of_month_back
from app.domain.slip_states import State
from app.extensions import db
from app.models import PriceItem, PriceList, ReceptionEntry, Slip, Unit, User
from app.models.billing import Payment, PayRoute, Statement
from app.services import billing, clock, reception, refusals
from app.services import slips as svc

HISTORY_DAYS = 90  # or a few more at a month's end: see history_days
# Who goes to which kind of job, and who dispatches it.
CREWS = {"repair": ("worker", "worker", "worker2", "worker3", "worker4"),
         "cleaning": ("cleaner1", "cleaner2", "cleaning_lead"),
         "housekeeping": ("cleaner1", "cleaner2", "cleaning_lead"),
         "errands": ("errand1",)}
DISPATCHERS = {"repair": "supervisor", "errands": "supervisor", "cleaning": "cleaning_lead",
               "housekeeping": "cleaning_lead"}
# What residents say on the phone, by item; other items: "需要" + the item's name.
ASKS = {
    "疏通下水": ["厨房下水道堵了，水下不去", "卫生间地漏堵塞，有异味", "洗手盆下水很慢"],
    "换水暖件(水龙头)": ["厨房水龙头一直滴水", "卫生间水龙头拧不紧"],
    "换管": ["阳台水管渗水，墙面发潮", "厨房水管接头漏水"],
    "给水总阀": ["总阀关不严，想换一个"],
    "安装吸顶灯/壁灯": ["买了新吸顶灯，请师傅装一下"],
    "安装插座/开关": ["卧室插座松了，插头插不稳", "想加一个开关"],
    "随身工具即可的情况": ["家里一路电跳闸，合不上", "厨房插座没电"],
    "换锁": ["进户门锁芯坏了，钥匙拧不动", "房门锁要换一把"],
    "窗户维修": ["窗户关不严，漏风"],
    "维修玻璃推拉门": ["阳台推拉门推不动"],
    "安装晾衣架": ["新买了升降晾衣架，请上门安装"],
    "挂画": ["客厅想挂两幅画"],
    "日常保洁": ["周末请阿姨做日常保洁", "家里来客人，想请保洁打扫一下"],
    "擦玻璃": ["全屋窗户玻璃要擦一下"],
    "清洗油烟机": ["油烟机吸力变小，要清洗"],
    "空调清洗": ["空调有异味，想清洗一下"],
    "洗衣机维修": ["洗衣机不排水", "洗衣机脱水时响声很大"],
    "热水器维修": ["热水器打不着火", "热水器出水不热"],
    "代购物品": ["腿脚不便，请帮忙买些米和油"],
    "代缴费用": ["请帮忙代缴这个月的燃气费"],
    "代订送水": ["请帮忙订两桶水"],
    "窗户(推拉门)换锁": ["阳台推拉门的锁坏了，锁不上", "窗户锁扣断了，要换一个"],
    "拆装纱窗": ["纱窗要拆下来洗，洗完再装回去"],
    "安装洗脸盆": ["新买的洗脸盆，请师傅来装"],
    "安装热水器": ["新买了热水器，需要上门安装"],
    "安装排气扇": ["卫生间排气扇坏了，换个新的"],
    "安装水晶灯": ["客厅要装一盏水晶灯"],
    "拆坐便": ["卫生间改造，要把旧坐便拆掉"],
    "换坐便(蹲便)、进水排水器": ["马桶一直流水，进水阀坏了"],
    "维修地弹簧": ["单元门地弹簧坏了，门关不上"],
    "安装毛巾架": ["想在卫生间装个毛巾架"],
    "维修淋浴拉门": ["淋浴房拉门卡住了"],
    "进户门维修": ["进户门关不严，要调一下"],
    "开荒保洁": ["新装修完，要开荒保洁"],
    "地毯清洗": ["客厅地毯要清洗"],
    "公共部位报修": ["楼道灯不亮了", "单元门闭门器坏了"],
    "入户水电表检查": ["这个月水费特别高，请查一下水表"],
}
ENQUIRIES = [
    ("物业费可以用微信交吗？", "可以，在服务中心前台扫码或公众号缴纳均可。"),
    ("小区明天停水吗？", "明天 9:00–12:00 二次供水检修，公告已贴在各单元门口。"),
    ("装修要办什么手续？", "请带房产证和装修方案到服务中心办理装修登记，押金可退。"),
    ("快递可以放在服务中心吗？", "可以代收，凭取件码领取，最多保管三天。"),
    ("换锁多少钱？", "按价目表 10–50 元/把，锁具可自备或由我们代购。"),
    ("保洁怎么收费？", "日常保洁 40 元/小时，2 小时起；开荒保洁按面积 5–8 元/平方米。"),
    ("车位月租怎么办理？", "带行驶证到服务中心登记，按月缴费。"),
    ("电梯什么时候年检？", "本月 25 日上午，届时 3 栋电梯停运两小时。"),
]
COMPLAINTS = [
    ("楼上装修噪音太大，中午也在施工", "已转主管，联系楼上住户按规定时间施工。"),
    ("维修师傅约好上午来，结果下午才到", "已转主管，核实后按规定考核扣分，并向业主致歉。"),
    ("地下车库有积水，车进出不方便", "已转工程部处理，排水泵已检修。"),
]
CANCEL_REASONS = ["业主临时出差，改天再约", "业主已自行修好", "住户觉得价格偏高，暂不需要",
                  "重复登记，已合并到另一张单", "业主要求取消，家里没人"]
DAMAGE = ["进门时发现卫生间瓷砖有裂纹，已告知业主", "橱柜门铰链原本松动，已拍照",
          "地板有旧划痕，已与业主确认"]
MATERIALS = ["生料带 1 卷", "水龙头 1 个（业主自备）", "密封胶 1 支", "膨胀螺丝 4 个",
             "锁芯 1 个", "清洁剂 1 瓶", ""]
REMARKS = ["师傅很专业，谢谢", "干活仔细，收拾得很干净", "", "", "准时上门"]
UNHAPPY = ["修完还是有点渗水", "来晚了一个多小时", "地上没打扫干净"]


class DemoOffice(Replay):
    """The desk, the board and the phones of the demo, replayed one step at a time."""

    def __init__(self, rng: random.Random, staff: dict[str, User], price_list: PriceList,
                 now: datetime):
        super().__init__(rng, staff, now)
        self.pl = price_list
        self.opened: datetime | None = None  # the last slip's opening: numbers follow times
        self.slips = 0
        self.entries = 0
        units = db.session.scalars(select(Unit).options(selectinload(Unit.residents))
                                   .order_by(Unit.id)).all()
        self.homes = [u for u in units if u.current_residents]
        self.items: dict[str, list[PriceItem]] = {}
        self.department = {item.id: item.department for item in price_list.items}
        self.to_dispute: Slip | None = None  # last week's job the resident rings about today
        self.begin = now - timedelta(hours=2)  # today's office hours so far (set by seed_slips)
        for item in sorted(price_list.items, key=lambda i: i.sort):
            kind = "free" if item.free else item.department
            self.items.setdefault(kind, []).append(item)
        self.signatures = Path(current_app.instance_path) / "signatures"
        self.till = Till(self)  # the cashier's side: money after the work, month end

    # ---- the desk --------------------------------------------------------------------------

    def clerk_at(self, t: datetime) -> str:
        """Morning shift 刘芳, afternoon 黄晓敏 (with a little overlap)."""
        hour = t.astimezone(self.tz).hour
        return self.rng.choice(("clerk", "clerk", "clerk2") if hour < 13 else
                               ("clerk2", "clerk2", "clerk"))

    def enquiry(self, t: datetime) -> None:
        question, answer = self.rng.choice(ENQUIRIES)
        home = self.rng.choice(self.homes)
        person = self.rng.choice(home.current_residents)
        clerk = self.clerk_at(t)
        entry = self.step(t, clerk, reception.log_contact, reception.Contact(
            channel=self.rng.choice(("phone", "phone", "walk_in")), kind="enquiry",
            request=question, unit=home, resident=person, answer=answer), self.staff[clerk])
        entry.closed_at = t
        self.entries += 1

    def complaint(self, t: datetime, answered: datetime | None, text: str | None = None,
                  answer: str = "", home: Unit | None = None) -> ReceptionEntry:
        said, handled = self.rng.choice(COMPLAINTS)
        home = home or self.rng.choice(self.homes)
        clerk = self.clerk_at(t)
        entry = self.step(t, clerk, reception.log_contact, reception.Contact(
            channel="phone", kind="complaint", request=text or said, unit=home,
            resident=home.current_residents[0]), self.staff[clerk])
        self.entries += 1
        if answered is not None:
            self.step(answered, "supervisor", reception.close, entry, answer or handled)
            entry.closed_at = answered
        return entry

    def pick(self, kind: str, item: str | None = None, quantity: int | None = None
             ) -> tuple[list[svc.LineRequest], str, list[PriceItem]]:
        """One or two lines of a kind of work (or the named item), quoted as the clerk would."""
        items = self.items[kind]
        first = next(i for i in items if i.name_zh == item) if item else self.rng.choice(items)
        chosen = [first]
        if kind == "repair" and self.rng.random() < 0.15:
            chosen.append(self.rng.choice(items))
        lines = [svc.LineRequest(it.id, quantity or self.quantity(it), self.quote(it))
                 for it in chosen]
        ask = self.rng.choice(ASKS.get(first.name_zh, [f"需要{first.name_zh}"]))
        return lines, ask, chosen

    def quantity(self, item: PriceItem) -> int:
        return {"小时": self.rng.choice((2, 2, 3, 4)), "平方米": self.rng.choice((12, 20, 96, 118)),
                "扇": self.rng.choice((1, 1, 2, 6))}.get(item.unit, 1)

    def quote(self, item: PriceItem) -> int | None:
        spec = item.price
        if spec.free or spec.min_fen is None:
            return None if spec.free else self.rng.choice((4000, 6000, 8000))
        if spec.min_fen == spec.max_fen:
            return None
        steps = (spec.max_fen - spec.min_fen) // 500
        return spec.min_fen + 500 * self.rng.randint(0, steps) if steps else spec.min_fen

    def call(self, t: datetime, kind: str = "repair", *, urgent: bool = False,
             window: tuple[datetime, datetime] | None = None, free: bool = False,
             item: str | None = None, ask: str | None = None, home: Unit | None = None,
             visitor: bool | None = None, quantity: int | None = None) -> tuple[Slip, str]:
        """A resident (now and then a visitor: a relative, a friend) calls at t; the clerk logs
        it and opens the slip a minute or two later. An errand is quoted with its purchase
        money; a tenant whose deposit would not cover the job is asked to top it up."""
        self.till.agenda.until(t)  # what happened before this call happens first
        home = home or self.rng.choice(self.homes)
        if visitor is None:
            visitor = self.rng.random() < 0.05
        person = None if visitor else self.rng.choice(home.current_residents)
        caller = "" if person else self.rng.choice(data.SURNAMES) + self.rng.choice(
            ("先生", "女士"))
        phone = "" if person else f"139{self.rng.randrange(10**8):08d}"
        lines, asked, items = self.pick(kind, item, quantity)
        ask = ask or asked
        clerk = self.clerk_at(t)
        entry = self.step(t, clerk, reception.log_contact, reception.Contact(
            channel=self.rng.choice(("phone", "phone", "phone", "walk_in")),
            kind="free_repair" if kind == "free" or free else "paid", request=ask, unit=home,
            resident=person, caller_name=caller, caller_phone=phone, urgent=urgent),
            self.staff[clerk])
        errand = any(i.category.code == svc.ERRAND_CATEGORY for i in items)
        req = svc.SlipRequest(unit=home, resident=person, request=ask,
                              notes=person.notes if person else "住户亲友来电，现场付款",
                              contact_name=caller, contact_phone=phone,
                              urgent=urgent, free=free, lines=lines, reception=entry,
                              window_start=window[0] if window else None,
                              window_end=window[1] if window else None,
                              purchase_fen=self.till.purchase_fen(items[0].name_zh) if errand
                              else 0)
        # Opened a minute or two after the call, and never before the slip opened last: numbers
        # are taken in the order slips are opened, so their times must run the same way.
        opened = t + timedelta(minutes=self.rng.randint(1, 4))
        if self.opened is not None and opened <= self.opened:
            opened = self.opened + timedelta(seconds=self.rng.randint(20, 90))
        self.opened = opened
        slip = self.step(opened, clerk, svc.open_slip, req, self.staff[clerk], self.pl)
        self.slips += 1
        self.entries += 1
        self.till.cover(opened + timedelta(minutes=self.rng.randint(1, 3)), slip)
        return slip, clerk

    def window(self, day: date, earliest: datetime | None = None) -> tuple[datetime, datetime]:
        """A two-hour slot the resident agreed to, on `day` (after `earliest`)."""
        for start in self.rng.sample((9 * 60, 10 * 60, 14 * 60, 15 * 60, 16 * 60), 5):
            begin = self.local(day, start)
            if earliest is None or begin >= earliest:
                return begin, begin + timedelta(hours=2)
        begin = self.local(day + timedelta(days=1), 9 * 60)
        return begin, begin + timedelta(hours=2)

    # ---- one job's life --------------------------------------------------------------------

    def crew_for(self, slip: Slip) -> tuple[str, str]:
        department = self.department[slip.lines[0].price_item_id]
        return DISPATCHERS[department], self.rng.choice(CREWS[department])

    def dispatch(self, t, slip, boss, worker, window=None) -> datetime:
        """The supervisor sends a worker; an errand is prepaid at the cashier first."""
        if billing.needs_prepayment(slip):
            paid = self.till.prepay(max(slip.created_at + timedelta(seconds=40),
                                        t - timedelta(minutes=self.rng.randint(1, 3))), slip)
            t = max(t, paid + timedelta(seconds=30))
        if slip.needs_approval and slip.state == State.REGISTERED:
            self.step(t, boss, svc.approve_quote, slip, self.staff[boss])
            t = self.later(t, 1, 5)
        kw = {"window_start": window[0], "window_end": window[1]} if window else {}
        self.step(t, boss, svc.dispatch, slip, self.staff[boss], self.staff[worker].id, **kw)
        return t

    def at_the_door(self, t, slip, worker, *, ask_more: bool = False,
                    refused: bool = False) -> datetime:
        """Check in, then agree the fee (asking the supervisor when it is beyond the list)."""
        damage = self.rng.choice(DAMAGE) if self.rng.random() < 0.1 else ""
        self.step(t, worker, svc.check_in, slip, self.staff[worker], damage_note=damage)
        t = self.later(t, 3, 10)
        ranged = [line for line in slip.lines if line.spec.is_range and not slip.free]
        if ask_more and ranged:
            line = ranged[0]
            self.step(t, worker, svc.confirm_fee, slip, self.staff[worker],
                      {line.id: line.list_max_fen + 2000})
            t = self.later(t, 4, 20)
            if refused:
                self.step(t, "supervisor", svc.reject_price, slip, self.staff["supervisor"],
                          "超出价目表范围太多，请与业主按上限重新商定")
                t = self.later(t, 3, 10)
                self.step(t, worker, svc.confirm_fee, slip, self.staff[worker],
                          {line.id: line.list_max_fen})
            else:
                self.step(t, "supervisor", svc.approve_price, slip,
                          self.staff["supervisor"])
        else:
            self.step(t, worker, svc.confirm_fee, slip, self.staff[worker], {})
        return t

    def cancel(self, t, slip, clerk, reason) -> None:
        """Cancelled after dispatch: a prepaid errand's money is given back at the cashier."""
        self.step(t, clerk, svc.cancel, slip, self.staff[clerk], reason)
        if slip.errand:
            self.till.agenda.start(self.till.give_back(
                self.till.hours(t + timedelta(minutes=self.rng.randint(5, 60))), slip))

    def finish(self, t, slip, worker, *, satisfied: bool = True,
               route: str | None = None) -> datetime:
        """The resident signs and says how they pay; an errand's purchases are accounted."""
        t = self.later(t, 30, 150)
        self.step(t, worker, svc.complete, slip, self.staff[worker], svc.Acceptance(
            name=slip.contact_name or "业主", signature_file=self.sign(slip),
            satisfied=satisfied,
            remarks=self.rng.choice(REMARKS) if satisfied else self.rng.choice(UNHAPPY),
            materials=self.rng.choice(MATERIALS), pay_route=route or self.till.route(slip),
            purchase_spent_fen=self.till.spent(slip)))
        return t

    def hand_back(self, t, slip) -> datetime:
        clerk = self.clerk_at(t)
        self.step(t, clerk, svc.hand_back, slip, self.staff[clerk])
        return t

    def sign(self, slip: Slip) -> str:
        """A resident's squiggle as a small PNG under instance/signatures/ (a drawn name)."""
        self.signatures.mkdir(parents=True, exist_ok=True)
        img = Image.new("L", (360, 120), 255)
        pen = ImageDraw.Draw(img)
        x, y = 20, 60 + self.rng.randint(-10, 10)
        points = [(x, y)]
        while x < 330:
            x += self.rng.randint(8, 22)
            y = max(15, min(105, y + self.rng.randint(-28, 28)))
            points.append((x, y))
        pen.line(points, fill=20, width=4, joint="curve")
        pen.line([(40, 100), (300, 96)], fill=60, width=2)
        name = f"{slip.number}-demo.png"
        img.save(self.signatures / name, compress_level=1)  # fast: ~2 KB each
        return f"signatures/{name}"

    def history_job(self, t: datetime, days_back: int) -> None:
        """One job from the past, played to its end: usually handed back, sometimes not."""
        kind = self.rng.choices(("repair", "cleaning", "housekeeping", "errands", "free"),
                                (62, 12, 10, 8, 8))[0]
        urgent = kind == "repair" and self.rng.random() < 0.08
        day = t.astimezone(self.tz).date()
        window = None if urgent else self.window(
            day if self.rng.random() < 0.6 else day + timedelta(days=1), t + timedelta(hours=1))
        if days_back == 1 and window and window[0].astimezone(self.tz).date() != day:
            window = self.window(day, t + timedelta(minutes=30))  # yesterday's jobs end yesterday
        slip, clerk = self.call(t, kind, urgent=urgent, window=window,
                                free=kind == "repair" and self.rng.random() < 0.03)
        roll = self.rng.random()
        if roll < 0.03:  # cancelled before anyone went
            self.step(self.later(t, 10, 120), clerk, svc.cancel, slip, self.staff[clerk],
                      self.rng.choice(CANCEL_REASONS))
            return
        boss, worker = self.crew_for(slip)
        t = self.dispatch(self.later(t, 8, 45), slip, boss, worker)
        if roll < 0.06:  # cancelled after dispatch
            self.cancel(self.later(t, 20, 180), slip, clerk, self.rng.choice(CANCEL_REASONS))
            return
        t = self.later(t, 3, 25)
        self.step(t, worker, svc.accept, slip, self.staff[worker])
        door = max(t + timedelta(minutes=10), slip.window_start or t + timedelta(minutes=20))
        t = self.later(door, 0, 20)
        if days_back >= 3 and roll > 0.86:  # nobody home: a card on the door, a new time
            self.step(t, worker, svc.nobody_home, slip, self.staff[worker])
            t = self.later(t, 60, 180)
            clerk = self.clerk_at(t)
            new = self.window(t.astimezone(self.tz).date() + timedelta(days=1))
            self.step(t, clerk, svc.reschedule, slip, self.staff[clerk], *new)
            if roll > 0.98:  # they never got a time that suited them
                self.cancel(self.later(t, 60, 600), slip, clerk, "多次无人在家，业主表示暂不需要")
                return
            t = self.dispatch(self.later(t, 10, 60), slip, boss, worker)
            t = self.later(t, 3, 25)
            self.step(t, worker, svc.accept, slip, self.staff[worker])
            t = self.later(new[0], 0, 20)
        asks = self.rng.random() < 0.1
        t = self.at_the_door(t, slip, worker, ask_more=asks, refused=asks and roll < 0.4)
        # Last week's job its resident rings about today (live_day): they pay once it is fixed.
        rings_today = (days_back == 5 and self.to_dispute is None and slip.total_fen > 0
                       and not slip.errand)
        t = self.finish(t, slip, worker, satisfied=self.rng.random() > 0.05,
                        route=PayRoute.PAY_NOW if rings_today else None)
        back = self.later(t, 20, 180 if days_back == 1 else 900)
        if rings_today:
            self.to_dispute = slip
        self.till.agenda.start(self.aftercare(
            slip, t, back, settle=not rings_today,
            rings_back=days_back >= 8 and roll < 0.08 and not slip.errand
            and slip.total_fen > 0))  # a job at no charge closes when it is back

    def aftercare(self, slip: Slip, done: datetime, back: datetime, *, settle: bool = True,
                  rings_back: bool = False) -> Story:
        """After the signature, in time order with everything else: the slip comes back to the
        desk and its money is settled (whichever comes first); or, when the resident rings
        back, a dispute is settled first and the money after."""
        money = self.till.settle_at(slip, done) if settle and not rings_back else None
        steps = sorted([(back, "back")] + ([(money, "money")] if money else []))
        last = done
        for when, what in steps:
            t = yield max(when, last)
            last = self.hand_back(t, slip) if what == "back" else self.till.settle(t, slip)
        if rings_back:  # the resident rang back: a dispute, settled
            t = yield self.later(last, 24 * 60, 4 * 24 * 60)
            clerk = self.clerk_at(t)
            self.step(t, clerk, svc.dispute, slip, self.staff[clerk],
                      "业主来电反映修好后又出现同样问题")
            t = yield self.later(t, 60, 24 * 60)
            self.step(t, "supervisor", svc.resolve, slip, self.staff["supervisor"],
                      "师傅返工处理，业主确认，未另收费")
            t = yield self.later(t, 30, 240)
            self.hand_back(t, slip)
            money = self.till.settle_at(slip, t)
            if money is not None:
                t = yield max(money, t)
                self.till.settle(t, slip)

    # ---- the story -------------------------------------------------------------------------

    def history(self, today: date) -> None:
        """90 days of the desk, each day's calls, enquiries and complaints in time order; the
        money follows the work, and the office's calendar (month ends, evening counts) runs
        alongside."""
        days = history_days(today)
        self.till.plan(today - timedelta(days=days), today)
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            n = self.rng.choice((2, 3, 3, 4) if day.weekday() < 5 else (1, 2, 2))
            desk = [(self.rng.randrange(8 * 60, 18 * 60), "job") for _ in range(n)]
            desk += [(self.rng.randrange(8 * 60 + 30, 17 * 60 + 30), "enquiry")
                     for _ in range(self.rng.choice((0, 1, 1, 2)))]
            if back % 11 == 5:
                desk.append((self.rng.randrange(9 * 60, 16 * 60), "complaint"))
            for minute, what in sorted(desk):
                t = self.local(day, minute)
                if what == "job":
                    self.history_job(t, back)
                elif what == "enquiry":
                    self.enquiry(t)
                else:
                    self.complaint(t, self.later(t, 60, 6 * 60))

    def play(self, slip: Slip, upto: State, until: datetime, worker: str,
             boss: str = "supervisor", route: str | None = None) -> None:
        """Take one of today's fresh slips as far as `upto`, its steps spread until `until`."""
        w = self.staff[worker]
        paths = {
            State.DISPATCHED: [], State.ACCEPTED: ["accept"],
            State.NOBODY_HOME: ["accept", "nobody_home"],
            State.ON_SITE: ["accept", "check_in"],
            State.AWAITING_PRICE: ["accept", "check_in", "ask"],
            State.REFUSED: ["accept", "check_in", "refuse"],
            State.IN_PROGRESS: ["accept", "check_in", "agree"],
            State.PAUSED: ["accept", "check_in", "agree", "pause"],
            State.COMPLETED: ["accept", "check_in", "agree", "complete"],
            State.HANDED_BACK: ["accept", "check_in", "agree", "complete", "hand_back"],
        }
        steps = ["dispatch", *paths[upto]]
        gap = (until - slip.created_at) / len(steps)
        for n, name in enumerate(steps, start=1):
            t = slip.created_at + gap * n
            if name == "dispatch":
                self.dispatch(t - gap / 2, slip, boss, worker)
            elif name == "accept":
                self.step(t, worker, svc.accept, slip, w)
            elif name == "nobody_home":
                self.step(t, worker, svc.nobody_home, slip, w)
            elif name == "check_in":
                damage = "门口地砖原有一道裂纹，已告知业主" if upto == State.ON_SITE else ""
                self.step(t, worker, svc.check_in, slip, w, damage_note=damage)
            elif name == "agree":
                self.step(t, worker, svc.confirm_fee, slip, w, {})
            elif name == "ask":
                line = next(ln for ln in slip.lines if ln.spec.is_range)
                self.step(t, worker, svc.confirm_fee, slip, w,
                          {line.id: line.list_max_fen + 3000})
            elif name == "refuse":
                self.step(t, worker, refusals.refuse, slip, w,
                          "住户嫌贵，不修了；说自己买配件找人换")
            elif name == "pause":  # the part is ordered: back the day after tomorrow at ten
                back = self.local(t.astimezone(self.tz).date() + timedelta(days=2), 10 * 60)
                self.step(t, worker, svc.pause, slip, w, "阀芯型号特殊，已订货，后天上午再来",
                          back, back + timedelta(hours=2))
            elif name == "complete":
                self.step(t, worker, svc.complete, slip, w, svc.Acceptance(
                    name=slip.contact_name or "业主", signature_file=self.sign(slip),
                    satisfied=True, remarks="谢谢师傅", materials=self.rng.choice(MATERIALS),
                    pay_route=route, purchase_spent_fen=self.till.spent(slip, "change")))
            else:
                self.hand_back(t, slip)

    def live_day(self, today: date) -> None:
        """Today at the desk: something in every lane of the board, jobs on every phone, and
        slips waiting at the cashier (to pay, to draw from a deposit, errands to prepay and to
        reconcile)."""
        at = self.today_at
        soon, later_on = self.next_slots()
        tomorrow = self.window(today + timedelta(days=1))
        owners = [u for u in self.homes if not tenants_of(u)]
        short = self.till.lowest_tenant(self.homes)  # today's one tenant short of funds
        tenants = [u for u in self.homes if tenants_of(u) and u.id != short.id]

        def slot(start: datetime) -> tuple[datetime, datetime]:
            return start, start + timedelta(hours=2)

        def later_today(t: datetime, slip: Slip) -> None:  # the cashier, in her turn
            self.till.agenda.start(self.till.settle_story(t, slip))

        # An errand back this morning (prepaid, bought, change due): the cashier reconciles it.
        slip, _ = self.call(at(0.01), "errands", window=slot(at(0.04)), visitor=False)
        self.play(slip, State.COMPLETED, at(0.35), "errand1")
        # 陈师傅 (the "worker" login) finished one this morning for an owner on the monthly
        # account: his "done" list, and an entry waiting for the supervisor's review.
        slip, _ = self.call(at(0.02), "repair", window=slot(at(0.05)),
                            home=self.rng.choice(owners), visitor=False)
        self.play(slip, State.HANDED_BACK, at(0.3), "worker", route=PayRoute.ON_ACCOUNT)
        # Signed, not yet back: a tenant's, to draw from the deposit.
        slip, _ = self.call(at(0.04), "repair", window=slot(at(0.1)),
                            home=self.rng.choice(tenants), visitor=False)
        self.play(slip, State.COMPLETED, at(0.5), "worker2", route=PayRoute.DEPOSIT)
        # An owner's cleaning on account, reviewed at once; the slip is still with the cleaner.
        slip, _ = self.call(at(0.05), "housekeeping", window=slot(at(0.1)),
                            home=self.rng.choice(owners), visitor=False)
        self.play(slip, State.COMPLETED, at(0.3), "cleaner2", boss="cleaning_lead",
                  route=PayRoute.ON_ACCOUNT)
        later_today(at(0.45), slip)
        # A visitor paid on the spot; the worker has the slip still.
        slip, _ = self.call(at(0.06), "repair", window=slot(at(0.12)), visitor=True)
        self.play(slip, State.COMPLETED, at(0.4), "worker3")
        later_today(at(0.42), slip)
        # A new tenant's move-in cleaning: more than the deposit holds (a top-up is asked for).
        slip, _ = self.call(at(0.07), "cleaning", window=slot(at(0.15)), home=short,
                            item="开荒保洁", quantity=118, visitor=False,
                            ask="房东刚翻新了厨卫，要做一次开荒保洁")
        self.play(slip, State.COMPLETED, at(0.6), "cleaner2", boss="cleaning_lead",
                  route=PayRoute.DEPOSIT)
        slip, clerk = self.call(at(0.08), "cleaning", window=tomorrow)
        self.step(at(0.25), clerk, svc.cancel, slip, self.staff[clerk],
                  "业主临时出差，下周再约")
        slip, _ = self.call(at(0.1), "repair", window=slot(at(0.2)))
        self.play(slip, State.NOBODY_HOME, at(0.3), "worker4")
        # An errand whose time has passed with nobody on the way: overdue on the board.
        slip, _ = self.call(at(0.12), "errands", window=(at(0.3), at(0.5)))
        self.play(slip, State.DISPATCHED, at(0.14), "errand1")
        slip, _ = self.call(at(0.15), "repair", window=slot(at(0.35)))
        self.play(slip, State.IN_PROGRESS, at(0.55), "worker")
        slip, _ = self.call(at(0.18), "housekeeping", window=slot(at(0.5)))
        self.play(slip, State.IN_PROGRESS, at(0.6), "cleaner1", boss="cleaning_lead")
        self.till.agenda.start(self.till.refund_story(at(0.2)))  # a tenant moving out
        slip, _ = self.call(at(0.25), "repair", window=slot(at(0.6)),
                            item="换水暖件(水龙头)")
        self.play(slip, State.AWAITING_PRICE, at(0.75), "worker3")  # beyond the list
        self.enquiry(at(0.28))
        # Unfinished: the cartridge is on order; the slip waits, paused, for the second visit.
        slip, _ = self.call(at(0.28), "repair", window=slot(at(0.3)))
        self.play(slip, State.PAUSED, at(0.55), "worker3")
        # An owner who pays at the office: handed back, waiting at the cashier.
        slip, _ = self.call(at(0.3), "repair", window=slot(at(0.4)),
                            home=self.rng.choice(owners), visitor=False)
        self.play(slip, State.HANDED_BACK, at(0.7), "worker4", route=PayRoute.PAY_NOW)
        slip, _ = self.call(at(0.35), "repair", window=slot(at(0.7)))
        self.play(slip, State.ON_SITE, at(0.9), "worker")           # he has just knocked
        # A resident rings about last week's job: a complaint in the log, the slip disputed.
        if self.to_dispute is not None:
            unhappy = self.to_dispute
            entry = self.complaint(at(0.4), None, home=unhappy.unit,
                                   text=f"{unhappy.number} 修完第二天又漏水，要求返工")
            self.step(at(0.41), entry.taken_by.username, svc.dispute, unhappy,
                      entry.taken_by, "业主来电：修完后又漏水，要求返工")
        slip, _ = self.call(at(0.45), "repair", window=soon)
        self.play(slip, State.ACCEPTED, at(0.55), "worker")
        slip, _ = self.call(at(0.5), "cleaning", window=later_on)
        self.play(slip, State.ACCEPTED, at(0.6), "cleaning_lead", boss="cleaning_lead")
        slip, _ = self.call(at(0.6), "repair", window=later_on)
        self.play(slip, State.DISPATCHED, at(0.65), "worker")
        self.enquiry(at(0.62))
        slip, _ = self.call(at(0.7), "repair", window=tomorrow)
        self.play(slip, State.DISPATCHED, at(0.75), "worker2")
        # Refused at the door: the resident found the price too high. It waits on the
        # supervisor's board (close it, charge the call-out, or have it quoted again).
        slip, _ = self.call(at(0.72), "repair", window=slot(at(0.74)), item="换锁")
        self.play(slip, State.REFUSED, at(0.79), "worker4")
        # In the tray: one for tomorrow, one priced by workload (the supervisor approves its
        # price on the board), an errand to prepay before anyone goes, and a burst pipe just
        # called in.
        self.call(at(0.8), "repair", window=tomorrow)
        self.call(at(0.82), "errands", window=later_on, visitor=False)
        self.call(at(0.85), "repair", window=later_on, item="窗户(推拉门)换锁")
        self.call(max(at(0.9), self.now - timedelta(minutes=6)), "repair", urgent=True,
                  item="换管", ask="厨房水管爆裂，水流不止，已关总阀")

    def play_money(self) -> None:
        """Whatever is left of the money planned for the past hours."""
        self.till.agenda.until(None)

    def next_slots(self) -> list[tuple[datetime, datetime]]:
        """The next two two-hour slots inside office hours (8:00–18:00), from the next hour."""
        t = (self.now + timedelta(hours=1)).astimezone(self.tz).replace(
            minute=0, second=0, microsecond=0)
        slots = []
        while len(slots) < 2:
            if t.hour < 8:
                t = t.replace(hour=8)
            elif t.hour > 16:
                t = (t + timedelta(days=1)).replace(hour=9)
            else:
                slots.append((t, t + timedelta(hours=2)))
                t += timedelta(hours=2)
        return slots

    def today_at(self, fraction: float) -> datetime:
        """A moment of today's office hours so far (the last two hours if it is early)."""
        return self.begin + (self.now - timedelta(minutes=2) - self.begin) * fraction


def seed_slips(rng: random.Random, staff: dict[str, User], now: datetime | None = None
               ) -> dict[str, int]:
    """Fill the demo with slips: history in every ending, and a live board today."""
    from app.services import catalogue
    now = now or clock.now()
    office = DemoOffice(rng, staff, catalogue.in_force(), now)
    for old in office.signatures.glob("*-demo.png"):  # a demo loaded before (--force)
        old.unlink()
    today = now.astimezone(office.tz).date()
    office.begin = office.local(today, 8 * 60)
    if now - office.begin < timedelta(hours=2):  # seeded before the office opened
        office.begin = now - timedelta(hours=2)
    office.history(today)
    office.live_day(today)
    office.play_money()
    db.session.flush()
    return {"slips": office.slips, "log entries": office.entries,
            "receipts": db.session.scalar(select(func.count()).select_from(Payment)
                                          .where(Payment.number.is_not(None))),
            "statements": db.session.scalar(select(func.count()).select_from(Statement))}


def history_days(today: date) -> int:
    """90 days, or a few more so that the month three months back has its last week: each of
    the last three months then closes with statements."""
    start = first_of_month_back(today, 2) - timedelta(days=7)
    return max(HISTORY_DAYS, (today - start).days)
