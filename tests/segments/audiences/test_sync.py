"""Keeping an audience equal to a segment: the diff, then both platforms end to end."""

from __future__ import annotations

import pytest

from sen.segments.audiences import (
    AudienceSync,
    AudienceUploadError,
    GoogleCustomerMatch,
    Member,
    MetaCustomAudience,
    Skipped,
    plan_sync,
)
from tests.segments.audiences.support import digest

LAN = Member("lan", "lan@gmail.com", "+84912345678")
BINH = Member("binh", None, "+84384116370")
CHI = Member("chi", "chi@yahoo.com.vn", None)


def test_plan_for_members_who_enter_leave_change_and_stay() -> None:
    previous = {"lan": LAN, "binh": BINH, "chi": CHI}
    current = {
        "lan": ("Lan@Gmail.com ", "0912 345 678"),  # unchanged once normalised
        "chi": ("chi.new@yahoo.com.vn", None),  # changed email
        "dung": (None, "0128 555 1234"),  # entered; legacy number moved to 078
        "em": ("noemail@gmail.com", "0000000000"),  # entered, nothing usable
    }
    plan = plan_sync(previous, current)
    assert plan.removes == (BINH, CHI)
    assert plan.adds == (Member("chi", "chi.new@yahoo.com.vn", None),
                         Member("dung", None, "+84785551234"))
    assert plan.unchanged == 1
    assert plan.skipped == (Skipped("em", "placeholder_address", "repeated_digits"),)
    assert set(plan.state) == {"chi", "dung", "lan"}


def test_plan_from_nothing_and_to_nothing() -> None:
    first = plan_sync({}, {"lan": ("lan@gmail.com", "+84912345678")})
    assert (first.adds, first.removes) == ((LAN,), ())
    last = plan_sync(first.state, {})
    assert (last.adds, last.removes, last.state) == ((), (LAN,), {})


def test_a_second_run_with_no_change_sends_nothing() -> None:
    class Recorder:
        name = "recorder"
        calls: list[str] = []

        def add(self, members):
            self.calls.append("add")

        def remove(self, members):
            self.calls.append("remove")

    destination = Recorder()
    current = {"lan": ("lan@gmail.com", "+84912345678")}
    first = AudienceSync(destination).run({}, current)
    second = AudienceSync(destination).run(first.state, current)
    assert destination.calls == ["add"]
    assert (second.added, second.removed, second.unchanged) == (0, 0, 1)


@pytest.fixture(params=["meta", "google"])
def destination(request):
    """A real client on a local server, a function reading back the audience's hashes, and
    the server (for its ``failures``)."""
    if request.param == "meta":
        graph, url = request.getfixturevalue("meta_server")
        meta = MetaCustomAudience("6123", "meta-token", base_url=url)

        def meta_hashes() -> set[str]:
            return {h for row in graph.audiences.get("6123", set()) for h in row if h}

        return meta, meta_hashes, graph
    ads, url = request.getfixturevalue("google_server")
    google = GoogleCustomerMatch("1234567890", "555", developer_token="dev-token",
                                 access_token="google-token", base_url=url)

    def google_hashes() -> set[str]:
        return {h for _, h in ads.lists.get("customers/1234567890/userLists/555", set())}

    return google, google_hashes, ads


def phone_hash(name: str, e164: str) -> str:
    return digest(e164.removeprefix("+") if name == "meta" else e164)


def test_buyers_leave_the_audience_and_newcomers_join(destination) -> None:
    """Exclude people who just bought: they left the segment, so they leave the audience."""
    client, audience, _ = destination
    sync = AudienceSync(client)
    week1 = {"lan": ("lan@gmail.com", "0912345678"), "binh": (None, "01684116370"),
             "em": ("test@test.com", "N/A")}
    first = sync.run({}, week1)
    assert (first.added, first.removed, first.skipped_without_identifiers) == (2, 0, 1)
    assert audience() == {digest("lan@gmail.com"), phone_hash(client.name, "+84912345678"),
                          phone_hash(client.name, "+84384116370")}

    week2 = {"binh": (None, "01684116370"), "chi": ("Chi@Yahoo.com.vn", None)}  # lan bought
    second = sync.run(first.state, week2)
    assert (second.destination, second.added, second.removed, second.unchanged) == (
        client.name, 1, 1, 1)
    assert audience() == {phone_hash(client.name, "+84384116370"), digest("chi@yahoo.com.vn")}


def test_a_failed_run_can_be_run_again(destination) -> None:
    """Removals went through, the additions failed: the retry resends both, harmlessly."""
    client, audience, server = destination
    sync = AudienceSync(client)
    first = sync.run({}, {"lan": ("lan@gmail.com", None), "binh": (None, "0384116370")})
    current = {"binh": (None, "0384116370"), "chi": ("chi@yahoo.com.vn", None)}
    requests_per_job = 1 if client.name == "meta" else 3  # Google: create, add, run
    server.failures[len(server.received) + requests_per_job] = 503  # the addition's first
    with pytest.raises(AudienceUploadError) as raised:
        sync.run(first.state, current)
    assert raised.value.transient
    assert digest("lan@gmail.com") not in audience()
    assert digest("chi@yahoo.com.vn") not in audience()
    retry = sync.run(first.state, current)
    assert (retry.added, retry.removed) == (1, 1)
    assert audience() == {phone_hash(client.name, "+84384116370"), digest("chi@yahoo.com.vn")}
