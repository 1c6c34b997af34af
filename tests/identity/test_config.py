"""Identity settings: read from YAML, kept in the store, used by every later update."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.identity.test_resolver import commit, ev, profile_of

from sen.errors import ConfigError
from sen.identity import config, resolver
from sen.identity.golden import Strategy
from sen.store.analytics import DuckDBEngine


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "identity.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_yaml_file_sets_rules_and_keeps_defaults_for_the_rest(tmp_path: Path) -> None:
    cfg = config.load_file(_write(tmp_path, """
merge_rules:
  max_profiles_per_identifier: 1
  one_per_profile: [zalo_id]
survivorship:
  fields: {name: most_recent}
duplicates:
  review_threshold: 0.9
"""))
    assert cfg.merge_rules.max_profiles_per_identifier == 1
    assert cfg.merge_rules.name_checked == {"phone"}  # a default left alone
    assert cfg.survivorship.strategy("name") == Strategy.MOST_RECENT
    assert cfg.survivorship.strategy("birth_date") == Strategy.MOST_FREQUENT  # default kept
    assert cfg.duplicates.review_threshold == 0.9


@pytest.mark.parametrize(("text", "names"), [
    ("merge_rules:\n  max_profiles_per_identifier: 0\n", "merge_rules.max_profiles_per_identifier"),
    ("merge_rules:\n  mergeable: [fax]\n", "merge_rules.mergeable"),
    ("survivorship:\n  fields: {shoe_size: most_recent}\n", "survivorship.fields"),
    ("merging: {}\n", "merging"),
    ("merge_rules: [\n", "Cannot read"),
])
def test_a_mistake_names_the_setting(tmp_path: Path, text: str, names: str) -> None:
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        config.load_file(_write(tmp_path, text))


def test_a_rebuild_keeps_its_settings_for_the_updates_after_it() -> None:
    engine = DuckDBEngine(":memory:")
    phone = "0912345678"
    commit(engine, [ev("a", "identify", userId="KH1", traits={"phone": phone, "name": "Lan"}),
                    ev("b", "identify", userId="KH2", traits={"phone": phone, "name": "Lan"})])
    strict = config.parse({"merge_rules": {"max_profiles_per_identifier": 1}})
    resolver.rebuild(engine, strict)
    assert profile_of(engine, "u:KH1") != profile_of(engine, "u:KH2")
    commit(engine, [ev("c", "identify", userId="KH3", traits={"email": "lan@gmail.com"}),
                    ev("d", "identify", userId="KH1", traits={"email": "lan@gmail.com"})])
    resolver.update(engine)  # by the stored, strict rules: a value beside two accounts
    assert config.stored(engine.cursor()) == strict  # is shared, so the email links no one
    assert profile_of(engine, "u:KH3") != profile_of(engine, "u:KH1")
    resolver.rebuild(engine, config.IdentityConfig())  # back to the defaults
    assert profile_of(engine, "u:KH2") == profile_of(engine, "u:KH1") == profile_of(
        engine, "u:KH3")
    engine.close()
