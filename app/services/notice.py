"""The lobby price-list notice (公告): plain values for templates/pdf/notice.html."""
from __future__ import annotations

from app.domain.pricing import UNITS_OF_CHARGE, price_label
from app.models.catalogue import PriceList
from app.services.catalogue import grouped
from app.services.pdf_context import office_header


def notice_context(price_list: PriceList, locale: str) -> dict:
    """Rows grouped by category; Chinese names always, English beside them in en."""
    english = locale == "en"
    groups = []
    for category, items in grouped(price_list):
        rows = []
        for item in items:
            spec = item.price
            rows.append({
                "name_zh": item.name_zh,
                "name_en": item.name_en if english else "",
                "unit": item.unit,
                "unit_en": str(UNITS_OF_CHARGE.get(item.unit, "")) if english else "",
                "price": price_label(spec),
                "by_workload": spec.by_workload,
                "free": spec.free,
                "note": item.note,
            })
        groups.append({"name_zh": category.name_zh,
                       "name_en": category.name_en if english else "", "rows": rows})
    return {
        **office_header(),
        "english": english,
        "lang": "en" if english else "zh-CN",
        "number": price_list.number,
        "effective_date": (price_list.effective_date.isoformat()
                           if price_list.effective_date else ""),
        "approved_by": price_list.approved_by.full_name if price_list.approved_by else "",
        "groups": groups,
        "item_count": sum(len(g["rows"]) for g in groups),
    }
