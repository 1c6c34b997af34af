"""The kill test: 50,000 recipients, the dispatcher killed with SIGKILL twice mid-run and
restarted; everyone is messaged exactly once, counted at the provider's server, and the
outbox, the event log and the server agree."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sen.demo.sandbox import EsmsSandbox, serve_in_thread

KILL = Path(__file__).parents[2] / "benchmarks" / "_kill.py"
RECIPIENTS = int(__import__("os").environ.get("SEN_KILL_RECIPIENTS", "50000"))


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_kill", KILL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_every_recipient_is_messaged_exactly_once_through_two_kills(tmp_path: Path) -> None:
    kill = _module()
    sandbox = EsmsSandbox(single_advertising=True)
    with serve_in_thread(sandbox.app()) as url:
        kill.prepare(tmp_path, RECIPIENTS, url)
        result = kill.run(tmp_path, sandbox, RECIPIENTS)
    assert result.kills == 2
    assert (result.lost, result.duplicates) == (0, 0)
    assert result.received == RECIPIENTS
    assert result.outbox_sent == RECIPIENTS
    assert result.events_sent == RECIPIENTS
