"""Consent on both operational stores: changes, history events, opt-outs stop waiting messages."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
import sqlalchemy as sa

from sen.errors import ValidationError
from sen.messaging import consent
from sen.messaging.consent import ConsentChange
from sen.messaging.model import (
    CONSENT_GRANTED,
    CONSENT_REVOKED,
    MESSAGE_SUPPRESSED,
    Channel,
    ConsentStatus,
    Purpose,
    Status,
)
from sen.messaging.outbox import Sender, enqueue
from sen.messaging.policy import MessagingPolicy
from tests.messaging.conftest import NOON, VN, candidate, grant, pending, phone, rows


def test_a_grant_is_stored_and_logged_once(ops: sa.Engine) -> None:
    first = grant(ops, 1)
    again = grant(ops, 1, at=NOON + timedelta(hours=1))
    assert len(first.changed) == 1
    assert again.changed == ()  # the same statement again is not a change
    with ops.connect() as con:
        known = consent.statuses(con, [(Channel.SMS, phone(1))], Purpose.ADVERTISING)
    assert known == {("sms", phone(1)): ConsentStatus.GRANTED}
    logged = pending(ops, CONSENT_GRANTED)
    assert len(logged) == 1
    props = orjson.loads(logged[0].properties)
    assert props["source"] == "import"
    assert props["proof"] == {"column": "agrees_to_promotions"}
    assert logged[0].user_id == "user1"


def test_an_older_statement_never_undoes_a_newer_one(ops: sa.Engine) -> None:
    grant(ops, 1, status=ConsentStatus.REVOKED, at=NOON)
    stale = grant(ops, 1, at=NOON - timedelta(days=30))
    assert stale.changed == ()
    with ops.connect() as con:
        assert consent.statuses(con, [("sms", phone(1))], "advertising") == {
            ("sms", phone(1)): ConsentStatus.REVOKED}


def test_an_opt_out_suppresses_waiting_messages_at_once(ops: sa.Engine) -> None:
    grant(ops, 1, 2)
    enqueue(ops, [candidate(1), candidate(2)], Sender(Purpose.ADVERTISING, campaign="c1"),
            MessagingPolicy(), zone=VN, now=NOON)
    assert [r.status for r in rows(ops)] == ["queued", "queued"]
    applied = grant(ops, 1, status=ConsentStatus.REVOKED, at=NOON + timedelta(minutes=1),
                    source="sms_keyword")
    assert applied.stopped == 1
    assert {r.profile_id: (r.status, r.error) for r in rows(ops)} == {
        "p1": (Status.SUPPRESSED, "opted_out"), "p2": (Status.QUEUED, None)}
    suppressed = pending(ops, MESSAGE_SUPPRESSED)
    assert len(suppressed) == 1
    assert orjson.loads(suppressed[0].properties)["reason"] == "opted_out"
    assert len(pending(ops, CONSENT_REVOKED)) == 1


def test_an_advertising_opt_out_leaves_care_messages(ops: sa.Engine) -> None:
    enqueue(ops, [candidate(1, "care")], Sender(Purpose.CARE, journey="delivery"),
            MessagingPolicy(), zone=VN, now=NOON)
    grant(ops, 1, status=ConsentStatus.REVOKED)
    assert rows(ops)[0].status == Status.QUEUED


def test_an_unknown_address_is_logged_with_its_phone_for_identity(ops: sa.Engine) -> None:
    consent.apply(ops, [ConsentChange(Channel.SMS, phone(7), Purpose.ADVERTISING,
                                      ConsentStatus.REVOKED, "sms_keyword", NOON)], now=NOON)
    ev = pending(ops, CONSENT_REVOKED)[0]
    assert ev.anonymous_id == f"sms:{phone(7)}"
    assert orjson.loads(ev.context) == {"traits": {"phone": phone(7)}}


@pytest.mark.parametrize(("field", "kwargs"), [
    ("channel", {"channel": Channel.WEBHOOK}),
    ("source", {"source": "rumour"}),
    ("address", {"address": ""}),
])
def test_bad_changes_name_the_field(field: str, kwargs: dict) -> None:
    base = {"channel": Channel.SMS, "address": phone(1), "purpose": Purpose.ADVERTISING,
            "status": ConsentStatus.GRANTED, "source": "api", "at": NOON} | kwargs
    with pytest.raises(ValidationError) as err:
        ConsentChange(**base)
    assert err.value.field == field


def test_several_statements_about_one_address_apply_in_turn(ops: sa.Engine) -> None:
    """A sign-up, its withdrawal and a replayed older sign-up, recorded in one call."""
    def change(status: ConsentStatus, at: timedelta) -> ConsentChange:
        return ConsentChange(Channel.SMS, phone(1), Purpose.ADVERTISING, status, "identify",
                             NOON + at, record="u:user1")

    enqueue(ops, [candidate(1)], Sender(Purpose.CARE, campaign="c1"), MessagingPolicy(),
            zone=VN, now=NOON)
    applied = consent.apply(ops, [change(ConsentStatus.GRANTED, timedelta()),
                                  change(ConsentStatus.REVOKED, timedelta(days=2)),
                                  change(ConsentStatus.GRANTED, timedelta(days=1))], now=NOON)
    assert [c.status for c in applied.changed] == [ConsentStatus.GRANTED, ConsentStatus.REVOKED]
    assert applied.stopped == 0  # a care message is not stopped by an advertising refusal
    with ops.connect() as con:
        assert consent.statuses(con, [("sms", phone(1))], "advertising") == {
            ("sms", phone(1)): ConsentStatus.REVOKED}
    assert len(pending(ops, CONSENT_GRANTED)) == len(pending(ops, CONSENT_REVOKED)) == 1
