"""Probable duplicates: profiles that no shared identifier linked, scored with Splink.

The identity graph merges records only on equal, non-shared identifiers, so a
cashier's one-digit slip in a phone number, or a second phone, leaves one
customer as two profiles. This module finds such pairs among golden profiles
and scores them with a Fellegi-Sunter model (Splink, DuckDB backend): each
field comparison multiplies the odds of a match by a fixed Bayes factor, m / u,
where m is the chance of that outcome for two profiles of one person and u the
chance for two strangers.

The m and u values are fixed and written down below rather than estimated by
EM, so that a score does not change between runs, needs no training pass, and
can be argued about. Three things come from the data itself:

* term frequencies: agreeing on a rare name, phone, birth date or address
  counts for more than agreeing on "Nguyễn Thị Thủy", a shop's phone typed for
  twenty customers, or a cashier's placeholder birth date;
* the prior, ``duplicate_share / (N - 1)`` for N profiles: the share of
  profiles expected to have an unmerged duplicate, spread over the N - 1
  others. With term frequencies this makes the odds from an equal name or phone
  independent of the table's size, while a coincidence on a birth date or a
  near-equal phone, which grows likelier as the table grows, counts for less;
* blocking: only pairs that share a birth date and name initial, most of a
  phone number, or a name and province are compared, which keeps a million
  profiles to a few million pairs.

Different given names, different valid emails, genders or birth dates weigh
strongly against a match, so family members sharing a phone and address stay
apart. Pairs are only scored here; merging them is the caller's decision.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA = pa.schema(
    [
        ("profile_a", pa.string()),
        ("profile_b", pa.string()),
        ("record_a", pa.string()),
        ("record_b", pa.string()),
        ("probability", pa.float64()),
        ("evidence", pa.string()),
    ]
)


class DuplicateSettings(BaseModel):
    """How probable duplicates are scored and which are returned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    review_threshold: float = Field(default=0.8, ge=0.0, le=1.0)
    """Pairs at or above this probability are returned, to be shown to a person."""

    auto_merge_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    """When set, pairs at or above it may be merged without review (see
    :meth:`is_auto_merge`); None means every pair goes to a person. It cannot be
    below ``review_threshold``: a pair merged unseen must also be a pair shown."""

    duplicate_share: float = Field(default=0.02, gt=0.0, lt=1.0)
    """Expected share of profiles with an unmerged duplicate; sets the prior."""

    max_profiles_per_phone: int = Field(default=20, ge=2)
    """A phone carried by more profiles (a shop's own number) is not used to find
    candidate pairs: it would pair every customer it was typed for."""

    @model_validator(mode="after")
    def _auto_merge_above_review(self) -> DuplicateSettings:
        if self.auto_merge_threshold is not None and (
            self.auto_merge_threshold < self.review_threshold
        ):
            raise ValueError("auto_merge_threshold must not be below review_threshold")
        return self

    def is_auto_merge(self, probability: float) -> bool:
        """Whether a pair with this probability may be merged without review."""
        return self.auto_merge_threshold is not None and probability >= self.auto_merge_threshold


@dataclass(frozen=True, slots=True)
class Level:
    """One outcome of comparing a field, with its Bayes factor m / u.

    ``same`` names the field in "same name, birth date"; ``note`` is a phrase of
    its own ("phone one digit off"); levels with neither are not mentioned.
    ``tf`` names the column whose value frequency replaces u (``tf_floor`` is the
    least u it may give, so a value seen twice in a small table is not taken as
    rarer than it is).
    """

    sql: str
    m: float
    u: float
    same: str | None = None
    note: str | None = None
    tf: str | None = None
    tf_floor: float = 0.0


@dataclass(frozen=True, slots=True)
class Comparison:
    """A field's levels, strongest first; pairs missing the field are neutral."""

    name: str
    null_sql: str
    levels: tuple[Level, ...]


def _both(column: str) -> str:
    return f'"{column}_l" IS NULL OR "{column}_r" IS NULL'


def _eq(column: str) -> str:
    return f'"{column}_l" = "{column}_r"'


# m: how often two profiles of one person give this outcome (slips, moves, second
# phones included); u: how often two strangers do. Each comparison's m and u
# sum to about 1 over its levels.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "name",
        _both("name_folded"),
        (
            Level(_eq("name_folded"), 0.8, 1e-3, same="name", tf="name_key"),
            # Western order (given name first) on one record: "Lan Thị Nguyễn".
            Level(_eq("name_key"), 0.1, 1e-3, note="name in another order", tf="name_key"),
            # A middle name dropped or mistyped; the given name agrees.
            Level(
                '"given_name_l" = "given_name_r" AND '
                'jaro_winkler_similarity("name_folded_l", "name_folded_r") >= 0.88',
                0.05,
                2e-3,
                note="similar name",
            ),
            # Given names a letter apart: a slip, or siblings ("nam", "lam").
            Level(
                'levenshtein("given_name_l", "given_name_r") = 1 AND '
                'jaro_winkler_similarity("name_folded_l", "name_folded_r") >= 0.88',
                0.01,
                0.02,
                note="given names a letter apart",
            ),
            Level("ELSE", 0.04, 0.977, note="different names"),
        ),
    ),
    Comparison(
        "phone",
        _both("phone"),
        (
            Level(_eq("phone"), 0.55, 1e-5, same="phone", tf="phone"),
            # About 90 numbers lie one slip from any number, out of some 3e8 in use.
            Level(
                'levenshtein("phone_l", "phone_r") = 1', 0.03, 1e-6, note="phone one digit off"
            ),
            Level(
                'damerau_levenshtein("phone_l", "phone_r") = 1',
                0.01,
                1e-6,
                note="two phone digits swapped",
            ),
            Level("ELSE", 0.41, 1.0, note="different phones"),
        ),
    ),
    Comparison(
        "birth_date",
        _both("birth_date"),
        (
            # Birth dates spread over some 17,000 days; placeholders such as
            # 1 January get their (higher) frequency instead.
            Level(_eq("birth_date"), 0.9, 6e-5, same="birth date", tf="birth_date", tf_floor=6e-5),
            Level(
                'year("birth_date_l") = year("birth_date_r") AND '
                'month("birth_date_l") = day("birth_date_r") AND '
                'day("birth_date_l") = month("birth_date_r")',
                0.02,
                6e-5,
                note="birth day and month swapped",
            ),
            Level("ELSE", 0.08, 1.0, note="different birth dates"),
        ),
    ),
    Comparison(
        "email",
        _both("email"),
        (
            Level(_eq("email"), 0.9, 1e-5, same="email", tf="email"),
            Level(_eq("email_user"), 0.05, 5e-5, note="same email name at another domain"),
            # Each valid address is one account: two of them mean two people.
            Level("ELSE", 0.002, 1.0, note="different emails"),
        ),
    ),
    Comparison(
        "gender",
        _both("gender"),
        (
            Level(_eq("gender"), 0.98, 0.5),
            Level("ELSE", 0.02, 0.5, note="different genders"),
        ),
    ),
    Comparison(
        "province",
        _both("province"),
        (
            Level(_eq("province"), 0.85, 0.1, tf="province", tf_floor=0.05),
            Level("ELSE", 0.15, 0.9, note="different provinces"),
        ),
    ),
    Comparison(
        "address",
        _both("address"),
        (
            # Households share an address, so it is weaker evidence than a phone.
            Level(_eq("address"), 0.3, 1e-4, same="address", tf="address", tf_floor=1e-5),
            Level("ELSE", 0.7, 1.0),
        ),
    ),
)

# Candidate pairs. A wrong digit leaves a phone equal outside one of these
# windows (counted from the end), so a phone with a window masked is a key per
# window; masking at most three digits keeps each block to a thousand numbers.
PHONE_WINDOWS: tuple[tuple[int, int], ...] = ((2, 0), (5, 2), (7, 5), (9, 7))
BLOCKING_RULES: tuple[str, ...] = (
    'l."birth_date" = r."birth_date" AND l."name_initial" = r."name_initial"',
    *(f'l."phone_key_{i}" = r."phone_key_{i}"' for i in range(len(PHONE_WINDOWS))),
    'l."email_user" = r."email_user"',
)

# Profiles with derived columns for comparing and blocking. Names are folded
# already; addresses, genders and provinces are folded here (strip_accents
# keeps đ, which has no decomposition). A phone that many profiles carry gets
# no block keys: it would pair every customer it was typed for.
_PREPARE = """
CREATE TEMP TABLE {out} AS
WITH base AS (
    SELECT
        CAST(profile_id AS VARCHAR) AS profile_id,
        CAST(record AS VARCHAR) AS record,
        NULLIF(TRIM(name_folded), '') AS name_folded,
        NULLIF(TRIM(phone), '') AS phone,
        NULLIF(TRIM(email), '') AS email,
        CAST(birth_date AS DATE) AS birth_date,
        {gender} AS gender,
        {province} AS province,
        {address} AS address
    FROM {table}
    WHERE profile_id IS NOT NULL
), keyed AS (
    SELECT
        *,
        array_to_string(list_sort(string_split(name_folded, ' ')), ' ') AS name_key,
        string_split(name_folded, ' ')[-1] AS given_name,
        split_part(email, '@', 1) AS email_user,
        CASE WHEN count(*) OVER (PARTITION BY phone) <= {max_phone} THEN phone END AS block_phone
    FROM base
)
SELECT * EXCLUDE (block_phone), left(name_key, 1) AS name_initial, {phone_keys}
FROM keyed
"""
_FOLD = (
    "NULLIF(TRIM(regexp_replace(lower(strip_accents(replace(replace({x}, 'đ', 'd'), 'Đ', 'D')))"
    ", '[^a-z0-9]+', ' ', 'g')), '')"
)
_PHONE_KEY = "left(block_phone, length(block_phone) - {start}) || '_' || right(block_phone, {end})"


def score_duplicates(
    con: duckdb.DuckDBPyConnection,
    *,
    table: str = "profiles",
    settings: DuplicateSettings | None = None,
) -> pa.Table:
    """Probable duplicate pairs among the profiles in ``table``, most probable first.

    ``table`` holds one row per profile: ``profile_id``, ``record`` (a
    representative record id), ``name_folded``, ``phone`` (E.164), ``email``
    (normalised and usable as a key, else NULL), ``birth_date``, ``gender``,
    ``province`` and ``address``; other columns are ignored. Each pair appears
    once with ``profile_a < profile_b`` and a short ``evidence`` text; only
    pairs at or above ``settings.review_threshold`` are returned. Splink's
    working tables are created in ``con`` under ``__splink__``/``__sen_dup_``
    names and dropped before returning.
    """
    settings = settings or DuplicateSettings()
    logging.getLogger("splink").setLevel(logging.WARNING)
    prepared = f"__sen_dup_{uuid.uuid4().hex[:12]}"
    con.sql(
        _PREPARE.format(
            out=prepared,
            table=_quote(table),
            **{column: _FOLD.format(x=column) for column in ("gender", "province", "address")},
            max_phone=settings.max_profiles_per_phone,
            phone_keys=", ".join(
                _PHONE_KEY.format(start=start, end=end) + f" AS phone_key_{i}"
                for i, (start, end) in enumerate(PHONE_WINDOWS)
            ),
        )
    )
    try:
        ((count,),) = con.sql(f"SELECT count(*) FROM {prepared}").fetchall()
        if count < 2:
            return SCHEMA.empty_table()
        return _predict(con, prepared, count, settings)
    finally:
        con.sql(f"DROP TABLE IF EXISTS {prepared}")


def _predict(
    con: duckdb.DuckDBPyConnection, prepared: str, count: int, settings: DuplicateSettings
) -> pa.Table:
    """Run Splink over the prepared table and shape its predictions."""
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    try:
        linker = Linker(
            db_api.register(prepared),
            _splink_settings(settings.duplicate_share / (count - 1)),
            log_level=None,
        )
        predictions = linker.inference.predict(
            threshold_match_probability=settings.review_threshold, warning_mode="never"
        )
        return con.sql(_result_sql(predictions.physical_name)).to_arrow_table().cast(SCHEMA)
    finally:
        db_api.delete_tables_created_by_splink_from_db()


def _splink_settings(prior: float) -> dict:
    """The Splink settings dictionary: fixed m/u, no training."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "profile_id",
        "probability_two_random_records_match": prior,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule, "sql_dialect": "duckdb"} for rule in BLOCKING_RULES
        ],
        "comparisons": [_comparison_dict(c) for c in COMPARISONS],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": ["record"],
    }


def _comparison_dict(comparison: Comparison) -> dict:
    levels: list[dict] = [{"sql_condition": comparison.null_sql, "is_null_level": True}]
    for level in comparison.levels:
        entry: dict = {
            "sql_condition": level.sql,
            "m_probability": level.m,
            "u_probability": level.u,
        }
        if level.tf:
            entry |= {
                "tf_adjustment_column": level.tf,
                "tf_adjustment_weight": 1.0,
                "tf_minimum_u_value": level.tf_floor,
                "disable_tf_exact_match_detection": True,
            }
        levels.append(entry)
    return {"output_column_name": comparison.name, "comparison_levels": levels}


def _result_sql(predictions: str) -> str:
    """Pairs with their evidence, in the output's shape and order."""
    same = ", ".join(_phrase_cases("same"))
    notes = ", ".join(_phrase_cases("note"))
    return f"""
        SELECT
            profile_id_l AS profile_a,
            profile_id_r AS profile_b,
            record_l AS record_a,
            record_r AS record_b,
            CAST(match_probability AS DOUBLE) AS probability,
            concat_ws('; ',
                CASE WHEN len(same) > 0 THEN 'same ' || array_to_string(same, ', ') END,
                CASE WHEN len(notes) > 0 THEN array_to_string(notes, '; ') END
            ) AS evidence
        FROM (
            SELECT *,
                list_filter([{same}], lambda x: x IS NOT NULL) AS same,
                list_filter([{notes}], lambda x: x IS NOT NULL) AS notes
            FROM {predictions}
        )
        ORDER BY probability DESC, profile_a, profile_b
    """


def _phrase_cases(kind: str) -> list[str]:
    """One CASE per comparison giving its level's phrase of ``kind``, or NULL."""
    cases = []
    for comparison in COMPARISONS:
        top = len(comparison.levels) - 1
        whens = [
            f"WHEN {top - i} THEN {_literal(phrase)}"
            for i, level in enumerate(comparison.levels)
            if (phrase := getattr(level, kind))
        ]
        if whens:
            cases.append(f'CASE "gamma_{comparison.name}" {" ".join(whens)} END')
    return cases


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(table: str) -> str:
    """``schema.table`` with each part quoted as an identifier."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))
