"""Vietnamese names: weighted vocabularies and text transforms over Arrow arrays.

Surname weights follow the well-known distribution (Nguyễn about 38%, then
Trần, Lê, Phạm, …); middle names depend on gender (Thị for many women, Văn for
many men). Names are assembled column-wise, never one string at a time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SURNAMES: dict[str, float] = {
    "Nguyễn": 38.0,
    "Trần": 11.0,
    "Lê": 9.5,
    "Phạm": 7.1,
    "Hoàng": 3.2,
    "Huỳnh": 2.1,
    "Phan": 4.5,
    "Vũ": 2.5,
    "Võ": 1.9,
    "Đặng": 2.1,
    "Bùi": 2.0,
    "Đỗ": 1.4,
    "Hồ": 1.3,
    "Ngô": 1.3,
    "Dương": 1.0,
    "Lý": 0.5,
    "Đinh": 0.7,
    "Trương": 0.6,
    "Lâm": 0.5,
    "Mai": 0.4,
    "Cao": 0.4,
    "Tạ": 0.3,
    "Trịnh": 0.5,
    "Lương": 0.4,
    "Đoàn": 0.5,
    "Hà": 0.4,
    "Tô": 0.3,
    "Quách": 0.2,
    "Châu": 0.2,
    "Kiều": 0.2,
}
MIDDLE_F: dict[str, float] = {
    "Thị": 40,
    "Ngọc": 10,
    "Thu": 6,
    "Thanh": 7,
    "Minh": 5,
    "Phương": 4,
    "Kim": 4,
    "Mỹ": 4,
    "Bảo": 3,
    "Khánh": 3,
    "Hoàng": 2,
    "Diệu": 2,
    "Quỳnh": 2,
    "Hồng": 3,
    "Thùy": 3,
    "Hải": 2,
}
MIDDLE_M: dict[str, float] = {
    "Văn": 30,
    "Minh": 12,
    "Đức": 9,
    "Quốc": 7,
    "Hoàng": 6,
    "Thanh": 6,
    "Hữu": 6,
    "Công": 5,
    "Xuân": 4,
    "Gia": 4,
    "Anh": 4,
    "Tuấn": 3,
    "Trọng": 3,
    "Đình": 4,
    "Bảo": 3,
    "Nhật": 3,
}
GIVEN_F = [
    "Anh",
    "Lan",
    "Linh",
    "Hương",
    "Trang",
    "Hà",
    "Mai",
    "Thảo",
    "Ngọc",
    "Hằng",
    "Huyền",
    "Nhung",
    "Vy",
    "Trâm",
    "Nhi",
    "Thủy",
    "Yến",
    "Chi",
    "Hạnh",
    "Loan",
    "Phương",
    "Quyên",
    "Tâm",
    "Uyên",
    "Vân",
    "Hoa",
    "Dung",
    "My",
    "Hiền",
    "Oanh",
    "Giang",
    "Hân",
    "Ngân",
    "Thư",
    "Tú",
    "Nga",
    "Xuân",
    "Diệp",
    "Đào",
    "Ánh",
    "Khuê",
    "An",
    "Như",
    "Quỳnh",
    "Trinh",
    "Tuyết",
    "Hồng",
    "Liên",
    "Thúy",
]
GIVEN_M = [
    "Anh",
    "Minh",
    "Hùng",
    "Dũng",
    "Tuấn",
    "Nam",
    "Hải",
    "Long",
    "Phong",
    "Sơn",
    "Thắng",
    "Trung",
    "Hiếu",
    "Khoa",
    "Quân",
    "Huy",
    "Đức",
    "Việt",
    "Tài",
    "Thành",
    "Lâm",
    "Bảo",
    "Khang",
    "Phúc",
    "Hoàng",
    "Kiên",
    "Đạt",
    "Tùng",
    "Vinh",
    "Hưng",
    "Cường",
    "Lộc",
    "Tâm",
    "Hòa",
    "Thịnh",
    "Nhân",
    "Quang",
    "Duy",
    "Khải",
    "Tiến",
    "Toàn",
    "Hậu",
    "Khánh",
    "Tín",
    "Nghĩa",
    "Trí",
    "Thái",
    "Bình",
]


def pick(rng: np.random.Generator, vocab: dict[str, float] | list[str], n: int) -> pa.Array:
    """``n`` draws from a vocabulary (weighted when given as a dict)."""
    words = list(vocab)
    if isinstance(vocab, dict):
        w = np.array(list(vocab.values()), dtype=float)
        idx = rng.choice(len(words), size=n, p=w / w.sum())
    else:
        idx = rng.integers(0, len(words), size=n)
    return pa.array(words).take(pa.array(idx))


def full_names(rng: np.random.Generator, female: np.ndarray) -> tuple[pa.Array, ...]:
    """(surname, middle, given) columns for people of the given genders."""
    n = len(female)
    surname = pick(rng, SURNAMES, n)
    mid_f, mid_m = pick(rng, MIDDLE_F, n), pick(rng, MIDDLE_M, n)
    giv_f, giv_m = pick(rng, GIVEN_F, n), pick(rng, GIVEN_M, n)
    mask = pa.array(female)
    return surname, pc.if_else(mask, mid_f, mid_m), pc.if_else(mask, giv_f, giv_m)


def join_words(*parts: pa.Array) -> pa.Array:
    """Words joined with single spaces, element-wise."""
    return pc.binary_join_element_wise(*parts, " ")


def fold(text: pa.Array) -> pa.Array:
    """Strip Vietnamese diacritics: NFD, drop combining marks, đ→d, Đ→D."""
    out = pc.replace_substring_regex(pc.utf8_normalize(text, "NFD"), "[\u0300-\u036f]", "")
    return pc.replace_substring(pc.replace_substring(out, "đ", "d"), "Đ", "D")


def ascii_slug(text: pa.Array) -> pa.Array:
    """Lower-case ASCII without spaces, for usernames and e-mail local parts."""
    return pc.replace_substring(pc.utf8_lower(fold(text)), " ", "")
