"""The member's data as a file: one JSON document, or a zip holding one CSV per table.

Both carry the same tables (``selectors.member_data``); the CSVs start with a byte-order mark so
spreadsheet programs read the Chinese text as UTF-8.
"""

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from .enums import ExportFormat
from .selectors import Table

FORMAT_VERSION = "shequn-member-export/1"
README = gettext_lazy(
    "这是你在本平台的个人数据副本。\n"
    "金额字段（以 _fen 结尾）的单位是分（100 分 = 1 元）；时间为北京时间（ISO 8601）。\n"
    "每个 CSV 文件是一类数据：profile 个人资料，addresses 收货地址，orders 订单，order_lines 订单商品，"
    "payments 支付，refunds 售后退款，community_memberships 社群，group_buy_sign_ups 接龙，"
    "team_buys 拼团，event_registrations 活动报名，course_enrolments 课程，wallet_accounts / wallet_entries "
    "佣金账户与流水，withdrawals 提现，commissions 佣金，coupons 优惠券，red_packet_grabs 抢到的红包，"
    "lottery_entries / lottery_spins / lottery_wins 抽奖参与、转盘与中奖，messages 站内消息，"
    "board_threads / board_comments 互动区帖子与评论，api_tokens 登录令牌，data_requests 你的数据请求记录。\n"
)


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _plain_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def render(data: dict[str, Table], export_format: str, *, now: datetime) -> ExportFile:
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M%S")
    if export_format == ExportFormat.JSON:
        document = {
            "format": FORMAT_VERSION,
            "exported_at": _plain(now),
            "readme": str(README),
            "tables": {name: _plain_rows(table.rows) for name, table in data.items()},
        }
        content = json.dumps(document, ensure_ascii=False, indent=2).encode()
        return ExportFile(f"shequn-data-{stamp}.json", "application/json; charset=utf-8", content)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", str(README))
        for name, table in data.items():
            text = io.StringIO()
            text.write("\ufeff")
            # The header is written for an empty table too: it says what the table would hold.
            writer = csv.DictWriter(text, fieldnames=table.columns)
            writer.writeheader()
            writer.writerows(_plain_rows(table.rows))
            archive.writestr(f"{name}.csv", text.getvalue())
    return ExportFile(f"shequn-data-{stamp}.zip", "application/zip", buffer.getvalue())


def as_download(file: ExportFile) -> HttpResponse:
    """The file as an attachment, never cached (it is personal data)."""
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response["Cache-Control"] = "no-store"
    return response
