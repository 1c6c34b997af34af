"""The mapping file: how the columns of a retailer's file become Sen fields.

A YAML file validated by pydantic. Errors name the bad key and say what to do,
because the person writing a mapping is usually not the person who wrote Sen.
See ``docs/import.md`` for the format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from sen.errors import ImportError_

Kind = Literal["customers", "orders", "products", "stores", "events"]
Format = Literal["csv", "xlsx", "ndjson", "parquet"]

FIELDS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "name", "phone", "email", "gender", "birth_date", "province",
                  "address", "zalo_id", "loyalty_card", "store_code", "created_at",
                  "consent_advertising", "consent_sms", "consent_zalo", "consent_email"),
    "orders": ("order_id", "ordered_at", "customer_id", "phone", "email", "customer_name",
               "channel", "store_code", "marketplace", "buyer_id", "status", "currency",
               "shipping", "order_discount", "order_coupon", "total", "sku", "product_id",
               "product_name", "brand", "category", "size", "colour", "quantity", "unit_price",
               "line_discount", "line_coupon"),
    "products": ("sku", "product_id", "name", "brand", "category", "size", "colour",
                 "list_price"),
    "stores": ("store_code", "name", "province", "region", "latitude", "longitude",
               "opened_on"),
    "events": (),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id",),
    "orders": ("order_id", "ordered_at", "sku", "quantity", "unit_price"),
    "products": ("sku",),
    "stores": ("store_code",),
    "events": (),
}
EXTENSIONS: dict[str, Format] = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson", ".parquet": "parquet",
    ".pq": "parquet",
}


class ReadOptions(BaseModel):
    """How to read the file: CSV delimiter and encoding, the Excel sheet."""

    model_config = ConfigDict(extra="forbid")

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    encoding: str = "utf-8"
    sheet: str | int | None = None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}; use e.g. utf-8, utf-16, cp1258") \
                from None
        return value


class Mapping(BaseModel):
    """One mapping file. ``columns`` maps Sen fields to the file's column names."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    source: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    format: Format | None = None
    options: ReadOptions = Field(default_factory=ReadOptions)
    timezone: str | None = None
    date_format: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    defaults: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    traits: list[str] = Field(default_factory=list)

    @field_validator("options", mode="before")
    @classmethod
    def _null_options(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}; use an IANA name such as "
                                 "Asia/Ho_Chi_Minh") from None
        return value

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Mapping:
        allowed = FIELDS[self.kind]
        for section in ("columns", "defaults"):
            for name in getattr(self, section):
                if self.kind != "events" and name not in allowed:
                    raise ValueError(
                        f"{section}.{name}: {name!r} is not a field of {self.kind}; "
                        f"use one of: {', '.join(allowed)}")
        if self.kind == "events" and self.columns:
            raise ValueError("columns: events files are read as Segment events and take no "
                             "column mapping; remove `columns`")
        if self.traits and self.kind != "customers":
            raise ValueError("traits: only customers files keep extra columns as traits; "
                             "remove `traits`")
        for name in REQUIRED[self.kind]:
            if name not in self.columns and name not in self.defaults:
                raise ValueError(f"columns.{name}: {self.kind} need {name!r}; add "
                                 f"`{name}: <column name in your file>` under `columns`")
        return self

    def column_names(self) -> list[str]:
        """Every column of the file this mapping reads."""
        return list(dict.fromkeys([*self.columns.values(), *self.traits]))


def _describe(exc: PydanticValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key; remove it (allowed: {_allowed_keys(err['loc'])})"
        elif err["type"] == "missing":
            msg = "required; add it"
        elif err["type"] == "literal_error":
            msg = f"{msg} (got {err.get('input')!r})"
        parts.append(f"{where}: {msg}" if where and not msg.startswith(where) else msg)
    return "; ".join(parts)


def _allowed_keys(loc: tuple[Any, ...]) -> str:
    model = ReadOptions if loc and loc[0] == "options" else Mapping
    return ", ".join(model.model_fields)


def parse_mapping(data: Any, *, origin: str = "mapping") -> Mapping:
    """A :class:`Mapping` from decoded YAML, or an error naming the bad key."""
    if not isinstance(data, dict):
        raise ImportError_(f"The {origin} must be a YAML mapping with at least `kind` and "
                           "`source`; see docs/import.md.")
    try:
        return Mapping.model_validate(data)
    except PydanticValidationError as exc:
        raise ImportError_(f"The {origin} is not valid: {_describe(exc)}.",
                           hint="Fix the key named and run the import again.") from None


def load_mapping(source: Path | str, *, is_text: bool = False) -> Mapping:
    """Read a mapping from a YAML file (or YAML text with ``is_text``)."""
    origin = "mapping" if is_text else f"mapping file {source}"
    try:
        text = str(source) if is_text else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportError_(f"Cannot read the {origin}: {exc.strerror}.",
                           hint="Check the path given with --mapping.") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportError_(f"The {origin} is not valid YAML: {exc}.",
                           hint="Check indentation and quote column names with `:`.") from None
    return parse_mapping(data, origin=origin)


def format_of(path: Path, mapping: Mapping) -> Format:
    """The file format: from the mapping, else from the extension."""
    if mapping.format:
        return mapping.format
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise ImportError_(
            f"Cannot tell the format of {path.name} from its extension.",
            hint="Set `format:` in the mapping to one of csv, xlsx, ndjson, parquet.")
    return fmt
