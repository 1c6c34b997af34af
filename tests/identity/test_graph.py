"""The identity graph: linking, shared identifiers, merge log, incremental updates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sen.identity import IdentifierType, MergeEdge, MergeRules, resolve, resolve_incremental

T = IdentifierType
SHOP_PHONE = "+842838221234"


def test_two_records_sharing_a_phone_merge() -> None:
    res = resolve([("pos:1", T.PHONE, "+84912345678"), ("order:9", T.PHONE, "+84912345678"),
                   ("order:9", T.EMAIL, "lan@gmail.com")])
    assert res.profiles == {"order:9": "order:9", "pos:1": "order:9"}
    assert res.identifiers[(T.EMAIL, "lan@gmail.com")] == "order:9"
    assert res.merges == {
        "order:9": (MergeEdge(T.PHONE, "+84912345678", ("order:9", "pos:1")),)
    }


def test_a_shop_phone_typed_for_ten_customers_is_shared_and_merges_nobody() -> None:
    obs = [(f"pos:{i}", T.USER_ID, f"C{i:03}") for i in range(10)]
    obs += [(f"pos:{i}", T.PHONE, SHOP_PHONE) for i in range(10)]
    res = resolve(obs)
    assert res.shared == {(T.PHONE, SHOP_PHONE)}
    assert len(set(res.profiles.values())) == 10
    assert res.merges == {}
    assert (T.PHONE, SHOP_PHONE) not in res.identifiers


def test_the_limit_counts_distinct_anchors_not_records() -> None:
    """One customer's hundred orders carry her phone a hundred times: not shared."""
    obs = [(f"order:{i}", T.USER_ID, "C1") for i in range(100)]
    obs += [(f"order:{i}", T.PHONE, "+84912345678") for i in range(100)]
    res = resolve(obs)
    assert res.shared == frozenset()
    assert set(res.profiles.values()) == {"order:0"}


def test_at_the_limit_still_links_and_one_more_makes_it_shared() -> None:
    obs = [(f"pos:{i}", T.USER_ID, f"C{i}") for i in range(4)]
    obs += [(f"pos:{i}", T.PHONE, SHOP_PHONE) for i in range(3)]
    rules = MergeRules(max_profiles_per_identifier=3)
    assert len(set(resolve(obs, rules).profiles.values())) == 2
    res = resolve([*obs, ("pos:3", T.PHONE, SHOP_PHONE)], rules)
    assert len(set(res.profiles.values())) == 4


def test_per_type_limit_overrides_the_default() -> None:
    obs = [(f"ev:{i}", T.USER_ID, f"u{i}") for i in range(3)]
    obs += [(f"ev:{i}", T.DEVICE_ID, "family-ipad") for i in range(3)]
    rules = MergeRules(max_profiles_by_type={T.DEVICE_ID: 1})
    assert len(set(resolve(obs).profiles.values())) == 1
    assert resolve(obs, rules).shared == {(T.DEVICE_ID, "family-ipad")}


def test_alias_links_anonymous_browsing_to_the_identified_user() -> None:
    res = resolve([
        ("ev:1", T.ANONYMOUS_ID, "anon-a"),
        ("ev:2", T.ANONYMOUS_ID, "anon-a"), ("ev:2", T.USER_ID, "u1"),  # identify
        ("ev:3", T.ANONYMOUS_ID, "anon-b"), ("ev:3", T.USER_ID, "u1"),  # second device
        ("ev:4", T.ANONYMOUS_ID, "anon-b"),
    ])
    assert set(res.profiles.values()) == {"ev:1"}
    causes = {(e.id_type, e.value) for e in res.merges["ev:1"]}
    assert causes == {(T.ANONYMOUS_ID, "anon-a"), (T.ANONYMOUS_ID, "anon-b"), (T.USER_ID, "u1")}


def test_a_type_that_is_not_mergeable_never_links() -> None:
    rules = MergeRules(mergeable=frozenset({T.USER_ID, T.EMAIL}))
    res = resolve([("a", T.PHONE, "+84912345678"), ("b", T.PHONE, "+84912345678")], rules)
    assert res.profiles == {"a": "a", "b": "b"}
    assert res.identifiers == {}


def test_profile_ids_do_not_depend_on_input_order() -> None:
    obs = [("r3", T.EMAIL, "x@y.vn"), ("r1", T.EMAIL, "x@y.vn"), ("r2", T.PHONE, "+84912345678"),
           ("r9", T.PHONE, "+84912345678"), ("r2", T.EMAIL, "x@y.vn")]
    assert resolve(obs) == resolve(reversed(obs))
    assert set(resolve(obs).profiles.values()) == {"r1"}


def test_incremental_refuses_changed_rules() -> None:
    res = resolve([("a", T.EMAIL, "x@y.vn")])
    with pytest.raises(ValueError, match="resolve"):
        resolve_incremental(res, [], MergeRules(max_profiles_per_identifier=1))


def test_a_value_becoming_shared_splits_an_earlier_merge() -> None:
    first = [("a", T.USER_ID, "u1"), ("a", T.PHONE, SHOP_PHONE),
             ("b", T.USER_ID, "u2"), ("b", T.PHONE, SHOP_PHONE)]
    rules = MergeRules(max_profiles_per_identifier=2)
    res = resolve(first, rules)
    assert set(res.profiles.values()) == {"a"}
    later = resolve_incremental(res, [("c", T.USER_ID, "u3"), ("c", T.PHONE, SHOP_PHONE)])
    assert later.profiles == {"a": "a", "b": "b", "c": "c"}
    assert later.merges == {}
    assert later == resolve(first + [("c", T.USER_ID, "u3"), ("c", T.PHONE, SHOP_PHONE)], rules)


def test_the_guard_refuses_a_link_that_would_join_two_zalo_accounts() -> None:
    """A family phone beside two Zalo accounts: the weaker link gives way."""
    obs = [("a", T.ZALO_ID, "z1"), ("a", T.PHONE, "+84912345678"),
           ("b", T.ZALO_ID, "z2"), ("b", T.PHONE, "+84912345678"),
           ("c", T.PHONE, "+84912345678"), ("c", T.EMAIL, "lan@gmail.com")]
    rules = MergeRules(one_per_profile=frozenset({T.ZALO_ID}))
    res = resolve(obs, rules)
    assert res.profiles == {"a": "a", "b": "b", "c": "a"}
    assert res.refused == {((T.PHONE, "+84912345678"), "a", "b")}
    assert res.clusters == {"a": "a", "b": "a", "c": "a"}
    assert resolve(obs).profiles == {"a": "a", "b": "a", "c": "a"}


def test_stronger_evidence_is_applied_first() -> None:
    """An email links b to c before the phone is tried, so b keeps c and a stands alone."""
    obs = [("a", T.ZALO_ID, "z1"), ("a", T.PHONE, "+84912345678"),
           ("b", T.ZALO_ID, "z2"), ("b", T.PHONE, "+84912345678"), ("b", T.EMAIL, "x@y.vn"),
           ("c", T.EMAIL, "x@y.vn"), ("c", T.PHONE, "+84912345678")]
    rules = MergeRules(one_per_profile=frozenset({T.ZALO_ID}))
    assert resolve(obs, rules).profiles == {"a": "a", "b": "b", "c": "b"}
    reordered = rules.model_copy(update={"priority": (T.PHONE, T.EMAIL)})
    assert resolve(obs, reordered).profiles == {"a": "a", "b": "b", "c": "a"}


def test_a_family_phone_does_not_merge_people_whose_names_differ() -> None:
    phone = "+84930039034"
    obs = [("u:1", T.USER_ID, "KH1"), ("u:1", T.PHONE, phone),
           ("u:2", T.USER_ID, "KH2"), ("u:2", T.PHONE, phone),
           ("u:3", T.USER_ID, "Z9"), ("u:3", T.PHONE, phone)]
    names = {"u:1": "vu thu vy", "u:2": "le ngoc vy", "u:3": "vy"}
    res = resolve(obs, names=names)
    assert res.profiles == {"u:1": "u:1", "u:2": "u:2", "u:3": "u:1"}
    assert {(r[0], r[1], r[2]) for r in res.refused} == {((T.PHONE, phone), "u:1", "u:2")}


def test_names_in_another_order_or_a_part_of_the_name_still_merge() -> None:
    phone = "+84912345678"
    obs = [("a", T.PHONE, phone), ("b", T.PHONE, phone), ("c", T.PHONE, phone)]
    names = {"a": "nguyen thi lan", "b": "lan nguyen", "c": "nguyen thi lan"}
    assert set(resolve(obs, names=names).profiles.values()) == {"a"}


def test_names_are_not_checked_for_links_by_an_account_id() -> None:
    obs = [("a", T.EMAIL, "x@y.vn"), ("b", T.EMAIL, "x@y.vn")]
    names = {"a": "nguyen thi lan", "b": "tran van nam"}
    assert set(resolve(obs, names=names).profiles.values()) == {"a"}


def _naive(observations: list[tuple[str, T, str]], rules: MergeRules) -> dict[str, str]:
    """A slow, obvious reference: count anchors per value, then flood-fill."""
    on = {}
    for r, t, v in observations:
        on.setdefault(r, set()).add((t, v))
    shared = set()
    for ident in {(t, v) for _, t, v in observations}:
        near = {a for ids in on.values() if ident in ids for a in ids if a[0] in rules.anchors}
        counts = [sum(1 for a in near if a[0] == t) for t in T]
        if max(counts) > rules.limit(ident[0]):
            shared.add(ident)
    links = {r: {i for i in ids if i[0] in rules.mergeable and i not in shared}
             for r, ids in on.items()}
    profile: dict[str, str] = {}
    for start in sorted(on):
        if start in profile:
            continue
        todo, seen = [start], {start}
        while todo:
            r = todo.pop()
            for other in on:
                if other not in seen and links[r] & links[other]:
                    seen.add(other)
                    todo.append(other)
        profile.update({r: min(seen) for r in seen})
    return profile


# Small pools and low limits, so values often cross the sharing limit mid-stream;
# user_id is drawn twice as often because anchors are what the limit counts.
OBSERVATIONS = st.lists(
    st.tuples(
        st.sampled_from([f"r{i:02}" for i in range(16)]),
        st.sampled_from([T.USER_ID, T.USER_ID, T.PHONE, T.EMAIL, T.ANONYMOUS_ID, T.DEVICE_ID,
                         T.LOYALTY_CARD]),
        st.sampled_from([f"v{i}" for i in range(6)]),
    ),
    max_size=40,
)
RULES = st.builds(
    MergeRules,
    mergeable=st.one_of(st.just(frozenset(T)), st.frozensets(st.sampled_from(list(T)))),
    max_profiles_per_identifier=st.integers(1, 3),
    max_profiles_by_type=st.dictionaries(st.sampled_from(list(T)), st.integers(1, 3), max_size=2),
    one_per_profile=st.frozensets(st.sampled_from([T.LOYALTY_CARD, T.DEVICE_ID, T.USER_ID]),
                                  max_size=1),
)


NAMES = st.dictionaries(st.sampled_from([f"r{i:02}" for i in range(16)]),
                        st.sampled_from(["lan", "nguyen lan", "tran nam", "nam"]), max_size=10)


@settings(max_examples=500, deadline=None)
@given(OBSERVATIONS, RULES, st.lists(st.integers(0, 40), max_size=3), NAMES)
def test_incremental_resolution_equals_a_full_rebuild(
    observations: list[tuple[str, T, str]], rules: MergeRules, cuts: list[int],
    names: dict[str, str],
) -> None:
    """Any split into batches gives the same profiles, shared set and merge log."""
    full = resolve(observations, rules, names)
    bounds = [0, *sorted(min(c, len(observations)) for c in cuts), len(observations)]
    res = resolve(observations[: bounds[1]], rules, names)
    for lo, hi in zip(bounds[1:], bounds[2:], strict=False):
        res = resolve_incremental(res, observations[lo:hi])
    assert res == full
    if not rules.one_per_profile:
        assert resolve(observations, rules).profiles == _naive(observations, rules)
