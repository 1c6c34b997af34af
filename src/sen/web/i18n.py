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

from sen.web.i18n_demo import MESSAGES as _DEMO
from sen.web.i18n_messaging import MESSAGES as _MESSAGING

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
    "nav.customers": ("Khách hàng", "Customers"),
    "nav.review": ("Hồ sơ trùng", "Duplicates"),
    "overview.identity": ("Khách hàng định danh và vô danh", "Identified and anonymous customers"),
    "overview.identified": ("Khách hàng định danh", "Identified customers"),
    "overview.anonymous": ("Khách hàng vô danh", "Anonymous customers"),
    "overview.converted": ("Chuyển đổi từ vô danh thành định danh",
                           "Anonymous customers identified"),
    "overview.converted_per_day": ("Chuyển đổi từ vô danh thành định danh mỗi ngày",
                                   "Anonymous customers identified per day"),
    "overview.avg_devices": ("Thiết bị / khách hàng định danh",
                             "Devices per identified customer"),
    "overview.avg_browsers": ("Trình duyệt / khách hàng định danh",
                              "Browsers per identified customer"),
    "overview.web_push": ("Push token web", "Web push tokens"),
    "overview.app_push": ("Push token app", "App push tokens"),
    "profiles.title": ("Khách hàng", "Customers"),
    "profiles.intro": ("Tìm hồ sơ khách hàng theo số điện thoại, email hoặc tên.",
                       "Find a customer profile by phone, email or name."),
    "profiles.query": ("Số điện thoại, email hoặc tên", "Phone, email or name"),
    "profiles.search": ("Tìm", "Search"),
    "profiles.found": ("{n} hồ sơ khớp với “{q}”", "{n} profiles match “{q}”"),
    "profiles.none": ("Không có hồ sơ nào khớp với “{q}”.", "No profile matches “{q}”."),
    "profiles.identified": ("Định danh", "Identified"),
    "profiles.anonymous": ("Vô danh", "Anonymous"),
    "profiles.records": ("Bản ghi", "Records"),
    "profile.title": ("Hồ sơ khách hàng 360", "Customer 360"),
    "profile.unnamed": ("Khách hàng chưa có tên", "Customer without a name"),
    "profile.golden": ("Thông tin khách hàng", "Customer details"),
    "profile.status": ("Loại khách hàng", "Customer"),
    "profile.user_ids": ("User ID", "User IDs"),
    "profile.sources": ("Nguồn dữ liệu", "Sources"),
    "profile.first_seen": ("Lần đầu ghi nhận", "First seen"),
    "profile.last_seen": ("Lần cuối ghi nhận", "Last seen"),
    "profile.devices": ("Thiết bị / trình duyệt", "Devices / browsers"),
    "profile.devices_value": ("{devices} thiết bị, {browsers} trình duyệt",
                              "{devices} devices, {browsers} browsers"),
    "profile.push": ("Push token", "Push tokens"),
    "profile.push_value": ("web {web}, app {app}", "web {web}, app {app}"),
    "profile.records": ("{n} bản ghi được hợp nhất", "{n} records merged"),
    "field.name": ("Tên", "Name"),
    "field.first_name": ("Tên", "First name"),
    "field.last_name": ("Họ", "Last name"),
    "field.phone": ("Số điện thoại", "Phone"),
    "field.email": ("Email", "Email"),
    "field.gender": ("Giới tính", "Gender"),
    "field.birth_date": ("Ngày sinh", "Birth date"),
    "field.province": ("Tỉnh/thành", "Province"),
    "field.address": ("Địa chỉ", "Address"),
    "field.store_code": ("Cửa hàng", "Store"),
    "field.zalo_id": ("Zalo", "Zalo"),
    "field.loyalty_card": ("Thẻ thành viên", "Loyalty card"),
    "field.user_id": ("User ID", "User ID"),
    "field.anonymous_id": ("Anonymous ID", "Anonymous ID"),
    "field.device_id": ("Mã thiết bị", "Device ID"),
    "field.marketplace_buyer": ("Tài khoản sàn TMĐT", "Marketplace buyer"),
    "gender.female": ("Nữ", "Female"),
    "gender.male": ("Nam", "Male"),
    "profile.identifiers": ("Mã định danh", "Identifiers"),
    "profile.id_type": ("Loại", "Type"),
    "profile.raw": ("Giá trị gốc", "As typed"),
    "profile.value": ("Đã chuẩn hóa", "Normalised"),
    "profile.record": ("Bản ghi", "Record"),
    "profile.times": ("Số lần", "Times"),
    "status.linking": ("Liên kết", "Linking"),
    "status.shared": ("Dùng chung", "Shared"),
    "status.blocked": ("Đã chặn", "Blocked"),
    "status.rejected": ("Bị loại", "Rejected"),
    "profile.field_history": ("Lịch sử thuộc tính", "Field history"),
    "profile.field_history_intro": ("Mọi giá trị từng ghi nhận, kể cả giá trị không được "
                                    "chọn khi hợp nhất.",
                                    "Every value ever seen, including those a merge did "
                                    "not choose."),
    "profile.field": ("Thuộc tính", "Field"),
    "profile.field_value": ("Giá trị", "Value"),
    "profile.timeline": ("Dòng thời gian", "Timeline"),
    "profile.event": ("Sự kiện", "Event"),
    "profile.details": ("Chi tiết", "Details"),
    "profile.time": ("Thời gian", "Time"),
    "profile.older": ("Xem sự kiện cũ hơn", "Older events"),
    "profile.no_events": ("Chưa có sự kiện nào.", "No events yet."),
    "profile.orders": ("Đơn hàng", "Orders"),
    "profile.order_id": ("Mã đơn", "Order"),
    "profile.channel": ("Kênh", "Channel"),
    "profile.store": ("Cửa hàng", "Store"),
    "profile.order_total": ("Tổng tiền", "Total"),
    "profile.no_orders": ("Chưa có đơn hàng nào.", "No orders yet."),
    "order.completed": ("Hoàn tất", "Completed"),
    "order.cancelled": ("Đã hủy", "Cancelled"),
    "order.refunded": ("Đã hoàn tiền", "Refunded"),
    "profile.messages": ("Tin nhắn", "Messages"),
    "profile.no_messages": ("Chưa có tin nhắn nào: chưa có kênh gửi tin nào được kết nối.",
                            "No messages yet: no sending channel is connected."),
    "profile.merge_history": ("Lịch sử hợp nhất", "Merge history"),
    "profile.joining": ("Giá trị đang nối các bản ghi của hồ sơ này",
                        "Values joining this profile's records"),
    "profile.joining_none": ("Hồ sơ chỉ có một bản ghi: không có gì để tách.",
                             "This profile has one record: nothing to unmerge."),
    "profile.carried_by": ("có ở {n} bản ghi", "on {n} records"),
    "profile.unmerge": ("Tách hồ sơ", "Unmerge"),
    "profile.blocked_values": ("Giá trị đã bị chặn (không nối ai)",
                               "Blocked values (link nobody)"),
    "profile.restore": ("Hoàn tác", "Undo"),
    "profile.person_links": ("Liên kết do người dùng tạo", "Links made by people"),
    "profile.unlink": ("Hủy liên kết", "Undo link"),
    "profile.action": ("Thao tác", "Action"),
    "profile.cause": ("Lý do", "Cause"),
    "profile.actor": ("Người thực hiện", "By"),
    "profile.others": ("Hồ sơ liên quan", "Other profiles"),
    "profile.no_merges": ("Chưa có lần hợp nhất hay tách nào.", "No merges or splits yet."),
    "profile.traits.title": ("Thuộc tính tính toán", "Computed traits"),
    "profile.traits.none": ("Chưa tính thuộc tính cho khách hàng này. Chạy lệnh "
                            "`sen traits refresh` để tính thuộc tính cho mọi khách hàng.",
                            "Traits have not been computed for this customer yet. Run "
                            "`sen traits refresh` to compute them for every customer."),
    "profile.traits.as_of": ("Tính đến {at} (cập nhật lúc {computed})",
                             "As of {at} (computed {computed})"),
    "profile.traits.value": ("Giá trị và vòng đời", "Value and lifecycle"),
    "profile.traits.scores": ("Điểm R · F · M", "R · F · M scores"),
    "profile.traits.purchases": ("Mua hàng", "Purchases"),
    "profile.traits.favourites": ("Sở thích mua sắm", "Favourites"),
    "profile.traits.person": ("Khách hàng và kênh", "Customer and channels"),
    "profile.traits.per_year": ("Chi tiêu theo năm", "Spend per year"),
    "profile.traits.year": ("Năm", "Year"),
    "profile.traits.no_purchases": ("Chưa có đơn hàng hoàn tất.", "No completed orders yet."),
    "profile.traits.custom": ("Thuộc tính tự định nghĩa", "User-defined traits"),
    "profile.traits.no_custom": ("Chưa có thuộc tính tự định nghĩa nào.",
                                 "No user-defined traits yet."),
    "profile.traits.yes": ("Có", "Yes"),
    "profile.traits.no": ("Không", "No"),
    "merge.merged": ("Hợp nhất", "Merged"),
    "merge.split": ("Tách", "Split"),
    "unmerge.title": ("Tách hồ sơ", "Unmerge"),
    "unmerge.question": ("Tách hồ sơ này theo {type} {value}?",
                         "Unmerge this profile on {type} {value}?"),
    "unmerge.explain": ("Các bản ghi chỉ được nối với nhau nhờ giá trị này sẽ thành hồ sơ "
                        "riêng, và từ nay giá trị này không nối ai với ai nữa. Sự kiện và đơn "
                        "hàng đi theo bản ghi của chúng. Có thể hoàn tác.",
                        "Records joined only by this value become separate profiles, and "
                        "from now on the value links nobody. Events and orders follow their "
                        "records. This can be undone."),
    "unmerge.confirm": ("Xác nhận tách", "Unmerge"),
    "unmerge.cancel": ("Quay lại", "Cancel"),
    "flash.unmerged": ("Đã tách hồ sơ theo {value}. Giá trị này hiện có ở {n} hồ sơ:",
                       "Unmerged on {value}. The value is now on {n} profiles:"),
    "flash.restored": ("Đã hoàn tác: {value} lại nối các bản ghi.",
                       "Undone: {value} links records again."),
    "flash.unlinked": ("Đã hủy liên kết.", "The link is undone."),
    "flash.approved": ("Đã hợp nhất hai hồ sơ.", "The two profiles are merged."),
    "flash.rejected": ("Đã ghi nhận: không phải cùng một khách hàng.",
                       "Noted: not the same customer."),
    "flash.scored": ("Đã tìm xong: {n} cặp đang chờ duyệt.",
                     "Done: {n} pairs are waiting for review."),
    "review.title": ("Duyệt hồ sơ trùng", "Review probable duplicates"),
    "review.intro": ("Các cặp hồ sơ có thể là cùng một khách hàng nhưng không có mã định "
                     "danh chung. Hợp nhất nếu đúng là một người.",
                     "Pairs of profiles that may be one customer but share no identifier. "
                     "Approve when they are one person."),
    "review.probability": ("Xác suất", "Probability"),
    "review.evidence": ("Căn cứ", "Evidence"),
    "review.approve": ("Hợp nhất", "Approve"),
    "review.reject": ("Không phải một người", "Not the same"),
    "review.empty": ("Không có cặp nào đang chờ duyệt.", "No pairs are waiting for review."),
    "review.score": ("Tìm hồ sơ trùng ngay", "Find duplicates now"),
    "nav.traits": ("Thuộc tính", "Traits"),
    "traits.title": ("Thuộc tính khách hàng", "Customer traits"),
    "traits.intro": ("Thuộc tính tính toán cho từng hồ sơ khách hàng, dùng trong phân khúc và "
                     "mẫu tin.", "Traits computed for every customer profile, for segments "
                     "and message templates."),
    "traits.builtin": ("Thuộc tính có sẵn", "Built-in traits"),
    "traits.builtin_intro": ("Sen tính sẵn các thuộc tính này cho mọi khách hàng.",
                             "Sen computes these for every customer."),
    "traits.custom": ("Thuộc tính tự định nghĩa", "User-defined traits"),
    "traits.none": ("Chưa có thuộc tính tự định nghĩa nào.", "No user-defined traits yet."),
    "traits.new": ("Định nghĩa thuộc tính tính toán", "Define a computed trait"),
    "traits.computed_as": ("Cách tính", "Computed as"),
    "traits.edit": ("Sửa", "Edit"),
    "traits.delete": ("Xóa", "Delete"),
    "traits.name": ("Mã thuộc tính", "Name (for segments and templates)"),
    "traits.label": ("Tên hiển thị", "Label"),
    "traits.label_example": ("Doanh số ECCO 365 ngày", "ECCO revenue, last 365 days"),
    "traits.description": ("Mô tả", "Description"),
    "traits.source": ("Dữ liệu", "Data"),
    "traits.event": ("Sự kiện", "Event"),
    "traits.event_help": ("Tên sự kiện chỉ dùng khi dữ liệu là sự kiện. Trường dữ liệu của sự "
                          "kiện viết theo dấu chấm, ví dụ product.brand.",
                          "The event name is for event data only. Event properties are "
                          "written with dots, e.g. product.brand."),
    "traits.aggregate": ("Phép tính", "Aggregate"),
    "traits.property": ("Trường dữ liệu", "Property"),
    "traits.op": ("Điều kiện", "Condition"),
    "traits.value": ("Giá trị", "Value"),
    "traits.filters": ("Điều kiện lọc", "Filters"),
    "traits.filters_help": ("Để trống các dòng không dùng. Với “thuộc” và “không thuộc”, ngăn "
                            "cách các giá trị bằng dấu phẩy. Số viết liền, không dấu chấm: "
                            "500000.",
                            "Leave unused rows empty. For in and not in, separate values with "
                            "commas. Write numbers without separators: 500000."),
    "traits.window": ("Khoảng thời gian", "Time window"),
    "traits.window_days": ("Số ngày gần nhất", "Last N days"),
    "traits.since": ("Từ ngày", "From"),
    "traits.until": ("Đến ngày", "To"),
    "traits.window_help": ("Chọn số ngày gần nhất hoặc khoảng ngày (giờ UTC); để trống để "
                           "tính toàn bộ thời gian.",
                           "Give a number of days or a date range (UTC); leave both empty "
                           "for all time."),
    "traits.statuses": ("Trạng thái đơn hàng được tính", "Order statuses counted"),
    "traits.result": ("Kiểu giá trị", "Value type"),
    "traits.profiles": ("Khách hàng có giá trị", "Profiles with a value"),
    "traits.preview": ("Xem trước", "Preview"),
    "traits.save": ("Lưu và tính", "Save and compute"),
    "traits.preview_result": ("{n} khách hàng có giá trị (tính đến {at}). Giá trị cao nhất:",
                              "{n} profiles have a value (as of {at}). Highest values:"),
    "traits.saved": ("Đã lưu thuộc tính {name}: {n} khách hàng có giá trị.",
                     "Trait {name} saved: {n} profiles have a value."),
    "traits.deleted": ("Đã xóa thuộc tính {name}.", "Trait {name} deleted."),
    "traits.all_time": ("Toàn bộ thời gian", "All time"),
    "traits.last_days": ("{n} ngày gần nhất", "Last {n} days"),
    "source.orders": ("Đơn hàng", "Orders"),
    "source.order_lines": ("Sản phẩm trong đơn hàng", "Order lines"),
    "source.events": ("Sự kiện", "Events"),
    "aggregate.count": ("Đếm số lần", "Count"),
    "aggregate.sum": ("Tổng", "Sum"),
    "aggregate.avg": ("Trung bình", "Average"),
    "aggregate.min": ("Nhỏ nhất", "Minimum"),
    "aggregate.max": ("Lớn nhất", "Maximum"),
    "aggregate.distinct": ("Số giá trị khác nhau", "Distinct values"),
    "aggregate.most_frequent": ("Giá trị thường gặp nhất", "Most frequent"),
    "type.number": ("Số", "Number"),
    "type.text": ("Chữ", "Text"),
    "op.=": ("=", "="),
    "op.!=": ("≠", "≠"),
    "op.<": ("<", "<"),
    "op.<=": ("≤", "≤"),
    "op.>": (">", ">"),
    "op.>=": ("≥", "≥"),
    "op.in": ("thuộc", "in"),
    "op.not_in": ("không thuộc", "not in"),
    "op.contains": ("chứa", "contains"),
    "op.starts_with": ("bắt đầu bằng", "starts with"),
    "op.is_set": ("có giá trị", "is set"),
    "op.is_not_set": ("không có giá trị", "is not set"),
    "nav.segments": ("Phân khúc", "Segments"),
    "segments.title": ("Phân khúc khách hàng", "Customer segments"),
    "segments.intro": ("Tập khách hàng theo điều kiện trên thuộc tính, sự kiện, tin nhắn và "
                       "các phân khúc khác; Sen tự cập nhật thành viên theo tần suất đã chọn.",
                       "Groups of customers by traits, events, messages and other segments; "
                       "Sen updates their members as often as you choose."),
    "segments.new": ("Tạo phân khúc", "New segment"),
    "segments.overlap": ("Giao nhau giữa các phân khúc", "Segment overlap"),
    "segments.none": ("Chưa có phân khúc nào.", "No segments yet."),
    "segments.size": ("Số khách hàng", "Size"),
    "segments.last_run": ("Lần chạy gần nhất", "Last run"),
    "segments.trend": ("Xu hướng", "Trend"),
    "segments.refresh": ("Tần suất cập nhật", "Refresh"),
    "segments.every_minutes": ("{n} phút/lần", "every {n} min"),
    "segments.never_run": ("Chưa chạy", "Not run yet"),
    "segments.uses": ("Dùng phân khúc", "Uses"),
    "segments.change": ("{change} so với lần trước", "{change} since the run before"),
    "segments.ran": ("Đã chạy: {members} khách hàng, {entered} vào, {exited} ra khỏi phân "
                     "khúc.", "Run done: {members} members, {entered} entered, {exited} "
                     "left."),
    "segments.run_now": ("Chạy ngay", "Run now"),
    "segments.history": ("Lịch sử chạy", "Runs"),
    "segments.run_at": ("Thời gian chạy", "Run at"),
    "segments.members": ("Số khách hàng", "Members"),
    "segments.entered": ("Vào phân khúc", "Entered"),
    "segments.exited": ("Ra khỏi phân khúc", "Exited"),
    "segments.seconds": ("Thời gian (giây)", "Seconds"),
    "segments.no_runs": ("Chưa chạy lần nào: phân khúc sẽ chạy ở lần cập nhật tới, hoặc bấm "
                         "Chạy ngay.", "Not run yet: it runs at its next refresh, or press "
                         "Run now."),
    "segments.export": ("Tải danh sách khách hàng", "Download members"),
    "segments.export_fields": ("Các cột thuộc tính (luôn có mã, tên, điện thoại, email)",
                               "Trait columns (id, name, phone and email are always there)"),
    "segments.export_format": ("Định dạng", "Format"),
    "segments.snapshot": ("Danh sách lúc chạy", "Members then"),
    "segments.export_download": ("Tải xuống", "Download"),
    "segments.rule": ("Điều kiện", "Rule"),
    "segments.count": ("Khách hàng thỏa điều kiện", "Matching customers"),
    "segments.sample": ("Một số khách hàng trong phân khúc", "Some of the members"),
    "segments.show_sql": ("Xem SQL", "Show SQL"),
    "segments.save": ("Lưu phân khúc", "Save segment"),
    "segments.name": ("Mã phân khúc", "Name"),
    "segments.name_help": ("Chữ thường không dấu, số và dấu gạch ngang, ví dụ "
                           "khach-vip-mien-nam; không đổi được sau khi lưu.",
                           "Lower-case letters, digits and dashes, e.g. vip-south; it cannot "
                           "change once saved."),
    "segments.title_field": ("Tên hiển thị", "Title"),
    "segments.description": ("Mô tả", "Description"),
    "segments.refresh_minutes": ("Cập nhật sau mỗi (phút)", "Refresh every (minutes)"),
    "segments.read_only": ("Vai trò của bạn được thử điều kiện và xem số khách hàng, nhưng "
                           "không lưu hay chạy phân khúc.",
                           "Your role can try rules and see counts, but not save or run "
                           "segments."),
    "segments.overlap_intro": ("Số khách hàng thuộc cả hai phân khúc, theo lần chạy gần nhất "
                               "của mỗi phân khúc; đường chéo là số khách hàng của từng "
                               "phân khúc.",
                               "Customers in both segments, as of each segment's last run; "
                               "the diagonal is each segment's size."),
    "segments.overlap_show": ("Xem giao nhau", "Show overlap"),
    "segments.open": ("Mở", "Open"),
    "segments.lifecycle": ("Giai đoạn vòng đời", "Lifecycle stage"),
    "segments.rfm_group": ("Nhóm RFM", "RFM group"),
    "audiences.title": ("Đồng bộ tệp quảng cáo", "Ad audiences"),
    "audiences.intro": ("Giữ một tệp đối tượng trên Meta hoặc Google luôn bằng phân khúc này: "
                        "sau mỗi lần chạy, khách mới vào được thêm, khách ra khỏi phân khúc "
                        "được xóa. Email và số điện thoại được chuẩn hóa và băm SHA-256 trước "
                        "khi gửi.",
                        "Keep a Meta or Google audience equal to this segment: after each run, "
                        "newcomers are added and those who left are removed. Emails and phones "
                        "are normalised and SHA-256 hashed before they are sent."),
    "audiences.none": ("Phân khúc này chưa đồng bộ với tệp quảng cáo nào.",
                       "This segment is not synced to any ad audience."),
    "audiences.link": ("Liên kết", "Link"),
    "audiences.destination": ("Nền tảng", "Platform"),
    "audiences.audience_id": ("Mã tệp đối tượng", "Audience id"),
    "audiences.purpose": ("Mục đích", "Purpose"),
    "audiences.purpose.suppress": ("Loại trừ khỏi quảng cáo", "Exclude from ads"),
    "audiences.purpose.lookalike_seed": ("Tệp nguồn lookalike", "Lookalike seed"),
    "audiences.purpose.target": ("Nhắm mục tiêu", "Target"),
    "audiences.destination.meta": ("Meta (Facebook, Instagram)", "Meta (Facebook, Instagram)"),
    "audiences.destination.google": ("Google Customer Match", "Google Customer Match"),
    "audiences.last_sync": ("Lần đồng bộ gần nhất", "Last sync"),
    "audiences.never": ("Chưa đồng bộ", "Not synced yet"),
    "audiences.status.ok": ("Thành công", "Done"),
    "audiences.status.failed": ("Lỗi", "Failed"),
    "audiences.counts": ("+{added} / −{removed} ({skipped} thiếu email và số điện thoại)",
                         "+{added} / −{removed} ({skipped} without email or phone)"),
    "audiences.sync_now": ("Đồng bộ ngay", "Sync now"),
    "audiences.failing": ("{n} lỗi đồng bộ", "{n} failing"),
    "audiences.add": ("Thêm liên kết", "Add a link"),
    "audiences.synced": ("Đã đồng bộ {link}: thêm {added}, xóa {removed}.",
                         "Synced {link}: {added} added, {removed} removed."),
    "audiences.failed": ("Đồng bộ {link} không thành công: {error}",
                         "Syncing {link} failed: {error}"),
    "audiences.saved": ("Đã lưu liên kết {link}; tệp sẽ được đồng bộ sau lần chạy tới.",
                        "Saved link {link}; it syncs after the next run."),
    "segments.needs_js": ("Trình tạo phân khúc cần bật JavaScript.",
                          "The segment builder needs JavaScript."),
    "builder.all": ("Thỏa tất cả", "All of"),
    "builder.any": ("Thỏa một trong", "Any of"),
    "builder.add_condition": ("+ Điều kiện", "+ Condition"),
    "builder.add_group": ("+ Nhóm điều kiện", "+ Group"),
    "builder.negate": ("Phủ định", "Negate"),
    "builder.negated": ("KHÔNG", "NOT"),
    "builder.remove": ("Xóa", "Remove"),
    "builder.kind": ("Loại điều kiện", "Kind"),
    "builder.kind.trait": ("Thuộc tính", "Trait"),
    "builder.kind.event": ("Sự kiện", "Event"),
    "builder.kind.segment": ("Phân khúc", "Segment"),
    "builder.kind.message": ("Tin nhắn", "Message"),
    "builder.kind.order": ("Đơn hàng", "Order"),
    "builder.order.status": ("Trạng thái đơn", "Order status"),
    "builder.order.completed": ("đơn hoàn tất (đã mua)", "a completed order (bought)"),
    "builder.order.refunded": ("đơn hoàn tiền (trả hàng)", "a refunded order (returned)"),
    "builder.order.cancelled": ("đơn đã hủy", "a cancelled order"),
    "builder.order.any": ("đơn bất kỳ", "any order"),
    "builder.order.field": ("Lọc theo", "Filter by"),
    "builder.order.any_item": ("(mọi đơn)", "(every order)"),
    "builder.order.field.channel": ("Kênh bán", "Channel"),
    "builder.order.field.store": ("Cửa hàng", "Store"),
    "builder.order.field.source": ("Nguồn dữ liệu", "Source"),
    "builder.order.field.total": ("Tổng tiền đơn", "Order total"),
    "builder.order.field.subtotal": ("Tiền hàng", "Subtotal"),
    "builder.order.field.discount": ("Giảm giá của đơn", "Order discount"),
    "builder.order.field.shipping": ("Phí vận chuyển", "Shipping"),
    "builder.order.field.coupon": ("Mã giảm giá", "Coupon"),
    "builder.order.field.item_count": ("Số sản phẩm trong đơn", "Items in the order"),
    "builder.order.field.brand": ("Thương hiệu", "Brand"),
    "builder.order.field.category": ("Danh mục", "Category"),
    "builder.order.field.size": ("Cỡ", "Size"),
    "builder.order.field.colour": ("Màu", "Colour"),
    "builder.order.field.sku": ("Mã SKU", "SKU"),
    "builder.order.field.product_id": ("Mã sản phẩm", "Product id"),
    "builder.order.field.product_name": ("Tên sản phẩm", "Product name"),
    "builder.order.field.quantity": ("Số lượng (dòng hàng)", "Quantity (line)"),
    "builder.order.field.price": ("Đơn giá", "Unit price"),
    "builder.order.field.amount": ("Thành tiền (dòng hàng)", "Line amount"),
    "builder.choose_field": ("Chọn thuộc tính", "Choose a trait"),
    "builder.did": ("Đã thực hiện", "Did"),
    "builder.did_not": ("Chưa thực hiện", "Did not"),
    "builder.within_days": ("Trong vòng (ngày)", "Within (days)"),
    "builder.days": ("ngày", "days"),
    "builder.event_name": ("Tên sự kiện", "Event name"),
    "builder.event_property": ("Thuộc tính của sự kiện (tùy chọn), ví dụ brand",
                               "Event property (optional), e.g. brand"),
    "builder.value": ("Giá trị", "Value"),
    "builder.times": ("Ít nhất (lần)", "At least (times)"),
    "builder.spent": ("Ít nhất (₫)", "At least (₫)"),
    "builder.measure": ("Đếm hay cộng tiền", "Count or add up"),
    "builder.measure.times": ("số đơn", "orders"),
    "builder.measure.spent": ("tổng tiền", "total spent"),
    "builder.channel": ("Kênh", "Channel"),
    "builder.any_channel": ("(mọi kênh)", "(any channel)"),
    "channel.sms": ("SMS", "SMS"),
    "channel.zalo": ("Zalo ZNS", "Zalo ZNS"),
    "channel.email": ("Email", "Email"),
    "channel.push": ("Thông báo đẩy", "Push"),
    "channel.webhook": ("Webhook", "Webhook"),
    "builder.member": ("Thuộc phân khúc", "Member of"),
    "builder.not_member": ("Không thuộc phân khúc", "Not a member of"),
    "builder.campaign": ("Chiến dịch", "Campaign"),
    "builder.period": ("Kỳ (YYYY hoặc YYYY-MM)", "Period (YYYY or YYYY-MM)"),
    "builder.empty": ("Thêm một điều kiện để xem số khách hàng.",
                      "Add a condition to see the count."),
    "builder.incomplete": ("Chưa đủ thông tin: điều kiện này chưa được tính.",
                           "Incomplete: this condition is not counted yet."),
    "builder.members": ("khách hàng", "customers"),
    "builder.yes": ("Có", "Yes"),
    "builder.no": ("Không", "No"),
    "builder.saving": ("Đang lưu…", "Saving…"),
    "builder.name_needed": ("Hãy nhập mã phân khúc (chữ thường, số, gạch ngang) và tên hiển "
                            "thị.", "Give the segment a name (lower-case letters, digits, "
                            "dashes) and a title."),
    "op.between": ("trong khoảng", "between"),
    "op.within_days": ("trong vòng (ngày qua)", "within the last (days)"),
    "op.top_percent": ("thuộc nhóm cao nhất (%)", "in the top (%)"),
    "op.more_than_days_ago": ("cách đây hơn (ngày)", "more than (days) ago"),
    "message.received": ("Đã nhận tin", "Received"),
    "message.delivered": ("Tin đã đến máy", "Delivered"),
    "message.opened": ("Đã mở tin", "Opened"),
    "message.clicked": ("Đã bấm vào tin", "Clicked"),
    "message.converted": ("Đã chuyển đổi", "Converted"),
}
MESSAGES.update(_MESSAGING)
MESSAGES.update(_DEMO)

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


def format_decimal(value: float, locale: str, digits: int = 1) -> str:
    """A decimal with ``digits`` places: ``1,5`` (vi), ``1.5`` (en)."""
    text = f"{value:,.{digits}f}"
    if locale != "en":
        text = text.translate(str.maketrans(",.", ".,"))
    return text


def format_percent(share: float, locale: str) -> str:
    """A share of 1 as a percentage with one decimal: ``99,6%`` (vi), ``99.6%`` (en)."""
    return f"{format_decimal(share * 100, locale)}%"


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
