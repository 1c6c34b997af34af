"""Settings a retailer writes as YAML and the store keeps (``sen_meta``), and the
small values runs keep there (watermarks, fitted models).

Identity rules and trait settings work this way: a rebuild or refresh takes a
file, later runs reuse what the store holds, so two runs never mix rule sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from sen.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)


def load_yaml(model: type[Model], path: Path, what: str) -> Model:
    """Read a YAML file; a mistake names the file, the setting and what is wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read the {what} in {path}: {exc}") from exc
    return parse(model, data, source=str(path))


def parse(model: type[Model], data: Any, source: str) -> Model:
    try:
        return model.model_validate(data)
    except PydanticError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"The {source} are not valid: {problems}.") from exc


def read_meta(cur: Any, key: str, default: str | None = None) -> str | None:
    """A value kept in ``sen_meta`` (settings, watermarks, fitted models)."""
    rows = cur.execute("SELECT value FROM sen_meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else default


def write_meta(cur: Any, key: str, value: str) -> None:
    cur.execute("INSERT OR REPLACE INTO sen_meta VALUES (?, ?)", [key, value])


def stored(cur: Any, model: type[Model], key: str) -> Model:
    """The settings kept under ``key`` (the model's defaults if none yet)."""
    raw = read_meta(cur, key)
    return model.model_validate_json(raw) if raw is not None else model()


def store(cur: Any, key: str, settings: BaseModel) -> None:
    write_meta(cur, key, settings.model_dump_json())
