"""The identity graph: records linked by shared identifiers become profiles.

A *record* is one source's view of someone (a userId, an anonymousId, a guest
order); an *observation* says that a record carries an identifier value,
already normalised. Two records belong to the same profile when a chain of
non-shared, mergeable identifier values links them: a profile is a connected
component, cut where the priority guard refuses a link (see
:class:`~sen.identity.rules.MergeRules`). A profile is named by its
representative record, the one ranked first, so it depends on the data alone,
never on input order.

Everything here is pure. :func:`link` works on integer-coded numpy arrays, so
the store can hand it millions of observations; :func:`resolve` and
:func:`resolve_incremental` wrap it for records and values given as strings.
The incremental path recomputes only the clusters new observations can touch
and gives exactly what a full build over all observations would.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from sen.identity.ids import IdentifierType
from sen.identity.rules import MergeRules

Identifier = tuple[IdentifierType, str]
Observation = tuple[str, IdentifierType, str]

TYPES: tuple[IdentifierType, ...] = tuple(IdentifierType)
"""Identifier types in code order: ``TYPES[code]``."""


@dataclass(frozen=True)
class Linked:
    """Records linked into profiles, by integer code.

    ``profile[r]`` and ``cluster[r]`` are the codes of the representative
    records of ``r``'s profile and of its cluster (the component before the
    priority guard cut it; profiles never cross clusters). ``shared`` marks the
    identifiers that link nobody because they sit beside too many accounts.
    ``refused`` lists the links the guard refused as (identifier, record,
    record already holding the conflicting value's side) codes.
    """

    profile: np.ndarray
    cluster: np.ndarray
    shared: np.ndarray
    refused: tuple[tuple[int, int, int], ...]


def link(
    rec: np.ndarray,
    ident: np.ndarray,
    ident_type: np.ndarray,
    rank: np.ndarray,
    rules: MergeRules,
    *,
    blocked: np.ndarray | None = None,
    pairs: np.ndarray | None = None,
    names: tuple[np.ndarray, list[frozenset[str]]] | None = None,
) -> Linked:
    """Link records into profiles.

    ``rec[i]`` carries ``ident[i]`` (codes from 0); ``ident_type[j]`` is the
    type code (index in :data:`TYPES`) of identifier ``j``; ``rank[r]`` orders
    records (the lowest in a profile names it; ranks must be distinct).
    ``blocked`` marks identifiers a person ruled must never link; ``pairs``
    holds (record, record) rows a person ruled are one customer. Identifier
    codes must be grouped by type in :data:`TYPES` order and follow one fixed
    order within a type (:func:`resolve` sorts values; the store sorts by a
    hash of the value), for the guard applies links of one type in code order.
    ``names`` gives each record's name as a code into a list of folded word
    sets (-1: none), for the family-phone guard.
    """
    n_rec, n_ident = len(rank), len(ident_type)
    rec, ident = _distinct_pairs(np.asarray(rec, np.int64), np.asarray(ident, np.int64), n_ident)
    ident_type = np.asarray(ident_type, np.int64)
    pairs = np.zeros((0, 2), np.int64) if pairs is None else np.asarray(pairs, np.int64)
    shared = _shared(rec, ident, ident_type, rules)
    linking = _mask(rules.mergeable, ident_type) & ~shared
    if blocked is not None:
        linking &= ~np.asarray(blocked, bool)
    keep = linking[ident]
    l_rec, l_ident = rec[keep], ident[keep]
    comp = _components(n_rec, n_ident, l_rec, l_ident, pairs)
    cluster = _representatives(comp, rank)
    groups, refused = _guard(rec, ident, ident_type, l_rec, l_ident, pairs, comp, rank, rules,
                             _names(names))
    profile = _representatives(groups, rank) if refused else cluster
    return Linked(profile=profile, cluster=cluster, shared=shared, refused=refused)


def _names(names: tuple[np.ndarray, list[frozenset[str]]] | None) -> _Names | None:
    if names is None:
        return None
    return _Names(np.asarray(names[0], np.int64), list(names[1]))


def _unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (by sorting: numpy's hashing ``unique`` is slower here)."""
    x = np.sort(x, kind="stable")
    keep = np.ones(len(x), bool)
    keep[1:] = x[1:] != x[:-1]
    return x[keep]


def _unique_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and how often each occurs."""
    x = np.sort(x, kind="stable")
    start = np.flatnonzero(np.concatenate(([True], x[1:] != x[:-1]))) if len(x) else \
        np.zeros(0, np.int64)
    return x[start], np.diff(np.append(start, len(x)))


def _distinct_pairs(rec: np.ndarray, ident: np.ndarray, n_ident: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    keys = _unique(rec * max(n_ident, 1) + ident)
    return keys // max(n_ident, 1), keys % max(n_ident, 1)


def _mask(types: Iterable[IdentifierType], ident_type: np.ndarray) -> np.ndarray:
    """Per identifier: is its type among ``types``."""
    ok = np.isin(np.arange(len(TYPES)), [TYPES.index(t) for t in types])
    return ok[ident_type] if len(ident_type) else np.zeros(0, bool)


def _shared(rec: np.ndarray, ident: np.ndarray, ident_type: np.ndarray, rules: MergeRules
            ) -> np.ndarray:
    """Identifiers beside more than their limit of distinct values of one anchor type."""
    limits = np.array([rules.limit(t) for t in TYPES], np.int64)
    anchors = _max_anchors_per_type(rec, ident, ident_type, rules)
    return anchors > limits[ident_type] if len(ident_type) else np.zeros(0, bool)


def _max_anchors_per_type(
    rec: np.ndarray, ident: np.ndarray, type_of: np.ndarray, rules: MergeRules
) -> np.ndarray:
    """For each identifier, the most distinct anchor values of one type beside it."""
    n_ident = len(type_of)
    out = np.zeros(n_ident, dtype=np.int64)
    is_anchor = _mask(rules.anchors, type_of)[ident] if len(ident) else np.zeros(0, bool)
    if not is_anchor.any():
        return out
    keys = _pairs_on_same_record(rec, ident, rec[is_anchor], ident[is_anchor], n_ident)
    keys = _unique(keys)  # distinct (identifier, anchor)
    who, anchor = keys // n_ident, keys % n_ident
    groups, counts = _unique_counts(who * len(TYPES) + type_of[anchor])
    np.maximum.at(out, groups // len(TYPES), counts)
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


def _components(n_rec: int, n_ident: int, l_rec: np.ndarray, l_ident: np.ndarray,
                pairs: np.ndarray) -> np.ndarray:
    """Connected-component label per record over record–identifier and manual edges."""
    a = np.concatenate([l_rec, pairs[:, 0]])
    b = np.concatenate([n_rec + l_ident, pairs[:, 1]])
    n = n_rec + n_ident
    graph = coo_matrix((np.ones(len(a), np.int8), (a, b)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels[:n_rec].astype(np.int64)


def _representatives(groups: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Per record, the code of the lowest-ranked record of its group."""
    if len(groups) == 0:
        return np.zeros(0, np.int64)
    order = np.lexsort((rank, groups))
    first = np.ones(len(order), bool)
    first[1:] = groups[order][1:] != groups[order][:-1]
    head = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    out = np.empty(len(groups), np.int64)
    out[order] = order[head]
    return out


def _guard(
    rec: np.ndarray, ident: np.ndarray, ident_type: np.ndarray,
    l_rec: np.ndarray, l_ident: np.ndarray, pairs: np.ndarray,
    comp: np.ndarray, rank: np.ndarray, rules: MergeRules, names: _Names | None,
) -> tuple[np.ndarray, tuple[tuple[int, int, int], ...]]:
    """Cut components where a link would join what must stay apart.

    Two things must: two values of a one-per-profile type, and (for links by
    a ``name_checked`` type, a phone say) records whose names disagree, the
    family sharing one phone. Only components where either could happen are
    replayed, link by link in priority order, with a union-find that refuses
    such unions. Manual pairs go first: a person's decision outranks any key.
    """
    unique = _mask(rules.one_per_profile, ident_type)[ident] if len(ident) else \
        np.zeros(0, bool)
    n_ident = max(len(ident_type), 1)
    key = _unique(comp[rec[unique]] * n_ident + ident[unique])
    comps, n_values = _unique_counts(key // n_ident)
    conflicted = comps[n_values > 1]
    if names is not None and rules.name_checked:
        conflicted = np.union1d(conflicted, _name_conflicts(comp, names))
    if len(conflicted) == 0:
        return comp, ()
    values: dict[int, dict[int, frozenset[int]]] = {}
    for r, i in zip(rec[unique].tolist(), ident[unique].tolist(), strict=True):
        if comp[r] in conflicted:
            per_type = values.setdefault(r, {})
            t = int(ident_type[i])
            per_type[t] = per_type.get(t, frozenset()) | {i}
    in_conflict = np.isin(comp[l_rec], conflicted)
    prio = np.array([rules.rank(t) for t in TYPES], np.int64)
    c_rec, c_ident = l_rec[in_conflict], l_ident[in_conflict]
    order = np.lexsort((rank[c_rec], c_ident, prio[ident_type[c_ident]]))
    edges = _ordered_links(c_rec[order], c_ident[order], pairs, comp, conflicted)
    checked = _mask(rules.name_checked, ident_type)
    members = np.flatnonzero(np.isin(comp, conflicted))
    uf = _UnionFind(values, _name_sets(members, names), names.tokens if names else None)
    refused: list[tuple[int, int, int]] = []
    for label, records in edges:
        refused += _link_all(uf, label, records, label >= 0 and bool(checked[label]))
    groups = comp.copy()
    for r in members.tolist():
        groups[r] = len(comp) + uf.find(r)
    return groups, tuple(refused)


def _link_all(uf: _UnionFind, label: int, records: list[int], check_names: bool
              ) -> list[tuple[int, int, int]]:
    """Join each record to the first earlier group that accepts it.

    Trying every group, not just the first record's, lets the two records of
    one family member join each other even when the first record carrying
    the phone is her brother's.
    """
    groups: list[int] = []
    refused = []
    for r in records:
        joined = False
        for g in groups:
            if uf.union(g, r, check_names=check_names):
                joined = True
                break
        if not joined:
            refused += [(label, g, r) for g in groups]
            groups.append(r)
    return refused


def _name_conflicts(comp: np.ndarray, names: _Names) -> np.ndarray:
    """Components holding two names that cannot be one person's.

    Most components with several names hold variants of one (``Lan Nguyen``
    and ``Nguyễn Thị Lan``): every pair is compatible, no link can be refused
    for names, and the union-find replay is skipped for them.
    """
    named = names.code >= 0
    width = len(names.tokens) + 1
    key = _unique(comp[named] * width + names.code[named])
    comps, n_names = _unique_counts(key // width)
    several = comps[n_names > 1]
    if len(several) == 0:
        return several
    pairs = key[np.isin(key // width, several)]
    by_comp: dict[int, list[frozenset[str]]] = {}
    for c, code in zip((pairs // width).tolist(), (pairs % width).tolist(), strict=True):
        by_comp.setdefault(c, []).append(names.tokens[code])
    return np.array(sorted(c for c, sets in by_comp.items()
                           if not all(names_compatible(a, b)
                                      for i, a in enumerate(sets) for b in sets[i + 1:])),
                    dtype=np.int64)


@dataclass(frozen=True)
class _Names:
    """Per record, the code of its name's token set (-1: no name); the sets."""

    code: np.ndarray
    tokens: list[frozenset[str]]


def _name_sets(members: np.ndarray, names: _Names | None) -> dict[int, frozenset[int]]:
    if names is None:
        return {}
    return {r: frozenset({c}) for r, c in zip(members.tolist(),
                                              names.code[members].tolist(), strict=True)
            if c >= 0}


def names_compatible(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two names may be one person's when the words of one are all in the other.

    Word order is free (``Lan Nguyen`` is ``Nguyễn Thị Lan`` folded), and a
    Zalo display name is often a part of the full name.
    """
    return a <= b or b <= a


def _ordered_links(
    l_rec: np.ndarray, l_ident: np.ndarray, pairs: np.ndarray, comp: np.ndarray,
    conflicted: np.ndarray,
) -> list[tuple[int, list[int]]]:
    """(identifier or -1 for a manual pair, its records) to link, in order."""
    edges: list[tuple[int, list[int]]] = []
    for a, b in pairs.tolist():
        if comp[a] in conflicted:
            edges.append((-1, [a, b]))
    current, records = -1, []
    for r, i in zip(l_rec.tolist(), l_ident.tolist(), strict=True):
        if i != current:
            if len(records) > 1:
                edges.append((current, records))
            current, records = i, []
        records.append(r)
    if len(records) > 1:
        edges.append((current, records))
    return edges


class _UnionFind:
    """Union-find whose roots carry their set's one-per-profile values and names."""

    def __init__(self, values: dict[int, dict[int, frozenset[int]]],
                 names: dict[int, frozenset[int]], tokens: list[frozenset[str]] | None = None
                 ) -> None:
        self.parent: dict[int, int] = {}
        self.values = dict(values)
        self.names = dict(names)
        self.tokens = tokens or []

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a: int, b: int, *, check_names: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        va, vb = self.values.get(ra, {}), self.values.get(rb, {})
        if any(va[t] != vb[t] for t in va.keys() & vb.keys()):
            return False
        na, nb = self.names.get(ra, frozenset()), self.names.get(rb, frozenset())
        if check_names and not all(names_compatible(self.tokens[x], self.tokens[y])
                                   for x in na for y in nb):
            return False
        self.parent[rb] = ra
        self.values[ra] = {**vb, **va}
        self.names[ra] = na | nb
        return True


@dataclass(frozen=True, slots=True)
class MergeEdge:
    """An identifier value that links records of one profile: why they merged."""

    id_type: IdentifierType
    value: str
    records: tuple[str, ...]


@dataclass(frozen=True)
class Resolution:
    """Profiles resolved from observations, with what is needed to update them.

    ``identifiers`` maps every linking value (mergeable, not shared, not
    blocked) to the profile of the first record carrying it, the look-up a
    hotline agent needs. ``merges`` holds, for each profile of more than one
    record, the values that caused the merge; ``refused`` the links the
    priority guard refused. The observation indexes and clusters are kept so
    that an update can recompute a cluster from all of its observations.
    """

    profiles: Mapping[str, str]
    identifiers: Mapping[Identifier, str]
    shared: frozenset[Identifier]
    merges: Mapping[str, tuple[MergeEdge, ...]]
    refused: frozenset[tuple[Identifier, str, str]]
    members: Mapping[str, frozenset[str]]
    clusters: Mapping[str, str]
    by_record: Mapping[str, frozenset[Identifier]]
    by_identifier: Mapping[Identifier, frozenset[str]]
    rules: MergeRules
    names: Mapping[str, str] = field(default_factory=dict)


def resolve(observations: Iterable[Observation], rules: MergeRules | None = None,
            names: Mapping[str, str] | None = None) -> Resolution:
    """Resolve all observations into profiles from scratch.

    Records are ranked by their id, so a profile is named by its smallest
    record. ``names`` gives records' folded names for the family-phone guard.
    """
    rules = rules or MergeRules()
    by_record, by_identifier = _index(observations)
    return _resolve_records(by_record.keys(), by_record, by_identifier, rules, frozenset(),
                            dict(names or {}))


def _resolve_records(
    records: Iterable[str],
    by_record: Mapping[str, frozenset[Identifier]],
    by_identifier: Mapping[Identifier, frozenset[str]],
    rules: MergeRules,
    shared_before: frozenset[Identifier],
    names: dict[str, str],
) -> Resolution:
    """Resolve a union of whole clusters (counting sharing over every record)."""
    ordered = sorted(records)
    idents = sorted({i for r in ordered for i in by_record[r]})
    code = {i: n for n, i in enumerate(idents)}
    rec_codes = [n for n, r in enumerate(ordered) for _ in by_record[r]]
    ident_codes = [code[i] for r in ordered for i in by_record[r]]
    shared = _shared_by_all(idents, by_record, by_identifier, rules)
    linked = link(
        np.array(rec_codes, np.int64), np.array(ident_codes, np.int64),
        np.array([TYPES.index(t) for t, _ in idents], np.int64),
        np.arange(len(ordered)), rules,
        blocked=np.array([i in shared for i in idents], bool),
        names=name_codes(ordered, names),
    )
    profiles = {r: ordered[p] for r, p in zip(ordered, linked.profile.tolist(), strict=True)}
    clusters = {r: ordered[c] for r, c in zip(ordered, linked.cluster.tolist(), strict=True)}
    links = [i for i in idents if i[0] in rules.mergeable and i not in shared]
    identifiers = {i: profiles[min(by_identifier[i])] for i in links}
    merges: dict[str, list[MergeEdge]] = {}
    for ident in links:
        by_profile: dict[str, list[str]] = {}
        for r in sorted(by_identifier[ident]):
            by_profile.setdefault(profiles[r], []).append(r)
        for profile, recs in by_profile.items():
            if len(recs) > 1:
                merges.setdefault(profile, []).append(MergeEdge(ident[0], ident[1], tuple(recs)))
    members: dict[str, set[str]] = {}
    for record, profile in profiles.items():
        members.setdefault(profile, set()).add(record)
    refused = frozenset(
        (idents[i] if i >= 0 else (IdentifierType.USER_ID, ""), ordered[a], ordered[b])
        for i, a, b in linked.refused
    )
    return Resolution(
        profiles=profiles, identifiers=identifiers, shared=shared | shared_before,
        merges={p: tuple(e) for p, e in merges.items()}, refused=refused,
        members={p: frozenset(m) for p, m in members.items()}, clusters=clusters,
        by_record=by_record, by_identifier=by_identifier, rules=rules, names=names,
    )


def name_codes(records: list[str], names: Mapping[str, str | None]
               ) -> tuple[np.ndarray, list[frozenset[str]]]:
    """Per record, a code into a list of its folded name's word sets (-1: no name)."""
    tokens: dict[frozenset[str], int] = {}
    codes = []
    for r in records:
        words = frozenset((names.get(r) or "").split())
        codes.append(tokens.setdefault(words, len(tokens)) if words else -1)
    return np.array(codes, np.int64), list(tokens)


def _shared_by_all(
    idents: list[Identifier],
    by_record: Mapping[str, frozenset[Identifier]],
    by_identifier: Mapping[Identifier, frozenset[str]],
    rules: MergeRules,
) -> frozenset[Identifier]:
    """Shared values among ``idents``, counting every record that carries them."""
    if not idents:
        return frozenset()
    records = sorted(set().union(*(by_identifier[i] for i in idents)))
    all_idents = sorted({i for r in records for i in by_record[r]})
    code = {i: n for n, i in enumerate(all_idents)}
    rec = np.array([n for n, r in enumerate(records) for _ in by_record[r]], np.int64)
    ident = np.array([code[i] for r in records for i in by_record[r]], np.int64)
    types = np.array([TYPES.index(t) for t, _ in all_idents], np.int64)
    shared = _shared(*_distinct_pairs(rec, ident, len(all_idents)), types, rules)
    wanted = set(idents)
    return frozenset(i for i, s in zip(all_idents, shared.tolist(), strict=True)
                     if s and i in wanted)


def resolve_incremental(
    previous: Resolution,
    new_observations: Iterable[Observation],
    rules: MergeRules | None = None,
) -> Resolution:
    """Add observations to a resolution, touching only the clusters they can change.

    Values only ever become shared (counts grow), so a cluster changes only if
    it holds a record that gained an identifier, a record carrying a new linking
    value, or a record carrying a value that just became shared. Those whole
    clusters are recomputed from all of their observations; every other
    cluster is provably the same as in a full rebuild. Changing the rules
    changes every cluster, so it needs a full :func:`resolve`.
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
    newly = _shared_by_all(sorted(candidates), by_record, by_identifier, rules)
    linking_new = {(t, v) for _, t, v in new if t in rules.mergeable and (t, v) not in newly
                   and (t, v) not in previous.shared}
    seeds = touched.union(*(by_identifier[i] for i in newly | linking_new))
    affected = _whole_clusters(seeds, previous)
    part = _resolve_records(affected, by_record, by_identifier, rules,
                            previous.shared | newly, dict(previous.names))
    old_profiles = {previous.profiles[r] for r in affected if r in previous.profiles}
    return Resolution(
        profiles=_replace(previous.profiles, affected, part.profiles),
        identifiers=_drop_values(previous.identifiers, old_profiles) | dict(part.identifiers),
        shared=part.shared,
        merges=_replace(previous.merges, old_profiles, part.merges),
        refused=frozenset(x for x in previous.refused if x[1] not in affected) | part.refused,
        members=_replace(previous.members, old_profiles, part.members),
        clusters=_replace(previous.clusters, affected, part.clusters),
        by_record=by_record,
        by_identifier=by_identifier,
        rules=rules,
        names=previous.names,
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


def _whole_clusters(seeds: Iterable[str], previous: Resolution) -> set[str]:
    """Every record in a previous cluster of a seed (new records stand alone)."""
    by_cluster: dict[str, set[str]] = {}
    for record, cluster in previous.clusters.items():
        by_cluster.setdefault(cluster, set()).add(record)
    out: set[str] = set()
    for record in seeds:
        if record not in out:
            cluster = previous.clusters.get(record)
            out |= by_cluster[cluster] if cluster is not None else {record}
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
