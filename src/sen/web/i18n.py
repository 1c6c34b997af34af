"""The UI's two languages: a small catalogue and the number, money and date formats.

Vietnamese is the default; English on request. The words are the ones in the
project's glossary, so marketers see the terms they already use. Formatting is
pure and locale-explicit (no process-wide ``locale.setlocale``), because one
server answers users of both languages at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCALES = ("vi", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # key: (vi, en)
    "app.tagline": ("Nền tảng dữ liệu khách hàng", "Customer data platform"),
    "nav.overview": ("Tổng quan", "Overview"),
    "nav.sources": ("Nguồn dữ liệu", "Sources"),
    "nav.tokens": ("API token", "API tokens"),
    "nav.users": ("Người dùng", "Users"),
    "nav.logout": ("Đăng xuất", "Log out"),
    "nav.language": ("Ngôn ngữ", "Language"),
    "login.title": ("Đăng nhập", "Log in"),
    "login.username": ("Tên đăng nhập", "Username"),
    "login.password": ("Mật khẩu", "Password"),
    "login.submit": ("Đăng nhập", "Log in"),
    "login.failed": ("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password."),
    "login.disabled": ("Tài khoản này đã bị khóa.", "This account is disabled."),
    "login.expired": ("Phiên đăng nhập đã hết hạn, vui lòng thử lại.",
                      "Your session expired; please try again."),
    "overview.title": ("Tổng quan", "Overview"),
    "overview.period": ("{days} ngày qua, từ {start} đến {end}",
                        "Last {days} days, {start} to {end}"),
    "overview.events": ("Sự kiện", "Events"),
    "overview.customers": ("Khách hàng mới", "New customers"),
    "overview.orders": ("Đơn hàng", "Orders"),
    "overview.revenue": ("Doanh số", "Revenue"),
    "overview.by_source": ("Theo nguồn dữ liệu", "By source"),
    "overview.by_day": ("Theo ngày", "By day"),
    "overview.events_per_day": ("Sự kiện mỗi ngày", "Events per day"),
    "overview.orders_per_day": ("Đơn hàng mỗi ngày", "Orders per day"),
    "overview.customers_per_day": ("Khách hàng mới mỗi ngày", "New customers per day"),
    "overview.empty": ("Chưa có dữ liệu trong khoảng thời gian này. Hãy tạo nguồn dữ liệu "
                       "và gửi sự kiện đầu tiên.",
                       "No data in this period yet. Create a source and send the first "
                       "event."),
    "overview.show_table": ("Xem dạng bảng", "Show as a table"),
    "common.source": ("Nguồn dữ liệu", "Source"),
    "common.date": ("Ngày", "Date"),
    "common.total": ("Tổng", "Total"),
    "common.name": ("Tên", "Name"),
    "common.created": ("Ngày tạo", "Created"),
    "common.create": ("Tạo", "Create"),
    "common.status": ("Trạng thái", "Status"),
    "common.active": ("Đang dùng", "Active"),
    "common.never": ("Chưa dùng", "Never"),
    "sources.title": ("Nguồn dữ liệu", "Sources"),
    "sources.intro": ("Mỗi nguồn dữ liệu (website, app, POS, sàn TMĐT, hotline...) có một "
                      "write key riêng để gửi sự kiện.",
                      "Each source (website, app, POS, marketplace, hotline...) has its "
                      "own write key for sending events."),
    "sources.kind": ("Loại", "Kind"),
    "sources.write_key": ("Write key", "Write key"),
    "sources.enabled": ("Đang bật", "Enabled"),
    "sources.disabled": ("Đã tắt", "Disabled"),
    "sources.new": ("Tạo nguồn dữ liệu", "New source"),
    "sources.created": ("Đã tạo nguồn dữ liệu {name}.", "Source {name} created."),
    "sources.none": ("Chưa có nguồn dữ liệu nào.", "No sources yet."),
    "kind.web": ("Website", "Website"),
    "kind.app": ("Ứng dụng di động", "Mobile app"),
    "kind.pos": ("POS cửa hàng", "Store POS"),
    "kind.marketplace": ("Sàn TMĐT", "Marketplace"),
    "kind.hotline": ("Hotline / CSKH", "Hotline"),
    "kind.zalo": ("Zalo OA", "Zalo OA"),
    "kind.server": ("Máy chủ", "Server"),
    "kind.import": ("Nhập file", "File import"),
    "tokens.title": ("API token", "API tokens"),
    "tokens.intro": ("Token dùng cho API quản trị: gửi trong header "
                     "Authorization: Bearer <token>.",
                     "Tokens are for the management API: send them as "
                     "Authorization: Bearer <token>."),
    "tokens.new": ("Tạo token", "New token"),
    "tokens.created": ("Đây là token mới. Hãy sao chép ngay: token chỉ hiển thị một lần.",
                       "Here is the new token. Copy it now: it is shown only once."),
    "tokens.prefix": ("Mã đầu", "Prefix"),
    "tokens.last_used": ("Dùng lần cuối", "Last used"),
    "tokens.revoke": ("Thu hồi", "Revoke"),
    "tokens.revoked": ("Đã thu hồi", "Revoked"),
    "tokens.revoked_at": ("Đã thu hồi lúc {at}", "Revoked {at}"),
    "tokens.none": ("Bạn chưa có token nào.", "You have no tokens yet."),
    "users.title": ("Người dùng", "Users"),
    "users.role": ("Vai trò", "Role"),
    "users.display_name": ("Tên hiển thị", "Display name"),
    "users.locale": ("Ngôn ngữ", "Language"),
    "users.new": ("Thêm người dùng", "New user"),
    "users.created": ("Đã thêm người dùng {name}.", "User {name} added."),
    "role.admin": ("Quản trị viên", "Administrator"),
    "role.marketer": ("Marketer", "Marketer"),
    "role.analyst": ("Chuyên viên phân tích", "Analyst"),
    "role.support": ("Nhân viên CSKH", "Hotline agent"),
    "error.title": ("Không thể thực hiện", "Not possible"),
    "error.forbidden": ("Vai trò của bạn không được phép làm việc này.",
                        "Your role does not allow this."),
    "error.csrf": ("Biểu mẫu đã cũ. Hãy tải lại trang rồi thử lại.",
                   "The form is out of date. Reload the page and try again."),
    "error.not_found": ("Không tìm thấy trang.", "Page not found."),
    "error.back": ("Về trang Tổng quan", "Back to the overview"),
}

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec")


def pick_locale(*candidates: str | None, default: str = "vi") -> str:
    """The first candidate that is a supported language, else ``default``."""
    for c in candidates:
        if c and c.lower()[:2] in LOCALES:
            return c.lower()[:2]
    return default if default in LOCALES else "vi"


def translate(locale: str, key: str, **params: object) -> str:
    """The text for ``key`` in ``locale``; the key itself if the catalogue lacks it."""
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[1] if locale == "en" else pair[0]
    return text.format(**params) if params else text


def translator(locale: str) -> Callable[..., str]:
    """``t(key, **params)`` bound to one language, for templates."""
    return lambda key, **params: translate(locale, key, **params)


def format_number(value: int, locale: str) -> str:
    """Whole numbers with thousands separators: ``1.250.000`` (vi), ``1,250,000`` (en)."""
    text = f"{abs(int(value)):,}"
    if locale != "en":
        text = text.replace(",", ".")
    return f"-{text}" if value < 0 else text


def format_money(amount: int, locale: str) -> str:
    """Integer VND: ``1.250.000 ₫`` (vi), ``₫1,250,000`` (en)."""
    digits = format_number(abs(amount), locale)
    sign = "-" if amount < 0 else ""
    return f"{sign}₫{digits}" if locale == "en" else f"{sign}{digits} ₫"


def format_date(day: date, locale: str) -> str:
    """``23/11/2026`` (vi) or ``23 Nov 2026`` (en), never the ambiguous ``11/23``."""
    if locale == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def format_day_short(day: date, locale: str) -> str:
    """A chart axis label: ``23/11`` (vi) or ``23 Nov`` (en)."""
    if locale == "en":
        return f"{day.day} {_MONTHS_EN[day.month - 1]}"
    return f"{day.day:02d}/{day.month:02d}"


def local_time(moment: datetime, tz: ZoneInfo) -> datetime:
    """A stored moment (naive means UTC) in the retailer's zone."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(tz)


def format_datetime(moment: datetime, locale: str, tz: ZoneInfo) -> str:
    """A stored UTC moment shown in ``tz``: ``23/11/2026 14:05``."""
    local = local_time(moment, tz)
    return f"{format_date(local.date(), locale)} {local:%H:%M}"
