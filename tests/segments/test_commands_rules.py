"""``sen segment sql|count|save|run`` on a hand-built shop."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from sen.cli import app
from sen.traits import runner
from tests.segments.audiences.conftest import meta_server  # noqa: F401 - a fixture
from tests.segments.test_compiler import PROFILE_EVENTS
from tests.traits.test_runner import AS_OF, build_shop

RULE = """
all:
  - {trait: orders, op: ">=", value: 1}
  - not: {trait: region, op: "=", value: North}
"""


def _shop(tmp_path: Path) -> Path:
    shop = build_shop(tmp_path)
    runner.refresh(shop.engine, as_of=AS_OF)
    shop.engine.cursor().execute(PROFILE_EVENTS)
    shop.engine.close()
    return tmp_path


def test_sql_count_save_and_run(tmp_path: Path) -> None:
    folder = str(_shop(tmp_path))
    rule = tmp_path / "buyers.yaml"
    rule.write_text(RULE, encoding="utf-8")
    cli = CliRunner()
    res = cli.invoke(app, ["segment", "sql", str(rule), "--data-dir", folder])
    assert res.exit_code == 0, res.output
    assert "profile_traits" in res.output and "SELECT" in res.output
    res = cli.invoke(app, ["segment", "count", str(rule), "--data-dir", folder])
    assert res.exit_code == 0, res.output
    assert "2 profiles" in res.output and "all[1].not" in res.output
    res = cli.invoke(app, ["segment", "save", "buyers-outside-north", str(rule), "--data-dir",
                           folder])
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["segment", "run", "--data-dir", folder])
    assert res.exit_code == 0, res.output
    assert "buyers-outside-north" in res.output


def test_a_rule_that_cannot_run_is_not_saved_and_a_failed_run_is_reported(
        tmp_path: Path) -> None:
    import duckdb

    folder = str(_shop(tmp_path))
    rule = tmp_path / "nope.yaml"
    rule.write_text("{trait: nope, op: '=', value: 1}\n", encoding="utf-8")
    cli = CliRunner()
    res = cli.invoke(app, ["segment", "save", "nope", str(rule), "--data-dir", folder])
    assert res.exit_code != 0 and "Unknown trait 'nope'" in str(res.exception)
    res.exception.__traceback__ = None
    good = tmp_path / "buyers.yaml"
    good.write_text(RULE, encoding="utf-8")
    bags = tmp_path / "bags.yaml"
    bags.write_text("{trait: bags, op: '>=', value: 1}\n", encoding="utf-8")
    with duckdb.connect(str(tmp_path / "sen.duckdb")) as con:  # a trait defined, then gone
        con.execute("INSERT INTO trait_definitions VALUES ('bags', "
                    "'{\"name\": \"bags\", \"source\": \"order_lines\", "
                    "\"aggregate\": \"count\"}', now(), 'test', now())")
    for name, path in (("buyers", good), ("bags", bags)):
        assert cli.invoke(app, ["segment", "save", name, str(path), "--data-dir",
                                folder]).exit_code == 0
    with duckdb.connect(str(tmp_path / "sen.duckdb")) as con:
        con.execute("DELETE FROM trait_definitions")
    res = cli.invoke(app, ["segment", "run", "--data-dir", folder])
    assert res.exit_code == 1
    assert "buyers" in res.output and "bags: Unknown trait 'bags'" in res.output


def test_a_bad_rule_file_names_the_node(tmp_path: Path) -> None:
    folder = str(_shop(tmp_path))
    rule = tmp_path / "bad.yaml"
    rule.write_text("all: [{trait: age, op: between, value: [1]}]\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["segment", "count", str(rule), "--data-dir", folder])
    assert res.exit_code != 0
    message = str(res.exception)
    res.exception.__traceback__ = None
    assert "all[0]" in message and "[low, high]" in message


def test_link_a_segment_to_an_audience_and_sync_it(tmp_path: Path, meta_server,  # noqa: F811
                                                    monkeypatch) -> None:
    import duckdb

    graph, url = meta_server
    folder = str(_shop(tmp_path))
    with duckdb.connect(str(tmp_path / "sen.duckdb")) as con:
        con.execute("UPDATE profiles SET phone = '0988 123 456' WHERE profile_id = 'p_tuan'")
    rule = tmp_path / "buyers.yaml"
    rule.write_text(RULE, encoding="utf-8")
    cli = CliRunner()
    assert cli.invoke(app, ["segment", "save", "buyers", str(rule), "--data-dir",
                            folder]).exit_code == 0
    link = ["segment", "audience-link", "suppress", "--segment", "buyers", "--destination",
            "meta", "--audience-id", "6123", "--purpose", "suppress", "--data-dir", folder]
    res = cli.invoke(app, link)
    assert res.exit_code == 0, res.output
    assert "audience 6123" in res.output
    # Without a token the sync fails and says which setting to fill.
    res = cli.invoke(app, ["segment", "run", "--data-dir", folder])
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["segment", "audience-sync", "--data-dir", folder])
    assert res.exit_code == 1 and "suppress: Syncing to Meta needs an access token: set " \
        "SEN_META_ACCESS_TOKEN" in res.output
    monkeypatch.setenv("SEN_META_ACCESS_TOKEN", "meta-token")
    monkeypatch.setenv("SEN_META_GRAPH_URL", url)
    res = cli.invoke(app, ["segment", "audience-sync", "suppress", "--data-dir", folder])
    assert res.exit_code == 0, res.output
    assert "ok" in res.output
    assert graph.audiences["6123"] == {  # Tuan; Hoa, the other buyer outside the North, has
        ("", hashlib.sha256(b"84988123456").hexdigest())}  # no contact (rows: email, phone)
    res = cli.invoke(app, ["segment", "audience-link", "x", "--segment", "buyers",
                           "--destination", "meta", "--audience-id", "act_1", "--data-dir",
                           folder])
    assert res.exit_code != 0
    message = str(res.exception)
    res.exception.__traceback__ = None
    assert "audience_id" in message


def test_a_rule_is_saved_while_another_process_holds_the_store(tmp_path: Path) -> None:
    """As when `sen serve` runs: the rule is saved, and checked at its first run."""
    import subprocess
    import sys

    folder = str(_shop(tmp_path))
    rule = tmp_path / "buyers.yaml"
    rule.write_text(RULE, encoding="utf-8")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; "
         "con = duckdb.connect(sys.argv[1]); print('ready', flush=True); time.sleep(60)",
         str(tmp_path / "sen.duckdb")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        res = CliRunner().invoke(app, ["segment", "save", "buyers", str(rule), "--data-dir",
                                       folder])
        assert res.exit_code == 0, res.output
        assert "checked at its first run" in res.output and "Saved segment" in res.output
    finally:
        holder.kill()
        holder.wait()
