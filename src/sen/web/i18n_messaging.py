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
MESSAGES.update({
    "nav.channels": ("Kênh gửi tin", "Channels"),
    "nav.templates": ("Mẫu tin", "Templates"),
    "nav.campaigns": ("Chiến dịch", "Campaigns"),
    "purpose.advertising": ("Quảng cáo", "Advertising"),
    "purpose.care": ("Chăm sóc khách hàng", "Customer care"),
    "purpose.any": ("Mọi loại tin", "Any message"),
    # problems beside a field
    "form.rule.missing": ("Không được để trống.", "This cannot be empty."),
    "form.rule.too_long": ("Quá dài: tối đa {max_length} ký tự.",
                           "Too long: at most {max_length} characters."),
    "form.rule.too_short": ("Quá ngắn: ít nhất {min_length} ký tự.",
                            "Too short: at least {min_length} characters."),
    "form.rule.too_many": ("Quá nhiều: tối đa {max_length}.", "Too many: at most {max_length}."),
    "form.rule.min": ("Nhỏ nhất là {ge}.", "The least allowed is {ge}."),
    "form.rule.more_than": ("Phải lớn hơn {gt}.", "It must be more than {gt}."),
    "form.rule.max": ("Lớn nhất là {le}.", "The most allowed is {le}."),
    "form.rule.number": ("Hãy nhập một số, ví dụ 800.", "Type a number, e.g. 800."),
    "form.rule.invalid": ("Giá trị không hợp lệ.", "This value is not valid."),
    "form.rule.one_of": ("Hãy chọn một giá trị trong danh sách.", "Choose one of the list."),
    "form.rule.pattern": ("Chỉ dùng chữ thường không dấu, số, dấu gạch ngang (-) và gạch dưới "
                          "(_), bắt đầu bằng chữ hoặc số.",
                          "Use lower-case letters, digits, '-' and '_', starting with a letter "
                          "or digit."),
    "form.rule.time": ("Hãy nhập giờ dạng 22:00.", "Type a time such as 22:00."),
    "form.rule.datetime": ("Hãy chọn ngày và giờ.", "Choose a date and a time."),
    "form.rule.json_object": ("Hãy nhập một đối tượng JSON, ví dụ {\"a\": \"b\"}.",
                              "Type a JSON object, e.g. {\"a\": \"b\"}."),
    "form.rule.decree91": ("Quảng cáo qua SMS và email cần giới hạn tần suất gửi tối đa 3 tin "
                           "mỗi 24 giờ cho mỗi người nhận (Nghị định 91/2020); chỉ được siết "
                           "chặt hơn, không nới lỏng.",
                           "Advertising SMS and email need a frequency cap of at most 3 per "
                           "24 hours per recipient (decree 91/2020); it can be tightened, not "
                           "loosened."),
    "form.unknown": ("Không có “{value}” trong danh sách gợi ý.",
                     "“{value}” matches nothing in the suggestions."),
    # channels
    "channels.title": ("Kênh gửi tin", "Channels"),
    "channels.intro": ("Tài khoản nhà cung cấp dùng để gửi SMS, Zalo ZNS, email, thông báo đẩy "
                       "và webhook; quy tắc gửi áp dụng cho mọi tin nhắn.",
                       "The provider accounts that send SMS, Zalo ZNS, email, push and "
                       "webhooks, and the rules every message follows."),
    "channels.providers": ("Tài khoản nhà cung cấp", "Provider accounts"),
    "channels.kind": ("Nhà cung cấp", "Provider"),
    "channels.add": ("Thêm kênh gửi tin", "Add a provider"),
    "channels.none": ("Chưa có kênh gửi tin nào. Thêm một tài khoản (ví dụ eSMS) để bắt đầu gửi "
                      "tin.", "No provider yet. Add an account (eSMS, say) to start sending."),
    "channels.priority": ("Thứ tự ưu tiên", "Priority"),
    "channels.priority_help": ("Số nhỏ hơn được dùng trước khi một kênh có nhiều tài khoản.",
                               "Lower numbers are used first when a channel has several "
                               "accounts."),
    "channels.secrets": ("Khóa bí mật", "Secrets"),
    "channels.stored": ("đã lưu", "stored"),
    "channels.stored_keep": ("đã lưu — để trống để giữ nguyên", "stored — leave empty to keep"),
    "channels.callback": ("Địa chỉ nhận báo cáo (callback URL)", "Callback URL"),
    "channels.callback_help": ("Nhà cung cấp gửi báo cáo đã nhận tin và tin trả lời về địa chỉ "
                               "này. Sen tự điền vào cài đặt callback nếu bạn để trống.",
                               "The provider reports deliveries and replies to this address. "
                               "Sen fills it into the callback setting when you leave that "
                               "empty."),
    "channels.copy": ("Sao chép", "Copy"),
    "channels.copy_label": ("Sao chép địa chỉ nhận báo cáo", "Copy the callback URL"),
    "channels.enabled": ("Đang bật", "Enabled"),
    "channels.disabled": ("Đã tắt", "Disabled"),
    "channels.name": ("Mã tài khoản", "Account name"),
    "channels.name_help": ("Chữ thường không dấu, số, - và _, ví dụ esms-chinh; không đổi được "
                           "sau khi lưu.", "Lower-case letters, digits, '-' and '_', e.g. "
                           "esms-main; it cannot change later."),
    "channels.settings": ("Cài đặt", "Settings"),
    "channels.secret_part": ("Khóa bí mật", "Secrets"),
    "channels.secrets_help": ("Khóa bí mật không bao giờ hiện lại. Để trống một ô để giữ khóa "
                              "đã lưu.", "Secrets are never shown again. Leave a box empty to "
                              "keep the stored one."),
    "channels.save": ("Lưu kênh gửi tin", "Save provider"),
    "channels.saved": ("Đã lưu kênh gửi tin {name}.", "Provider {name} saved."),
    "channels.test": ("Gửi thử", "Test send"),
    "channels.test_help": ("Gửi một tin thẳng qua tài khoản này (không qua quy tắc gửi) để "
                           "kiểm tra cài đặt.", "Send one message straight through this account "
                           "(not through the policy) to check its settings."),
    "channels.test_address": ("Gửi tới (số điện thoại hoặc địa chỉ)", "To (phone or address)"),
    "channels.test_text": ("Nội dung", "Text"),
    "channels.test_default": ("Sen: tin nhắn thử", "Sen: test message"),
    "channels.test_send": ("Gửi thử", "Send test"),
    "channels.test_ok": ("Nhà cung cấp đã nhận tin (mã tin {id}).",
                         "The provider accepted it (message id {id})."),
    "channels.test_failed": ("Nhà cung cấp từ chối:", "The provider refused:"),
    # the policy
    "policy.title": ("Quy tắc gửi tin", "Messaging policy"),
    "policy.intro": ("Áp dụng cho mọi tin nhắn của chiến dịch và hành trình, kiểm tra khi đưa "
                     "vào hàng đợi và lại khi gửi.",
                     "Every campaign and journey message passes these rules, when it is queued "
                     "and again when it is sent."),
    "policy.require_consent": ("Chỉ gửi quảng cáo cho người đã ghi nhận sự đồng ý",
                               "Send advertising only to people whose consent is recorded"),
    "policy.require_consent_help": ("Nghị định 91/2020 yêu cầu người nhận đồng ý trước khi nhận "
                                    "tin quảng cáo. Tin chăm sóc khách hàng chỉ dừng khi khách "
                                    "từ chối.",
                                    "Decree 91/2020 requires the recipient's agreement before "
                                    "advertising. Customer care stops only when she refuses."),
    "policy.consent_off_title": ("Bạn sắp tắt yêu cầu sự đồng ý cho tin quảng cáo.",
                                 "You are turning off recorded consent for advertising."),
    "policy.consent_off_warning": ("Tin quảng cáo sẽ được gửi cho mọi người chưa từ chối, không "
                                   "chỉ người đã đồng ý. Nghị định 91/2020 yêu cầu người nhận "
                                   "đồng ý trước với tin quảng cáo qua SMS, email và cuộc gọi: "
                                   "chỉ tắt khi mọi liên hệ bạn nhập vào đã đồng ý.",
                                   "Advertising goes to everyone who has not refused, not only "
                                   "to those who agreed. Decree 91/2020 requires the "
                                   "recipient's prior agreement for advertising SMS, email and "
                                   "calls: keep this off unless every contact you import has "
                                   "agreed."),
    "policy.consent_off_confirm": ("Tôi hiểu, vẫn tắt", "I understand, turn it off"),
    "policy.consent_keep": ("Giữ yêu cầu sự đồng ý", "Keep requiring consent"),
    "policy.caps": ("Giới hạn tần suất gửi", "Frequency caps"),
    "policy.purpose": ("Loại tin", "Purpose"),
    "policy.max": ("Tối đa (tin)", "At most (messages)"),
    "policy.window_hours": ("Trong (giờ)", "Per (hours)"),
    "policy.remove": ("Bỏ", "Remove"),
    "policy.every_channel": ("Mọi kênh", "Every channel"),
    "policy.quiet": ("Khung giờ không gửi (giờ của khách)", "Quiet hours (her local time)"),
    "policy.from": ("Từ", "From"),
    "policy.to": ("Đến", "To"),
    "policy.duplicate_hours": ("Không gửi lại cùng mẫu tin cho một người trong (giờ)",
                               "No same template to one person again within (hours)"),
    "policy.save": ("Lưu quy tắc gửi tin", "Save policy"),
    "policy.saved": ("Đã lưu quy tắc gửi tin.", "Policy saved."),
    "texts.title": ("Nhãn quảng cáo và cách từ chối", "Advertising label and opt-out"),
    "texts.intro": ("Sen thêm nhãn vào đầu mỗi tin SMS quảng cáo và cách từ chối vào cuối tin.",
                    "Sen starts every advertising SMS with the label and ends it with how to "
                    "refuse."),
    "texts.label": ("Nhãn quảng cáo", "Advertising label"),
    "texts.opt_out": ("Cách từ chối ở cuối tin SMS quảng cáo", "Opt-out at the end of an "
                      "advertising SMS"),
    "texts.opt_out_help": ("{unsubscribe_url} là liên kết từ chối nhận tin của từng tin nhắn.",
                           "{unsubscribe_url} becomes each message's unsubscribe link."),
    "texts.save": ("Lưu", "Save"),
    "texts.saved": ("Đã lưu nhãn quảng cáo và cách từ chối.", "Label and opt-out saved."),
    # provider settings with Vietnamese labels
    "provider.field.brandname": ("Brandname (tên người gửi đã đăng ký)",
                                 "Brandname (registered sender name)"),
    "provider.field.base_url": ("Địa chỉ API", "API address"),
    "provider.field.care_sms_type": ("Loại tin CSKH (SmsType)", "Customer care SmsType"),
    "provider.field.advertising_sms_type": ("Loại tin quảng cáo (SmsType)",
                                            "Advertising SmsType"),
    "provider.field.advertising_mode": ("Cách gửi quảng cáo", "How advertising is sent"),
    "provider.field.callback_url": ("Địa chỉ nhận báo cáo (để trống: địa chỉ của Sen)",
                                    "Callback URL (empty: Sen's own)"),
    "provider.field.sandbox": ("Chế độ thử (kiểm tra, không gửi thật)",
                               "Sandbox (checked, not sent)"),
    "provider.field.opt_out_reply": ("Tin trả lời khi khách nhắn từ chối",
                                     "Reply to an opt-out keyword"),
    "provider.field.price_care": ("Giá mỗi tin CSKH (₫ / phần tin)",
                                  "Price per care message part (₫)"),
    "provider.field.price_advertising": ("Giá mỗi tin quảng cáo (₫ / phần tin)",
                                         "Price per advertising part (₫)"),
    "provider.field.rate_per_s": ("Tối đa (yêu cầu / giây)", "At most (requests per second)"),
    "provider.field.timeout_s": ("Thời gian chờ trả lời (giây)", "Answer timeout (seconds)"),
    "provider.field.api_key": ("ApiKey", "ApiKey"),
    "provider.field.secret_key": ("SecretKey", "SecretKey"),
    "provider.field.callback_token": ("Mã bí mật thêm vào callback URL",
                                      "Token added to the callback URL"),
    "provider.field.mo_private_key": ("PrivateKey nhận tin trả lời (MO)",
                                      "PrivateKey for replies (MO)"),
    "provider.field.sender": ("Tên người gửi (brandname)", "Sender (brandname)"),
    "provider.field.access_token": ("Access token", "Access token"),
    "provider.field.webhook_token": ("Mã bí mật của webhook", "Webhook token"),
    "provider.field.app_id": ("App ID của Zalo", "Zalo App ID"),
    "provider.field.app_secret": ("App secret của Zalo", "Zalo app secret"),
    "provider.field.oa_secret_key": ("OA secret key", "OA secret key"),
    "provider.field.refresh_token": ("Refresh token", "Refresh token"),
    "provider.field.mode": ("Chế độ", "Mode"),
    "provider.field.host": ("Máy chủ SMTP", "SMTP host"),
    "provider.field.port": ("Cổng", "Port"),
    "provider.field.security": ("Bảo mật kết nối", "Connection security"),
    "provider.field.username": ("Tên đăng nhập", "User name"),
    "provider.field.password": ("Mật khẩu", "Password"),
    "provider.field.from_address": ("Địa chỉ người gửi", "From address"),
    "provider.field.from_name": ("Tên người gửi", "From name"),
    "provider.field.reply_to": ("Địa chỉ nhận trả lời", "Reply-to address"),
    "provider.field.subject": ("Liên hệ của người gửi (mailto: hoặc https:)",
                               "Sender contact (mailto: or https:)"),
    "provider.field.signing_secret": ("Khóa ký webhook", "Signing secret"),
    "provider.option.bulk": ("Gửi theo lô (30–5000 số một lần)", "In bulk (30–5000 numbers)"),
    "provider.option.single": ("Từng tin một", "One by one"),
    "provider.option.production": ("Chính thức", "Production"),
    "provider.option.development": ("Phát triển (thử)", "Development"),
    "provider.option.none": ("Không", "None"),
})
