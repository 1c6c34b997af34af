"""``sen traits refresh|update|show`` on a hand-built shop."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sen.cli import app
from tests.traits.test_runner import build_shop


def _shop(tmp_path: Path) -> Path:
    build_shop(tmp_path).engine.close()
    return tmp_path


def test_refresh_with_settings_then_update_and_show(tmp_path: Path) -> None:
    folder = _shop(tmp_path)
    settings = tmp_path / "traits.yaml"
    settings.write_text("rfm:\n  frequency_cuts: [1, 2, 3, 4]\nclv_horizon_days: 180\n")
    runner = CliRunner()
    res = runner.invoke(app, ["traits", "refresh", "--config", str(settings), "--as-of",
                              "2026-06-30", "--data-dir", str(folder)])
    assert res.exit_code == 0, res.output
    assert "Traits refreshed" in res.output and "full" in res.output
    res = runner.invoke(app, ["traits", "update", "--data-dir", str(folder)])
    assert res.exit_code == 0 and "incremental" in res.output
    res = runner.invoke(app, ["traits", "show", "p_lan", "--data-dir", str(folder)])
    assert res.exit_code == 0
    assert "favourite_brand" in res.output and "Vela Saigon" in res.output


def _failure(args: list[str]) -> str:
    """The message of a command that must fail (its traceback is dropped, so no store
    object outlives the test)."""
    res = CliRunner().invoke(app, args)
    assert res.exit_code != 0
    message = str(res.exception or res.output)
    if res.exception is not None:
        res.exception.__traceback__ = None
    return message


def test_mistakes_say_what_to_do(tmp_path: Path) -> None:
    folder = str(_shop(tmp_path))
    assert "2026-10-31" in _failure(["traits", "refresh", "--as-of", "yesterday",
                                     "--data-dir", folder])
    bad = tmp_path / "bad.yaml"
    bad.write_text("lifecycle:\n  lapsed_at: 0.5\n")
    assert "due_at < overdue_at" in _failure(["traits", "refresh", "--config", str(bad),
                                              "--data-dir", folder])
    assert "sen traits refresh" in _failure(["traits", "show", "p_nobody", "--data-dir",
                                             folder])
