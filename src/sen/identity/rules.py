"""Merge rules: which identifiers may link records, and when one is shared.

Kept apart from the graph so that configuration stays data: a retailer tunes
these values, and the resolver reads them without knowing where they came from.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sen.identity.ids import IdentifierType

T = IdentifierType

_ANCHORS = frozenset({T.USER_ID, T.LOYALTY_CARD, T.ZALO_ID, T.MARKETPLACE_BUYER})
_PRIORITY = (T.USER_ID, T.LOYALTY_CARD, T.ZALO_ID, T.MARKETPLACE_BUYER, T.EMAIL, T.PHONE,
             T.DEVICE_ID, T.ANONYMOUS_ID)


class MergeRules(BaseModel):
    """How the identity graph links records into profiles.

    An identifier value is *shared* when, over all records that carry it, it
    appears next to more than ``limit(type)`` distinct values of any one anchor
    type (by default more than 5 distinct ``user_id`` values). A shared value
    links nobody: a shop's own phone typed by cashiers for many customers would
    otherwise merge them all into one profile.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mergeable: frozenset[IdentifierType] = Field(default=frozenset(IdentifierType))
    """Identifier types whose equal values link two records."""

    anchors: frozenset[IdentifierType] = Field(default=_ANCHORS)
    """Types that name one account each; the sharing limit counts their distinct values."""

    max_profiles_per_identifier: int = Field(default=5, ge=1)
    """Most distinct anchor values of one type a value may sit next to and still link.

    Five, because one person is commonly known to the till, the web shop, the
    app and the Zalo OA, and now and then twice to the till; a store's own
    phone typed for every walk-in customer passes it within days.
    """

    max_profiles_by_type: dict[IdentifierType, int] = Field(default_factory=dict)
    """Per-type overrides of ``max_profiles_per_identifier`` (a device may be a family's)."""

    one_per_profile: frozenset[IdentifierType] = Field(default=frozenset())
    """Types of which a profile may hold only one value (one Zalo account per person, say).

    When links would join records carrying two different values of such a type,
    the links are applied in ``priority`` order and each one that would create
    the conflict is refused (and reported), so the weakest evidence gives way.
    """

    name_checked: frozenset[IdentifierType] = Field(default=frozenset({T.PHONE}))
    """Types whose links need the records' names to agree, where both are known.

    Families share a phone; two records joined only by a phone must not carry
    names that cannot be one person's (the words of one name must all be in
    the other, in any order, diacritics and case aside).
    """

    priority: tuple[IdentifierType, ...] = Field(default=_PRIORITY)
    """Identifier types from strongest to weakest evidence; unlisted types come last."""

    def limit(self, id_type: IdentifierType) -> int:
        """The sharing limit for values of ``id_type``."""
        return self.max_profiles_by_type.get(id_type, self.max_profiles_per_identifier)

    def rank(self, id_type: IdentifierType) -> int:
        """Position of ``id_type`` in ``priority`` (0 is strongest)."""
        return self.priority.index(id_type) if id_type in self.priority else len(self.priority)
