"""The retailer's identity settings: merge rules, survivorship, duplicate scoring.

Written as YAML (``sen identity rebuild --config identity.yaml``)::

    merge_rules:
      max_profiles_per_identifier: 5
      max_profiles_by_type: {device_id: 2}
      name_checked: [phone]
      one_per_profile: [zalo_id]
    survivorship:
      fields: {name: source_priority, address: most_recent}
      source_priority: [app, web, pos, zalo, marketplace]
    duplicates:
      review_threshold: 0.8
      auto_merge_threshold: 0.99

The settings a store's profiles were built with are kept in the store
(``sen_meta``), because an update must link new events by the same rules as
the rebuild before it; changing them means a rebuild, which stores the new ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from sen.errors import ConfigError
from sen.identity.duplicates import DuplicateSettings
from sen.identity.golden import SurvivorshipRules
from sen.identity.rules import MergeRules

META_KEY = "identity_config"


class IdentityConfig(BaseModel):
    """Everything a retailer can tune about identity, with Sen's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    merge_rules: MergeRules = Field(default_factory=MergeRules)
    survivorship: SurvivorshipRules = Field(default_factory=SurvivorshipRules)
    duplicates: DuplicateSettings = Field(default_factory=DuplicateSettings)


def load_file(path: Path) -> IdentityConfig:
    """Read a YAML file; a mistake names the file, the setting and what is wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the identity settings in {path}: {exc}") from exc
    return parse(data, source=str(path))


def parse(data: Any, source: str = "identity settings") -> IdentityConfig:
    try:
        return IdentityConfig.model_validate(data)
    except PydanticError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"The {source} are not valid: {problems}.") from exc


def stored(cur: Any) -> IdentityConfig:
    """The settings the store's profiles were built with (defaults if none yet)."""
    rows = cur.execute("SELECT value FROM sen_meta WHERE key = ?", [META_KEY]).fetchall()
    return IdentityConfig.model_validate_json(rows[0][0]) if rows else IdentityConfig()


def store(cur: Any, config: IdentityConfig) -> None:
    cur.execute("INSERT OR REPLACE INTO sen_meta VALUES (?, ?)",
                [META_KEY, config.model_dump_json()])
