"""The ``*.mapping.yaml`` for each data file: how Sen's importer reads it."""

from __future__ import annotations

from typing import Any

from sen.demo.consents import POS_HEADER
from sen.demo.render import MARKET_DATETIME, POS_DATE, POS_DATETIME

TZ = "Asia/Ho_Chi_Minh"
CSV = {"delimiter": ",", "encoding": "utf-8", "sheet": None}


def stores() -> dict[str, Any]:
    return {
        "kind": "stores",
        "source": "pos",
        "format": "csv",
        "options": CSV,
        "timezone": TZ,
        "date_format": POS_DATE,
        "columns": {
            "store_code": "Mã CH",
            "name": "Tên cửa hàng",
            "province": "Tỉnh/TP",
            "region": "Miền",
            "latitude": "Vĩ độ",
            "longitude": "Kinh độ",
            "opened_on": "Ngày khai trương",
        },
    }


def products() -> dict[str, Any]:
    return {
        "kind": "products",
        "source": "pos",
        "format": "xlsx",
        "options": {"sheet": "Sản phẩm"},
        "timezone": TZ,
        "columns": {
            "sku": "Mã SKU",
            "product_id": "Mã sản phẩm",
            "name": "Tên sản phẩm",
            "brand": "Thương hiệu",
            "category": "Nhóm hàng",
            "size": "Size",
            "colour": "Màu",
            "list_price": "Giá niêm yết",
        },
    }


def pos_customers() -> dict[str, Any]:
    return {
        "kind": "customers",
        "source": "pos",
        "format": "csv",
        "options": CSV,
        "timezone": TZ,
        "date_format": POS_DATE,
        "columns": {
            "customer_id": "Mã KH",
            "name": "Họ tên",
            "phone": "Điện thoại",
            "email": "Email",
            "birth_date": "Ngày sinh",
            "gender": "Giới tính",
            "province": "Tỉnh/TP",
            "address": "Địa chỉ",
            "loyalty_card": "Số thẻ thành viên",
            "store_code": "Cửa hàng",
            "created_at": "Ngày tạo",
            "consent_advertising": POS_HEADER,
        },
        "traits": ["Hạng thẻ", "Ghi chú"],
    }


def pos_invoices() -> dict[str, Any]:
    return {
        "kind": "orders",
        "source": "pos",
        "format": "csv",
        "options": CSV,
        "timezone": TZ,
        "date_format": POS_DATETIME,
        "columns": {
            "order_id": "Số HĐ",
            "ordered_at": "Ngày giờ",
            "store_code": "Mã CH",
            "customer_id": "Mã KH",
            "customer_name": "Tên KH",
            "phone": "SĐT",
            "sku": "Mã hàng",
            "product_name": "Tên hàng",
            "brand": "Thương hiệu",
            "category": "Nhóm hàng",
            "size": "Size",
            "colour": "Màu",
            "quantity": "SL",
            "unit_price": "Đơn giá",
            "line_discount": "Giảm giá",
            "order_coupon": "Mã giảm giá",
            "order_discount": "Giảm giá HĐ",
            "total": "Tổng tiền HĐ",
            "status": "Trạng thái",
        },
        "defaults": {"channel": "store", "currency": "VND"},
    }


def marketplace_orders() -> dict[str, Any]:
    return {
        "kind": "orders",
        "source": "marketplace",
        "format": "csv",
        "options": CSV,
        "timezone": TZ,
        "date_format": MARKET_DATETIME,
        "columns": {
            "order_id": "Mã đơn hàng",
            "marketplace": "Sàn",
            "ordered_at": "Ngày đặt hàng",
            "status": "Trạng thái",
            "buyer_id": "Người mua",
            "customer_name": "Tên người nhận",
            "sku": "SKU",
            "product_name": "Tên sản phẩm",
            "quantity": "Số lượng",
            "unit_price": "Giá gốc",
            "line_discount": "Giảm giá",
            "order_coupon": "Mã voucher",
            "order_discount": "Voucher shop",
            "shipping": "Phí vận chuyển",
            "total": "Tổng thanh toán",
        },
        "defaults": {"channel": "marketplace", "currency": "VND"},
    }


def zalo_followers() -> dict[str, Any]:
    return {
        "kind": "customers",
        "source": "zalo",
        "format": "csv",
        "options": CSV,
        "timezone": TZ,
        "date_format": POS_DATETIME,
        "columns": {
            "customer_id": "Zalo User ID",
            "zalo_id": "Zalo User ID",
            "name": "Tên hiển thị",
            "phone": "Số điện thoại",
            "created_at": "Ngày quan tâm",
        },
    }


def events() -> dict[str, Any]:
    return {"kind": "events", "source": "web", "format": "ndjson", "timezone": "UTC", "columns": {}}
