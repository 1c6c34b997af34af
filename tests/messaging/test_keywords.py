"""Opt-out keywords: the ways customers write a refusal, and texts that only look close."""

from __future__ import annotations

import pytest

from sen.messaging.keywords import is_opt_out, normalise

OPT_OUTS = [
    "TC", "tc", "Tc", " tc ", "TC.", "tc!!", "\"TC\"", "TC SENSHOES", "tc senshoes",
    "tc.senshoes", "TC-SENSHOES", "tcsenshoes", "TC QC", "TC 8079",
    "Từ chối", "TỪ CHỐI", "tu choi", "TUCHOI", "tuchoi SENSHOES", "Từ chối nhận",
    "HUY", "Hủy", "HỦY", "huỷ", "Huỷ QC!", "HUY SENSHOES", "huy dk", "Hủy ĐK", "Hủy đăng ký",
    "STOP", "stop", "Stop.", "STOP ALL", "stop senshoes", "unsubscribe",
    "Ngừng", "Ngừng nhận tin", "Không nhận tin", "KHONG NHAN",
]
NOT_OPT_OUTS = [
    "", "   ", "OK", "Cảm ơn", "TCB", "TCX", "Huy day", "Huy đây", "Hủy đơn", "Hủy đơn hàng",
    "Tôi muốn hủy đơn hàng DH42", "Stop by the store tomorrow", "Khi nào có hàng size 39?",
    "Không", "Dừng", "Đúng", "Dung", "TC SENSHOES ngay lap tuc di",
    "Tu choi nhan hang vi giao tre",
]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_refusals_are_opt_outs(text: str) -> None:
    assert is_opt_out(text, ["SenShoes"])


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_other_texts_are_not(text: str) -> None:
    assert not is_opt_out(text, ["SenShoes"])


def test_weak_keywords_need_a_known_target() -> None:
    assert not is_opt_out("Huy Senshoes")  # no brandname given: "Huy" could be a name
    assert is_opt_out("Huy Senshoes", ["SENSHOES"])
    assert is_opt_out("TC Whoever")  # TC means nothing else


def test_normalise() -> None:
    assert normalise("  Hủy—ĐK, nhé! ") == "HUY DK NHE"
