"""sen.segments.audiences: a segment's members as Meta and Google ad audiences.

Normalise and hash emails and phones the way each platform documents
(:mod:`.normalise`), upload them through provider adapters (:mod:`.meta`,
:mod:`.google`), and keep the audience equal to the segment as members enter
and leave (:mod:`.sync`). See ``docs/audiences.md``.
"""

from sen.segments.audiences.errors import AudienceUploadError
from sen.segments.audiences.google import GoogleCustomerMatch
from sen.segments.audiences.meta import MetaCustomAudience
from sen.segments.audiences.normalise import (
    Normalised,
    google_email,
    google_phone,
    meta_email,
    meta_phone,
    sha256_hex,
)
from sen.segments.audiences.sync import (
    AudienceDestination,
    AudienceSync,
    Contact,
    Member,
    Skipped,
    SyncPlan,
    SyncReport,
    member_of,
    plan_sync,
)

__all__ = [
    "AudienceDestination",
    "AudienceSync",
    "AudienceUploadError",
    "Contact",
    "GoogleCustomerMatch",
    "Member",
    "MetaCustomAudience",
    "Normalised",
    "Skipped",
    "SyncPlan",
    "SyncReport",
    "google_email",
    "google_phone",
    "member_of",
    "meta_email",
    "meta_phone",
    "plan_sync",
    "sha256_hex",
]
