"""Probable duplicates: profiles no shared identifier linked, scored with Splink.

The identity graph merges records only on equal, non-shared identifiers, so a
cashier's one-digit slip in a phone number, or a second phone, leaves one
customer as two profiles. :func:`score_duplicates` finds such pairs among the
golden profiles and scores them with a Fellegi-Sunter model (Splink, DuckDB
backend): each field's comparison multiplies the odds of a match by a Bayes
factor m / u, where m is the chance of that outcome for two profiles of one
person and u its chance for two strangers.

The m and u values are fixed and written down in :data:`COMPARISONS` rather
than estimated by EM: a score then does not change from run to run, needs no
training pass, and can be argued about. Three things come from the data:

* term frequencies: agreeing on a rare name, phone, birth date or address
  counts for more than agreeing on "Nguyễn Thị Thủy", a shop's phone typed for
  twenty customers, or a placeholder birth date typed by half the cashiers;
* the prior, ``duplicate_share / (N - 1)`` for N profiles: the share of
  profiles expected to have an unmerged duplicate, spread over the N - 1
  others. With term frequencies, the odds an equal name or phone gives do not
  depend on the table's size, while an equal birth date or a near-equal phone,
  coincidences that grow likelier in a larger table, count for less in one;
* blocking (:data:`BLOCKING_RULES`): only pairs that share a birth date and a
  name word, a phone but for one window of digits, or an email's user name are
  compared: a few million pairs for a million profiles.

Different names, birth dates or genders weigh strongly against a match, so a
family sharing a phone and an address stays apart; different valid emails
outweigh everything else. Pairs are scored here, never merged.
"""

from __future__ import annotations

import functools
import logging
import math
import uuid
from dataclasses import dataclass

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator

PAIR_SCHEMA = pa.schema(
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

    max_block_size: int = Field(default=50, ge=2)
    """Most profiles that may share a block key (see :data:`BLOCKING_RULES`); a
    key shared by more, such as a shop's phone typed for every walk-in customer,
    finds no pairs. This bounds the work at ``N * max_block_size / 2`` pairs
    per rule."""

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


def _either_null(column: str) -> str:
    return f'"{column}_l" IS NULL OR "{column}_r" IS NULL'


def _eq(column: str) -> str:
    return f'"{column}_l" = "{column}_r"'


# Digits that differ, position by position. Padding to E.164's 16 characters
# makes it defined for numbers of different lengths; it is much cheaper than
# levenshtein, and damerau_levenshtein is only run where it says 2.
_HAMMING = """hamming(rpad("phone_l", 16, '_'), rpad("phone_r", 16, '_'))"""
_ONE_DIGIT_OFF = (
    f"{_HAMMING} = 1 OR "
    '(length("phone_l") <> length("phone_r") AND levenshtein("phone_l", "phone_r") = 1)'
)


# m: how often two profiles of one person give this outcome (slips, moves, second
# phones included); u: how often two strangers do. Each comparison's m and u
# sum to about 1 over its levels.
COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "name",
        _either_null("name_folded"),
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
        _either_null("phone"),
        (
            Level(_eq("phone"), 0.55, 1e-5, same="phone", tf="phone"),
            # About 90 numbers lie one slip from any number, out of some 3e8 in use.
            Level(
                _ONE_DIGIT_OFF,
                0.03,
                1e-6,
                note="phone one digit off",
            ),
            Level(
                f'{_HAMMING} = 2 AND damerau_levenshtein("phone_l", "phone_r") = 1',
                0.01,
                1e-6,
                note="two phone digits swapped",
            ),
            Level("ELSE", 0.41, 1.0, note="different phones"),
        ),
    ),
    Comparison(
        "birth_date",
        _either_null("birth_date"),
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
        _either_null("email"),
        (
            Level(_eq("email"), 0.95, 1e-5, same="email", tf="email"),
            Level(_eq("email_user"), 0.05, 5e-5, note="same email name at another domain"),
            # Two valid addresses are two logins. People do have two, but a
            # wrong merge would show one customer another's orders, so this
            # outweighs any other evidence: such pairs need the customer's word.
            Level("ELSE", 1e-7, 1.0, note="different emails"),
        ),
    ),
    Comparison(
        "gender",
        _either_null("gender"),
        (
            Level(_eq("gender"), 0.98, 0.5),
            Level("ELSE", 0.02, 0.5, note="different genders"),
        ),
    ),
    Comparison(
        "province",
        _either_null("province"),
        (
            Level(_eq("province"), 0.85, 0.1, tf="province", tf_floor=0.05),
            Level("ELSE", 0.15, 0.9, note="different provinces"),
        ),
    ),
    Comparison(
        "address",
        _either_null("address"),
        (
            # Households share an address, so it is weaker evidence than a phone.
            Level(_eq("address"), 0.3, 1e-4, same="address", tf="address", tf_floor=1e-5),
            Level("ELSE", 0.7, 1.0),
        ),
    ),
)

# Candidate pairs: profiles that share one of these keys are compared. A wrong
# digit leaves a phone equal outside one of the windows (counted from the end),
# so each phone with one window masked is a key; masking at most three digits
# keeps the numbers in a block to a thousand. A birth date alone would put some
# sixty profiles in a block at a million; with the alphabetically first word of
# the name (the same whatever the word order) it puts two or three.
PHONE_WINDOWS: tuple[tuple[int, int], ...] = ((2, 0), (5, 2), (7, 5), (9, 7))
BLOCK_KEYS: dict[str, str] = {
    "block_birth": "CAST(birth_date AS VARCHAR) || ' ' || split_part(name_key, ' ', 1)",
    **{
        f"block_phone_{i}": f"left(phone, length(phone) - {start}) || '_' || right(phone, {end})"
        for i, (start, end) in enumerate(PHONE_WINDOWS)
    },
    "block_email": "email_user",
}
BLOCKING_RULES: tuple[str, ...] = tuple(f'l."{key}" = r."{key}"' for key in BLOCK_KEYS)

# Profiles with the columns compared and the block keys. Names come folded;
# addresses, genders and provinces are folded here (strip_accents keeps đ,
# which has no decomposition). A key that more than max_block_size profiles
# share (a shop's phone typed for every walk-in, a placeholder birth date) is
# dropped: it would pair them all, and agreeing on it says little anyway.
_PREPARE = """
CREATE TEMP TABLE {out} AS
WITH base AS (
    SELECT
        CAST(profile_id AS VARCHAR) AS profile_id,
        CAST(record AS VARCHAR) AS record,
        NULLIF(TRIM(name_folded), '') AS name_folded,
        NULLIF(TRIM(phone), '') AS phone,
        NULLIF(TRIM(email), '') AS email,
        TRY_CAST(birth_date AS DATE) AS birth_date,
        {gender} AS gender,
        {province} AS province,
        {address} AS address
    FROM {table}
    WHERE profile_id IS NOT NULL
), compared AS (
    SELECT
        *,
        array_to_string(list_sort(string_split(name_folded, ' ')), ' ') AS name_key,
        string_split(name_folded, ' ')[-1] AS given_name,
        split_part(email, '@', 1) AS email_user
    FROM base
)
SELECT row_number() OVER () AS uid, *, {keys}
FROM compared
"""
_CAP = """
UPDATE {out} SET {key} = NULL WHERE {key} IN (
    SELECT {key} FROM {out} WHERE {key} IS NOT NULL GROUP BY ALL HAVING count(*) > {most}
)
"""
_FOLD = (
    "NULLIF(TRIM(regexp_replace(lower(strip_accents(replace(replace({x}, 'đ', 'd'), 'Đ', 'D')))"
    ", '[^a-z0-9]+', ' ', 'g')), '')"
)


def score_duplicates(
    con: duckdb.DuckDBPyConnection,
    *,
    table: str = "profiles",
    settings: DuplicateSettings | None = None,
) -> pa.Table:
    """Probable duplicate pairs among the profiles in ``table``, most probable first.

    ``table`` holds one row per profile: ``profile_id``, ``record`` (a
    representative record id), ``name_folded`` (:func:`~sen.identity.fold_name`),
    ``phone`` (E.164), ``email`` (normalised, and NULL unless usable as a key:
    a placeholder would count as a different valid email), ``birth_date``,
    ``gender``, ``province`` and ``address``; other columns are ignored.

    The result has :data:`PAIR_SCHEMA`: each pair once, ``profile_a <
    profile_b``, with both records, the match probability and a short
    ``evidence`` text ("same name, birth date; phone one digit off"), for the
    pairs at or above ``settings.review_threshold``, sorted by probability
    (highest first) and then by profile ids. Working tables are TEMP tables of
    ``con`` (named ``__sen_dup_…`` and ``__splink__…``) dropped before
    returning, so nothing is written to the database and a read-only
    connection will do.
    """
    settings = settings or DuplicateSettings()
    prepared = f"__sen_dup_{uuid.uuid4().hex[:12]}"
    try:
        _prepare(con, prepared, table, settings.max_block_size)
        ((count,),) = con.sql(f"SELECT count(*) FROM {prepared}").fetchall()
        if count < 2:
            return PAIR_SCHEMA.empty_table()
        return _predict(con, prepared, count, settings)
    finally:
        con.sql(f"DROP TABLE IF EXISTS {prepared}")


def _prepare(con: duckdb.DuckDBPyConnection, out: str, table: str, max_block_size: int) -> None:
    """Create the TEMP table ``out`` of prepared profiles, then drop oversized keys.

    An UPDATE per key costs a fraction of a second at a million profiles; a
    window count per key in the CREATE took ten.
    """
    folded = {column: _FOLD.format(x=column) for column in ("gender", "province", "address")}
    keys = ", ".join(f"{sql} AS {key}" for key, sql in BLOCK_KEYS.items())
    con.sql(_PREPARE.format(out=out, table=_quote(table), keys=keys, **folded))
    for key in BLOCK_KEYS:
        con.sql(_CAP.format(out=out, key=key, most=max_block_size))


def _predict(
    con: duckdb.DuckDBPyConnection, prepared: str, count: int, settings: DuplicateSettings
) -> pa.Table:
    """Run Splink over the prepared table and shape its predictions."""
    from splink import Linker

    db_api = _scratch_api()(connection=con)
    try:
        linker = Linker(
            db_api.register(prepared),
            _splink_settings(settings.duplicate_share / (count - 1)),
            log_level=None,
            validate_settings=False,  # fixed settings, checked by the tests; saves 0.2 s
        )
        predictions = linker.inference.predict(
            threshold_match_weight=_weight_floor(settings.review_threshold), warning_mode="never"
        )
        sql = _result_sql(predictions.physical_name, settings.review_threshold)
        return con.sql(sql).to_arrow_table().cast(PAIR_SCHEMA)
    finally:
        db_api.delete_tables_created_by_splink_from_db()


@functools.cache
def _scratch_api() -> type:
    """Splink's DuckDB backend, with its working tables created as TEMP tables.

    They then stay out of the caller's database file (a read-only connection
    works too) and vanish with the connection if a run is interrupted. Splink
    is imported on first use, and its INFO logging (a line per step) silenced.
    """
    from splink import DuckDBAPI

    logging.getLogger("splink").setLevel(logging.WARNING)

    class ScratchDuckDBAPI(DuckDBAPI):
        def _setup_for_execute_sql(self, sql: str, physical_name: str) -> str:
            self.delete_table_from_database(physical_name)
            return f"CREATE TEMP TABLE {physical_name} AS\n{sql}"

    return ScratchDuckDBAPI


def _weight_floor(threshold: float) -> float | None:
    """A match weight (log2 odds) just below the probability ``threshold``.

    Splink drops pairs below it early; the exact cut is then made on the
    probability. Splink's own conversion fails at 1; a probability that rounds
    to 1.0 has odds above 2**53.
    """
    if threshold <= 0.0:
        return None
    if threshold >= 1.0:
        return 53.0
    return math.log2(threshold / (1.0 - threshold)) - 1e-6


def _splink_settings(prior: float) -> dict:
    """The Splink settings dictionary: fixed m/u, no training."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "uid",
        "probability_two_random_records_match": prior,
        "blocking_rules_to_generate_predictions": [
            {"blocking_rule": rule, "sql_dialect": "duckdb"} for rule in BLOCKING_RULES
        ],
        "comparisons": [_comparison_dict(c) for c in COMPARISONS],
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": ["profile_id", "record"],
    }


def _comparison_dict(comparison: Comparison) -> dict:
    """One comparison in Splink's dictionary form, m and u fixed."""
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


def _result_sql(predictions: str, threshold: float) -> str:
    """Pairs with their evidence, in the output's shape and order.

    A profile listed twice in the input could pair with itself or give a pair
    twice; such rows are dropped rather than returned.
    """
    same = ", ".join(_phrase_cases("same"))
    notes = ", ".join(_phrase_cases("note"))
    return f"""
        SELECT
            least(profile_id_l, profile_id_r) AS profile_a,
            greatest(profile_id_l, profile_id_r) AS profile_b,
            CASE WHEN profile_id_l < profile_id_r THEN record_l ELSE record_r END AS record_a,
            CASE WHEN profile_id_l < profile_id_r THEN record_r ELSE record_l END AS record_b,
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
            WHERE match_probability >= {threshold!r} AND profile_id_l <> profile_id_r
        )
        QUALIFY row_number() OVER (PARTITION BY profile_a, profile_b ORDER BY probability DESC) = 1
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
