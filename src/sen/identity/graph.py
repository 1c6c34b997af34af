"""The identity graph: records linked by shared identifiers become profiles.

A *record* is one source row (an event's userId/anonymousId pair, a POS
customer row, an order); an *observation* says that a record carries an
identifier value, already normalised. Two records belong to the same profile
when a chain of non-shared, mergeable identifier values links them: a profile
is a connected component. The profile id is the smallest record id in the
component, so it depends on the data alone, never on input order. (Stable ids
that survive a smaller record joining are a job for the store, which maps them.)

Everything here is pure. The full build is vectorised with numpy; the
incremental path recomputes only the components new observations can touch and
gives exactly what a full build over all observations would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from sen.identity.ids import IdentifierType
from sen.identity.rules import MergeRules

Identifier = tuple[IdentifierType, str]
Observation = tuple[str, IdentifierType, str]

_TYPES = list(IdentifierType)


@dataclass(frozen=True, slots=True)
class MergeEdge:
    """An identifier value that links records of one profile: why they merged."""

    id_type: IdentifierType
    value: str
    records: tuple[str, ...]


@dataclass(frozen=True)
class Resolution:
    """Profiles resolved from observations, with what is needed to update them.

    ``identifiers`` maps every linking value (mergeable and not shared) to its
    profile, the look-up a hotline agent needs. ``merges`` holds, for each
    profile of more than one record, the values that caused the merge. The
    observation indexes are kept so that an update can recompute a component
    from all of its observations.
    """

    profiles: Mapping[str, str]
    identifiers: Mapping[Identifier, str]
    shared: frozenset[Identifier]
    merges: Mapping[str, tuple[MergeEdge, ...]]
    members: Mapping[str, frozenset[str]]
    by_record: Mapping[str, frozenset[Identifier]]
    by_identifier: Mapping[Identifier, frozenset[str]]
    rules: MergeRules


def resolve(observations: Iterable[Observation], rules: MergeRules | None = None) -> Resolution:
    """Resolve all observations into profiles from scratch."""
    rules = rules or MergeRules()
    by_record, by_identifier = _index(observations)
    shared = frozenset(_shared_among(by_identifier.keys(), by_record, by_identifier, rules))
    profiles, identifiers, merges, members = _assemble(
        by_record.keys(), by_record, by_identifier, shared, rules
    )
    return Resolution(profiles=profiles, identifiers=identifiers, shared=shared, merges=merges,
                      members=members, by_record=by_record, by_identifier=by_identifier,
                      rules=rules)


def resolve_incremental(
    previous: Resolution,
    new_observations: Iterable[Observation],
    rules: MergeRules | None = None,
) -> Resolution:
    """Add observations to a resolution, touching only the components they can change.

    Values only ever become shared (counts grow), so a component changes only if
    it holds a record that gained an identifier, a record carrying a new linking
    value, or a record carrying a value that just became shared. Those whole
    components are recomputed from all of their observations; every other
    component is provably the same as in a full rebuild. Changing the rules
    changes every component, so it needs a full :func:`resolve`.
    """
    if rules is not None and rules != previous.rules:
        raise ValueError("the merge rules changed: run resolve() over all observations instead")
    rules = previous.rules
    new = _new_only(new_observations, previous.by_record)
    if not new:
        return previous
    by_record, by_identifier = _extend(previous, new)
    touched = {r for r, _, _ in new}
    candidates = set().union(*(by_record[r] for r in touched)) - previous.shared
    newly = _shared_among(candidates, by_record, by_identifier, rules)
    shared = previous.shared | newly
    linking_new = {(t, v) for _, t, v in new if t in rules.mergeable and (t, v) not in shared}
    seeds = touched.union(*(by_identifier[i] for i in newly | linking_new))
    affected = _whole_components(seeds, previous)
    old_profiles = {previous.profiles[r] for r in affected if r in previous.profiles}
    profiles, identifiers, merges, members = _assemble(
        affected, by_record, by_identifier, shared, rules
    )
    return Resolution(
        profiles=_replace(previous.profiles, affected, profiles),
        identifiers=_drop_values(previous.identifiers, old_profiles) | identifiers,
        shared=shared,
        merges=_replace(previous.merges, old_profiles, merges),
        members=_replace(previous.members, old_profiles, members),
        by_record=by_record,
        by_identifier=by_identifier,
        rules=rules,
    )


def _index(
    observations: Iterable[Observation],
) -> tuple[dict[str, frozenset[Identifier]], dict[Identifier, frozenset[str]]]:
    """Both directions of the record–identifier relation, duplicates removed."""
    by_record: dict[str, set[Identifier]] = {}
    by_identifier: dict[Identifier, set[str]] = {}
    for record, id_type, value in observations:
        ident = (IdentifierType(id_type), value)
        by_record.setdefault(record, set()).add(ident)
        by_identifier.setdefault(ident, set()).add(record)
    return (
        {r: frozenset(s) for r, s in by_record.items()},
        {i: frozenset(s) for i, s in by_identifier.items()},
    )


def _new_only(
    observations: Iterable[Observation], by_record: Mapping[str, frozenset[Identifier]]
) -> list[Observation]:
    """Observations not already known; repeats change nothing."""
    seen: set[Observation] = set()
    out: list[Observation] = []
    for record, id_type, value in observations:
        obs = (record, IdentifierType(id_type), value)
        if obs not in seen and (obs[1], value) not in by_record.get(record, frozenset()):
            seen.add(obs)
            out.append(obs)
    return out


def _extend(
    previous: Resolution, new: list[Observation]
) -> tuple[dict[str, frozenset[Identifier]], dict[Identifier, frozenset[str]]]:
    """Copies of the previous indexes with the new observations added."""
    by_record = dict(previous.by_record)
    by_identifier = dict(previous.by_identifier)
    for record, id_type, value in new:
        ident = (id_type, value)
        by_record[record] = by_record.get(record, frozenset()) | {ident}
        by_identifier[ident] = by_identifier.get(ident, frozenset()) | {record}
    return by_record, by_identifier


def _whole_components(seeds: Iterable[str], previous: Resolution) -> set[str]:
    """Every record in a previous component of a seed (new records stand alone)."""
    out: set[str] = set()
    for record in seeds:
        if record in out:
            continue
        profile = previous.profiles.get(record)
        out |= previous.members[profile] if profile is not None else {record}
    return out


def _replace(mapping: Mapping, old_keys: Iterable, new: Mapping) -> dict:
    """``mapping`` without ``old_keys``, plus ``new``."""
    out = dict(mapping)
    for key in old_keys:
        out.pop(key, None)
    out.update(new)
    return out


def _drop_values(mapping: Mapping[Identifier, str], values: set[str]) -> dict[Identifier, str]:
    """Entries of ``mapping`` whose value is not in ``values``."""
    return {k: v for k, v in mapping.items() if v not in values}


def _shared_among(
    candidates: Iterable[Identifier],
    by_record: Mapping[str, frozenset[Identifier]],
    by_identifier: Mapping[Identifier, frozenset[str]],
    rules: MergeRules,
) -> set[Identifier]:
    """The candidates that sit next to too many distinct anchors of one type.

    Counts use every record carrying a candidate, so they are exact even when
    only a few candidates are checked.
    """
    candidates = set(candidates)
    if not candidates:
        return set()
    records = set().union(*(by_identifier[c] for c in candidates))
    rec_codes, idents, ident_codes = _flatten(records, by_record)
    type_codes = np.array([_TYPES.index(t) for t, _ in idents], dtype=np.int64)
    anchor_count = _max_anchors_per_type(rec_codes, ident_codes, type_codes, rules)
    limits = np.array([rules.limit(t) for t in _TYPES], dtype=np.int64)
    over = np.flatnonzero(anchor_count > limits[type_codes])
    return {idents[i] for i in over.tolist()} & candidates


def _flatten(
    records: Iterable[str], by_record: Mapping[str, frozenset[Identifier]]
) -> tuple[np.ndarray, list[Identifier], np.ndarray]:
    """Observations of ``records`` as parallel code arrays, plus the identifier table."""
    codes: dict[Identifier, int] = {}
    rec_codes: list[int] = []
    ident_codes: list[int] = []
    for i, record in enumerate(records):
        for ident in by_record[record]:
            rec_codes.append(i)
            ident_codes.append(codes.setdefault(ident, len(codes)))
    return np.array(rec_codes, np.int64), list(codes), np.array(ident_codes, np.int64)


def _max_anchors_per_type(
    rec: np.ndarray, ident: np.ndarray, type_of: np.ndarray, rules: MergeRules
) -> np.ndarray:
    """For each identifier, the most distinct anchor values of one type beside it."""
    n_ident = len(type_of)
    out = np.zeros(n_ident, dtype=np.int64)
    anchor_types = np.array([_TYPES.index(t) for t in rules.anchors], dtype=np.int64)
    is_anchor = np.isin(type_of[ident], anchor_types)
    if not is_anchor.any():
        return out
    pairs = _pairs_on_same_record(rec, ident, rec[is_anchor], ident[is_anchor], n_ident)
    pairs = np.unique(pairs)  # distinct (identifier, anchor)
    who, anchor = pairs // n_ident, pairs % n_ident
    groups, counts = np.unique(who * len(_TYPES) + type_of[anchor], return_counts=True)
    np.maximum.at(out, groups // len(_TYPES), counts)
    return out


def _pairs_on_same_record(
    rec: np.ndarray, ident: np.ndarray, a_rec: np.ndarray, a_ident: np.ndarray, n: int
) -> np.ndarray:
    """Keys ``ident * n + anchor`` for every identifier and anchor on one record."""
    order = np.argsort(a_rec, kind="stable")
    a_rec, a_ident = a_rec[order], a_ident[order]
    n_rec = int(rec.max()) + 1
    per_record = np.bincount(a_rec, minlength=n_rec)
    start = np.concatenate(([0], np.cumsum(per_record)[:-1]))
    k = per_record[rec]
    offsets = np.arange(int(k.sum())) - np.repeat(np.cumsum(k) - k, k)
    partner = a_ident[np.repeat(start[rec], k) + offsets]
    return np.repeat(ident, k) * n + partner


def _assemble(
    records: Iterable[str],
    by_record: Mapping[str, frozenset[Identifier]],
    by_identifier: Mapping[Identifier, frozenset[str]],
    shared: frozenset[Identifier],
    rules: MergeRules,
) -> tuple[dict[str, str], dict[Identifier, str], dict[str, tuple[MergeEdge, ...]],
           dict[str, frozenset[str]]]:
    """Profiles, look-ups, merge log and members for a union of whole components."""
    ordered = sorted(records)
    links = {i for r in ordered for i in by_record[r]
             if i[0] in rules.mergeable and i not in shared}
    profiles = _components(ordered, by_record, links)
    identifiers = {i: profiles[next(iter(by_identifier[i]))] for i in links}
    merges: dict[str, list[MergeEdge]] = {}
    for ident in sorted(i for i in links if len(by_identifier[i]) > 1):
        edge = MergeEdge(ident[0], ident[1], tuple(sorted(by_identifier[ident])))
        merges.setdefault(identifiers[ident], []).append(edge)
    members: dict[str, set[str]] = {}
    for record, profile in profiles.items():
        members.setdefault(profile, set()).add(record)
    return (profiles, identifiers, {p: tuple(e) for p, e in merges.items()},
            {p: frozenset(m) for p, m in members.items()})


def _components(
    ordered: list[str], by_record: Mapping[str, frozenset[Identifier]], links: set[Identifier]
) -> dict[str, str]:
    """Each record's profile id: the smallest record id in its connected component."""
    codes = {ident: len(ordered) + i for i, ident in enumerate(links)}
    left = [i for i, r in enumerate(ordered) for x in by_record[r] if x in codes]
    right = [codes[x] for r in ordered for x in by_record[r] if x in codes]
    labels = _min_labels(len(ordered) + len(codes), np.array(left, np.int64),
                         np.array(right, np.int64))
    roots = labels[: len(ordered)].tolist()
    return {r: ordered[root] for r, root in zip(ordered, roots, strict=True)}


def _min_labels(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label every node with the smallest node of its component.

    Minimum propagation along edges with pointer jumping: labels only fall and
    always name a node of the same component, so at the fixed point every
    component carries its minimum. Records come first, so that is a record.
    """
    labels = np.arange(n, dtype=np.int64)
    while True:
        before = labels.copy()
        low = np.minimum(labels[a], labels[b])
        np.minimum.at(labels, a, low)
        np.minimum.at(labels, b, low)
        labels = labels[labels]
        if np.array_equal(before, labels):
            return labels
