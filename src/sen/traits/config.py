"""The retailer's trait settings: RFM cut points and groups, lifecycle thresholds, horizons.

Written as YAML (``sen traits refresh --config traits.yaml``)::

    rfm:
      frequency_cuts: [1, 2, 4, 8]      # fixed cut points instead of quintiles
      groups:
        - {name: Champions, r: [4, 5], fm: [4, 5]}
        - {name: Everyone else, r: [1, 5], fm: [1, 5]}
    lifecycle:
      due_at: 0.8          # days since the last purchase / her own cycle
      overdue_at: 1.25
      at_risk_at: 2.0
      lapsed_at: 3.0
      new_days: 90
    clv_horizon_days: 365

The settings in use are kept in the store (``sen_meta``) so the incremental
updates between two full refreshes score customers the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sen.store import settings

META_KEY = "traits_config"


class RfmGroup(BaseModel):
    """A named RFM group: customers whose R score and FM score fall in both ranges.

    FM is the mean of the F and M scores rounded half up, the usual way to put
    customers on a 5 x 5 grid. Groups are tried in order; the first match wins.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    r: tuple[int, int] = (1, 5)
    fm: tuple[int, int] = (1, 5)

    @field_validator("r", "fm")
    @classmethod
    def _range(cls, value: tuple[int, int]) -> tuple[int, int]:
        low, high = value
        if not 1 <= low <= high <= 5:
            raise ValueError("write a score range [low, high] with 1 <= low <= high <= 5")
        return value


# Every (R, FM) cell of the grid falls in exactly one of these.
DEFAULT_GROUPS: tuple[RfmGroup, ...] = (
    RfmGroup(name="Champions", r=(4, 5), fm=(4, 5)),
    RfmGroup(name="Loyal", r=(3, 5), fm=(3, 5)),
    RfmGroup(name="Can't Lose Them", r=(1, 1), fm=(4, 5)),
    RfmGroup(name="At Risk", r=(1, 2), fm=(3, 5)),
    RfmGroup(name="Potential Loyalist", r=(4, 5), fm=(2, 2)),
    RfmGroup(name="New Customers", r=(5, 5), fm=(1, 1)),
    RfmGroup(name="Promising", r=(4, 4), fm=(1, 1)),
    RfmGroup(name="Need Attention", r=(3, 3), fm=(2, 2)),
    RfmGroup(name="About To Sleep", r=(3, 3), fm=(1, 1)),
    RfmGroup(name="Hibernating", r=(2, 2), fm=(1, 2)),
    RfmGroup(name="Lost", r=(1, 1), fm=(1, 2)),
)


def _cuts(value: tuple[float, ...] | None) -> tuple[float, ...] | None:
    if value is not None and (len(value) != 4 or list(value) != sorted(value)):
        raise ValueError("give four cut points in increasing order (they make five scores)")
    return value


class RfmRules(BaseModel):
    """How RFM scores are cut and named.

    Without fixed cut points each of R, F and M is cut at the buyers' quintiles
    (computed at every full refresh). Customers with the same value always get
    the same score, so a heavily tied measure (most customers buy once) can
    leave some scores empty rather than split equals arbitrarily.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    recency_cuts: tuple[float, ...] | None = None
    frequency_cuts: tuple[float, ...] | None = None
    monetary_cuts: tuple[float, ...] | None = None
    groups: tuple[RfmGroup, ...] = DEFAULT_GROUPS

    @field_validator("recency_cuts", "frequency_cuts", "monetary_cuts")
    @classmethod
    def _four_cuts(cls, value: tuple[float, ...] | None) -> tuple[float, ...] | None:
        return _cuts(value)

    @field_validator("groups")
    @classmethod
    def _some_groups(cls, value: tuple[RfmGroup, ...]) -> tuple[RfmGroup, ...]:
        if not value:
            raise ValueError("name at least one group")
        return value


class LifecycleRules(BaseModel):
    """Stage thresholds, as multiples of each customer's own purchase cycle.

    A customer whose last purchase was ``d`` days ago and whose cycle is ``c``
    days is *due* from ``due_at * c``, *overdue* from ``overdue_at * c``, *at
    risk* from ``at_risk_at * c`` and *lapsed* from ``lapsed_at * c``. Before
    she is due she is *new* (one purchase, at most ``new_days`` ago), *won
    back* (her previous gap was a lapse) or *active*.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    due_at: float = Field(0.8, gt=0)
    overdue_at: float = Field(1.25, gt=0)
    at_risk_at: float = Field(2.0, gt=0)
    lapsed_at: float = Field(3.0, gt=0)
    new_days: int = Field(90, ge=1)
    default_cycle_days: float = Field(180.0, gt=0)

    @model_validator(mode="after")
    def _increasing(self) -> LifecycleRules:
        if not self.due_at < self.overdue_at < self.at_risk_at < self.lapsed_at:
            raise ValueError("due_at < overdue_at < at_risk_at < lapsed_at must hold")
        return self


class TraitsConfig(BaseModel):
    """Everything a retailer can tune about the built-in traits, with Sen's defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rfm: RfmRules = Field(default_factory=RfmRules)
    lifecycle: LifecycleRules = Field(default_factory=LifecycleRules)
    clv_horizon_days: int = Field(365, ge=1, le=3650)
    recent_days: int = Field(365, ge=1, description="window of orders_12m and spend_12m")


def load_file(path: Path) -> TraitsConfig:
    """Read a YAML file; a mistake names the file, the setting and what is wrong."""
    return settings.load_yaml(TraitsConfig, path, "trait settings")


def parse(data: Any, source: str = "trait settings") -> TraitsConfig:
    return settings.parse(TraitsConfig, data, source)


def stored(cur: Any) -> TraitsConfig:
    """The settings in use (defaults if none were given yet)."""
    return settings.stored(cur, TraitsConfig, META_KEY)


def store(cur: Any, config: TraitsConfig) -> None:
    settings.store(cur, META_KEY, config)
