"""The demo property's fixed data: staff, the price list from seed 002, resident names."""
from __future__ import annotations

PROPERTY = {
    "name": "阳光花园物业服务中心",
    "name_en": "Sunshine Garden Property Service Centre",
    "address": "杭州市西湖区文三路 288 号 阳光花园",
    "phone": "0571-8888 6666",
    "timezone": "Asia/Shanghai",
    "currency": "CNY",
}

# username, full name, phone, roles
STAFF = [
    ("manager", "王建国", "13905710001", ["manager"]),
    ("clerk", "刘芳", "13905710002", ["clerk"]),
    ("clerk2", "黄晓敏", "13905710003", ["clerk"]),
    ("supervisor", "赵强", "13905710004", ["supervisor"]),
    ("cleaning_lead", "周玉兰", "13905710005", ["supervisor", "worker"]),
    ("cashier", "孙丽", "13905710006", ["cashier"]),
    ("worker", "陈师傅", "13905710007", ["worker"]),
    ("worker2", "李师傅", "13905710008", ["worker"]),
    ("worker3", "张师傅", "13905710009", ["worker"]),
    ("worker4", "吴师傅", "13905710010", ["worker"]),
    ("cleaner1", "郑阿姨", "13905710011", ["worker"]),
    ("cleaner2", "何阿姨", "13905710012", ["worker"]),
    ("errand1", "马小军", "13905710013", ["worker"]),
]

# code, Chinese name, English name
CATEGORIES = [
    ("plumbing", "水电类", "Plumbing & water"),
    ("install", "安装类", "Installation"),
    ("electrical", "电气检修类", "Electrical"),
    ("doors", "门窗类", "Doors & windows"),
    ("cleaning", "家政保洁", "Housekeeping & cleaning"),
    ("errands", "代办", "Errands & purchasing"),
    ("appliance", "家电维修", "Appliance repair"),
    ("free", "免费维修（管理费内）", "Free repairs (management fee)"),
]

# category, Chinese name, English name, unit, min yuan, max yuan, by workload, free, department, note
# The first block is the price table of seed 002 (最新有偿服务项目收费标准), row by row.
ITEMS = [
    ("plumbing", "疏通下水", "Unclog a drain", "次", 30, 30, False, False, "repair", ""),
    ("plumbing", "拆坐便", "Remove a toilet", "次", 50, 50, False, False, "repair", ""),
    ("plumbing", "换管", "Replace a pipe", "次", 10, 1000, True, False, "repair", ""),
    ("plumbing", "给水总阀", "Main water valve", "个", 15, 30, False, False, "repair", ""),
    ("plumbing", "换水暖件(水龙头)", "Replace a tap or fitting", "个", 10, 30, False, False, "repair", ""),
    ("plumbing", "换坐便(蹲便)、进水排水器", "Replace toilet inlet/outlet valve", "个", 20, 20, False, False, "repair", ""),
    ("doors", "维修玻璃推拉门", "Repair a glass sliding door", "扇", 10, 100, False, False, "repair", ""),
    ("doors", "维修地弹簧", "Repair a floor spring", "个", 20, 100, False, False, "repair", ""),
    ("install", "安装排气扇", "Install an exhaust fan", "台", 20, 30, False, False, "repair", ""),
    ("install", "安装晾衣架", "Install a clothes rack", "套", 50, 100, False, False, "repair", ""),
    ("install", "挂画", "Hang a picture", "件", 15, 50, False, False, "repair", ""),
    ("install", "安装热水器", "Install a water heater", "台", 50, 50, False, False, "repair", ""),
    ("install", "安装洗脸盆", "Install a wash basin", "只", 30, 30, False, False, "repair", ""),
    ("install", "安装毛巾架", "Install a towel rail", "只", 10, 10, False, False, "repair", ""),
    ("install", "拆装纱窗", "Remove/refit a window screen", "扇", 10, 20, False, False, "repair", ""),
    ("install", "安装吸顶灯/壁灯", "Install a ceiling or wall lamp", "盏", 30, 30, False, False, "repair", ""),
    ("install", "安装水晶灯", "Install a crystal chandelier", "盏", 30, 200, False, False, "repair", ""),
    ("install", "安装插座/开关", "Install a socket or switch", "位", 30, 30, False, False, "repair", ""),
    ("electrical", "随身工具即可的情况", "Electrical check with hand tools", "次", 30, 30, False, False, "repair", ""),
    ("doors", "维修淋浴拉门", "Repair a shower door", "扇", 50, 50, False, False, "repair", ""),
    ("doors", "进户门维修", "Repair the entrance door", "扇", 20, 20, False, False, "repair", ""),
    ("doors", "换锁", "Replace a lock", "把", 10, 50, False, False, "repair", ""),
    ("doors", "窗户维修", "Repair a window", "扇", 10, 20, False, False, "repair", ""),
    ("doors", "拆装纱窗", "Remove/refit a window screen", "扇", 10, 20, False, False, "repair", ""),
    # Seed 002's table breaks off before this row's price: priced by workload until the manager sets one.
    ("doors", "窗户(推拉门)换锁", "Replace a window/sliding-door lock", "把", None, None, True, False, "repair", ""),
    # Further services the office offers (seed 000, 003): housekeeping, errands, appliances.
    ("cleaning", "日常保洁", "Routine home cleaning", "小时", 40, 40, False, False, "housekeeping", "2小时起"),
    ("cleaning", "开荒保洁", "Move-in deep cleaning", "平方米", 5, 8, False, False, "cleaning", ""),
    ("cleaning", "擦玻璃", "Window cleaning", "扇", 10, 20, False, False, "cleaning", ""),
    ("cleaning", "清洗油烟机", "Clean a range hood", "台", 80, 120, False, False, "housekeeping", ""),
    ("cleaning", "地毯清洗", "Carpet cleaning", "平方米", 10, 15, False, False, "cleaning", ""),
    ("errands", "代购物品", "Shopping on the resident's behalf", "次", 10, 10, False, False, "errands", "另收代购货款"),
    ("errands", "代缴费用", "Pay a bill on the resident's behalf", "次", 5, 5, False, False, "errands", ""),
    ("errands", "代订送水", "Order drinking water", "次", 0, 0, False, True, "errands", ""),
    ("appliance", "空调清洗", "Air-conditioner cleaning", "台", 60, 100, False, False, "repair", ""),
    ("appliance", "洗衣机维修", "Washing machine repair", "台", 30, 300, True, False, "repair", "不含配件"),
    ("appliance", "热水器维修", "Water heater repair", "台", 30, 200, True, False, "repair", "不含配件"),
    ("free", "公共部位报修", "Common-area repair report", "次", 0, 0, False, True, "repair", "管理费内"),
    ("free", "入户水电表检查", "Check the unit's water/power meter", "次", 0, 0, False, True, "repair", "管理费内"),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
         "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "文", "华", "金凤", "志强",
         "玉兰", "晓东", "海燕", "国庆", "红梅", "建军", "丹", "鑫", "宇", "浩然", "子涵", "欣怡",
         "梓轩", "雨桐", "思远", "一鸣", "佳怡", "俊杰", "婷", "斌", "辉", "雪"]
NOTES = ["家有大型犬，入户前请先电话", "老人独居，耳背，请多敲门", "家有猫，注意关门",
         "木地板，请穿鞋套", "孕妇在家，避免刺激性清洁剂", "工作日白天无人，请约晚上",
         "有婴儿，午休 12:00–14:00 勿打扰", "家中有贵重瓷器，小心搬动"]
