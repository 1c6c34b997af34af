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

from pydantic import BaseModel, ConfigDict, Field

from sen.identity.duplicates import DuplicateSettings
from sen.identity.golden import SurvivorshipRules
from sen.identity.rules import MergeRules
from sen.store import settings

META_KEY = "identity_config"


class IdentityConfig(BaseModel):
    """Everything a retailer can tune about identity, with Sen's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    merge_rules: MergeRules = Field(default_factory=MergeRules)
    survivorship: SurvivorshipRules = Field(default_factory=SurvivorshipRules)
    duplicates: DuplicateSettings = Field(default_factory=DuplicateSettings)


def load_file(path: Path) -> IdentityConfig:
    """Read a YAML file; a mistake names the file, the setting and what is wrong."""
    return settings.load_yaml(IdentityConfig, path, "identity settings")


def parse(data: Any, source: str = "identity settings") -> IdentityConfig:
    return settings.parse(IdentityConfig, data, source)


def stored(cur: Any) -> IdentityConfig:
    """The settings in use (defaults if none were given yet)."""
    return settings.stored(cur, IdentityConfig, META_KEY)


def store(cur: Any, config: IdentityConfig) -> None:
    settings.store(cur, META_KEY, config)
