"""`mynapoint policy …`: the policy lab (issue 16) — replay the program's recorded history
under candidate rules, forecast the budget, and read how two rules files differ."""

from __future__ import annotations

import typer

from mynapoint.cli.policy_diff import diff_command
from mynapoint.cli.policy_forecast import backtest_command, forecast_command
from mynapoint.cli.policy_replay import replay_command

policy = typer.Typer(
    help="The policy lab: replay the recorded history under candidate rules, forecast the "
    "budget frames, and show what a candidate changes.",
    no_args_is_help=True,
)
policy.command("replay")(replay_command)
policy.command("diff")(diff_command)
policy.command("forecast")(forecast_command)
policy.command("backtest")(backtest_command)
