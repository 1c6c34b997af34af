"""The golden record: one value per field for each profile, chosen by rules.

A profile's records disagree (a POS clerk typed ``NGUYEN VAN A``, the app
knows ``Nguyễn Văn A``; two phones; an old address). Survivorship rules pick
one value per field; every value stays in ``identity_fields`` with where and
when it was seen, so a merge never loses anything and an unmerge gives each
profile back exactly its own values.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Strategy(StrEnum):
    """How one field's value is chosen among a profile's records."""

    MOST_RECENT = "most_recent"
    MOST_FREQUENT = "most_frequent"
    SOURCE_PRIORITY = "source_priority"
    FIRST_SEEN = "first_seen"


GOLDEN_FIELDS = ("name", "gender", "birth_date", "province", "address", "store_code",
                 "phone", "email", "zalo_id", "loyalty_card")
"""Fields of the golden record (``profiles`` columns of the same names)."""

_DEFAULTS = {
    # A name typed once with diacritics beats a newer one typed without:
    # the source order puts the loyalty programme and the app before the till.
    "name": Strategy.SOURCE_PRIORITY,
    "gender": Strategy.MOST_FREQUENT,
    "birth_date": Strategy.MOST_FREQUENT,
    "province": Strategy.MOST_RECENT,
    "address": Strategy.MOST_RECENT,
    "store_code": Strategy.MOST_FREQUENT,
    "phone": Strategy.MOST_RECENT,
    "email": Strategy.MOST_RECENT,
    "zalo_id": Strategy.MOST_RECENT,
    "loyalty_card": Strategy.FIRST_SEEN,
}


class SurvivorshipRules(BaseModel):
    """Per-field strategies and the source order that ``source_priority`` uses.

    Ties under any strategy fall to the most recent value, then to the
    alphabetically first, so the choice never depends on storage order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    fields: dict[str, Strategy] = Field(default_factory=lambda: dict(_DEFAULTS))
    source_priority: tuple[str, ...] = ("app", "web", "pos", "zalo", "marketplace")
    """Sources from most to least trusted; unlisted sources come after them."""

    @field_validator("fields")
    @classmethod
    def _over_defaults(cls, fields: dict[str, Strategy]) -> dict[str, Strategy]:
        """Fields not named keep Sen's default strategy; unknown fields are refused."""
        unknown = set(fields) - set(GOLDEN_FIELDS)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; the golden record has "
                             f"{', '.join(GOLDEN_FIELDS)}")
        return {**_DEFAULTS, **fields}

    def strategy(self, field: str) -> Strategy:
        return self.fields.get(field, Strategy.MOST_RECENT)


def choice_sql(values: str, rules: SurvivorshipRules) -> str:
    """SQL choosing one value per (profile_id, field) from ``values``.

    ``values`` has columns profile_id, field, value, source, first_seen,
    last_seen, n (one row per record and source); the result has
    profile_id, field, value.
    """
    strategies = ", ".join(f"('{f}', '{rules.strategy(f)}')" for f in GOLDEN_FIELDS)
    sources = ", ".join(f"('{s}', {i})" for i, s in enumerate(rules.source_priority))
    last = "epoch_us(v.last_seen)"
    k1 = (f"CASE s.strategy WHEN 'most_recent' THEN -{last} WHEN 'most_frequent' THEN -v.n "
          f"WHEN 'first_seen' THEN epoch_us(v.first_seen) ELSE v.src END")
    k2 = f"CASE s.strategy WHEN 'most_recent' THEN -v.n ELSE -{last} END"
    return f"""
    SELECT v.profile_id, v.field, arg_min(v.value, ({k1}, {k2}, v.value)) AS value
    FROM (
        SELECT profile_id, field, value, min(first_seen) AS first_seen,
               max(last_seen) AS last_seen, sum(n) AS n, min(coalesce(r.rank, 1000)) AS src
        FROM {values} LEFT JOIN (VALUES {sources}) AS r(source, rank) USING (source)
        GROUP BY profile_id, field, value
    ) v JOIN (VALUES {strategies}) AS s(field, strategy) USING (field)
    GROUP BY v.profile_id, v.field
    """
