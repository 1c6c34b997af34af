"""The catalogue: two fictional premium brands, styles, colours and sized SKUs.

A *style* (``product_id``) is one model at one list price; a SKU is a style in
one colour and one size. Prices are integer VND ending in ``90.000`` as
Vietnamese price tags do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

BRANDS = ("Vela Saigon", "Mộc Hài")
BRAND_CODES = ("VS", "MH")
BRAND_PREMIUM = (1.0, 1.25)

# name, code, (min, max) list price in VND, styles per brand, sizes, word for the type
CATEGORIES: tuple[tuple[str, str, tuple[int, int], int, tuple[int, int] | None, str], ...] = (
    ("Giày nam", "GN", (1_490_000, 4_490_000), 26, (38, 46), "Giày"),
    ("Giày nữ", "GU", (1_190_000, 3_990_000), 26, (35, 40), "Giày"),
    ("Sandal", "SD", (590_000, 1_490_000), 12, (35, 44), "Sandal"),
    ("Túi xách", "TX", (1_990_000, 4_790_000), 24, None, "Túi"),
    ("Thắt lưng", "TL", (690_000, 1_590_000), 10, None, "Thắt lưng"),
    ("Chăm sóc giày", "CS", (500_000, 790_000), 5, None, "Bộ chăm sóc"),
)
CAT_MEN, CAT_WOMEN, CAT_SANDAL, CAT_BAG, CAT_BELT, CAT_CARE = range(6)

COLOURS = (
    ("Đen", "DEN"),
    ("Nâu", "NAU"),
    ("Nâu bò", "NBO"),
    ("Be", "BE"),
    ("Trắng", "TRG"),
    ("Đỏ đô", "DDO"),
    ("Xanh navy", "NVY"),
    ("Xám", "XAM"),
)
STYLE_WORDS = {
    "GN": (
        "Oxford",
        "Derby",
        "Loafer",
        "Chelsea",
        "Brogue",
        "Monk",
        "Sneaker da",
        "Slip-on",
        "Boot",
    ),
    "GU": ("Cao gót", "Búp bê", "Mule", "Loafer", "Sneaker da", "Boot", "Slingback", "Mary Jane"),
    "SD": ("Quai ngang", "Quai chéo", "Đế xuồng", "Xỏ ngón"),
    "TX": ("Tote", "Đeo chéo", "Clutch", "Công sở", "Mini", "Bucket"),
    "TL": ("Khóa kim", "Khóa trượt", "Bản nhỏ"),
    "CS": ("Xi đánh giày", "Xịt chống thấm", "Kem dưỡng da", "Bàn chải lông ngựa"),
}
MODEL_NAMES = (
    "Hội An",
    "Sa Pa",
    "Hạ Long",
    "Tràng An",
    "Phố Cổ",
    "Sen Hồng",
    "Mộc Châu",
    "Cửu Long",
    "Trường Sơn",
    "Tây Hồ",
    "Bến Thành",
    "Đà Lạt",
    "Côn Đảo",
    "Hương Giang",
    "Lam Kinh",
    "Ngọc Lan",
    "Thu Bồn",
    "Bạch Mã",
    "Phú Quốc",
    "Ba Vì",
)


@dataclass(frozen=True)
class Catalogue:
    """Styles and SKUs as parallel arrays; ``lookup[style, colour, size slot]`` is a SKU."""

    style_brand: np.ndarray
    style_cat: np.ndarray
    style_price: np.ndarray
    style_colours: np.ndarray  # (styles, 3) colour indices, -1 when unused
    style_name: list[str]
    style_id: list[str]
    sku_style: np.ndarray
    sku_colour: np.ndarray
    sku_size: np.ndarray  # 0 when the item has no size
    sku_code: list[str]
    lookup: np.ndarray  # (styles, 3, 13): colour slot x (size - 34, or 0) -> sku

    @property
    def size_range(self) -> np.ndarray:
        """(min, max) size per category, (0, 0) for unsized ones."""
        return np.array([c[4] or (0, 0) for c in CATEGORIES])

    def table(self) -> pa.Table:
        """The product list a retailer exports, one row per SKU."""
        st = self.sku_style
        cat = self.style_cat[st]
        return pa.table(
            {
                "sku": self.sku_code,
                "product_id": [self.style_id[s] for s in st],
                "name": [self.style_name[s] for s in st],
                "brand": [BRANDS[b] for b in self.style_brand[st]],
                "category": [CATEGORIES[c][0] for c in cat],
                "size": [str(s) if s else "" for s in self.sku_size],
                "colour": [COLOURS[c][0] for c in self.sku_colour],
                "list_price": self.style_price[st].astype(np.int64),
            }
        )


def build_catalogue(rng: np.random.Generator) -> Catalogue:
    """About 2,000 SKUs: styles per brand and category, 1-3 colours, every size."""
    brand, cat, price, colours, names, ids = [], [], [], [], [], []
    for b, (bcode, premium) in enumerate(zip(BRAND_CODES, BRAND_PREMIUM, strict=True)):
        for c, (_, ccode, (lo, hi), n_styles, _, word) in enumerate(CATEGORIES):
            for k in range(n_styles):
                p = rng.uniform(lo, hi) * premium
                brand.append(b)
                cat.append(c)
                price.append(min(max(_price_tag(p), 590_000), 5_990_000))
                n_col = 1 if c == CAT_CARE else int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25]))
                chosen = rng.choice(len(COLOURS), size=n_col, replace=False)
                colours.append(list(chosen) + [-1] * (3 - n_col))
                style = STYLE_WORDS[ccode][k % len(STYLE_WORDS[ccode])]
                model = MODEL_NAMES[(k * 7 + b * 3 + c) % len(MODEL_NAMES)]
                names.append(f"{word} {style} {model}")
                ids.append(f"{bcode}-{ccode}-{k + 1:03d}")
    style_colours = np.array(colours)
    return _expand_skus(
        np.array(brand), np.array(cat), np.array(price, dtype=np.int64), style_colours, names, ids
    )


def _price_tag(value: float) -> int:
    """Round to a ``…90.000`` price tag."""
    return int(round((value - 90_000) / 100_000) * 100_000 + 90_000)


def _expand_skus(
    brand: np.ndarray,
    cat: np.ndarray,
    price: np.ndarray,
    colours: np.ndarray,
    names: list[str],
    ids: list[str],
) -> Catalogue:
    """Every (style, colour, size) combination as a SKU, with the dense lookup."""
    sku_style, sku_colour, sku_size, codes = [], [], [], []
    lookup = np.full((len(brand), 3, 13), -1, dtype=np.int64)
    for s in range(len(brand)):
        sizes = CATEGORIES[cat[s]][4]
        size_list = list(range(sizes[0], sizes[1] + 1)) if sizes else [0]
        for slot in range(3):
            colour = colours[s, slot]
            if colour < 0:
                continue
            for size in size_list:
                lookup[s, slot, size - 34 if size else 0] = len(codes)
                sku_style.append(s)
                sku_colour.append(colour)
                sku_size.append(size)
                suffix = f"-{size}" if size else ""
                codes.append(f"{ids[s]}-{COLOURS[colour][1]}{suffix}")
    return Catalogue(
        brand,
        cat,
        price,
        colours,
        names,
        ids,
        np.array(sku_style),
        np.array(sku_colour),
        np.array(sku_size),
        codes,
        lookup,
    )
