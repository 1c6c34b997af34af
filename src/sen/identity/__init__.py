"""sen.identity: who is who.

This first piece turns identifiers as typed (phones, emails, names, platform
ids) into canonical values, or rejects them with a reason, so that later merge
passes compare like with like and never merge on placeholders. Everything here
is pure: no I/O, no state.
"""

from sen.identity.emails import EmailReason, EmailResult, normalise_email
from sen.identity.ids import IdentifierType, Normalised, Rejected, normalise
from sen.identity.names import fold_name, normalise_name
from sen.identity.phones import PhoneReason, PhoneResult, normalise_phone

__all__ = [
    "EmailReason",
    "EmailResult",
    "IdentifierType",
    "Normalised",
    "PhoneReason",
    "PhoneResult",
    "Rejected",
    "fold_name",
    "normalise",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
]
