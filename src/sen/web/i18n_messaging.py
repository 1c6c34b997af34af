"""Words of the messaging pages (channels, templates, campaigns, consent, opt-out), in
Vietnamese and English; merged into :data:`sen.web.i18n.MESSAGES`."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {
    "unsubscribe.title": ("Từ chối nhận tin quảng cáo", "Unsubscribe from advertising"),
    "unsubscribe.done": ("Bạn đã từ chối nhận tin quảng cáo qua {channel} tới {address}. "
                         "Từ bây giờ bạn sẽ không nhận thêm tin quảng cáo nào qua kênh này.",
                         "You will no longer receive advertising by {channel} at {address}. "
                         "This takes effect now."),
    "unsubscribe.already": ("{address} đã từ chối nhận tin quảng cáo qua {channel} trước đó; "
                            "bạn không cần làm gì thêm.",
                            "{address} had already unsubscribed from advertising by "
                            "{channel}; there is nothing more to do."),
    "unsubscribe.ask": ("Bạn muốn từ chối nhận tin quảng cáo qua {channel} tới {address}?",
                        "Stop advertising by {channel} to {address}?"),
    "unsubscribe.confirm": ("Từ chối nhận tin quảng cáo", "Unsubscribe"),
    "unsubscribe.all": ("Từ chối quảng cáo qua mọi kênh", "Unsubscribe from every channel"),
    "unsubscribe.care_note": ("Bạn vẫn nhận tin chăm sóc khách hàng như xác nhận đơn hàng và "
                              "giao hàng.",
                              "You will still receive customer care messages such as order "
                              "and delivery updates."),
}
