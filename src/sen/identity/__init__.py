"""sen.identity: who is who.

Pure parts: the normalisers turn identifiers as typed (phones, emails, names,
platform ids) into canonical values or reject them with a reason; the graph
(:func:`link`, :func:`resolve`) links records that share values into profiles
under :class:`MergeRules`; :class:`SurvivorshipRules` choose the golden
record; :func:`score_duplicates` scores probable duplicates with Splink.

Edges that touch the store: :mod:`sen.identity.resolver` (event log →
evidence → profiles and golden records, full or incremental),
:mod:`sen.identity.decisions` (unmerge, link, the review queue) and
:mod:`sen.identity.profiles` (look-up, search, the customer 360).
"""

from sen.identity.duplicates import DuplicateSettings, score_duplicates
from sen.identity.emails import EmailReason, EmailResult, normalise_email
from sen.identity.golden import Strategy, SurvivorshipRules
from sen.identity.graph import MergeEdge, Resolution, link, resolve, resolve_incremental
from sen.identity.ids import IdentifierType, Normalised, Rejected, normalise
from sen.identity.names import fold_name, normalise_name
from sen.identity.phones import PhoneReason, PhoneResult, normalise_phone
from sen.identity.rules import MergeRules

__all__ = [
    "DuplicateSettings",
    "EmailReason",
    "EmailResult",
    "IdentifierType",
    "MergeEdge",
    "MergeRules",
    "Normalised",
    "PhoneReason",
    "PhoneResult",
    "Rejected",
    "Resolution",
    "Strategy",
    "SurvivorshipRules",
    "fold_name",
    "link",
    "normalise",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
    "resolve",
    "resolve_incremental",
    "score_duplicates",
]
