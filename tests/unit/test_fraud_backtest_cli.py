"""`./fcl fraud rules|backtest` through typer's CliRunner (no database, no Redis)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from fintech_core.fraud.cli import app

runner = CliRunner()


def test_rules_lists_every_rule_of_the_set() -> None:
    result = runner.invoke(app, ["rules", "--rules", "v2"])
    assert result.exit_code == 0, result.output
    assert "review at 60, block at 120" in result.output
    for rid in ("velocity-10m", "mule-in-then-out", "device-many-sources"):
        assert rid in result.output


def test_backtest_prints_both_sets_and_writes_the_chart(tmp_path: Path) -> None:
    png = tmp_path / "bt.png"
    result = runner.invoke(app, ["backtest", "--rules", "v1", "--against", "v2", "--seed", "3",
                                 "--customers", "60", "--days", "4", "--plot", str(png)])
    assert result.exit_code == 0, result.output
    for title in ("v1: per rule", "v2: per fraud pattern", "overall", "normal customers flagged"):
        assert title in result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_unknown_set_or_a_short_history_is_a_usage_error() -> None:
    result = runner.invoke(app, ["backtest", "--rules", "v9"])
    assert result.exit_code == 2 and "no rule set 'v9'" in result.output
    assert runner.invoke(app, ["backtest", "--days", "2"]).exit_code == 2
