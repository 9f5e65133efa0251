"""The demo shop as data: a salmon farm by Qiandao Lake selling to three Hangzhou communities.

Plain constants only (no model imports), so scripts can read DEMO_PASSWORD without Django.
"""

from datetime import time

DEMO_SHOP_SLUG = "qiandaohu-fish-farm"
DEMO_SHOP_NAME = "千岛湖鲜鱼农场"
# One password for every demo staff account; printed by `make run`. A demo, not a secret.
DEMO_PASSWORD = "shequn-demo"  # noqa: S105
PLATFORM_USERNAME = "platform"  # Django admin (platform staff)
STAFF = [  # (username, role, nickname)
    ("owner", "owner", "农场主老周"),
    ("admin", "admin", "店长小林"),
    ("operator", "operator", "运营阿芳"),
    ("service", "service", "客服小美"),
    ("finance", "finance", "财务王姐"),
]
MEMBER_COUNT = 200
FIRST_MEMBER_PHONE = 13900000001  # members are 13900000001 … 13900000200
ORDER_COUNT = 500

COMMUNITIES = [  # (name, invite code, description)
    ("千岛湖鲜鱼·滨江邻里群", "demo-binjiang", "滨江区邻居们的鲜鱼团购群，每周二、五到货。"),
    ("千岛湖鲜鱼·西湖文三群", "demo-xihu", "西湖区文三路一带，自提点在文三路店。"),
    ("千岛湖鲜鱼·萧山宝妈群", "demo-xiaoshan", "宝宝辅食鱼、无刺鱼排，妈妈们放心选。"),
]

# Next-day delivery windows of the farm (ADR 0007): (start, end, orders it can pack), for the
# coming DELIVERY_SLOT_DAYS days.
DELIVERY_SLOT_DAYS = 3
DELIVERY_SLOTS = [(time(9, 0), time(12, 0), 50), (time(15, 0), time(18, 0), 30)]

PICKUP_POINTS = [  # (name, address, opening hours, phone)
    ("滨江星光大道自提点", "浙江省杭州市滨江区江南大道 228 号星光大道一期 1 楼", "09:00-21:00", "0571-86660001"),
    ("西湖文三路自提点", "浙江省杭州市西湖区文三路 398 号东信大厦底商", "08:30-20:30", "0571-86660002"),
]

CATEGORIES = ["三文鱼", "千岛湖淡水鱼", "虾蟹贝类", "鱼籽与加工", "农家土产", "节日礼盒"]
COLLECTIONS = [("本周上新", "new-this-week"), ("热销", "best-sellers")]

# Weight SKUs: (spec, grams, price multiplier against the 1 斤 (500 g) price).
WEIGHT_LADDER = [("半斤", 250, 0.55), ("1斤", 500, 1.0), ("2斤", 1000, 1.9)]

# Each product: title, subtitle, category index, 500 g price in fen (None: fixed SKUs below),
# returnable, per-person cap, member discount (fen off each SKU, 0 = none), collections,
# explicit SKUs [(spec, grams, price_fen)] when the weight ladder does not fit.
PRODUCTS: list[dict] = [
    {
        "title": "挪威三文鱼刺身中段",
        "subtitle": "冰鲜空运，当天分切",
        "category": 0,
        "base": 8900,
        "returnable": False,
        "cap": 5,
        "member_off": 1000,
        "collections": ["best-sellers"],
    },
    {
        "title": "三文鱼腹肉条",
        "subtitle": "油脂丰富，煎烤皆宜",
        "category": 0,
        "base": 5900,
        "returnable": False,
        "cap": None,
        "member_off": 500,
        "collections": ["best-sellers"],
    },
    {
        "title": "千岛湖虹鳟鱼柳",
        "subtitle": "淡水养殖虹鳟，口感细嫩",
        "category": 0,
        "base": 6900,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": ["new-this-week"],
    },
    {
        "title": "三文鱼头（煲汤用）",
        "subtitle": "整只对半切，炖汤鲜甜",
        "category": 0,
        "base": 1990,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": [],
    },
    {
        "title": "三文鱼骨排",
        "subtitle": "椒盐、红烧都好吃",
        "category": 0,
        "base": 1590,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": [],
    },
    {
        "title": "烟熏三文鱼切片",
        "subtitle": "即食，配贝果、沙拉",
        "category": 3,
        "base": None,
        "returnable": True,
        "cap": 10,
        "member_off": 800,
        "collections": ["best-sellers"],
        "skus": [("100g", 100, 3900), ("200g", 200, 6900)],
    },
    {
        "title": "千岛湖有机鱼头（胖头鱼）",
        "subtitle": "淳牌同水域，砂锅鱼头首选",
        "category": 1,
        "base": 3980,
        "returnable": False,
        "cap": None,
        "member_off": 400,
        "collections": ["best-sellers"],
        "skus": [("半只约1.5斤", 750, 3980), ("整只约3斤", 1500, 7580)],
    },
    {
        "title": "千岛湖鲢鱼",
        "subtitle": "现捕现杀，去鳞去内脏",
        "category": 1,
        "base": 1500,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": [],
    },
    {
        "title": "千岛湖鳜鱼",
        "subtitle": "清蒸首选，野生放养",
        "category": 1,
        "base": 6800,
        "returnable": False,
        "cap": 3,
        "member_off": 600,
        "collections": ["new-this-week"],
    },
    {
        "title": "千岛湖白鲢鱼片",
        "subtitle": "片好即下锅，做酸菜鱼",
        "category": 1,
        "base": 2600,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": [],
    },
    {
        "title": "翘嘴鲌（白鱼）",
        "subtitle": "千岛湖特产，肉质细嫩",
        "category": 1,
        "base": 4500,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": ["new-this-week"],
    },
    {
        "title": "黄颡鱼（昂刺鱼）",
        "subtitle": "炖豆腐汤，奶白鲜香",
        "category": 1,
        "base": 3600,
        "returnable": False,
        "cap": None,
        "member_off": 300,
        "collections": [],
    },
    {
        "title": "鲫鱼（宝宝汤用）",
        "subtitle": "每条约半斤",
        "category": 1,
        "base": 2200,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": [],
    },
    {
        "title": "无刺鱼排（宝宝辅食）",
        "subtitle": "去骨去刺，独立小包装",
        "category": 3,
        "base": None,
        "returnable": False,
        "cap": 6,
        "member_off": 500,
        "collections": ["new-this-week", "best-sellers"],
        "skus": [("6片装约300g", 300, 4900), ("12片装约600g", 600, 8900)],
    },
    {
        "title": "青虾（河虾）",
        "subtitle": "活虾发货，白灼最鲜",
        "category": 2,
        "base": 7800,
        "returnable": False,
        "cap": 4,
        "member_off": 800,
        "collections": ["best-sellers"],
    },
    {
        "title": "螺蛳（已剪尾）",
        "subtitle": "吐沙干净，爆炒下酒",
        "category": 2,
        "base": 1800,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": [],
    },
    {
        "title": "河蚌肉",
        "subtitle": "老鸭煲里少不了",
        "category": 2,
        "base": 2500,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": [],
    },
    {
        "title": "小龙虾（熟冻麻辣）",
        "subtitle": "加热即食，4-6钱",
        "category": 2,
        "base": None,
        "returnable": True,
        "cap": None,
        "member_off": 500,
        "collections": ["new-this-week"],
        "skus": [("750g", 750, 5900), ("1.5kg", 1500, 10900)],
    },
    {
        "title": "三文鱼籽",
        "subtitle": "颗粒饱满，盐渍即食",
        "category": 3,
        "base": None,
        "returnable": False,
        "cap": 2,
        "member_off": 1000,
        "collections": ["best-sellers"],
        "skus": [("100g", 100, 8800), ("250g", 250, 19800)],
    },
    {
        "title": "千岛湖鱼干",
        "subtitle": "农家晒制，蒸着吃",
        "category": 3,
        "base": None,
        "returnable": True,
        "cap": None,
        "member_off": 0,
        "collections": [],
        "skus": [("250g", 250, 3500), ("500g", 500, 6500)],
    },
    {
        "title": "鱼丸（手打）",
        "subtitle": "八成鱼肉，Q弹",
        "category": 3,
        "base": None,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": [],
        "skus": [("400g", 400, 2800), ("800g", 800, 5200)],
    },
    {
        "title": "酱鱼（年味）",
        "subtitle": "酱油腌晒，切片蒸",
        "category": 3,
        "base": None,
        "returnable": True,
        "cap": None,
        "member_off": 0,
        "collections": [],
        "skus": [("整条约600g", 600, 6800)],
    },
    {
        "title": "千岛湖土鸡蛋",
        "subtitle": "林下散养",
        "category": 4,
        "base": None,
        "returnable": True,
        "cap": None,
        "member_off": 200,
        "collections": ["best-sellers"],
        "skus": [("20枚", 1000, 3600), ("30枚", 1500, 4900)],
    },
    {
        "title": "高山笋干",
        "subtitle": "淳安天目笋，去年新笋",
        "category": 4,
        "base": None,
        "returnable": True,
        "cap": None,
        "member_off": 0,
        "collections": [],
        "skus": [("250g", 250, 3800), ("500g", 500, 6900)],
    },
    {
        "title": "千岛湖山核桃仁",
        "subtitle": "手剥，原味",
        "category": 4,
        "base": None,
        "returnable": True,
        "cap": None,
        "member_off": 500,
        "collections": ["new-this-week"],
        "skus": [("200g", 200, 5800)],
    },
    {
        "title": "农家菜籽油",
        "subtitle": "古法压榨",
        "category": 4,
        "base": None,
        "returnable": True,
        "cap": None,
        "member_off": 0,
        "collections": [],
        "skus": [("2.5L", 2300, 8800), ("5L", 4600, 16800)],
    },
    {
        "title": "淳安鸠坑茶",
        "subtitle": "明前绿茶",
        "category": 4,
        "base": None,
        "returnable": True,
        "cap": None,
        "member_off": 0,
        "collections": [],
        "skus": [("100g", 100, 9800), ("250g", 250, 22800)],
    },
    {
        "title": "三文鱼全家福礼盒",
        "subtitle": "刺身、腹肉、鱼籽、鱼头一盒装",
        "category": 5,
        "base": None,
        "returnable": False,
        "cap": 2,
        "member_off": 2000,
        "collections": ["new-this-week"],
        "skus": [("标准款约2kg", 2000, 29800), ("豪华款约3.5kg", 3500, 49800)],
    },
    {
        "title": "千岛湖鲜鱼年货礼盒",
        "subtitle": "鱼头、鳜鱼、鱼丸、酱鱼",
        "category": 5,
        "base": None,
        "returnable": True,
        "cap": None,
        "member_off": 1000,
        "collections": [],
        "skus": [("经典款", 3000, 26800)],
    },
    {
        "title": "有机鱼头砂锅套餐",
        "subtitle": "鱼头＋豆腐＋配菜，两人份",
        "category": 5,
        "base": None,
        "returnable": False,
        "cap": None,
        "member_off": 0,
        "collections": ["best-sellers"],
        "skus": [("两人份", 1800, 12800), ("四人份", 3200, 19800)],
    },
]

POSTS = [  # (community index, body, product titles, pinned)
    (
        0,
        "【今日到货】挪威三文鱼中段刚刚分切完毕，刺身级，晚上 6 点前下单明天上午送到～群成员价再减 10 元！",
        ["挪威三文鱼刺身中段", "三文鱼腹肉条"],
        True,
    ),
    (
        0,
        "周末炖汤推荐：千岛湖有机鱼头配豆腐，一家人够吃。自提点星光大道店周六全天有货。",
        ["千岛湖有机鱼头（胖头鱼）", "有机鱼头砂锅套餐"],
        False,
    ),
    (
        1,
        "新上架：千岛湖鳜鱼和翘嘴鲌，都是今天早上现捕的，数量有限，每人限购 3 条。",
        ["千岛湖鳜鱼", "翘嘴鲌（白鱼）"],
        True,
    ),
    (1, "文三路自提点本周营业时间调整为 8:30-20:30，取货请带好订单号。", [], False),
    (
        2,
        "宝妈们要的无刺鱼排到了！去骨去刺，独立小包装，辅食直接蒸。",
        ["无刺鱼排（宝宝辅食）", "鲫鱼（宝宝汤用）"],
        True,
    ),
    (2, "三文鱼籽补货啦，上次没抢到的姐妹这次早点下单～", ["三文鱼籽", "烟熏三文鱼切片"], False),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN_NAMES = [
    "小明",
    "丽华",
    "建国",
    "晓燕",
    "志强",
    "美玲",
    "海波",
    "秀英",
    "伟",
    "静",
    "磊",
    "婷婷",
    "俊杰",
    "雪梅",
    "子涵",
    "欣怡",
    "浩然",
    "梓萱",
    "宇航",
    "佳琪",
]
HANGZHOU_DISTRICTS = [  # GB/T 2260 codes
    ("330102", "上城区"),
    ("330105", "拱墅区"),
    ("330106", "西湖区"),
    ("330108", "滨江区"),
    ("330109", "萧山区"),
    ("330110", "余杭区"),
]
STREETS = ["江南大道", "文三路", "天目山路", "钱江路", "市心北路", "文一西路", "滨盛路", "莫干山路"]

# Per community: channels (name, kind) and neighbourhood sub-groups.
CHANNELS = [("门店海报", "poster"), ("合作伙伴：湖鲜面馆", "partner")]
SUB_GROUPS = ["东区邻里", "西区邻里"]

# --- community content (seed_content) ------------------------------------------------
# Articles: (community index, title, HTML body, product card titles, status, push, members only).
# Status "published" (now, spread back over the last days), "scheduled" (tomorrow 08:00
# Asia/Shanghai) or "draft".
ARTICLES: list[tuple[int, str, str, list[str], str, bool, bool]] = [
    (
        0,
        "千岛湖的鱼是怎么养出来的",
        "<h2>一汪湖水，三年一条鱼</h2>"
        "<p>我们的网箱在千岛湖中心湖区，水深三十米，<strong>国家一级水源地</strong>。"
        "鱼苗放进去以后不喂激素、不用抗生素，虹鳟要长满两年、胖头鱼要三年才起捕。</p>"
        "<p>每天清晨五点起网，六点进冷库分切，中午冷链车出发，傍晚就到杭州各个自提点。</p>"
        "<ul><li>起捕后全程 0-4℃ 冷链</li><li>每批次留样检测</li><li>不满意当面退换</li></ul>",
        ["千岛湖虹鳟鱼柳", "千岛湖有机鱼头（胖头鱼）"],
        "published",
        False,
        False,
    ),
    (
        0,
        "三文鱼刺身怎么切、怎么吃才放心",
        "<p>很多邻居问：买回家的三文鱼中段能不能直接做刺身？答案是<strong>能</strong>，但要注意三点：</p>"
        "<ol><li>收货后立刻冷藏，24 小时内吃完；</li>"
        "<li>用干净的刀和砧板，顺着肌理斜切 5 毫米厚片；</li>"
        "<li>吃不完的部分改成香煎或烤，不要反复解冻。</li></ol>"
        "<p>配一点三文鱼籽和芥末酱油，孩子也爱吃。</p>",
        ["挪威三文鱼刺身中段", "三文鱼籽", "三文鱼腹肉条"],
        "published",
        False,
        True,
    ),
    (
        0,
        "周末炖一锅奶白鱼头汤",
        "<p>千岛湖胖头鱼的鱼头最适合炖汤：先用姜片把鱼头两面煎黄，"
        "<strong>一次加足开水</strong>，大火滚十分钟汤就白了，再放豆腐小火炖二十分钟。</p>"
        "<blockquote>小窍门：出锅前再放盐，汤更鲜。</blockquote>",
        ["千岛湖有机鱼头（胖头鱼）", "有机鱼头砂锅套餐"],
        "published",
        False,
        True,
    ),
    (
        0,
        "明早 8 点：本周千岛湖鳜鱼预售开始",
        "<p>本周鳜鱼数量有限，<strong>明早 8 点</strong>开放预售，每人限购 3 条，周五统一送到自提点。</p>",
        ["千岛湖鳜鱼"],
        "scheduled",
        True,
        True,
    ),
    (
        0,
        "年货礼盒预告（草稿）",
        "<p>今年的年货礼盒有三文鱼全家福和千岛湖鲜鱼两款，价格和到货时间待定。</p>",
        ["千岛湖鲜鱼年货礼盒", "三文鱼全家福礼盒"],
        "draft",
        False,
        True,
    ),
    (
        1,
        "文三路自提点取货指南",
        "<p>自提点在文三路 398 号东信大厦底商，营业时间 <strong>8:30-20:30</strong>。"
        "取货时报手机号后四位或出示订单号即可。</p><p>本周新到的鳜鱼和白鱼都在冷柜里，欢迎来挑。</p>",
        ["千岛湖鳜鱼", "翘嘴鲌（白鱼）"],
        "published",
        False,
        True,
    ),
    (
        2,
        "宝宝辅食鱼怎么选",
        "<p>一岁前的宝宝建议选<strong>无刺、少腥</strong>的鱼：无刺鱼排直接蒸十分钟，压成泥拌粥；"
        "大一点可以喝鲫鱼汤，记得用纱布滤掉小刺。</p>",
        ["无刺鱼排（宝宝辅食）", "鲫鱼（宝宝汤用）"],
        "published",
        False,
        True,
    ),
]
# Keyword auto-replies: (community index, keyword, match type, reply text, reply article title).
KEYWORD_RULES: list[tuple[int, str, str, str, str | None]] = [
    (0, "营业时间", "exact", "星光大道自提点每天 09:00-21:00 营业，客服电话 0571-86660000。", None),
    (0, "三文鱼", "contains", "", "三文鱼刺身怎么切、怎么吃才放心"),
    (0, "鱼头", "contains", "", "周末炖一锅奶白鱼头汤"),
    (0, "配送", "contains", "每周二、五送到滨江各小区，满 99 元免运费；也可以到自提点取货。", None),
    (1, "营业时间", "exact", "文三路自提点每天 08:30-20:30 营业，取货报手机号后四位。", None),
    (2, "辅食", "contains", "", "宝宝辅食鱼怎么选"),
]
DEFAULT_REPLY = "没找到相关内容，试试“营业时间”“配送”或商品名，也可以在群里@运营阿芳。"

BOARD_CATEGORIES = ["经验分享", "问答", "求职招聘"]
# Board threads: (community index, category, title, body, author, promotional, comments, likes,
# pinned, featured). Authors are given as positions in the community's member list (by
# joining order); comments are (author position, text); likes is how many members like it.
BOARD_THREADS: list[tuple[int, str, str, str, int, bool, list[tuple[int, str]], int, bool, bool]] = [
    (
        0,
        "经验分享",
        "新人必看：下单、自提和售后怎么弄",
        "1. 群里文章和帖子里的商品卡片可以直接下单；\n2. 选自提的话，到货后会收到消息，报手机号后四位取货；\n"
        "3. 鱼有问题拍照在订单里申请售后，一般当天处理。",
        0,
        False,
        [(3, "收藏了，谢谢整理！"), (5, "售后确实快，上次半小时就退了。")],
        8,
        True,
        False,
    ),
    (
        0,
        "经验分享",
        "三文鱼腹肉香煎，10 分钟搞定",
        "腹肉条两面撒盐和黑胡椒，不放油直接下锅，中小火每面煎 3 分钟，鱼油自己会出来。最后挤点柠檬汁，孩子抢着吃。",
        1,
        False,
        [(2, "今晚就试！"), (4, "要不要先腌一下？"), (1, "不用腌，撒盐就够了。")],
        6,
        False,
        True,
    ),
    (
        0,
        "问答",
        "刺身中段收到后能放几天？",
        "昨天买了一斤中段，今天吃了一半，剩下的明天还能生吃吗？",
        2,
        False,
        [(0, "建议当天吃完，剩下的煎着吃更放心。")],
        2,
        False,
        False,
    ),
    (
        0,
        "问答",
        "有没有邻居一起拼鳜鱼？",
        "周五的鳜鱼一条两斤多，家里两个人吃不完，想找楼里的邻居拼一条，星光大道一期。",
        3,
        False,
        [(6, "我在一期 3 幢，可以拼！"), (3, "好的，私信你。")],
        3,
        False,
        False,
    ),
    (
        0,
        "求职招聘",
        "小区水果店招周末兼职，离星光大道 5 分钟",
        "周六周日 9:00-18:00，理货和收银，时薪 25 元，有意向的邻居直接来店里聊。",
        4,
        True,
        [],
        1,
        False,
        False,
    ),
    (
        1,
        "问答",
        "文三路自提点周日开门吗？",
        "这周日想过去拿鱼，不知道开不开门。",
        0,
        False,
        [(1, "开的，8:30 到 20:30。")],
        2,
        False,
        False,
    ),
    (
        2,
        "经验分享",
        "无刺鱼排做辅食，宝宝一口气吃完",
        "鱼排蒸 10 分钟，用勺子压碎拌进南瓜粥，一点腥味都没有。九个月的宝宝吃得很开心。",
        0,
        False,
        [(1, "我家也是这么做的，加点西兰花泥更好。")],
        4,
        False,
        True,
    ),
]

# S1: sold by weight ("35 ¥/斤"), about 1.2 斤 a fish → ¥42.00 estimated a fish.
WEIGHED_FISH: dict[str, str | int] = {
    "title": "整条鲈鱼（按斤称重）",
    "subtitle": "约 1.2 斤/条，¥35/斤，按实重多退少不补",
    "description": (
        "当天现捕整条鲈鱼，按每条约 1.2 斤预估价付款；打包时逐条称重，实重不足的差价自动原路退回，超重部分不另收费。"
    ),
    "category": "千岛湖淡水鱼",
    "spec": "整条约1.2斤",
    "estimated_grams": 600,
    "price_per_jin_fen": 3500,
    "stock": 200,
}
