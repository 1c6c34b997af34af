"""sen.identity: who is who.

This first piece turns identifiers as typed (phones, emails, names, platform
ids) into canonical values, or rejects them with a reason, so that later merge
passes compare like with like and never merge on placeholders. The identity
graph then links records that share those values into profiles, full or
incrementally, under configurable merge rules. Everything here is pure: no I/O,
no state.
"""

from sen.identity.emails import EmailReason, EmailResult, normalise_email
from sen.identity.graph import MergeEdge, Resolution, resolve, resolve_incremental
from sen.identity.ids import IdentifierType, Normalised, Rejected, normalise
from sen.identity.names import fold_name, normalise_name
from sen.identity.phones import PhoneReason, PhoneResult, normalise_phone
from sen.identity.rules import MergeRules

__all__ = [
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
    "fold_name",
    "normalise",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
    "resolve",
    "resolve_incremental",
]
