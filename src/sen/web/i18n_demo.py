"""Words of the demo's pages, in Vietnamese and English; merged into
:data:`sen.web.i18n.MESSAGES`."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "demo.inboxes.title": ("Hộp thư thử nghiệm", "Sandbox inboxes"),
    "demo.inboxes.intro": ("Các nhà cung cấp thử nghiệm mà `sen demo up` chạy cùng Sen nhận "
                           "tin ở đây thay cho điện thoại và hộp thư của khách hàng. Phát động "
                           "chiến dịch mẫu rồi xem tin đến; trang tự làm mới sau vài giây.",
                           "The sandbox providers `sen demo up` runs beside Sen receive "
                           "messages here instead of customers' phones and mailboxes. Launch "
                           "the draft campaign and watch them arrive; the page refreshes "
                           "itself every few seconds."),
    "demo.inboxes.none": ("Không có nhà cung cấp thử nghiệm nào: trang này dành cho bản demo "
                          "(`sen demo up`).",
                          "There are no sandbox providers: this page belongs to the demo "
                          "(`sen demo up`)."),
    "demo.inboxes.stopped": ("Nhà cung cấp thử nghiệm này không chạy. Chạy lại `sen demo up` "
                             "để khởi động.",
                             "This sandbox is not running. Run `sen demo up` again to start "
                             "it."),
    "demo.inboxes.empty": ("Chưa nhận tin nào.", "Nothing received yet."),
    "demo.inboxes.latest": ("{shown} tin mới nhất trong {total} tin.",
                            "The latest {shown} of {total} messages."),
    "demo.inboxes.at": ("Lúc nhận", "Received"),
    "demo.inboxes.to": ("Người nhận", "To"),
    "demo.inboxes.message": ("Nội dung", "Message"),
}
