"""Provinces, regions and the retailer's 41 stores, with real coordinates.

Province names are the ones in use before the 2025 administrative merger,
because that is what a retailer's existing customer records contain.
Coordinates are the city or district centres where premium malls sit.
"""

from __future__ import annotations

import numpy as np

# province: (region, latitude, longitude, share of customers living there)
PROVINCES: dict[str, tuple[str, float, float, float]] = {
    "TP. Hồ Chí Minh": ("South", 10.7769, 106.7009, 30.0),
    "Hà Nội": ("North", 21.0285, 105.8542, 25.0),
    "Đà Nẵng": ("Central", 16.0544, 108.2022, 4.5),
    "Hải Phòng": ("North", 20.8449, 106.6881, 3.5),
    "Cần Thơ": ("South", 10.0452, 105.7469, 2.5),
    "Bình Dương": ("South", 10.9804, 106.6519, 3.5),
    "Đồng Nai": ("South", 10.9574, 106.8427, 3.0),
    "Khánh Hòa": ("Central", 12.2388, 109.1967, 1.6),
    "Quảng Ninh": ("North", 20.9517, 107.0800, 1.4),
    "Thừa Thiên Huế": ("Central", 16.4637, 107.5909, 1.2),
    "Nghệ An": ("Central", 18.6796, 105.6813, 1.2),
    "Bà Rịa - Vũng Tàu": ("South", 10.3460, 107.0843, 1.2),
    "Lâm Đồng": ("Central", 11.9404, 108.4583, 0.9),
    "Bắc Ninh": ("North", 21.1861, 106.0763, 1.2),
    "Thanh Hóa": ("Central", 19.8067, 105.7852, 1.1),
    "Đắk Lắk": ("Central", 12.6667, 108.0500, 0.8),
    "Bình Định": ("Central", 13.7820, 109.2190, 0.8),
    "Thái Nguyên": ("North", 21.5942, 105.8482, 0.8),
    "Kiên Giang": ("South", 10.0125, 105.0809, 0.8),
    # provinces without a store: customers travel or buy online
    "Hải Dương": ("North", 20.9373, 106.3146, 1.2),
    "Vĩnh Phúc": ("North", 21.3609, 105.5474, 0.8),
    "Nam Định": ("North", 20.4200, 106.1683, 0.9),
    "Quảng Nam": ("Central", 15.5736, 108.4740, 0.8),
    "Long An": ("South", 10.5360, 106.4137, 1.0),
    "Tiền Giang": ("South", 10.3600, 106.3600, 0.8),
    "An Giang": ("South", 10.3860, 105.4350, 0.8),
    "Bắc Giang": ("North", 21.2731, 106.1946, 0.7),
}

# code, district or city, province, latitude, longitude, opened (year), traffic weight
STORES: tuple[tuple[str, str, str, float, float, int, float], ...] = (
    ("HN01", "Hoàn Kiếm", "Hà Nội", 21.0288, 105.8525, 2012, 1.6),
    ("HN02", "Cầu Giấy", "Hà Nội", 21.0362, 105.7906, 2014, 1.3),
    ("HN03", "Long Biên", "Hà Nội", 21.0543, 105.8885, 2016, 1.0),
    ("HN04", "Hai Bà Trưng", "Hà Nội", 21.0059, 105.8575, 2013, 1.2),
    ("HN05", "Tây Hồ", "Hà Nội", 21.0706, 105.8188, 2017, 0.9),
    ("HN06", "Hà Đông", "Hà Nội", 20.9714, 105.7788, 2018, 1.0),
    ("HN07", "Thanh Xuân", "Hà Nội", 20.9937, 105.8123, 2015, 1.1),
    ("HN08", "Nam Từ Liêm", "Hà Nội", 21.0176, 105.7626, 2019, 1.0),
    ("HCM01", "Quận 1", "TP. Hồ Chí Minh", 10.7769, 106.7009, 2011, 1.8),
    ("HCM02", "Quận 3", "TP. Hồ Chí Minh", 10.7843, 106.6844, 2013, 1.2),
    ("HCM03", "Quận 7", "TP. Hồ Chí Minh", 10.7290, 106.7190, 2014, 1.4),
    ("HCM04", "Bình Thạnh", "TP. Hồ Chí Minh", 10.8106, 106.7091, 2015, 1.1),
    ("HCM05", "Phú Nhuận", "TP. Hồ Chí Minh", 10.7991, 106.6803, 2016, 1.0),
    ("HCM06", "Tân Bình", "TP. Hồ Chí Minh", 10.8015, 106.6526, 2014, 1.1),
    ("HCM07", "Quận 10", "TP. Hồ Chí Minh", 10.7727, 106.6679, 2017, 1.0),
    ("HCM08", "Gò Vấp", "TP. Hồ Chí Minh", 10.8387, 106.6653, 2018, 1.0),
    ("HCM09", "Thủ Đức", "TP. Hồ Chí Minh", 10.8494, 106.7537, 2019, 1.2),
    ("HCM10", "Quận 5", "TP. Hồ Chí Minh", 10.7540, 106.6634, 2016, 0.9),
    ("DN01", "Hải Châu", "Đà Nẵng", 16.0471, 108.2068, 2014, 1.2),
    ("DN02", "Sơn Trà", "Đà Nẵng", 16.0685, 108.2367, 2018, 0.8),
    ("DN03", "Thanh Khê", "Đà Nẵng", 16.0640, 108.1880, 2020, 0.7),
    ("HP01", "Lê Chân", "Hải Phòng", 20.8449, 106.6881, 2015, 1.0),
    ("HP02", "Ngô Quyền", "Hải Phòng", 20.8561, 106.6822, 2019, 0.8),
    ("CT01", "Ninh Kiều", "Cần Thơ", 10.0452, 105.7469, 2016, 1.0),
    ("CT02", "Cái Răng", "Cần Thơ", 10.0050, 105.7460, 2021, 0.6),
    ("KH01", "Nha Trang", "Khánh Hòa", 12.2388, 109.1967, 2016, 0.9),
    ("BD01", "Thủ Dầu Một", "Bình Dương", 10.9804, 106.6519, 2017, 0.9),
    ("BD02", "Dĩ An", "Bình Dương", 10.9069, 106.7693, 2020, 0.8),
    ("DNA01", "Biên Hòa", "Đồng Nai", 10.9574, 106.8427, 2017, 0.9),
    ("DNA02", "Long Khánh", "Đồng Nai", 10.9310, 107.2440, 2021, 0.5),
    ("QN01", "Hạ Long", "Quảng Ninh", 20.9517, 107.0800, 2018, 0.8),
    ("HUE01", "Huế", "Thừa Thiên Huế", 16.4637, 107.5909, 2018, 0.7),
    ("NA01", "Vinh", "Nghệ An", 18.6796, 105.6813, 2019, 0.7),
    ("VT01", "Vũng Tàu", "Bà Rịa - Vũng Tàu", 10.3460, 107.0843, 2019, 0.7),
    ("LD01", "Đà Lạt", "Lâm Đồng", 11.9404, 108.4583, 2020, 0.6),
    ("BN01", "Bắc Ninh", "Bắc Ninh", 21.1861, 106.0763, 2020, 0.7),
    ("TH01", "Thanh Hóa", "Thanh Hóa", 19.8067, 105.7852, 2021, 0.6),
    ("DL01", "Buôn Ma Thuột", "Đắk Lắk", 12.6667, 108.0500, 2021, 0.5),
    ("BDI01", "Quy Nhơn", "Bình Định", 13.7820, 109.2190, 2022, 0.5),
    ("TN01", "Thái Nguyên", "Thái Nguyên", 21.5942, 105.8482, 2022, 0.5),
    ("KG01", "Phú Quốc", "Kiên Giang", 10.2270, 103.9670, 2023, 0.5),
)

PROVINCE_NAMES = tuple(PROVINCES)
REGIONS = ("North", "Central", "South")


def province_region_index() -> np.ndarray:
    """Region index (into :data:`REGIONS`) of each province, in table order."""
    return np.array([REGIONS.index(v[0]) for v in PROVINCES.values()])


def store_province_index() -> np.ndarray:
    """Province index of each store."""
    return np.array([PROVINCE_NAMES.index(s[2]) for s in STORES])


def nearest_store_matrix() -> np.ndarray:
    """Stores of each province by distance, nearest first (provinces x stores)."""
    plat = np.radians([v[1] for v in PROVINCES.values()])[:, None]
    plon = np.radians([v[2] for v in PROVINCES.values()])[:, None]
    slat = np.radians([s[3] for s in STORES])[None, :]
    slon = np.radians([s[4] for s in STORES])[None, :]
    h = (
        np.sin((slat - plat) / 2) ** 2
        + np.cos(plat) * np.cos(slat) * np.sin((slon - plon) / 2) ** 2
    )
    return np.argsort(2 * 6371 * np.arcsin(np.sqrt(h)), axis=1, kind="stable")
