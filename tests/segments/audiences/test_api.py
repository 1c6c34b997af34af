"""The package's public surface is what ``sen.segments.audiences`` exports."""

from __future__ import annotations

import sen.segments.audiences as audiences


def test_public_api() -> None:
    assert sorted(audiences.__all__) == [
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
    assert all(hasattr(audiences, name) for name in audiences.__all__)


def test_both_clients_are_destinations() -> None:
    meta = audiences.MetaCustomAudience("1", "t")
    google = audiences.GoogleCustomerMatch("1", "2", developer_token="d", access_token="t")
    for client in (meta, google):
        destination: audiences.AudienceDestination = client
        assert destination.name in ("meta", "google")
        client.close()
